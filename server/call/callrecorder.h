#pragma once
// The call's record, written as the call happens: the row (claimed or found by CallSid), prompt and stream,
// transcript lines (offsets from the stream's start), the agent lines a barge-in cut short, turn latencies,
// tool calls, token usage with its cost, and the end. Writes are jobs on the database thread and run in the
// order they were made; the row's id is resolved by the first and reused. One call, one owner: the session
// that has the Media Stream claims the row; writes made before (a pre-warmed greeting) wait for the claim,
// and a session that never had the stream ends the row only if nobody claimed it. A row that had already
// ended before this session (a webhook replayed after the call, or after a restart) is never written again.
// Nothing is submitted before open(): constructing a recorder has no side effects.
//
// Threads: used on the session's thread; its jobs run on the database thread and share only the row id and
// the ownership flag with it (both written there, read there). Owned by the session.

#include "clock.h"
#include "db/repositories.h"

#include <QHash>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace vaani::db {
class DbWorker;
}

namespace vaani {

class CallRecorder
{
public:
    CallRecorder(db::DbWorker *db, QString callSid, Clock clock)
        : m_db(db)
        , m_callSid(std::move(callSid))
        , m_clock(std::move(clock))
    {}

    // Claims or finds the row (once; later calls do nothing). `checked` runs on `context`'s thread, from the
    // event loop, with the row as found: the session serves the call only if it is still in progress.
    void open(const db::CallStart &start, QObject *context,
              std::function<void(const db::DbResult<db::CallRecord> &)> checked);
    bool isOpen() const { return m_opened; }

    // Offsets are measured from here (the stream's start); 0 before.
    void startClock() { m_startedAt = m_clock(); }
    qint64 offsetMs() const { return m_startedAt >= 0 ? m_clock() - m_startedAt : 0; }

    void promptAndStream(const QString &streamSid, std::optional<qint64> promptId,
                         std::optional<int> promptVersion);
    // A transcript line, personal numbers replaced by tags (pii::redact); agent lines name their item so that
    // a barge-in can mark them cut.
    void transcript(const QString &speaker, const QString &said, const QString &agentItemId = {});
    // The caller interrupted this agent item: its line is marked truncated (now, or when its transcript
    // arrives, which is often after the barge-in).
    void truncated(const QString &agentItemId);
    void firstAudio() { m_firstAudioMs = int(offsetMs()); }
    std::optional<int> firstAudioMs() const { return m_firstAudioMs; }
    void turn(int latencyMs);
    void usage(const realtime::Usage &usage, double cost);
    // Arguments and result are stored redacted too.
    void tool(const QString &name, const QString &arguments, const QString &result, int durationMs, bool ok);
    void end(const QString &outcome, const QString &reason);

    // The conversation so far as "Caller: …" / "Agent: …" lines (a transfer ticket carries it).
    const QStringList &conversation() const { return m_conversation; }
    const QList<int> &turnLatencies() const { return m_turnLatencies; }

    // Any other write: fn(repositories, row id) on the database thread, in order with the rest. Until the
    // session has the stream (promptAndStream() with a stream SID claims the row), writes are held: a
    // pre-warmed session whose stream went to another server never writes into that server's record.
    void write(std::function<db::DbResult<bool>(db::Repositories &, qint64)> fn);
    bool claimed() const { return m_claimed; }
    // The row as the database has it now (another server may have claimed it); `seen` runs on `context`.
    void check(QObject *context, std::function<void(const db::DbResult<db::CallRecord> &)> seen);

private:
    using Write = std::function<db::DbResult<bool>(db::Repositories &, qint64)>;
    void submit(Write fn);
    db::DbWorker *m_db;
    QString m_callSid;
    QString m_instance; // this server's name (VAANI_INSTANCE), written by the claim
    bool m_claimed = false;
    QList<Write> m_held; // before the claim (bounded)
    std::optional<qint64> m_promptId;
    std::optional<int> m_promptVersion;
    Clock m_clock;
    bool m_opened = false;
    qint64 m_startedAt = -1;
    int m_seq = 0;
    QHash<QString, int> m_agentItemSeq; // item id -> its transcript line
    QString m_pendingTruncation;        // cut before its transcript arrived
    QStringList m_conversation;
    std::optional<int> m_firstAudioMs;
    QList<int> m_turnLatencies;
    std::shared_ptr<qint64> m_callId = std::make_shared<qint64>(0);    // database thread only
    std::shared_ptr<bool> m_ownsRecord = std::make_shared<bool>(true); // ditto
};

} // namespace vaani
