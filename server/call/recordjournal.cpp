#include "recordjournal.h"

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
//   line   sid w seq who text off                     a transcript line (seq: unique per call)
//   cut    sid w seq                                  that agent line was cut short by a barge-in
//   turn   sid w seq ms off
//   usage  sid w ti ai tc to ao cost                  totals so far
//   tool   sid w seq name args res ms ok at
//   end    sid w outcome reason [fa] lat at [unclaimed held]
//   reject sid caller called inst reason at           a call refused at the webhook
//   status sid status [dur] at                        Twilio's status callback
// `at` is milliseconds since the epoch (when it happened, not when it is applied); `w` names the writer.

namespace vaani {

namespace {

constexpr int kPassOps = 200; // writes per database job: tools' queries run between two passes

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool transient(const db::DbError &e)
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

} // namespace

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

namespace {
QDateTime timeOf(const QJsonObject &op)
{
    const qint64 at = qint64(op.value(u"at"_s).toDouble(0));
    return at > 0 ? QDateTime::fromMSecsSinceEpoch(at, Qt::UTC) : QDateTime::currentDateTimeUtc();
}
std::optional<qint64> optInt(const QJsonObject &op, const QString &key)
{
    const QJsonValue v = op.value(key);
    return v.isDouble() ? std::optional<qint64>(qint64(v.toDouble())) : std::nullopt;
}
QString text(const QJsonObject &op, const QString &key, int max)
{
    return op.value(key).toString().left(max);
}
} // namespace

Applied RecordJournal::State::apply(db::Repositories &r, const QJsonObject &op, DbError *error)
{
    const QString t = op.value(u"t"_s).toString();
    const QString sid = text(op, u"sid"_s, 64);
    if (sid.isEmpty()) {
        *error = DbError::make(DbError::Kind::Invalid, u"no CallSid"_s);
        return Applied::Rejected;
    }
    auto outcome = [error](const DbError &e, bool alreadyIsFine = false) {
        if (!e)
            return Applied::Yes;
        if (transient(e)) {
            *error = e;
            return Applied::Later;
        }
        if (alreadyIsFine)
            return Applied::Yes;
        *error = e;
        return Applied::Rejected;
    };
    if (t == u"reject"_s) {
        db::CallStart s{
            sid,       text(op, u"caller"_s, 32), text(op, u"called"_s, 32), text(op, u"inst"_s, 64), {}, {},
            timeOf(op)};
        auto c = r.calls.start(s);
        if (!c.ok())
            return outcome(c.error);
        if (c.value.outcome != u"in_progress"_s)
            return Applied::Yes; // a record of this call exists already: never overwritten
        db::CallEnd e{u"rejected"_s, text(op, u"reason"_s, 500), {}, {}, timeOf(op), false};
        return outcome(r.calls.end(c.value.id, e).error);
    }
    if (t == u"status"_s) {
        const auto dur = optInt(op, u"dur"_s);
        auto res = r.calls.updateTwilioStatus(sid, text(op, u"status"_s, 32),
                                              dur ? std::optional<int>(int(*dur)) : std::nullopt, timeOf(op));
        // Not found: the call is not (yet) in this database, or the status was applied already.
        return outcome(res.error, res.error.kind == DbError::Kind::NotFound);
    }
    if (t == u"menu"_s) {
        // The caller's choice in the fallback's menu: noted on the call's record, and a callback becomes a
        // ticket (one per call, whatever Twilio repeats or the journal replays).
        db::CallStart s{sid, text(op, u"caller"_s, 32), {}, text(op, u"inst"_s, 64), {}, {}, timeOf(op)};
        auto c = r.calls.start(s); // found (the webhook made it), or made now
        if (!c.ok())
            return outcome(c.error);
        const QString choice = text(op, u"choice"_s, 16);
        const QString note = choice == u"transfer"_s ? u"caller pressed 2 in the fallback menu: transferred"_s
                                                     : u"caller pressed 1 in the fallback menu: callback"_s;
        if (!c.value.endReason.contains(note)) {
            auto noted = r.calls.noteEndReason(c.value.id, note);
            if (!noted.ok())
                return outcome(noted.error);
        }
        if (choice != u"callback"_s)
            return Applied::Yes;
        auto tickets = r.tickets.forCall(c.value.id);
        if (!tickets.ok())
            return outcome(tickets.error);
        for (const db::Ticket &tk : std::as_const(tickets.value))
            if (tk.category == u"callback"_s)
                return Applied::Yes;
        db::NewTicket nt;
        nt.customerId = c.value.customerId;
        nt.callId = c.value.id;
        nt.category = u"callback"_s;
        nt.priority = u"high"_s;
        nt.summary = u"Call back %1: the agent could not take the call (%2) and the caller asked for a "
                     u"callback."_s.arg(text(op, u"caller"_s, 32), c.value.endReason.isEmpty()
                                                                       ? u"model unavailable"_s
                                                                       : c.value.endReason.left(200));
        nt.author = u"vaani-server"_s;
        return outcome(r.tickets.create(nt).error);
    }
    const QString w = text(op, u"w"_s, 32);
    if (t == u"start"_s) {
        db::CallStart s{sid,
                        text(op, u"caller"_s, 32),
                        text(op, u"called"_s, 32),
                        text(op, u"inst"_s, 64),
                        optInt(op, u"pid"_s),
                        {},
                        timeOf(op)};
        if (auto pv = optInt(op, u"pv"_s))
            s.promptVersion = int(*pv);
        auto c = r.calls.start(s);
        if (!c.ok())
            return outcome(c.error);
        if (writers.size() > 50000)
            writers.clear(); // re-learnt from the database as needed
        writers.insert(w, {c.value.id, c.value.outcome == u"in_progress"_s});
        return Applied::Yes;
    }
    // Any other write: the writer's row (learnt from its start, or found by CallSid after a restart).
    auto it = writers.find(w);
    if (it == writers.end()) {
        auto c = r.calls.findBySid(sid);
        if (!c.ok())
            return outcome(c.error);
        it = writers.insert(w, {c.value.id, true});
    }
    if (!it->owned)
        return Applied::Yes; // another call's record: never written
    const qint64 id = it->callId;
    auto prompt = [&op]() {
        std::optional<int> pv;
        if (auto v = optInt(op, u"pv"_s))
            pv = int(*v);
        return std::make_pair(optInt(op, u"pid"_s), pv);
    };
    if (t == u"claim"_s) {
        const auto [pid, pv] = prompt();
        // Not found: the call ended before the stream came (nothing to claim).
        const DbError e =
            r.calls.claim(id, text(op, u"stream"_s, 64), text(op, u"inst"_s, 64), pid, pv).error;
        return outcome(e, e.kind == DbError::Kind::NotFound);
    }
    if (t == u"stream"_s) {
        const auto [pid, pv] = prompt();
        return outcome(r.calls.setStream(id, text(op, u"stream"_s, 64), pid, pv).error);
    }
    if (t == u"line"_s) {
        const QString who = op.value(u"who"_s).toString();
        db::TranscriptEntry e{0,
                              id,
                              int(op.value(u"seq"_s).toDouble()),
                              who == u"agent"_s || who == u"caller"_s ? who : u"system"_s,
                              op.value(u"text"_s).toString().left(16000),
                              qint64(op.value(u"off"_s).toDouble()),
                              false};
        const DbError err = r.calls.addTranscript(e).error;
        return outcome(err, err.kind == DbError::Kind::Constraint); // stored already (a replay)
    }
    if (t == u"cut"_s) {
        const DbError e = r.calls.markTruncated(id, int(op.value(u"seq"_s).toDouble())).error;
        return outcome(e, e.kind == DbError::Kind::NotFound);
    }
    if (t == u"turn"_s) {
        db::CallTurn turn{id, int(op.value(u"seq"_s).toDouble()), int(op.value(u"ms"_s).toDouble()),
                          qint64(op.value(u"off"_s).toDouble())};
        const DbError e = r.calls.addTurn(turn).error;
        return outcome(e, e.kind == DbError::Kind::Constraint);
    }
    if (t == u"usage"_s) {
        realtime::Usage u;
        u.inputTextTokens = qint64(op.value(u"ti"_s).toDouble());
        u.inputAudioTokens = qint64(op.value(u"ai"_s).toDouble());
        u.inputCachedTokens = qint64(op.value(u"tc"_s).toDouble());
        u.outputTextTokens = qint64(op.value(u"to"_s).toDouble());
        u.outputAudioTokens = qint64(op.value(u"ao"_s).toDouble());
        return outcome(r.calls.setUsage(id, u, op.value(u"cost"_s).toDouble()).error);
    }
    if (t == u"tool"_s) {
        db::ToolInvocation inv{0,
                               id,
                               text(op, u"name"_s, 64),
                               op.value(u"args"_s).toString().left(16000),
                               op.value(u"res"_s).toString().left(16000),
                               int(op.value(u"ms"_s).toDouble()),
                               op.value(u"ok"_s).toBool(),
                               timeOf(op),
                               int(op.value(u"seq"_s).toDouble())};
        const DbError e = r.calls.addToolInvocation(inv).error;
        return outcome(e, e.kind == DbError::Kind::Constraint);
    }
    if (t == u"end"_s) {
        db::CallEnd e;
        e.outcome = text(op, u"outcome"_s, 32);
        e.reason = text(op, u"reason"_s, 500);
        if (auto fa = optInt(op, u"fa"_s))
            e.firstAudioMs = int(*fa);
        const QJsonArray lat = op.value(u"lat"_s).toArray();
        for (int i = 0; i < lat.size() && i < 10000; ++i)
            e.turnLatenciesMs << lat.at(i).toInt();
        e.endedAt = timeOf(op);
        e.onlyIfUnclaimed = op.value(u"unclaimed"_s).toBool();
        if (e.onlyIfUnclaimed) {
            // Never had the stream: end the row only if no server claimed it, and only then keep what was
            // held back (the greeting's transcript and cost were spent for this call).
            auto c = r.calls.get(id);
            if (!c.ok())
                return outcome(c.error, c.error.kind == DbError::Kind::NotFound);
            if (!c.value.streamSid.isEmpty() || c.value.outcome != u"in_progress"_s) {
                writers.erase(it);
                return Applied::Yes;
            }
            const QJsonArray held = op.value(u"held"_s).toArray();
            for (const QJsonValue &h : held) {
                const Applied a = apply(r, h.toObject(), error);
                if (a == Applied::Later)
                    return a; // all of it again later (each write is idempotent)
            }
            it = writers.find(w); // (the held writes may have rehashed the table)
        }
        const DbError err = r.calls.end(id, e).error;
        const Applied a = outcome(err, e.onlyIfUnclaimed && err.kind == DbError::Kind::NotFound);
        if (a != Applied::Later && it != writers.end())
            writers.erase(it);
        return a;
    }
    *error = DbError::make(DbError::Kind::Invalid, u"unknown write '%1'"_s.arg(t.left(16)));
    return Applied::Rejected;
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
