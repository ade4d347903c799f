#pragma once
// RecordJournal's insides, shared by its two halves: recordjournal.cpp (the queue, the file and the passes)
// and recordjournal_apply.cpp (what each write does to the database). Not for use elsewhere.

#include "db/dbworker.h"
#include "recordjournal.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QLockFile>
#include <QMutex>
#include <QWaitCondition>

#include <deque>
#include <optional>
#include <thread>

namespace vaani {

inline namespace journal_detail {

inline qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

inline bool transient(const db::DbError &e)
{
    return e.kind == db::DbError::Kind::Unreachable || e.kind == db::DbError::Kind::Conflict;
}

struct Pending
{
    quint64 seq = 0;
    QByteArray line; // as written to the file
    qint64 at = 0;   // appended (ms since the epoch)
};

struct Segment
{
    QString path;
    quint64 lastSeq = 0; // the last write in it
    qint64 size = 0;
};

enum class Applied { Yes, Rejected, Later };

} // namespace journal_detail
using namespace journal_detail;

struct RecordJournal::State : std::enable_shared_from_this<RecordJournal::State>
{
    db::DbWorker *db = nullptr;
    Options o;

    mutable QMutex mutex;
    QWaitCondition wake;
    std::shared_ptr<const db::DataCipher> cipher;
    std::deque<Pending> queue; // not yet applied, in order
    qint64 queueBytes = 0;
    quint64 nextSeq = 1;
    quint64 writtenUpTo = 0; // the writer has fsynced every write up to here (or it was applied first)
    quint64 appliedUpTo = 0;
    quint64 replayUpTo = 0; // the writes read at start-up
    bool passQueued = false;
    bool databaseDown = false;
    int retryMs = 0;
    qint64 retryAt = 0;
    bool fileOk = true;
    bool full = false;
    bool stopping = false;
    QString lastError;
    quint64 appended = 0, applied = 0, replayed = 0, dropped = 0, rejected = 0, fileErrors = 0;
    std::unique_ptr<QLockFile> dirLock;
    std::thread writer;

    // The writer thread's.
    int fd = -1;
    std::deque<Segment> segments; // oldest first; the last one is being appended to

    // The database thread's: what each writer's row is.
    struct Writer
    {
        qint64 callId = 0;
        bool owned = true; // false: the row had ended before this writer started (a replayed webhook)
    };
    QHash<QString, Writer> writers;

    void kickLocked();
    void failedLocked(const db::DbError &e);
    db::DbError pass(db::Repositories *r, const db::DbError &openError);
    Applied apply(db::Repositories &r, const QJsonObject &op, db::DbError *error);
    std::optional<QJsonObject> decodePayload(const QByteArray &payload) const;
    void writerLoop();
    bool appendToFile(const QList<Pending> &batch);
    void dropAppliedSegments(bool idle);
    bool openSegment(quint64 firstSeq);
};

using DbError = db::DbError;

} // namespace vaani
