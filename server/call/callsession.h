#pragma once
// One phone call: joins the caller's leg (Twilio Media Stream) and the model leg (OpenAI Realtime), carries
// the conversation (greeting first, barge-in, tools, transfer, hang-up) and writes the call record as it
// happens. A job in the KJob sense: start(), then exactly one finished(reason, outcome), then deleteLater.
//
// Threads: created on the worker that took the webhook (or the stream); may be moved once, before the
// stream attaches, to the stream's worker (it has no parent for that reason). Everything else happens on
// its own thread. Owns the model leg; holds the telephony leg through a QPointer (the stream owns itself).

#include "callrecorder.h"
#include "conversationhistory.h"
#include "db/models.h"
#include "db/repositories.h"
#include "legs.h"
#include "playbackledger.h"
#include "recordingmixer.h"
#include "recordingstore.h"
#include "responsegate.h"
#include "servercontext.h"

#include <QPointer>
#include <QSet>
#include <QTimer>

#include <deque>
#include <functional>
#include <memory>
#include <optional>

namespace vaani {

struct CallInfo
{
    QString callSid;
    QString caller;
    QString called;
};

class CallSession : public QObject
{
    Q_OBJECT
public:
    // Created → Prewarmed (registered by the webhook, waiting for its stream) → Active (stream attached) →
    // HangingUp (a transfer, goodbye or hang-up under way) → Finished; Finished can follow any state.
    // Transitions are logged at debug level (category vaani.server.session).
    enum class State { Created, Prewarmed, Active, HangingUp, Finished };
    static const char *stateName(State s);

    // Nothing happens until start(), attachStream() or armPrewarmExpiry(): the call's record is opened by the
    // first of them. `clock`: time for the parts (tests give a fake one).
    CallSession(CallInfo info, ServerContext *context, ModelLeg *model, Clock clock = steadyClock());
    ~CallSession() override;

    const CallInfo &info() const { return m_info; }
    State state() const { return m_state; }

    // Starts the model session with this prompt (fetched from the database by the caller).
    void start(const db::AgentPrompt &prompt);
    // Joins the caller's stream; before this the session is "pre-warmed" (greeting prepared, audio held).
    void attachStream(TelephonyLeg *leg);
    // The stream this session was promised has gone before it could attach.
    void streamLost(const QString &reason);
    // Pre-warmed and registered under its CallSid: expires if no stream arrives in time.
    void armPrewarmExpiry(int timeoutMs);
    // The server is shutting down: a live call is transferred to HUMAN_AGENT_NUMBER when set, else ended with
    // a spoken goodbye (outcome "shutdown"); a session still waiting for its stream ends as "no_stream".
    void endForShutdown(const QString &reason);

    static db::AgentPrompt builtInPrompt();
    static constexpr qint64 kMarkEveryBytes = PlaybackLedger::kMarkEveryBytes;
    static constexpr int kWrapUpLeadMs = 20000;
    static constexpr int kClaimPollMs =
        2000; // a pre-warmed session looks whether another server took the call
    static constexpr int kMaxResumesPerCall = 10; // model sessions replaced after drops, per call
    static constexpr int kRolloverRetryMs = 500;  // a rollover that is due waits for a quiet moment

Q_SIGNALS:
    void finished(const QString &reason, const QString &outcome);

private:
    struct PendingAudio
    {
        QByteArray payload;
        QString itemId;
        qint64 bytes;
    };

