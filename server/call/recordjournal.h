#pragma once
// Every call-record write (a call's start, claim, transcript lines, turns, tool calls, usage, end; a refused
// call; Twilio's status callbacks) goes through this journal: append() queues it in memory and returns at
// once; a writer thread appends it to a file under the journal directory and fsyncs in batches; the database
// thread applies the writes in order. A write that the database cannot take now (unreachable, a full disk, a
// statement timeout, a read-only file) stays queued and is retried with back-off, in order, until it can; the
// file keeps it across a crash or a restart, and the next run replays it. Each write is idempotent when
// applied again (the call by CallSid, lines, turns and tool calls by their per-call number, usage as totals,
// the end as an overwrite), so a replay after a crash between applying and forgetting stores nothing twice.
//
// Files: <dir>/<first sequence number>.journal, each up to a few MB (see journalcodec.h for the line format);
// one whose writes have all been applied is deleted. <dir>/lock keeps a second process out of the directory.
// Bounds: at most maxBytes of writes waiting (memory and disk alike); beyond that new writes are dropped,
// counted and logged, and status() says so.
//
// Threads: append(), status() and newWriterId() from any thread. The writer thread only does file I/O; the
// database thread applies. Nothing here ever blocks the caller on the disk or the database.

#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace vaani::db {
class DbWorker;
class DataCipher;
} // namespace vaani::db

namespace vaani {

class RecordJournal
{
public:
    struct Options
    {
        QString dir;                           // empty: memory only (tests; nothing survives a restart)
        qint64 maxBytes = 256LL * 1024 * 1024; // writes waiting, at most
        qint64 segmentBytes = 4LL * 1024 * 1024;
        int retryMinMs = 500; // back-off while the database cannot take writes: doubles up to retryMaxMs
        int retryMaxMs = 8000;
        // With a data key (VAANI_DATA_KEY_FILE), each line is sealed with it: the journal holds caller
        // numbers and transcripts like the database does.
        std::shared_ptr<const db::DataCipher> cipher;
    };

    struct Status
    {
        qint64 backlog = 0; // writes not yet in the database
        qint64 backlogBytes = 0;
        qint64 oldestAgeMs = 0;          // how long the oldest of them has waited
        bool databaseTakesWrites = true; // false while the last attempt failed for a reason that passes
        bool fileWritable = true;        // false while appending to the journal file fails (disk full…)
        bool full = false;               // maxBytes reached: writes are being dropped
        quint64 appended = 0, applied = 0, replayed = 0, dropped = 0, rejected = 0, fileErrors = 0;
        QString lastError;
    };

    RecordJournal(db::DbWorker *db, Options options);
    ~RecordJournal(); // writes out and fsyncs what is queued; what the database has not taken stays on disk
    RecordJournal(const RecordJournal &) = delete;
    RecordJournal &operator=(const RecordJournal &) = delete;

    // Takes the directory (creating it, mode 0700), reads what an earlier run left there (applied once the
    // database answers) and starts the writer. false with `error`: the directory cannot be used (another
    // process holds it, or it is not writable).
    bool open(QString *error);

    // One write: an object with "t" (its kind) and "sid" (the CallSid), see recordjournal.cpp. Never blocks.
    // While no backlog waits, a database job submitted after append() runs after the write was applied (the
    // database thread applies the journal's writes in order with its other jobs).
    void append(QJsonObject op);

    Status status() const;
    void setCipher(std::shared_ptr<const db::DataCipher> cipher); // SIGHUP: new keys seal the next lines
    // Whether the writes an earlier run left have all been tried (crash recovery waits for this before it
    // marks that run's calls interrupted).
    bool replayDone() const;
    // A fresh id for one writer (a call's recorder): the database thread keeps what it learnt of each
    // writer's row under it.
    static QString newWriterId();
    // Runs `done` on the database thread once every write appended before this call has been tried.
    void whenTried(std::function<void()> done);

    struct State;

private:
    std::shared_ptr<State> d;
};

} // namespace vaani
