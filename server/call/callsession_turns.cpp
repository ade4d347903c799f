// CallSession: turn-taking — barge-in versus backchannels (BACKCHANNEL_MS), when the caller's turn is
// answered, and the silence checks (SILENCE_PROMPT_S).
#include "backchannel.h"
#include "callsession.h"
#include "logging.h"
#include "metrics.h"
#include "mulaw.h"
#include "pii.h"

#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace vaani {

void CallSession::armSilence()
{
    if (m_ctx->settings.silencePromptMs <= 0 || m_state != State::Active || ending() || m_resuming)
        return;
    const bool quiet = m_gate.idle() && !m_playback.audioQueued() && m_agentBacklog.empty() &&
                       !m_callerSpeaking && !m_utterance.awaitingVerdict && m_model->isReady();
    if (!quiet) {
        m_silence.stop();
        return;
    }
    if (!m_silence.isActive())
        m_silence.start(m_ctx->settings.silencePromptMs);
}

void CallSession::onSilence()
{
    if (m_state != State::Active || ending() || m_resuming)
        return;
    // Still nothing under way (a tool, an answer, the caller talking)? Otherwise the next quiet moment
    // re-arms.
    if (!m_gate.idle() || m_playback.audioQueued() || m_callerSpeaking || m_utterance.awaitingVerdict)
        return;
    const int seconds = m_ctx->settings.silencePromptMs / 1000;
    if (++m_silences == 1) {
        m_record.transcript(u"system"_s,
                            u"The caller was silent for %1 s: the agent checks on them"_s.arg(seconds));
        m_gate.request(QJsonObject{
            {u"instructions"_s,
             u"The caller has said nothing for a while. In the language mix the caller has been using "
             u"(Hinglish "
             "if unsure), gently ask whether they are still there and whether you can help with anything "
             "else. One short sentence."_s}});
        return;
    }
    // A second silence: a callback for the caller's number (when there is one), a goodbye, the hang-up.
    const bool callback = pii::isE164(m_info.caller);
    if (callback)
        m_record.callbackTicket(m_info.caller,
                                u"the caller went silent twice; the agent offered a callback"_s);
    m_record.transcript(u"system"_s,
                        callback
                            ? u"The caller was silent again: callback ticket opened, the agent says goodbye"_s
                            : u"The caller was silent again: the agent says goodbye"_s);
    m_gate.request(QJsonObject{
        {u"instructions"_s,
         callback
             ? u"The caller has been silent again. In their language mix, say briefly and politely that "
               "you will end the call now and that a colleague will call them back on this number, then "
               "say goodbye. Do not ask anything."_s
             : u"The caller has been silent again. In their language mix, say briefly and politely that you "
               "will end the call now and that they are welcome to call again, then say goodbye. Do not "
               "ask anything."_s}});
    m_endRequested = true;
    m_gate.setFinal();
    m_endAs = {u"the caller stayed silent"_s, u"no_response"_s};
    maybeHangUp();
}

void CallSession::onSpeechStarted()
{
    if (!bridgeDecides()) {
        interruptAgent(); // interrupt_response: the model has cancelled its answer already
        return;
    }
    if (m_utterance.awaitingVerdict)
        settleUtterance(true); // a new utterance before the last one's words: that one was a sound
    m_utterance = {};
    const bool agentTalking = m_playback.audioQueued() || !m_agentBacklog.empty() || m_gate.responseActive();
    // Speech over the agent's last moments is the caller's answer to it, not a backchannel.
    const bool endOfTurn =
        !m_gate.responseActive() && m_agentBacklog.empty() && m_playback.queuedMs() < kEndOfTurnMs;
    m_utterance.overAgent = agentTalking && !endOfTurn;
    if (!m_utterance.overAgent)
        return;
    // The frames that made the model hear speech are already behind us: count the voiced ones among the
    // last few sent, then go on with each new frame (trackUtterance).
    m_deciding = true;
    m_voicedMs = 0;
    m_quietMs = 0;
    const size_t lookBack = std::min<size_t>(m_recentCaller.size(), 15);
    for (size_t i = m_recentCaller.size() - lookBack; i < m_recentCaller.size() && m_deciding; ++i)
        trackUtterance(m_recentCaller[i]);
}

