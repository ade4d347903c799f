#include "callsession.h"

#include "base64.h"
#include "callregistry.h"
#include "db/dbworker.h"
#include "logging.h"
#include "metrics.h"
#include "tools.h"
#include "twiml.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
std::optional<qint64> takeStart(QHash<QString, qint64> &starts, const QString &itemId)
{
    const auto it = starts.find(itemId);
    if (it == starts.end())
        return std::nullopt;
    const qint64 at = *it;
    starts.erase(it);
    return at;
}

QString readResource(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}
} // namespace

double Prices::cost(const realtime::Usage &u) const
{
    const qint64 uncachedText = std::max<qint64>(0, u.inputTextTokens - u.inputCachedTokens);
    return (double(u.inputAudioTokens) * audioInPerMTok + double(uncachedText) * textInPerMTok +
            double(u.inputCachedTokens) * cachedInPerMTok + double(u.outputAudioTokens) * audioOutPerMTok +
            double(u.outputTextTokens) * textOutPerMTok) /
           1e6;
}

db::AgentPrompt CallSession::builtInPrompt()
{
    db::AgentPrompt p;
    p.instructions = readResource(u":/vaani/prompts/default_instructions.txt"_s);
    p.greeting = readResource(u":/vaani/prompts/default_greeting.txt"_s);
    return p;
}

CallSession::CallSession(CallInfo info, ServerContext *context, ModelLeg *model, Clock clock)
    : m_info(std::move(info))
    , m_ctx(context)
    , m_model(model)
    , m_playback(clock)
    , m_gate([this](const QByteArray &event) { m_model->send(event); })
    , m_record(context->journal, context->db, m_info.callSid, clock)
    , m_clock(clock)
{
    adoptModel(m_model);
    m_resumeRetry.setSingleShot(true);
    connect(&m_resumeRetry, &QTimer::timeout, this, &CallSession::attemptResume);
    m_rollover.setSingleShot(true);
    connect(&m_rollover, &QTimer::timeout, this, &CallSession::onRolloverDue);
    m_silence.setSingleShot(true);
    connect(&m_silence, &QTimer::timeout, this, &CallSession::onSilence);
    m_verdictDeadline.setSingleShot(true);
    connect(&m_verdictDeadline, &QTimer::timeout, this, [this] {
        if (m_utterance.awaitingVerdict)
            settleUtterance(true); // no words came: a sound, not a turn
    });
    m_prewarmExpiry.setSingleShot(true);
    connect(&m_prewarmExpiry, &QTimer::timeout, this, [this] {
        if (m_attached)
            return;
        // Only expire if nobody has taken this session for a stream in the meantime.
        if (m_ctx->registry->removePrewarmed(m_info.callSid, this))
            finish(u"media stream never started"_s, u"no_stream"_s);
    });
    m_claimPoll.setInterval(kClaimPollMs);
    connect(&m_claimPoll, &QTimer::timeout, this, &CallSession::checkClaimedElsewhere);
    m_hangupDeadline.setSingleShot(true);
    connect(&m_hangupDeadline, &QTimer::timeout, this, &CallSession::hangUpNow);
    m_durationLimit.setSingleShot(true);
    connect(&m_durationLimit, &QTimer::timeout, this, &CallSession::onDurationLimit);
    if (m_ctx->lifecycle)
        connect(m_ctx->lifecycle, &Lifecycle::endCalls, this, &CallSession::endForShutdown);
}

int CallSession::wrapUpLeadMs() const
{
    return std::min(kWrapUpLeadMs, m_ctx->settings.maxCallMs / 3);
}

void CallSession::onDurationLimit()
{
    if (m_state != State::Active)
        return; // ending already
    const int minutes = m_ctx->settings.maxCallMs / 60000;
    if (!m_wrappingUp) {
        // The agent says goodbye in the caller's language (after whatever it is saying now), then the call is
        // cut at the limit.
        m_wrappingUp = true;
        qCInfo(lcSession) << "call" << m_info.callSid << "reaches MAX_CALL_MINUTES in" << wrapUpLeadMs()
                          << "ms: the agent says goodbye";
        m_ctx->metrics->callsTimeLimited.fetch_add(1, std::memory_order_relaxed);
        m_gate.request(QJsonObject{
            {u"instructions"_s,
             u"The call has reached its maximum length and will end in a few seconds. In the language the "
             "caller is using, tell them politely that the call has to end now, that they are welcome to "
             "call "
             "again, and say goodbye. Be brief and do not ask anything."_s}});
        m_durationLimit.start(wrapUpLeadMs());
        return;
    }
    setState(State::HangingUp);
    m_hangupDeadline.stop();
    endWithTwiml(twiml::hangup(),
                 minutes > 0 ? u"call reached MAX_CALL_MINUTES (%1 min)"_s.arg(minutes)
                             : u"call reached MAX_CALL_MINUTES (%1 ms)"_s.arg(m_ctx->settings.maxCallMs),
                 u"time_limit"_s);
}