    // Model side
    void onRecordChecked(const db::DbResult<db::CallRecord> &record);
    void openRecord();
    void onModelReady();
    void onModelEvent(const realtime::Event &e);
    void onModelFailed(const QString &reason);
    void onAudioDelta(const realtime::Event &e);
    void onSpeechStarted();
    void onSpeechStopped();
    // BACKCHANNEL_MS: the bridge, not the model, decides whether caller speech over the agent stops it, and
    // when the caller's turn is answered.
    bool bridgeDecides() const { return m_ctx->settings.backchannelMs > 0; }
    void interruptAgent();
    // SILENCE_PROMPT_S: armed when the agent has finished and nothing is under way; the first silence gets a
    // gentle "are you there?", the second a callback ticket, a goodbye and the hang-up.
    void armSilence();
    void onSilence();
    QTimer m_silence{this};
    int m_silences = 0;
    std::optional<std::pair<QString, QString>> m_endAs;   // reason, outcome of an agent-side hang-up
    void trackUtterance(const QByteArray &payloadBase64); // while deciding: is the caller still talking?
    void onCallerCommitted(const QString &itemId);
    void onCallerTranscript(const QString &itemId, const QString &text);
    void settleUtterance(bool backchannel);
    void onResponseDone(const realtime::Event &e);
    void onFunctionCall(const QString &callId, const QString &name, const QString &arguments);
    // Caller side
    void onCallerMedia(const QByteArray &payload, qint64 timestampMs);
    void onMarkPlayed(const QString &name);
    void onDtmf(const QString &digit);
    void onStreamStopped(const QString &reason);
    void forwardAgentAudio(const QByteArray &payload, const QString &itemId, qint64 bytes);
    void sealMark(); // a mark after audio that has none yet
    // Tools
    void completeTool(const QString &callId, const QString &name, const QString &arguments, qint64 startedMs,
                      bool ok, const QJsonObject &output);
    void startTransfer(const QString &callId, const QString &arguments, const QString &reason,
                       qint64 startedMs);
    void maybeHangUp();
    void hangUpNow();
    void recordPromptAndStream();
    void finish(const QString &reason, const QString &outcome);
    void setState(State next);
    // The model is gone (failed, closed or its session expired): the call ends in the fallback, following the
    // registry's hand-over protocol when the session is still pre-warmed.
    void endForModelLoss(const QString &reason);
    // Ends the call through Twilio's REST API with this TwiML when credentials are set (then finishes),
    // else finishes at once: closing the stream runs the TwiML after </Connect>.
    void endWithTwiml(const QByteArray &twiml, const QString &reason, const QString &outcome);
    bool ending() const { return m_endRequested || m_transferRequested; }

    // Resume after a model drop (and the planned rollover before the API's session limit): a new leg from
    // this thread's ModelProvider (a warm session first) gets the session configuration again, then the
    // conversation so far (m_history), then the caller audio held meanwhile; a response cut off mid-way is
    // continued with a short "one moment". Up to MODEL_RECONNECT_ATTEMPTS attempts per drop, then the
    // fallback.
    bool canResume() const;
    void beginResume(const QString &reason, bool planned);
    void attemptResume();
    void finishResume();
    void adoptModel(ModelLeg *leg);
    void armRollover();
    void onRolloverDue();

    CallInfo m_info;
    ServerContext *m_ctx;
    ModelLeg *m_model; // child
    QPointer<TelephonyLeg> m_telephony;
    State m_state = State::Created;
    // The parts: what the caller heard, when responses may be asked for, and the call's record.
    PlaybackLedger m_playback;
    ResponseGate m_gate;
    CallRecorder m_record;

    db::AgentPrompt m_prompt;
    bool m_started = false;
    bool m_modelFailed = false;
    QString m_modelFailure;
    bool m_attached = false;
    bool m_counted = false;
    bool m_duplicate = false;     // the call's record had ended before this session: it serves nothing
    bool m_recordChecked = false; // the record's state is known (start() waits for it)
    std::optional<db::AgentPrompt> m_pendingPrompt;

    // Audio both ways
    QList<QByteArray> m_callerBacklog;       // until the model is ready
    std::deque<PendingAudio> m_agentBacklog; // until the stream starts
    qint64 m_agentBacklogBytes = 0;
    QByteArray m_appendMessage; // input_audio_buffer.append, rebuilt in place per caller frame
    QString m_audioItemId;      // the item whose audio is playing

    // Caller verification (tools.h): customers this caller proved to be, and wrong answers so far
    QSet<qint64> m_verifiedCustomers;
    int m_failedVerifications = 0;

