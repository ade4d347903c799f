// CallSession: resuming on a new model session after a drop, and the planned rollover before the API's
// 60-minute session limit (see canResume in callsession.h).
#include "callsession.h"

#include "logging.h"
#include "metrics.h"

#include <QJsonObject>

#include <algorithm>
#include <climits>

using namespace Qt::StringLiterals;

namespace vaani {

bool CallSession::canResume() const
{
    return m_everReady && m_state != State::Finished && m_state != State::HangingUp && !m_duplicate &&
           m_ctx->settings.modelReconnectAttempts > 0 && m_resumes < kMaxResumesPerCall &&
           ModelProvider::forThisThread() != nullptr;
}

void CallSession::beginResume(const QString &reason, bool planned)
{
    m_resuming = true;
    m_resumePlanned = planned;
    m_resumeReason = reason;
    m_resumeAttempts = 0;
    m_resumeStartedMs = m_clock();
    m_resumeMidAnswer = !planned && m_gate.responseActive();
    m_resumePartial = std::exchange(m_partialAgent, {});
    m_oldSessionItem = m_audioItemId; // still playing at Twilio, unknown to the next session
    m_callerSpeaking = false;
    m_deciding = false;
    m_utterance = {};
    m_verdictDeadline.stop();
    m_speechStoppedAtMs = -1;
    m_awaitingTurnAudio = false;
    m_rollover.stop();
    m_gate.suspend();
    if (planned)
        m_recentCaller.clear(); // closed by us: everything sent was received
    ++m_resumes;
    if (planned)
        qCInfo(lcSession) << "call" << m_info.callSid << "renews its model session:" << reason;
    else
        qCWarning(lcSession) << "call" << m_info.callSid << "lost its model session (" << reason
                             << "); resuming on a new one";
    attemptResume();
}

void CallSession::attemptResume()
{
    if (!m_resuming || m_state == State::Finished)
        return;
    ModelProvider *provider = ModelProvider::forThisThread();
    if (!provider) {
        endForModelLoss(
            u"model connection lost (%1); no model provider on this thread"_s.arg(m_resumeReason));
        return;
    }
    ++m_resumeAttempts;
    ModelLeg *old = m_model;
    old->disconnect(this);
    old->close();
    old->deleteLater();
    adoptModel(provider->takeModel());
    m_model->start(m_sessionConfig);
}

void CallSession::finishResume()
{
    m_resuming = false;
    const qint64 gapMs = m_clock() - m_resumeStartedMs;
    // The new session hears the conversation so far, then the caller audio held meanwhile.
    for (const QByteArray &item : m_history.replayEvents())
        m_model->send(item);
    for (const QByteArray &frame : std::exchange(m_recentCaller, {})) {
        if (const QByteArray append = realtime::inputAudioAppend(frame); !append.isEmpty())
            m_model->send(append);
    }
    const auto backlog = std::exchange(m_callerBacklog, {});
    for (const QByteArray &frame : backlog) {
        const QByteArray append = realtime::inputAudioAppend(frame);
        if (!append.isEmpty())
            m_model->send(append);
    }
    std::optional<QJsonObject> answer;
    if (m_resumeMidAnswer) {
        const QString partial = m_resumePartial.trimmed();
        QString instructions =
            u"The phone line to you dropped for a moment while you were answering the caller. Start with a "
            "very short apology such as \"Sorry, ek second…\" in the language mix the caller is using, then "
            "continue your answer"_s;
        instructions += partial.isEmpty()
                            ? u"."_s
                            : u" from where it was cut off, without repeating it. You had said so far: \""_s +
                                  partial.left(1500) + u'"';
        answer = QJsonObject{{u"instructions"_s, instructions}};
    }
    const bool responding = m_gate.resume(answer);
    m_ctx->metrics->modelResume(m_resumePlanned ? u"rollover"_s : u"resumed"_s);
    m_ctx->metrics->modelResumeGapMs.observe(double(gapMs));
    const QString note =
        m_resumePlanned
            ? u"Model session renewed before its time limit (%1 ms without the model)"_s.arg(gapMs)
            : u"Model connection lost (%1); resumed on a new session after %2 ms (attempt %3)%4"_s
                  .arg(m_resumeReason.left(200))
                  .arg(gapMs)
                  .arg(m_resumeAttempts)
                  .arg(m_resumeMidAnswer ? u", the agent continues its answer"_s : QString());
    m_record.transcript(u"system"_s, note);
    qCInfo(lcSession) << "call" << m_info.callSid << "model session resumed after" << gapMs << "ms, attempt"
                      << m_resumeAttempts << (responding ? "(response requested)" : "");
    armRollover();
    maybeHangUp();
}

void CallSession::armRollover()
{
    const qint64 limit = m_ctx->settings.modelRolloverMs;
    if (limit <= 0 || m_state == State::Finished)
        return;
    m_rollover.start(int(std::clamp<qint64>(limit - m_model->sessionAgeMs(), 0, INT_MAX)));
}

void CallSession::onRolloverDue()
{
    if (m_state == State::Finished || m_resuming || ending() || m_state == State::HangingUp)
        return;
    const bool quiet = m_gate.idle() && !m_playback.audioQueued() && m_agentBacklog.empty() &&
                       !m_callerSpeaking && m_model->isReady();
    if (!quiet) {
        m_rollover.start(kRolloverRetryMs);
        return;
    }
    if (!canResume())
        return; // (MODEL_RECONNECT_ATTEMPTS 0): the session runs until the API ends it
    beginResume(u"the session reached %1 minutes (the API ends sessions at 60)"_s.arg(
                    m_ctx->settings.modelRolloverMs / 60000),
                true);
}

} // namespace vaani