void CallSession::openRecord()
{
    // One CallSid, one call record: a session serves the call only if its row is new or still in progress. A
    // row that ended already (a webhook replayed after the call, or after a restart) is never written again;
    // the session then ends at once, before its model session starts.
    if (m_record.isOpen())
        return;
    db::CallStart s;
    s.callSid = m_info.callSid;
    s.callerNumber = m_info.caller;
    s.calledNumber = m_info.called;
    s.serverInstance = m_ctx->settings.instance;
    m_record.open(s, this, [this](const db::DbResult<db::CallRecord> &c) { onRecordChecked(c); });
}

void CallSession::onRecordChecked(const db::DbResult<db::CallRecord> &c)
{
    if (m_state == State::Finished)
        return;
    m_recordChecked = true; // (a database that is away does not stop the call)
    if (!c.ok() || c.value.outcome == u"in_progress"_s) {
        if (m_pendingPrompt)
            start(*std::exchange(m_pendingPrompt, std::nullopt));
        return;
    }
    qCWarning(lcSession) << "call" << m_info.callSid << "already has a finished record (" << c.value.outcome
                         << "); not served again";
    m_duplicate = true;
    // Pre-warmed and not yet claimed: leave the registry and end. Claimed by a stream that has not attached
    // yet: attachStream() ends it.
    if (m_attached || m_ctx->registry->removePrewarmed(m_info.callSid, this))
        finish(u"call already handled"_s, u"duplicate"_s);
}

CallSession::~CallSession()
{
    if (m_state != State::Finished)
        qCWarning(lcSession) << "session destroyed without finishing" << m_info.callSid;
}

void CallSession::armPrewarmExpiry(int timeoutMs)
{
    openRecord();
    if (m_state == State::Created)
        setState(State::Prewarmed);
    m_prewarmExpiry.start(timeoutMs);
    m_claimPoll.start();
}

void CallSession::checkClaimedElsewhere()
{
    if (m_attached || m_state == State::Finished) {
        m_claimPoll.stop();
        return;
    }
    m_record.check(this, [this](const db::DbResult<db::CallRecord> &c) {
        if (m_attached || m_state == State::Finished || !c.ok())
            return;
        if (c.value.streamSid.isEmpty() && c.value.outcome == u"in_progress"_s)
            return;
        // Another server has the stream (or the call is over): our model session only costs money now.
        if (m_ctx->registry->removePrewarmed(m_info.callSid, this))
            finish(u"the stream went to server "_s + c.value.serverInstance, u"no_stream"_s);
    });
}

const char *CallSession::stateName(State s)
{
    switch (s) {
    case State::Created:
        return "created";
    case State::Prewarmed:
        return "prewarmed";
    case State::Active:
        return "active";
    case State::HangingUp:
        return "hanging-up";
    case State::Finished:
        return "finished";
    }
    return "?";
}

void CallSession::setState(State next)
{
    if (next == m_state)
        return;
    qCDebug(lcSession) << "call" << m_info.callSid << stateName(m_state) << "->" << stateName(next);
    m_state = next;
}

