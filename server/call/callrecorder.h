#pragma once
// The call's record, written as the call happens: the row (claimed or found by CallSid), prompt and stream,
// transcript lines (offsets from the stream's start), the agent lines a barge-in cut short, turn latencies,
// tool calls, token usage with its cost, and the end. Every write goes through the server's RecordJournal
// (on disk first, then applied in order by the database thread, again later if the database is away), as a
// plain description that is idempotent when applied twice. One call, one owner: the session
// that has the Media Stream claims the row; writes made before (a pre-warmed greeting) wait for the claim,
// and a session that never had the stream ends the row only if nobody claimed it. A row that had already
// ended before this session (a webhook replayed after the call, or after a restart) is never written again.
// Nothing is submitted before open(): constructing a recorder has no side effects.
//
// Threads: used on the session's thread; the journal and the database thread do the rest. Owned by the
// session.

#include "clock.h"
#include "db/repositories.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace vaani::db {
class DbWorker;
}

namespace vaani {

class RecordJournal;

class CallRecorder
{
public:
    CallRecorder(RecordJournal *journal, db::DbWorker *db, QString callSid, Clock clock);

    // Claims or finds the row (once; later calls do nothing). `checked` runs on `context`'s thread, from the
    // event loop, with the row as the database has it now (an error when it is away, or not found when the
    // journal has not applied the start yet): the session serves the call unless it has ended already.
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
    // Caller and agent lines are written in one script (hinglish::romanise) with their language tagged;
    // `atMs`: when the line began (the caller's speech, the agent's first audio), else now.
    void transcript(const QString &speaker, const QString &said, const QString &agentItemId = {},
                    std::optional<qint64> atMs = {});
    // RECORD_CALLS: the call's recording (file under RECORDINGS_DIR; status recording, complete, declined,
    // failed) and its length.
    void recording(const QString &file, const QString &status, std::optional<qint64> ms = {});
    const QString &writerId() const { return m_writer; }
    const QString &callSid() const { return m_callSid; }
    // The caller interrupted this agent item: its line is marked truncated (now, or when its transcript
    // arrives, which is often after the barge-in).
    void truncated(const QString &agentItemId);
    void firstAudio() { m_firstAudioMs = int(offsetMs()); }
    std::optional<int> firstAudioMs() const { return m_firstAudioMs; }
    void turn(int latencyMs);
    void usage(const realtime::Usage &usage, double cost); // one response's (added to the call's totals)
    // Arguments and result are stored redacted too.
    void tool(const QString &name, const QString &arguments, const QString &result, int durationMs, bool ok);
    void end(const QString &outcome, const QString &reason);
    // A high-priority callback ticket for the caller's number, linked to the call (one per call), with `why`
    // as its reason and on the record.
    void callbackTicket(const QString &callerNumber, const QString &why);

    // The conversation so far as "Caller: …" / "Agent: …" lines (a transfer ticket carries it).
    const QStringList &conversation() const { return m_conversation; }
    const QList<int> &turnLatencies() const { return m_turnLatencies; }

    bool claimed() const { return m_claimed; }
    // The row as the database has it now (another server may have claimed it); `seen` runs on `context`.
    void check(QObject *context, std::function<void(const db::DbResult<db::CallRecord> &)> seen);

private:
    // Until the session has the stream (promptAndStream() with a stream SID claims the row), writes are held:
    // a pre-warmed session whose stream went to another server never writes into that server's record.
    void write(QJsonObject op);
    void submit(QJsonObject op);
    RecordJournal *m_journal;
    db::DbWorker *m_db;
    QString m_callSid;
    QString m_writer;   // this recorder's id in the journal
    QString m_instance; // this server's name (VAANI_INSTANCE), written by the claim
    bool m_claimed = false;
    QJsonArray m_held; // before the claim (bounded)
    int m_toolSeq = 0;
    realtime::Usage m_usage; // totals so far
    double m_cost = 0;
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
};

} // namespace vaani