    // Ending
    bool m_endRequested = false;
    bool m_transferRequested = false;
    QTimer m_prewarmExpiry{this}; // parented: they must move with the session
    // While pre-warmed: has another server claimed the call (its stream went there)? Then the model session
    // is released at once instead of at the expiry.
    QTimer m_claimPoll{this};
    void checkClaimedElsewhere();
    QTimer m_hangupDeadline{this};
    // MAX_CALL_MINUTES: the agent is asked to wrap up kWrapUpLeadMs before the limit; at the limit the call
    // is hung up.
    QTimer m_durationLimit{this};
    bool m_wrappingUp = false;
    void onDurationLimit();
    int wrapUpLeadMs() const;
    std::optional<std::pair<QString, QString>> m_pendingEnd; // reason, outcome of a redirect under way
    QString m_endOnAttach; // shutdown reached this session between its hand-over and attachStream()

    // Turn latency: from the end of the caller's speech to the first agent audio after it
    Clock m_clock;
    qint64 m_speechStoppedAtMs = -1;
    bool m_awaitingTurnAudio = false;
    bool m_firstAudioSent = false;

    // The caller's current utterance (bridgeDecides)
    struct Utterance
    {
        bool overAgent = false;       // began while the agent was talking
        bool interrupted = false;     // stopped the agent
        bool awaitingVerdict = false; // short, over the agent: its transcript decides
        QString item;                 // its committed item
    };
    Utterance m_utterance;
    // While an utterance over the agent is undecided, the caller's frames are measured here (the model's
    // speech_stopped comes only after its silence duration, too late to tell a "haan" from a sentence):
    // an utterance reaching BACKCHANNEL_MS (first to last voiced frame, pauses under kPauseMs included) is a
    // barge-in; a pause of kPauseMs first makes it a short one.
    bool m_deciding = false;
    int m_voicedMs = 0; // the utterance's length so far
    int m_quietMs = 0;
    static constexpr int kPauseMs = 240;
    static constexpr int kVoicedMeanAbs = 400; // mean |sample| of a 20 ms frame (of 32767) counted as voice
    QTimer m_verdictDeadline{this};            // no transcript for a short utterance: taken as a backchannel
    bool m_cancelWhenCreated = false;          // interrupted before the requested response was created
    static constexpr int kVerdictTimeoutMs = 3000;
    // Speech over the agent's last moments (less than this still to play, nothing more being generated) is
    // the caller's answer, not a backchannel.
    static constexpr qint64 kEndOfTurnMs = 1200;

    // RECORD_CALLS: started with the stream, ended with the call or when the caller declines.
    void startRecording();
    void stopRecording(bool keep);
    std::optional<RecordingStore::Handle> m_recording;
    bool m_recordingDeclined = false;
    RecordingMixer m_mixer;
    // When each line began, for the transcript (and a recording's replay): the caller's from the model's
    // speech_started (less the detection lag), the agent's from its first audio sent to Twilio.
    QHash<QString, qint64> m_callerItemStartMs;
    QHash<QString, qint64> m_agentItemStartMs;
    static constexpr qint64 kSpeechDetectLagMs = 200;

    // Resume (see canResume)
    realtime::SessionConfig m_sessionConfig;
    ConversationHistory m_history;
    QString m_partialAgent; // transcript of the agent's answer in progress (deltas so far)
    // The last caller frames sent to the model: those written into a connection that then dropped may never
    // have arrived, so a resumed session hears them again (with the frames held during the gap).
    static constexpr int kResendFrames = 25; // 500 ms
    std::deque<QByteArray> m_recentCaller;
    bool m_callerSpeaking = false; // between speech_started and speech_stopped
    bool m_everReady = false;      // the model session was ready once: later failures are drops
    bool m_resuming = false;
    bool m_resumePlanned = false;
    bool m_resumeMidAnswer = false; // a response was under way when the model went
    QString m_resumeReason;
    QString m_resumePartial;
    QString m_oldSessionItem; // the agent item that was playing when the model went (not truncated later)
    int m_resumeAttempts = 0; // for this drop
    int m_resumes = 0;        // for this call
    qint64 m_resumeStartedMs = 0;
    QTimer m_resumeRetry{this};
    QTimer m_rollover{this};
};

} // namespace vaani