void CallSession::start(const db::AgentPrompt &prompt)
{
    if (m_started || m_state == State::Finished || m_duplicate)
        return;
    openRecord();
    if (!m_recordChecked) {
        // The model session starts only once the call's record is known to be this session's to serve.
        m_pendingPrompt = prompt;
        return;
    }
    m_started = true;
    m_prompt = prompt;
    recordPromptAndStream();
    realtime::SessionConfig c;
    c.instructions = prompt.instructions;
    c.voice = prompt.voice;
    c.vad.threshold = prompt.vadThreshold;
    c.vad.prefixPaddingMs = prompt.vadPrefixPaddingMs;
    c.vad.silenceDurationMs = prompt.vadSilenceDurationMs;
    c.vad.idleTimeoutMs = prompt.vadIdleTimeoutMs;
    // BACKCHANNEL_MS: the model neither answers nor cancels on its own; the bridge tells a "haan" from a
    // barge-in and asks for each answer (onCallerCommitted).
    c.vad.createResponse = !bridgeDecides();
    c.vad.interruptResponse = !bridgeDecides();
    c.tools = ToolRegistry::instance().definitions();
    if (!m_ctx->recordings) {
        // Not recording: nothing to decline.
        for (qsizetype i = c.tools.size() - 1; i >= 0; --i) {
            if (c.tools.at(i).toObject().value(u"name"_s) == u"decline_recording"_s)
                c.tools.removeAt(i);
        }
    }
    m_sessionConfig = c; // a replacement session after a drop is configured the same way
    m_model->start(c);
    m_prompt.instructions.clear(); // m_sessionConfig has them
}

void CallSession::adoptModel(ModelLeg *leg)
{
    m_model = leg;
    m_model->setParent(this);
    connect(m_model, &ModelLeg::ready, this, &CallSession::onModelReady);
    connect(m_model, &ModelLeg::event, this, &CallSession::onModelEvent);
    connect(m_model, &ModelLeg::failed, this, &CallSession::onModelFailed);
}

void CallSession::attachStream(TelephonyLeg *leg)
{
    if (m_state == State::Finished)
        return;
    if (!leg) {
        streamLost(u"stream closed before the session attached"_s);
        return;
    }
    if (m_duplicate) {
        m_telephony = leg;
        finish(u"call already handled"_s, u"duplicate"_s);
        return;
    }
    openRecord();
    m_attached = true;
    m_prewarmExpiry.stop();
    m_claimPoll.stop();
    m_telephony = leg;
    m_record.startClock();
    startRecording();
    setState(State::Active);
    if (!m_counted) {
        m_counted = true;
        m_ctx->metrics->callsActive.fetch_add(1);
    }
    connect(leg, &TelephonyLeg::media, this, &CallSession::onCallerMedia);
    connect(leg, &TelephonyLeg::markPlayed, this, &CallSession::onMarkPlayed);
    connect(leg, &TelephonyLeg::dtmf, this, &CallSession::onDtmf);
    connect(leg, &TelephonyLeg::stopped, this, &CallSession::onStreamStopped);
    recordPromptAndStream();
    if (m_modelFailed) {
        // The model is unavailable: closing the stream hands the caller to the TwiML fallback.
        finish(m_modelFailure, u"failed"_s);
        return;
    }
    if (!m_endOnAttach.isEmpty() || m_ctx->endingCalls.load()) {
        endForShutdown(m_endOnAttach.isEmpty() ? u"server shutting down"_s : m_endOnAttach);
        return;
    }
    if (const int limit = m_ctx->settings.maxCallMs; limit > 0)
        m_durationLimit.start(limit - wrapUpLeadMs());
    // Greeting audio prepared while Twilio was connecting goes out first.
    auto backlog = std::exchange(m_agentBacklog, {});
    m_agentBacklogBytes = 0;
    for (const PendingAudio &a : backlog)
        forwardAgentAudio(a.payload, a.itemId, a.bytes);
    leg->beginForwarding();
}

void CallSession::recordPromptAndStream()
{
    // Called when the prompt is known and when the stream attaches, whichever happens last completes the row.
    const std::optional<qint64> promptId = m_prompt.id ? std::optional<qint64>(m_prompt.id) : std::nullopt;
    const std::optional<int> promptVersion =
        m_prompt.id ? std::optional<int>(m_prompt.version) : std::nullopt;
    m_record.promptAndStream(m_telephony ? m_telephony->streamSid() : QString(), promptId, promptVersion);
}

void CallSession::streamLost(const QString &reason)
{
    finish(reason, u"dropped"_s);
}

void CallSession::onModelReady()
{
    qCDebug(lcSession) << "model ready" << m_info.callSid;
    if (m_resuming) {
        finishResume();
        return;
    }
    m_everReady = true;
    armRollover();
    const auto backlog = std::exchange(m_callerBacklog, {});
    for (const QByteArray &frame : backlog) {
        const QByteArray append = realtime::inputAudioAppend(frame);
        if (!append.isEmpty())
            m_model->send(append);
    }
    QString greeting = m_prompt.greeting.trimmed();
    if (m_ctx->recordings) {
        // RECORD_CALLS: the caller hears that the call is recorded, and how to say no, before anything else.
        const QString notice = m_prompt.recordingNotice.trimmed();
        greeting += u' ' + (notice.isEmpty() ? db::AgentPrompt::defaultRecordingNotice() : notice);
    }
    const QString instruction =
        u"Greet the caller now. Say exactly this greeting, warmly and naturally, and nothing else: "_s +
        greeting;
    m_gate.request(QJsonObject{{u"instructions"_s, instruction}});
}

