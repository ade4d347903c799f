#include "recordjournal.h"
#include "recordjournal_p.h"

#include "db/datacipher.h"
#include "db/dbworker.h"
#include "journalcodec.h"
#include "logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLockFile>
#include <QMutex>
#include <QRandomGenerator>
#include <QWaitCondition>

#include <deque>
#include <thread>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

// The writes, as appended by CallRecorder and the webhooks (all fields checked again when applied):
//   start  sid w caller called inst at [pid pv]       the call's row (found by CallSid, or created)
//   claim  sid w stream inst [pid pv]                 the session that has the stream owns the row
//   stream sid w stream [pid pv]
//   line   sid w seq who text off [lang]              a transcript line (seq: unique per call)
//   rec    sid w file status [ms]                     the call's recording (RECORD_CALLS)
//   cut    sid w seq                                  that agent line was cut short by a barge-in
//   turn   sid w seq ms off
//   usage  sid w ti ai tc to ao cost                  totals so far
//   tool   sid w seq name args res ms ok at
//   end    sid w outcome reason [fa] lat at [unclaimed held]
//   reject sid caller called inst reason at           a call refused at the webhook
//   status sid status [dur] at                        Twilio's status callback
// `at` is milliseconds since the epoch (when it happened, not when it is applied); `w` names the writer.

