// The embedded SQLite database on a disk that fills up while calls talk: the server survives, says so
// (/readyz 503, the journal's metrics), keeps every write in memory, and records every call in full once
// space is freed. The data directory is a 4 MB tmpfs mounted by this test in a mount namespace of its own (as
// root, or as any user where user namespaces are allowed); where neither is possible the test is skipped,
// saying why.

#include "callregistry.h"
#include "db/dbworker.h"
#include "serverharness.h"
#include "testenv.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
QString g_namespaceError; // empty: this process has a private mount namespace

bool writeFile(const char *path, const QByteArray &text)
{
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, text.constData(), size_t(text.size())) == text.size();
    ::close(fd);
    return ok;
}

// Before any thread exists (unshare refuses multi-threaded callers for user namespaces).
void privateMountNamespace()
{
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWNS) != 0) {
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            g_namespaceError =
                u"no private mount namespace: unshare: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
            return;
        }
        writeFile("/proc/self/setgroups", "deny");
        writeFile("/proc/self/uid_map", QByteArray::number(uid) + ' ' + QByteArray::number(uid) + " 1\n");
        writeFile("/proc/self/gid_map", QByteArray::number(gid) + ' ' + QByteArray::number(gid) + " 1\n");
    }
    // Mounts made here stay here.
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        g_namespaceError = u"cannot make mounts private: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)));
}

// Fills the file system under `dir` (a filler file); returns the bytes written.
qint64 fill(const QString &path)
{
    const int fd =
        ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const QByteArray block(64 * 1024, 'x');
    qint64 total = 0;
    for (;;) {
        const ssize_t n = ::write(fd, block.constData(), size_t(block.size()));
        if (n <= 0)
            break;
        total += n;
    }
    // And the last few bytes.
    while (::write(fd, "x", 1) == 1)
        ++total;
    ::close(fd);
    return total;
}
} // namespace

class TestDiskFull : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void callsOutliveAFullDisk()
    {
        if (!g_namespaceError.isEmpty())
            QSKIP(qPrintable(g_namespaceError));
        const QString dir = tempDir(u"diskfull"_s) + u"/data"_s;
        QVERIFY(QDir().mkpath(dir));
        if (::mount("tmpfs", QFile::encodeName(dir).constData(), "tmpfs", 0, "size=4m,mode=0700") != 0)
            QSKIP(qPrintable(u"cannot mount a tmpfs: %1"_s.arg(QString::fromLocal8Bit(strerror(errno)))));
        struct Unmount
        {
            QString dir;
            ~Unmount() { ::umount2(QFile::encodeName(dir).constData(), MNT_DETACH); }
        } unmount{dir};

        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        h.fake.turns = {FakeTurn{u"Mera order kahan hai?"_s, {}, {}, u"Order number bataiye"_s, 300},
                        FakeTurn{u"ABC123"_s, {}, {}, u"Dhanyavaad, aapka order kal aayega"_s, 300}};
        QVERIFY(h.start([&](ServerOptions &o) {
            o.databaseUrl = u"sqlite://"_s + dir + u"/vaani.db"_s;
            o.dataDir = dir;
        }));
        std::vector<std::unique_ptr<TwilioSimulator>> calls;
        for (int i = 0; i < 4; ++i) {
            auto sim = h.connectCall();
            QVERIFY(sim);
            calls.push_back(std::move(sim));
        }
        for (auto &sim : calls)
            QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 10000);

        // The disk fills up.
        QVERIFY(fill(dir + u"/filler"_s) > 0);
        for (auto &sim : calls)
            sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        for (auto &sim : calls)
            QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 600, 10000);
        // Visible: not ready, with the journal's state; the server lives on.
        QTRY_COMPARE_WITH_TIMEOUT(h.get(u"/readyz"_s).status, 503, 10000);
        const QJsonObject journal =
            QJsonDocument::fromJson(h.get(u"/readyz"_s).body).object().value(u"journal"_s).toObject();
        QVERIFY2(journal.value(u"backlog"_s).toInt() > 0, QJsonDocument(journal).toJson().constData());
        QVERIFY2(journal.value(u"file"_s).toString() == u"failing"_s ||
                     journal.value(u"database_writes"_s).toString() == u"failing"_s,
                 QJsonDocument(journal).toJson().constData());
        QCOMPARE(h.metric(u"vaani_journal_database_ok"_s), 0.0); // SQLite refuses: the disk is full
        // The calls go on and end while the disk is full.
        for (auto &sim : calls) {
            sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 900, 10000);
            sim->hangUp();
        }
        QTRY_COMPARE_WITH_TIMEOUT(h.server()->context()->registry->active(), 0, 10000);
        // By now the journal's own file has run out of room too (its last page had a little): the writes
        // wait in memory.
        QTRY_VERIFY_WITH_TIMEOUT(h.metric(u"vaani_journal_file_errors_total"_s) > 0, 5000);
        QCOMPARE(h.metric(u"vaani_journal_file_ok"_s), 0.0);

        // Space again: everything waiting is written, and every call is whole.
        QVERIFY(QFile::remove(dir + u"/filler"_s));
        QTRY_COMPARE_WITH_TIMEOUT(h.metric(u"vaani_journal_backlog"_s), 0.0, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(h.get(u"/readyz"_s).status, 200, 15000);
        QCOMPARE(h.metric(u"vaani_journal_dropped_total"_s), 0.0);
        QCOMPARE(h.metric(u"vaani_journal_rejected_total"_s), 0.0);
        QString error;
        db::DbWorker db(db::DatabaseConfig::fromUrl(u"sqlite://"_s + dir + u"/vaani.db"_s, {}, &error));
        for (auto &sim : calls) {
            const QString sid = sim->callSid;
            auto c = db.submit([sid](db::Repositories &r) { return r.calls.findBySid(sid); }).result();
            QVERIFY2(c.ok(), qPrintable(sim->callSid + u": "_s + c.error.message));
            QVERIFY(c.value.outcome != u"in_progress"_s);
            const qint64 id = c.value.id;
            const auto lines =
                db.submit([id](db::Repositories &r) { return r.calls.transcript(id); }).result();
            QStringList said;
            for (const auto &l : lines.value)
                said << l.text;
            QVERIFY2(said.size() == 5, qPrintable(said.join(u" | "_s)));
            QVERIFY2(said.contains(u"Dhanyavaad, aapka order kal aayega"_s), qPrintable(said.join(u" | "_s)));
            QCOMPARE(c.value.turnCount, 2);
        }
    }
};

int main(int argc, char **argv)
{
    privateMountNamespace();
    QCoreApplication app(argc, argv);
    TestDiskFull t;
    return QTest::qExec(&t, argc, argv);
}

#include "tst_diskfull.moc"