void CallSession::onModelFailed(const QString &reason)
{
    if (m_state == State::Finished || m_state == State::HangingUp)
        return; // hanging up: the transfer or goodbye under way needs nothing more from the model
    if (m_resuming) {
        // The replacement failed too: another attempt after a short back-off, or the fallback.
        if (m_resumeAttempts >= m_ctx->settings.modelReconnectAttempts) {
            endForModelLoss(u"model connection lost (%1); %2 reconnect attempts failed, the last: %3"_s
                                .arg(m_resumeReason.left(200))
                                .arg(m_resumeAttempts)
                                .arg(reason.left(200)));
            return;
        }
        m_resumeRetry.start(m_resumeAttempts == 1 ? 250 : 1000);
        return;
    }
    if (m_everReady && ending() && m_state != State::HangingUp) {
        // A goodbye or a transfer is under way and needs nothing more from the model: it goes on.
        m_gate.suspend();
        maybeHangUp();
        return;
    }
    if (canResume()) {
        beginResume(reason, false);
        return;
    }
    endForModelLoss((m_everReady ? u"model connection lost: "_s : u"model unavailable: "_s) + reason);
}

void CallSession::endForModelLoss(const QString &reason)
{
    if (m_resuming) {
        m_resuming = false;
        m_resumeRetry.stop();
        m_ctx->metrics->modelResume(u"failed"_s);
        m_record.transcript(u"system"_s, reason.left(500));
    }
    m_modelFailed = true;
    m_modelFailure = reason;
    if (m_attached) {
        finish(m_modelFailure, u"failed"_s);
        return;
    }
    // Pre-warmed: if no stream has claimed us yet, leave the registry and end now; otherwise the claimant
    // attaches and we end then (never finish while the registry still hands this session out).
    if (m_ctx->registry->removePrewarmed(m_info.callSid, this))
        finish(m_modelFailure, u"failed"_s);
}

void CallSession::onModelEvent(const realtime::Event &e)
{
    using realtime::ServerEvent;
    switch (e.type) {
    case ServerEvent::OutputAudioDelta:
        onAudioDelta(e);
        return;
    case ServerEvent::ResponseCreated:
        m_gate.created(e.responseId);
        if (std::exchange(m_cancelWhenCreated, false)) {
            // The caller barged in while this response was only requested.
            m_gate.cancelActive();
            m_model->send(realtime::responseCancel(e.responseId));
        }
        return;
    case ServerEvent::OutputAudioDone:
        sealMark(); // the item's last audio gets its mark now
        return;
    case ServerEvent::ResponseDone:
        sealMark();
        onResponseDone(e);
        return;
    case ServerEvent::SpeechStarted:
        if (m_callerItemStartMs.size() >= 64)
            m_callerItemStartMs.clear(); // lines whose transcript never came
        if (!e.itemId.isEmpty())
            m_callerItemStartMs.insert(e.itemId,
                                       std::max<qint64>(0, m_record.offsetMs() - kSpeechDetectLagMs));
        m_callerSpeaking = true;
        m_silence.stop();
        m_silences = 0;
        onSpeechStarted();
        return;
    case ServerEvent::SpeechStopped:
        m_callerSpeaking = false;
        m_speechStoppedAtMs = m_clock();
        m_awaitingTurnAudio = true;
        onSpeechStopped();
        return;
    case ServerEvent::InputAudioCommitted:
        onCallerCommitted(e.itemId);
        return;
    case ServerEvent::InputTranscriptionFailed:
        onCallerTranscript(e.itemId, QString());
        return;
    case ServerEvent::InputTranscriptionCompleted:
        if (!e.text.trimmed().isEmpty()) {
            m_record.transcript(u"caller"_s, e.text.trimmed(), {}, takeStart(m_callerItemStartMs, e.itemId));
            m_history.caller(e.text);
        }
        onCallerTranscript(e.itemId, e.text);
        return;
    case ServerEvent::OutputAudioTranscriptDelta:
        if (m_partialAgent.size() < ConversationHistory::kMaxEntryChars)
            m_partialAgent += e.text;
        return;
    case ServerEvent::OutputAudioTranscriptDone:
        m_partialAgent.clear();
        if (!e.text.trimmed().isEmpty()) {
            m_record.transcript(u"agent"_s, e.text.trimmed(), e.itemId,
                                takeStart(m_agentItemStartMs, e.itemId));
            m_history.agent(e.text);
        }
        return;
    case ServerEvent::FunctionCallArgumentsDone:
        onFunctionCall(e.callId, e.name, e.arguments);
        return;
    case ServerEvent::OutputItemDone:
        if (e.itemType == u"function_call"_s)
            onFunctionCall(e.callId, e.name, e.arguments);
        return;
    case ServerEvent::Error:
        if (e.errorCode == u"response_cancel_not_active"_s) {
            qCDebug(lcRealtime) << "harmless:" << e.errorMessage;
            return;
        }
        if (e.errorCode == u"conversation_already_has_active_response"_s) {
            m_gate.refusedAsActive();
            return;
        }
        m_ctx->metrics->realtimeError(e.errorCode.isEmpty() ? e.errorType : e.errorCode);
        qCWarning(lcRealtime) << "error event:" << e.errorType << e.errorCode << e.errorMessage;
        if (e.errorCode == u"session_expired"_s)
            onModelFailed(u"model session expired"_s);
        return;
    default:
        return;
    }
}

