#pragma once
// One phone call: joins the caller's leg (Twilio Media Stream) and the model leg (OpenAI Realtime), carries
// the conversation (greeting first, barge-in, tools, transfer, hang-up) and writes the call record as it
// happens. A job in the KJob sense: start(), then exactly one finished(reason, outcome), then deleteLater.
//
// Threads: created on the worker that took the webhook (or the stream); may be moved once, before the
// stream attaches, to the stream's worker (it has no parent for that reason). Everything else happens on
// its own thread. Owns the model leg; holds the telephony leg through a QPointer (the stream owns itself).

#include "db/models.h"
#include "db/repositories.h"
#include "legs.h"
#include "servercontext.h"

#include <QElapsedTimer>
#include <QHash>
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

    CallSession(CallInfo info, ServerContext *context, ModelLeg *model);
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
    // 100 ms of 8 kHz μ-law between marks: barge-in needs no finer grain (the time since the last echo
    // interpolates), and marks at every 20 ms delta would double Twilio-side messages.
    static constexpr qint64 kMarkEveryBytes = 800;

Q_SIGNALS:
    void finished(const QString &reason, const QString &outcome);

private:
    struct SentChunk
    {
        QString mark;
        qint64 bytes;
        QString itemId;
        int epoch;
    };
    struct PendingAudio
    {
        QByteArray payload;
        QString itemId;
        qint64 bytes;
    };

    // Model side
    void onRecordChecked(const db::DbResult<db::CallRecord> &record);
    void onModelReady();
    void onModelEvent(const realtime::Event &e);
    void onModelFailed(const QString &reason);
    void onAudioDelta(const realtime::Event &e);
    void onSpeechStarted();
    void onResponseDone(const realtime::Event &e);
    void onFunctionCall(const QString &callId, const QString &name, const QString &arguments);
    void requestResponse(const QJsonObject &response = {});
    // Caller side
    void onCallerMedia(const QByteArray &payload, qint64 timestampMs);
    void onMarkPlayed(const QString &name);
    void onDtmf(const QString &digit);
    void onStreamStopped(const QString &reason);
    void forwardAgentAudio(const QByteArray &payload, const QString &itemId, qint64 bytes);
    // Tools
    void completeTool(const QString &callId, const QString &name, const QString &arguments, qint64 startedMs,
                      bool ok, const QJsonObject &output);
    void flushToolOutputs();
    void startTransfer(const QString &callId, const QString &arguments, const QString &reason,
                       qint64 startedMs);
    void maybeHangUp();
    void sealMark(); // a mark after audio that has none yet
    qint64 heardBytes(const QString &itemId) const;
    void hangUpNow();
    // Record: fn(Repositories&, callId) runs on the database thread after the call's row id is known
    // (resolved once by the first job, then reused: jobs run in order on that one thread).
    void record(std::function<db::DbResult<bool>(db::Repositories &, qint64)> fn);
    void recordPromptAndStream();
    void recordTranscript(const QString &speaker, const QString &text);
    qint64 offsetMs() const;
    void finish(const QString &reason, const QString &outcome);
    void setState(State next);
    // The model is gone (failed, closed or its session expired): the call ends in the fallback, following the
    // registry's hand-over protocol when the session is still pre-warmed.
    void endForModelLoss(const QString &reason);
    // Ends the call through Twilio's REST API with this TwiML when credentials are set (then finishes),
    // else finishes at once: closing the stream runs the TwiML after </Connect>.
    void endWithTwiml(const QByteArray &twiml, const QString &reason, const QString &outcome);

    CallInfo m_info;
    ServerContext *m_ctx;
    ModelLeg *m_model; // child
    QPointer<TelephonyLeg> m_telephony;
    State m_state = State::Created;
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
    std::deque<SentChunk> m_sentChunks; // marks not yet echoed
    QByteArray m_appendMessage;         // input_audio_buffer.append, rebuilt in place per caller frame
    // Agent audio sent since the last mark: a mark follows every kMarkEveryBytes of audio, at the end of each
    // item's audio and before a hang-up, rather than after every delta (each mark is two messages).
    SentChunk m_unmarked{QString(), 0, QString(), 0};
    QElapsedTimer m_playbackClock; // since the last mark echo (or since audio started after an idle spell)
    int m_clearEpoch = 0;
    quint64 m_markCounter = 0;
    QString m_audioItemId;
    QHash<QString, qint64> m_itemReceivedBytes;
    QHash<QString, qint64> m_itemPlayedBytes;
    QSet<QString> m_cancelledResponses;

    // Responses and tools
    QString m_activeResponse;
    bool m_responseRequested = false; // response.create sent, response.created not yet seen
    bool m_pendingCreate = false;
    QJsonObject m_pendingCreateBody;
    QSet<QString> m_seenCalls;
    int m_toolsInFlight = 0;
    QList<QPair<QString, QString>> m_toolOutputs; // call_id, output JSON
    bool m_endRequested = false;
    bool m_transferRequested = false;
    QString m_transferTicket;

    // Timing and record
    QElapsedTimer m_clock; // from stream start
    QElapsedTimer m_speechStoppedAt;
    bool m_awaitingTurnAudio = false;
    bool m_firstAudioSent = false;
    std::optional<int> m_firstAudioMs;
    QList<int> m_turnLatencies;
    int m_transcriptSeq = 0;
    QHash<QString, int> m_agentItemSeq; // item id -> transcript seq (to mark truncation)
    QStringList m_conversation;         // for the transfer ticket
    QTimer m_prewarmExpiry{this};       // parented: they must move with the session
    QTimer m_hangupDeadline{this};
    QString m_pendingTruncatedItem;
    std::shared_ptr<qint64> m_callId = std::make_shared<qint64>(0); // touched on the database thread only
    std::optional<std::pair<QString, QString>> m_pendingEnd;        // reason, outcome of a redirect under way
    QString m_endOnAttach; // shutdown reached this session between its hand-over and attachStream()
    std::shared_ptr<bool> m_ownsRecord = std::make_shared<bool>(true); // ditto: false for a finished record
};

} // namespace vaani
