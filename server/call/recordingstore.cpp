#include "recordingstore.h"

#include "edge/metrics.h"
#include "logging.h"
#include "recordjournal.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonObject>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
bool writeAll(int fd, const QByteArray &bytes, QString *error)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = QString::fromLocal8Bit(std::strerror(n < 0 ? errno : ENOSPC));
            return false;
        }
        done += n;
    }
    return true;
}
} // namespace

RecordingStore::RecordingStore(Options options, Metrics *metrics, RecordJournal *journal)
    : m_options(std::move(options))
    , m_metrics(metrics)
    , m_journal(journal)
{}

RecordingStore::~RecordingStore()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

bool RecordingStore::open(QString *error)
{
    if (!QDir().mkpath(m_options.dir)) {
        *error = u"cannot create RECORDINGS_DIR %1"_s.arg(m_options.dir);
        return false;
    }
    ::chmod(QFile::encodeName(m_options.dir).constData(), 0700);
    const QString probe = m_options.dir + u"/.write-test"_s;
    const int fd =
        ::open(QFile::encodeName(probe).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = u"RECORDINGS_DIR %1 is not writable: %2"_s.arg(m_options.dir,
                                                                QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    ::close(fd);
    ::unlink(QFile::encodeName(probe).constData());
    m_thread = std::thread([this] { run(); });
    return true;
}

QString RecordingStore::safeName(const QString &callSid)
{
    QString out;
    for (QChar c : callSid.left(64)) {
        if ((c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'_' ||
            c == u'-')
            out += c;
    }
    return out.isEmpty() ? u"call"_s : out;
}

void RecordingStore::setCipher(std::shared_ptr<const db::DataCipher> cipher)
{
    std::lock_guard lock(m_mutex);
    m_options.cipher = std::move(cipher);
}

RecordingStore::Handle RecordingStore::begin(const QString &callSid, const QString &writerId,
                                             QString *relativePath)
{
    std::shared_ptr<const db::DataCipher> cipher;
    {
        std::lock_guard lock(m_mutex);
        cipher = m_options.cipher;
    }
    const bool sealed = cipher && cipher->enabled();
    const QString path = QDateTime::currentDateTimeUtc().date().toString(Qt::ISODate) + u'/' +
                         safeName(callSid) + (sealed ? u".wav.sealed"_s : u".wav"_s);
    *relativePath = path;
    Op op{Op::Kind::Begin, 0, {}, path, std::move(cipher), callSid, writerId, true, 0, {}, {}, {}};
    {
        std::lock_guard lock(m_mutex);
        op.handle = m_nextHandle++;
    }
    const Handle h = op.handle;
    push(std::move(op));
    return h;
}

void RecordingStore::append(Handle handle, QByteArray block)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_queuedBytes + block.size() > m_options.maxQueuedBytes) {
            m_metrics->recordingBlocksDropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        m_queuedBytes += block.size();
        m_queue.push_back(
            Op{Op::Kind::Append, handle, std::move(block), {}, {}, {}, {}, true, 0, {}, {}, {}});
    }
    m_wake.notify_one();
}

void RecordingStore::end(Handle handle, bool keep, qint64 durationMs)
{
    push(Op{Op::Kind::End, handle, {}, {}, {}, {}, {}, keep, durationMs, {}, {}, {}});
}

void RecordingStore::remove(const QStringList &relativePaths, std::function<void(int)> done)
{
    push(Op{Op::Kind::Remove, 0, {}, {}, {}, {}, {}, true, 0, relativePaths, {}, std::move(done)});
}

void RecordingStore::removeOlderThan(const QDate &cutoff, std::function<void(int)> done)
{
    push(Op{Op::Kind::RemoveOlder, 0, {}, {}, {}, {}, {}, true, 0, {}, cutoff, std::move(done)});
}

void RecordingStore::push(Op op)
{
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(op)); // control ops are small and never dropped
    }
    m_wake.notify_one();
}

void RecordingStore::flush()
{
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return (m_queue.empty() && !m_busy) || !m_thread.joinable(); });
}

void RecordingStore::run()
{
    for (;;) {
        Op op;
        {
            std::unique_lock lock(m_mutex);
            m_busy = false;
            if (m_queue.empty())
                m_idle.notify_all();
            m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty())
                break; // stopping, and nothing left
            op = std::move(m_queue.front());
            m_queue.pop_front();
            if (op.kind == Op::Kind::Append)
                m_queuedBytes -= op.bytes.size();
            m_busy = true;
        }
        handle(op);
    }
    // Stopped: files still open belong to calls the server did not see end (it is going away): keep them.
    for (auto &[h, f] : m_files) {
        Op end{Op::Kind::End, h, {}, {}, {}, {}, {}, true, -1, {}, {}, {}};
        handle(end);
    }
    m_files.clear();
    std::lock_guard lock(m_mutex);
    m_busy = false;
    m_idle.notify_all();
}