void CallSession::onAudioDelta(const realtime::Event &e)
{
    if (m_gate.isCancelled(e.responseId) || e.audio.isEmpty())
        return;
    const qint64 bytes = base64::decodedSize(e.audio);
    if (e.itemId != m_audioItemId) {
        m_audioItemId = e.itemId;
        // Its line starts when it is first heard: sent on at once (a greeting held before the stream: at 0).
        // Once per item, not per audio frame.
        if (m_agentItemStartMs.size() >= 64)
            m_agentItemStartMs.clear(); // items whose transcript never came
        if (!m_agentItemStartMs.contains(e.itemId))
            m_agentItemStartMs.insert(e.itemId, m_record.offsetMs());
    }
    m_playback.received(e.itemId, bytes);
    if (!m_attached || !m_telephony) {
        if (m_agentBacklogBytes + bytes > m_ctx->settings.agentBufferBytes)
            return; // a greeting longer than the buffer: the rest is dropped rather than delaying the call
        m_agentBacklog.push_back({e.audio, e.itemId, bytes});
        m_agentBacklogBytes += bytes;
        return;
    }
    forwardAgentAudio(e.audio, e.itemId, bytes);
}

void CallSession::forwardAgentAudio(const QByteArray &payload, const QString &itemId, qint64 bytes)
{
    if (!m_telephony)
        return;
    m_silence.stop(); // the agent is talking
    const PlaybackLedger::Marks marks = m_playback.sent(itemId, bytes);
    if (!marks.before.isEmpty())
        m_telephony->sendMark(marks.before);
    m_telephony->sendMedia(payload, marks.after);
    if (m_recording)
        m_mixer.agent(QByteArray::fromBase64(payload));
    if (!m_firstAudioSent) {
        m_firstAudioSent = true;
        m_record.firstAudio();
        m_ctx->metrics->firstAudioMs.observe(double(*m_record.firstAudioMs()));
    }
    if (m_awaitingTurnAudio && m_speechStoppedAtMs >= 0) {
        m_awaitingTurnAudio = false;
        const int latency = int(m_clock() - m_speechStoppedAtMs);
        m_ctx->metrics->turnLatencyMs.observe(latency);
        m_record.turn(latency);
    }
}

void CallSession::sealMark()
{
    if (!m_telephony)
        return;
    if (const QString mark = m_playback.seal(); !mark.isEmpty())
        m_telephony->sendMark(mark);
}

void CallSession::onMarkPlayed(const QString &name)
{
    m_playback.played(name);
    maybeHangUp();
    armSilence();
}

void CallSession::onResponseDone(const realtime::Event &e)
{
    const double cost = m_ctx->settings.prices.cost(e.usage);
    if (e.usage.totalTokens > 0 || e.usage.inputAudioTokens > 0 || e.usage.outputAudioTokens > 0) {
        m_record.usage(e.usage, cost);
        m_ctx->metrics->modelCostMicroUsd.fetch_add(quint64(std::llround(std::max(0.0, cost) * 1e6)));
        m_ctx->metrics->audioTokensIn.fetch_add(quint64(std::max<qint64>(0, e.usage.inputAudioTokens)));
        m_ctx->metrics->audioTokensOut.fetch_add(quint64(std::max<qint64>(0, e.usage.outputAudioTokens)));
    }
    if (e.status == u"failed"_s)
        qCWarning(lcRealtime) << "response failed:" << e.errorType << e.errorCode;
    m_gate.done(e.responseId);
    maybeHangUp();
}