void CallSession::trackUtterance(const QByteArray &payloadBase64)
{
    const QByteArray mulawFrame = QByteArray::fromBase64(payloadBase64);
    qint64 sum = 0;
    for (const char c : mulawFrame)
        sum += std::abs(int(mulaw::decodeSample(std::uint8_t(c))));
    const int ms = int(mulawFrame.size() / 8);
    if (ms <= 0)
        return;
    if (sum / mulawFrame.size() > kVoicedMeanAbs) {
        // The utterance's length so far: from its first voiced frame to this one, short pauses included.
        m_voicedMs += std::exchange(m_quietMs, 0) + ms;
    } else if (m_voicedMs > 0) {
        m_quietMs += ms;
    }
    if (m_voicedMs >= m_ctx->settings.backchannelMs) {
        m_deciding = false; // sustained speech over the agent: a barge-in
        m_utterance.interrupted = true;
        interruptAgent();
    } else if (m_quietMs >= kPauseMs) {
        m_deciding = false; // shorter than BACKCHANNEL_MS: a "haan" — unless its words say otherwise
        m_utterance.awaitingVerdict = true;
        m_verdictDeadline.start(kVerdictTimeoutMs);
    }
}

void CallSession::onSpeechStopped()
{
    if (bridgeDecides() && m_deciding) {
        // The model heard the end before the frames said either way: short.
        m_deciding = false;
        m_utterance.awaitingVerdict = true;
        m_verdictDeadline.start(kVerdictTimeoutMs);
    }
}

void CallSession::onCallerCommitted(const QString &itemId)
{
    if (!bridgeDecides() || ending())
        return;
    m_utterance.item = itemId;
    if (m_utterance.awaitingVerdict)
        return;       // its transcript decides
    m_gate.request(); // the caller's turn: answered (after the interrupted answer is done, if any)
}

void CallSession::onCallerTranscript(const QString &itemId, const QString &text)
{
    if (!bridgeDecides() || !m_utterance.awaitingVerdict)
        return;
    if (!m_utterance.item.isEmpty() && !itemId.isEmpty() && itemId != m_utterance.item)
        return; // an earlier utterance's transcript
    settleUtterance(text.trimmed().isEmpty() || isBackchannel(text));
}

void CallSession::settleUtterance(bool backchannel)
{
    m_utterance.awaitingVerdict = false;
    m_verdictDeadline.stop();
    if (backchannel) {
        m_ctx->metrics->backchannels.fetch_add(1, std::memory_order_relaxed);
        qCDebug(lcSession) << "call" << m_info.callSid << "backchannel: the agent carries on";
        return;
    }
    // Short, but words ("ruko"): an interruption after all.
    m_utterance.interrupted = true;
    interruptAgent();
    if (!ending())
        m_gate.request();
}

void CallSession::interruptAgent()
{
    const bool audioAtTwilio = m_playback.audioQueued() || !m_agentBacklog.empty();
    if (bridgeDecides() && m_gate.responseActive() && m_model->isReady()) {
        // interrupt_response is off: the bridge cancels the answer itself.
        if (m_gate.activeId().isEmpty())
            m_cancelWhenCreated = true;
        else
            m_model->send(realtime::responseCancel(m_gate.activeId()));
    }
    m_gate.cancelActive(); // drop late deltas of the cancelled answer
    if (!audioAtTwilio)
        return;
    m_ctx->metrics->bargeIns.fetch_add(1, std::memory_order_relaxed);
    // Barge-in: the caller must stop hearing the agent at once.
    if (m_telephony)
        m_telephony->sendClear();
    m_mixer.clear(); // the recording's agent channel goes silent where the caller stopped hearing it
    m_agentBacklog.clear();
    m_agentBacklogBytes = 0;
    const QString item = m_audioItemId;
    if (const std::optional<qint64> heardMs = m_playback.clear(item)) {
        // An item of a session that has since been replaced is unknown to the current one.
        if (m_model->isReady() && item != m_oldSessionItem)
            m_model->send(realtime::itemTruncate(item, 0, *heardMs));
        m_record.truncated(item);
    }
}

} // namespace vaani