void RecordingStore::handle(Op &op)
{
    const auto report = [this](const File &f, const QString &status, std::optional<qint64> ms) {
        if (!m_journal)
            return;
        QJsonObject o{{u"t"_s, u"rec"_s},
                      {u"sid"_s, f.callSid},
                      {u"w"_s, f.writer},
                      {u"file"_s, f.path},
                      {u"status"_s, status}};
        if (ms)
            o.insert(u"ms"_s, double(*ms));
        m_journal->append(std::move(o));
    };
    const auto fail = [this, &report](File &f, const QString &why) {
        if (f.failed)
            return;
        f.failed = true;
        qCWarning(lcServer).noquote() << "recording" << f.path << "failed:" << why;
        m_metrics->recordingsFailed.fetch_add(1, std::memory_order_relaxed);
        report(f, u"failed"_s, std::nullopt);
    };
    switch (op.kind) {
    case Op::Kind::Begin: {
        File f;
        f.path = op.path;
        f.callSid = op.callSid;
        f.writer = op.writer;
        f.encoder = std::make_unique<RecordingEncoder>(op.cipher.get()); // keeps its own copy of the key
        const QString full = m_options.dir + u'/' + op.path;
        const QString folder = QFileInfo(full).absolutePath();
        if (QDir().mkpath(folder))
            ::chmod(QFile::encodeName(folder).constData(), 0700);
        // A file of that name (the same call served again after a restart) is never overwritten.
        QString name = full;
        for (int n = 2; n < 100; ++n) {
            f.fd = ::open(QFile::encodeName(name).constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (f.fd >= 0 || errno != EEXIST)
                break;
            name = full;
            name.insert(name.indexOf(u".wav"_s), u"-"_s + QString::number(n));
        }
        if (name != full)
            f.path = QDir(m_options.dir).relativeFilePath(name);
        m_metrics->recordingsOpen.fetch_add(1, std::memory_order_relaxed);
        QString error;
        if (f.fd < 0)
            fail(f, QString::fromLocal8Bit(std::strerror(errno)));
        else if (!writeAll(f.fd, f.encoder->begin(), &error))
            fail(f, error);
        if (f.path != op.path && !f.failed)
            report(f, u"recording"_s, std::nullopt); // the record names the file actually written
        m_files.emplace(op.handle, std::move(f));
        return;
    }
    case Op::Kind::Append: {
        const auto it = m_files.find(op.handle);
        if (it == m_files.end() || it->second.failed)
            return;
        File &f = it->second;
        QString error;
        for (qsizetype at = 0; at < op.bytes.size(); at += RecordingEncoder::kMaxBlockBytes) {
            const QByteArray part = op.bytes.mid(at, RecordingEncoder::kMaxBlockBytes);
            if (!writeAll(f.fd, f.encoder->push(part), &error)) {
                fail(f, error);
                return;
            }
            f.audioBytes += part.size();
        }
        m_metrics->recordingBytesWritten.fetch_add(quint64(op.bytes.size()), std::memory_order_relaxed);
        return;
    }
    case Op::Kind::End: {
        const auto it = m_files.find(op.handle);
        if (it == m_files.end())
            return;
        File f = std::move(it->second);
        m_files.erase(it);
        m_metrics->recordingsOpen.fetch_sub(1, std::memory_order_relaxed);
        const QByteArray full = QFile::encodeName(m_options.dir + u'/' + f.path);
        if (!op.keep) {
            if (f.fd >= 0)
                ::close(f.fd);
            ::unlink(full.constData());
            m_metrics->recordingsDeclined.fetch_add(1, std::memory_order_relaxed);
            report(f, u"declined"_s, std::nullopt);
            return;
        }
        if (f.fd < 0 || f.failed) {
            if (f.fd >= 0)
                ::close(f.fd);
            return;
        }
        QString error;
        bool ok = writeAll(f.fd, f.encoder->finish(), &error);
        if (ok && !f.encoder->sealed()) {
            const QByteArray header =
                RecordingEncoder::wavHeader(quint32(std::min<qint64>(f.audioBytes, 0xFFFFFFF0)));
            ok = ::pwrite(f.fd, header.constData(), size_t(header.size()), 0) == header.size();
            if (!ok)
                error = QString::fromLocal8Bit(std::strerror(errno));
        }
        if (ok && ::fsync(f.fd) != 0) {
            ok = false;
            error = QString::fromLocal8Bit(std::strerror(errno));
        }
        ::close(f.fd);
        if (!ok) {
            fail(f, error);
            return;
        }
        m_metrics->recordingsCompleted.fetch_add(1, std::memory_order_relaxed);
        report(f, u"complete"_s, f.audioBytes / (2 * 8)); // stereo μ-law at 8 kHz: 16 bytes a millisecond
        return;
    }
    case Op::Kind::Remove: {
        int deleted = 0;
        for (const QString &p : std::as_const(op.paths)) {
            if (p.isEmpty() || p.contains(u".."_s) || p.startsWith(u'/'))
                continue;
            if (::unlink(QFile::encodeName(m_options.dir + u'/' + p).constData()) == 0)
                ++deleted;
        }
        m_metrics->recordingsDeleted.fetch_add(quint64(deleted), std::memory_order_relaxed);
        if (op.done)
            op.done(deleted);
        return;
    }
    case Op::Kind::RemoveOlder: {
        int deleted = 0;
        const QDir root(m_options.dir);
        const QStringList days = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        for (const QString &day : days) {
            const QDate d = QDate::fromString(day, Qt::ISODate);
            if (!d.isValid() || d >= op.cutoff)
                continue;
            QDir folder(root.filePath(day));
            const QStringList files = folder.entryList(QDir::Files);
            for (const QString &file : files) {
                bool open = false;
                for (const auto &[h, f] : m_files)
                    open = open || f.path == day + u'/' + file;
                if (!open && folder.remove(file))
                    ++deleted;
            }
            root.rmdir(day); // only when empty
        }
        m_metrics->recordingsDeleted.fetch_add(quint64(deleted), std::memory_order_relaxed);
        if (op.done)
            op.done(deleted);
        return;
    }
    }
}

} // namespace vaani