void CallSession::startRecording()
{
    if (!m_ctx->recordings || m_recording || m_recordingDeclined)
        return;
    QString file;
    m_recording = m_ctx->recordings->begin(m_info.callSid, m_record.writerId(), &file);
    m_record.recording(file, u"recording"_s);
}

void CallSession::stopRecording(bool keep)
{
    if (!m_recording)
        return;
    if (keep && m_mixer.hasAudio())
        m_ctx->recordings->append(*m_recording, m_mixer.takeBlock());
    m_ctx->recordings->end(*m_recording, keep, m_mixer.durationMs());
    m_recording.reset();
    if (!keep) {
        m_recordingDeclined = true;
        m_mixer = RecordingMixer();
        m_record.transcript(u"system"_s, u"The caller declined recording: the recording was deleted."_s);
    }
}

void CallSession::onCallerMedia(const QByteArray &payload, qint64)
{
    if (m_recording && m_mixer.caller(QByteArray::fromBase64(payload)))
        m_ctx->recordings->append(*m_recording, m_mixer.takeBlock());
    if (m_model->isReady()) {
        m_appendMessage.resize(0); // reused: no allocation per caller frame
        if (realtime::appendInputAudioAppend(m_appendMessage, payload)) {
            m_model->send(m_appendMessage);
            if (m_recentCaller.size() >= size_t(kResendFrames))
                m_recentCaller.pop_front();
            m_recentCaller.push_back(payload);
            if (m_deciding)
                trackUtterance(payload);
        } else
            m_ctx->metrics->streamError(u"invalid_payload"_s); // the stream's parser lets none through
        return;
    }
    if (m_callerBacklog.size() >= m_ctx->settings.callerBufferFrames) {
        m_callerBacklog.removeFirst();
        m_ctx->metrics->callerFramesDropped.fetch_add(1, std::memory_order_relaxed);
    }
    m_callerBacklog.append(payload);
}

void CallSession::onDtmf(const QString &digit)
{
    m_record.transcript(u"system"_s, u"Caller pressed %1"_s.arg(digit.left(1)));
    m_silence.stop();
    m_silences = 0;
    const QString message = u"[The caller pressed the key %1 on the phone keypad.]"_s.arg(digit.left(1));
    m_history.caller(message);
    if (m_model->isReady()) {
        m_model->send(realtime::userTextMessage(message));
        m_gate.request();
    } else if (m_resuming) {
        m_gate.request(); // the key is in the history the new session hears; answered once it is ready
    }
}

void CallSession::onStreamStopped(const QString &reason)
{
    m_telephony = nullptr;
    if (m_pendingEnd)
        finish(m_pendingEnd->first, m_pendingEnd->second);
    else if (m_transferRequested)
        finish(u"transferred to a human"_s, u"transferred"_s);
    else if (m_endRequested)
        finish(m_endAs ? m_endAs->first : u"agent ended the call"_s,
               m_endAs ? m_endAs->second : u"resolved"_s);
    else
        finish(u"caller hung up ("_s + reason + u')', u"dropped"_s);
}

void CallSession::finish(const QString &reason, const QString &outcome)
{
    if (m_state == State::Finished)
        return;
    setState(State::Finished);
    m_prewarmExpiry.stop();
    m_claimPoll.stop();
    m_hangupDeadline.stop();
    m_resumeRetry.stop();
    m_rollover.stop();
    m_silence.stop();
    stopRecording(true);
    qCInfo(lcSession) << "call" << m_info.callSid << "ended:" << outcome << "-" << reason;
    m_model->close();
    if (m_telephony)
        m_telephony->close(reason);
    m_telephony = nullptr;
    m_record.end(outcome, reason);
    if (m_counted)
        m_ctx->metrics->callsActive.fetch_sub(1);
    m_ctx->metrics->callEnded(outcome);
    m_ctx->registry->release(m_info.callSid);
    Q_EMIT finished(reason, outcome);
    deleteLater();
}

} // namespace vaani