namespace vaani {

using DbError = db::DbError;

namespace {
constexpr int kPassOps = 200; // writes per database job: tools' queries run between two passes
} // namespace

RecordJournal::RecordJournal(db::DbWorker *db, Options options)
    : d(std::make_shared<State>())
{
    d->db = db;
    d->o = std::move(options);
    d->cipher = d->o.cipher;
    d->retryMs = d->o.retryMinMs;
}

RecordJournal::~RecordJournal()
{
    {
        QMutexLocker lock(&d->mutex);
        d->stopping = true;
        d->wake.wakeAll();
    }
    if (d->writer.joinable())
        d->writer.join();
    if (!d->o.dir.isEmpty())
        d->dropAppliedSegments(true);
    if (d->fd >= 0)
        ::close(d->fd);
}

QString RecordJournal::newWriterId()
{
    const quint64 r = QRandomGenerator::global()->generate64();
    return QString::number(r, 36);
}

void RecordJournal::setCipher(std::shared_ptr<const db::DataCipher> cipher)
{
    QMutexLocker lock(&d->mutex);
    d->cipher = std::move(cipher);
}

bool RecordJournal::open(QString *error)
{
    if (d->o.dir.isEmpty()) {
        d->writer = std::thread([s = d.get()] { s->writerLoop(); }); // retries only: no file
        return true;
    }
    QDir dir(d->o.dir);
    if (!dir.mkpath(u"."_s)) {
        *error = u"cannot create the journal directory %1"_s.arg(d->o.dir);
        return false;
    }
    ::chmod(QFile::encodeName(dir.absolutePath()).constData(), 0700);
    d->dirLock = std::make_unique<QLockFile>(dir.absoluteFilePath(u"lock"_s));
    d->dirLock->setStaleLockTime(0);
    if (!d->dirLock->tryLock(0)) {
        qint64 pid = 0;
        QString host, app;
        d->dirLock->getLockInfo(&pid, &host, &app);
        *error = d->dirLock->error() == QLockFile::LockFailedError
                     ? u"journal directory %1 is in use by process %2 on %3 (give each server its own "
                       "VAANI_INSTANCE or JOURNAL_DIR)"_s.arg(d->o.dir)
                           .arg(pid)
                           .arg(host)
                     : u"cannot lock the journal directory %1"_s.arg(d->o.dir);
        return false;
    }
    // What an earlier run left: every segment in order; a torn last line is cut off.
    QStringList names = dir.entryList({u"*.journal"_s}, QDir::Files);
    std::sort(names.begin(), names.end(), [](const QString &a, const QString &b) {
        return a.section(u'.', 0, 0).toULongLong() < b.section(u'.', 0, 0).toULongLong();
    });
    int corrupt = 0;
    for (const QString &name : names) {
        const QString path = dir.absoluteFilePath(name);
        QFile f(path);
        if (!f.open(QIODevice::ReadWrite)) {
            *error = u"cannot read journal file %1: %2"_s.arg(path, f.errorString());
            return false;
        }
        const QByteArray data = f.readAll();
        const journal::Decoded decoded = journal::decode(data);
        if (decoded.goodBytes < data.size()) {
            qCWarning(lcDb) << "journal" << name << "ends in a torn write of"
                            << data.size() - decoded.goodBytes << "bytes (cut off)";
            f.resize(decoded.goodBytes);
        }
        f.close();
        corrupt += decoded.corrupt;
        Segment seg{path, 0, decoded.goodBytes};
        for (const QByteArray &payload : decoded.payloads) {
            const QByteArray line = journal::encode(payload);
            d->queue.push_back({d->nextSeq, line, nowMs()});
            d->queueBytes += line.size();
            seg.lastSeq = d->nextSeq++;
        }
        if (seg.lastSeq == 0) {
            QFile::remove(path); // nothing left in it
            continue;
        }
        d->segments.push_back(seg);
    }
    d->writtenUpTo = d->replayUpTo = d->nextSeq - 1;
    if (corrupt > 0)
        qCWarning(lcDb) << "journal:" << corrupt << "damaged line(s) skipped";
    if (d->replayUpTo > 0)
        qCWarning(lcDb).noquote()
            << u"journal: %1 call-record write(s) from an earlier run are replayed into "
               "the database"_s.arg(d->replayUpTo);
    {
        QMutexLocker lock(&d->mutex);
        d->kickLocked();
    }
    d->writer = std::thread([s = d.get()] { s->writerLoop(); });
    return true;
}

void RecordJournal::append(QJsonObject op)
{
    QByteArray payload = QJsonDocument(op).toJson(QJsonDocument::Compact);
    std::shared_ptr<const db::DataCipher> cipher;
    {
        QMutexLocker lock(&d->mutex);
        cipher = d->cipher;
    }
    if (cipher && cipher->enabled())
        payload = cipher->seal(QString::fromUtf8(payload), "journal").toUtf8();
    const QByteArray line = journal::encode(payload);
    QMutexLocker lock(&d->mutex);
    if (line.isEmpty()) {
        ++d->rejected;
        qCWarning(lcDb) << "call-record write too large for the journal; dropped:"
                        << op.value(u"t"_s).toString();
        return;
    }
    if (d->queueBytes + line.size() > d->o.maxBytes) {
        ++d->dropped;
        if (!d->full)
            qCCritical(lcDb).noquote()
                << u"journal full (%1 bytes waiting for the database): call-record writes are being DROPPED "
                   "until the database takes writes again"_s.arg(d->queueBytes);
        d->full = true;
        return;
    }
    d->full = false;
    ++d->appended;
    d->queue.push_back({d->nextSeq++, line, nowMs()});
    d->queueBytes += line.size();
    d->wake.wakeOne();
    d->kickLocked();
}

RecordJournal::Status RecordJournal::status() const
{
    QMutexLocker lock(&d->mutex);
    Status s;
    s.backlog = qint64(d->queue.size());
    s.backlogBytes = d->queueBytes;
    s.oldestAgeMs = d->queue.empty() ? 0 : std::max<qint64>(0, nowMs() - d->queue.front().at);
    s.databaseTakesWrites = !d->databaseDown;
    s.fileWritable = d->fileOk;
    s.full = d->full;
    s.appended = d->appended;
    s.applied = d->applied;
    s.replayed = d->replayed;
    s.dropped = d->dropped;
    s.rejected = d->rejected;
    s.fileErrors = d->fileErrors;
    s.lastError = d->lastError;
    return s;
}

bool RecordJournal::replayDone() const
{
    QMutexLocker lock(&d->mutex);
    return d->queue.empty() || d->queue.front().seq > d->replayUpTo;
}

void RecordJournal::whenTried(std::function<void()> done)
{
    std::shared_ptr<State> s = d;
    d->db->execute([s, done = std::move(done)](db::Repositories *r, const DbError &openError) {
        DbError e;
        // Every write queued now, until one cannot be applied.
        quint64 upTo;
        {
            QMutexLocker lock(&s->mutex);
            upTo = s->nextSeq - 1;
        }
        for (;;) {
            {
                QMutexLocker lock(&s->mutex);
                if (s->queue.empty() || s->queue.front().seq > upTo)
                    break;
            }
            e = s->pass(r, openError);
            QMutexLocker lock(&s->mutex);
            if (e || s->databaseDown)
                break;
        }
        done();
        return e;
    });
}

void RecordJournal::State::kickLocked()
{
    if (passQueued || queue.empty() || stopping)
        return;
    if (databaseDown && nowMs() < retryAt)
        return; // the writer thread kicks again at retryAt
    passQueued = true;
    db->execute([s = shared_from_this()](db::Repositories *r, const DbError &openError) {
        const DbError e = s->pass(r, openError);
        QMutexLocker lock(&s->mutex);
        if (s->passQueued && !e && !s->queue.empty() && !s->stopping) {
            // More than one pass's worth: the rest after whatever else waits for the database thread.
            s->passQueued = false;
            s->kickLocked();
        }
        return e;
    });
}

void RecordJournal::State::failedLocked(const DbError &e)
{
    if (!databaseDown)
        qCWarning(lcDb).noquote() << u"database cannot take call-record writes (%1); %2 wait in the journal "
                                     "and are retried"_s.arg(e.message)
                                         .arg(queue.size());
    databaseDown = true;
    lastError = e.message;
    retryAt = nowMs() + retryMs;
    retryMs = std::min(retryMs * 2, o.retryMaxMs);
    wake.wakeAll();
}

// One pass on the database thread: applies up to kPassOps writes from the front. An error: the database could
// not take the write at the front (it stays there).
DbError RecordJournal::State::pass(db::Repositories *r, const DbError &openError)
{
    if (!r) {
        QMutexLocker lock(&mutex);
        passQueued = false;
        failedLocked(openError);
        return openError;
    }
    for (int i = 0; i < kPassOps; ++i) {
        Pending p;
        {
            QMutexLocker lock(&mutex);
            if (queue.empty()) {
                // Cleared with the queue seen empty, under the lock: a write appended after this posts a new
                // pass, so a job submitted after append() always runs after the write is applied.
                passQueued = false;
                return {};
            }
            p = queue.front();
        }
        DbError error;
        Applied result = Applied::Rejected;
        const journal::Decoded decoded = journal::decode(p.line);
        const auto op = decoded.payloads.size() == 1 ? decodePayload(decoded.payloads.front()) : std::nullopt;
        if (op)
            result = apply(*r, *op, &error);
        else
            error = DbError::make(DbError::Kind::Invalid, u"unreadable journal line"_s);
        QMutexLocker lock(&mutex);
        if (result == Applied::Later) {
            passQueued = false;
            failedLocked(error);
            return error;
        }
        if (result == Applied::Rejected) {
            ++rejected;
            qCWarning(lcDb).noquote() << u"call-record write not applied (%1): %2"_s.arg(
                op ? op->value(u"t"_s).toString() : u"?"_s, error.message);
        } else {
            ++applied;
        }
        if (p.seq <= replayUpTo)
            ++replayed;
        if (databaseDown) {
            qCInfo(lcDb) << "database takes call-record writes again;" << queue.size() << "to apply";
            databaseDown = false;
            lastError.clear();
        }
        retryMs = o.retryMinMs;
        if (!queue.empty() && queue.front().seq == p.seq) {
            queueBytes -= queue.front().line.size();
            queue.pop_front();
        }
        appliedUpTo = p.seq;
        if (queue.empty() && !o.dir.isEmpty())
            wake.wakeAll(); // the writer may delete files now
    }
    return {};
}

std::optional<QJsonObject> RecordJournal::State::decodePayload(const QByteArray &payload) const
{
    QByteArray json = payload;
    if (payload.startsWith("enc:v1:")) {
        std::shared_ptr<const db::DataCipher> c;
        {
            QMutexLocker lock(&mutex);
            c = cipher;
        }
        const auto opened = c ? c->open(QString::fromUtf8(payload), "journal") : std::nullopt;
        if (!opened)
            return std::nullopt; // its key is not loaded
        json = opened->toUtf8();
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

// ---- the writer thread ----

bool RecordJournal::State::openSegment(quint64 firstSeq)
{
    const QString path = QDir(o.dir).absoluteFilePath(u"%1.journal"_s.arg(firstSeq));
    fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    segments.push_back({path, firstSeq - 1, 0});
    // The directory entry too, so the file is there after a crash.
    const int dirFd = ::open(QFile::encodeName(o.dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
    return true;
}

bool RecordJournal::State::appendToFile(const QList<Pending> &batch)
{
    // A new file when the current one is big enough (or none is open yet: the files read at start-up are
    // only deleted, never appended to).
    if (fd < 0 || segments.empty() || segments.back().size >= o.segmentBytes) {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
        if (!openSegment(batch.front().seq)) {
            const QString why = QString::fromLocal8Bit(strerror(errno));
            QMutexLocker lock(&mutex);
            lastError = u"journal file: "_s + why;
            return false;
        }
    }
    Segment &seg = segments.back();
    QByteArray data;
    for (const Pending &p : batch)
        data += p.line;
    qint64 done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const QString why = QString::fromLocal8Bit(strerror(errno));
            // Leave no half line behind: later writes would follow it.
            if (::ftruncate(fd, seg.size) != 0)
                qCWarning(lcDb) << "journal: cannot cut a partial write:" << strerror(errno);
            QMutexLocker lock(&mutex);
            lastError = u"journal file: "_s + why;
            return false;
        }
        done += n;
    }
    if (::fdatasync(fd) != 0) {
        const QString why = QString::fromLocal8Bit(strerror(errno));
        QMutexLocker lock(&mutex);
        lastError = u"journal fsync: "_s + why;
        return false;
    }
    seg.size += data.size();
    seg.lastSeq = batch.back().seq;
    return true;
}

void RecordJournal::State::dropAppliedSegments(bool idle)
{
    quint64 done;
    {
        QMutexLocker lock(&mutex);
        done = queue.empty() ? nextSeq - 1 : queue.front().seq - 1;
    }
    // Whole files whose writes are all in the database; the one being appended to too once it is big, or
    // the writer is idle or stopping (a clean stop leaves no file to replay).
    while (!segments.empty() && segments.front().lastSeq <= done) {
        const bool current = segments.size() == 1 && fd >= 0;
        if (current && !idle && segments.front().size < o.segmentBytes / 4)
            break;
        if (current) {
            ::close(fd);
            fd = -1;
        }
        QFile::remove(segments.front().path);
        segments.pop_front();
    }
}

void RecordJournal::State::writerLoop()
{
    QMutexLocker lock(&mutex);
    bool idleWake = false;
    for (;;) {
        // Due: the writes not yet on disk (those applied meanwhile need no file).
        QList<Pending> batch;
        auto from = std::lower_bound(queue.begin(), queue.end(), writtenUpTo + 1,
                                     [](const Pending &p, quint64 seq) { return p.seq < seq; });
        for (auto it = from; it != queue.end(); ++it)
            batch.append(*it);
        // Writes waiting and no pass queued (a retry after back-off, or a pass that stopped early): one more.
        kickLocked();
        if (batch.isEmpty()) {
            if (stopping)
                break;
            if (!o.dir.isEmpty()) {
                lock.unlock();
                dropAppliedSegments(idleWake);
                lock.relock();
            }
            if (stopping)
                break;
            qint64 waitMs = 1000;
            if (databaseDown && !passQueued)
                waitMs = std::clamp<qint64>(retryAt - nowMs(), 1, 1000);
            const quint64 before = nextSeq;
            const bool woken = wake.wait(&mutex, QDeadlineTimer(waitMs));
            idleWake = !woken && nextSeq == before; // a quiet second: nothing new
            continue;
        }
        if (o.dir.isEmpty()) { // memory only
            writtenUpTo = batch.back().seq;
            continue;
        }
        lock.unlock();
        const bool ok = appendToFile(batch);
        lock.relock();
        if (ok) {
            writtenUpTo = std::max(writtenUpTo, batch.back().seq);
            if (!fileOk)
                qCInfo(lcDb) << "journal file writable again";
            fileOk = true;
        } else {
            ++fileErrors;
            if (fileOk)
                qCCritical(lcDb).noquote()
                    << u"cannot write the journal (%1): call-record writes are held in "
                       "memory only until it can"_s.arg(lastError);
            fileOk = false;
            if (stopping)
                break;
            wake.wait(&mutex, QDeadlineTimer(1000)); // the disk is full or gone: try again in a second
        }
    }
}

} // namespace vaani
