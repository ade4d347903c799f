// The call-record journal (server/call/recordjournal.h): its file format, writes that wait while the database
// cannot take them and are applied in order when it can, a replay after a restart that stores nothing twice,
// its bound, sealing with the data key, and one process per directory. Real SQLite files, real journal files.

#include "callrecorder.h"
#include "db/datacipher.h"
#include "db/dbworker.h"
#include "journalcodec.h"
#include "recordjournal.h"
#include "serverharness.h"
#include "testenv.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
std::unique_ptr<db::DbWorker> sqlite(const QString &path)
{
    QString error;
    auto w = std::make_unique<db::DbWorker>(db::DatabaseConfig::fromUrl(u"sqlite://"_s + path, {}, &error));
    return w;
}

// A database that cannot be opened: the file's directory does not exist and cannot be created.
std::unique_ptr<db::DbWorker> unreachable()
{
    return sqlite(u"/proc/vaani-no-such-dir/v.db"_s);
}

QByteArray filesIn(const QString &dir)
{
    QByteArray all;
    for (const QString &f : QDir(dir).entryList({u"*.journal"_s}, QDir::Files, QDir::Name)) {
        QFile file(dir + u'/' + f);
        if (file.open(QIODevice::ReadOnly))
            all += file.readAll();
    }
    return all;
}

// One whole call's record, as a session writes it.
void recordCall(RecordJournal &journal, db::DbWorker &worker, const QString &sid)
{
    CallRecorder rec(&journal, &worker, sid, [] { return qint64(0); });
    QObject context;
    rec.open({sid, u"+919876543210"_s, u"+918000000000"_s, u"a"_s, {}, {}, {}}, &context,
             [](const db::DbResult<db::CallRecord> &) {});
    rec.promptAndStream(u"MZ"_s + sid, {}, {});
    rec.transcript(u"agent"_s, u"Namaste, main Vaani"_s, u"i1"_s);
    rec.transcript(u"caller"_s, u"Mera order ABC123 kahan hai"_s);
    rec.turn(420);
    rec.tool(u"lookup_order"_s, u"{\"order_id\":\"ABC123\"}"_s, u"{\"status\":\"shipped\"}"_s, 4, true);
    realtime::Usage u;
    u.inputAudioTokens = 100;
    u.outputAudioTokens = 50;
    rec.usage(u, 0.01);
    rec.usage(u, 0.01);
    rec.transcript(u"agent"_s, u"Aapka order kal aayega"_s, u"i2"_s);
    rec.end(u"resolved"_s, u"caller said bye"_s);
}

struct Counts
{
    QString outcome;
    int lines = -1, turns = -1, tools = -1;
    qint64 audioIn = -1;
    double cost = -1;
};

Counts countsOf(db::DbWorker &w, const QString &sid)
{
    Counts c;
    auto call = w.submit([sid](db::Repositories &r) { return r.calls.findBySid(sid); }).result();
    if (!call.ok())
        return c;
    const qint64 id = call.value.id;
    c.outcome = call.value.outcome;
    c.audioIn = call.value.audioInputTokens;
    c.cost = call.value.costUsd;
    c.lines =
        int(w.submit([id](db::Repositories &r) { return r.calls.transcript(id); }).result().value.size());
    c.turns = int(w.submit([id](db::Repositories &r) { return r.calls.turns(id); }).result().value.size());
    c.tools = int(w.submit([id](db::Repositories &r) { return r.calls.tools(id); }).result().value.size());
    return c;
}

// Small files and quick retries, so that the tests see every state soon.
RecordJournal::Options opts(const QString &dir, std::shared_ptr<const db::DataCipher> cipher = {},
                            qint64 maxBytes = 1 << 20)
{
    return {dir, maxBytes, 1 << 20, 50, 200, std::move(cipher)};
}

int callRows(db::DbWorker &w)
{
    return int(w.submit([](db::Repositories &r) { return r.calls.list({}); }).result().value.size());
}
} // namespace

class TestJournal : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void codecRoundTripsAndCutsTornTails()
    {
        const QByteArray a = journal::encode(R"({"t":"line","sid":"CA1"})");
        const QByteArray b = journal::encode(R"({"t":"end","sid":"CA1"})");
        QVERIFY(a.endsWith('\n'));
        QCOMPARE(a.size(), 5 + 24 + 1);
        auto d = journal::decode(QByteArray(a + b));
        QCOMPARE(d.payloads,
                 (QList<QByteArray>{R"({"t":"line","sid":"CA1"})", R"({"t":"end","sid":"CA1"})"}));
        QCOMPARE(d.goodBytes, a.size() + b.size());
        QCOMPARE(d.corrupt, 0);
        // A crash in the middle of a write: the torn line is not a record, and goodBytes says where to cut.
        d = journal::decode(QByteArray(a + b.left(10)));
        QCOMPARE(d.payloads.size(), 1);
        QCOMPARE(d.goodBytes, a.size());
        // A whole line whose checksum does not hold (a flipped bit) is skipped, the rest kept.
        QByteArray damaged = a;
        damaged[12] = 'X';
        d = journal::decode(QByteArray(damaged + b));
        QCOMPARE(d.payloads, QList<QByteArray>{R"({"t":"end","sid":"CA1"})"});
        QCOMPARE(d.corrupt, 1);
        d = journal::decode("zzzz {}\n\n1234\n");
        QCOMPARE(d.payloads.size(), 0);
        QCOMPARE(d.corrupt, 3);
        // What cannot be one line is not encoded.
        QVERIFY(journal::encode("a\nb").isEmpty());
        QVERIFY(journal::encode({}).isEmpty());
        QVERIFY(journal::encode(QByteArray(journal::kMaxRecordBytes, 'x')).isEmpty());
    }

    // The database goes away: writes wait (in memory and fsynced on disk), /readyz's figures say so; the
    // process stops; the next run, with the database back, applies every write of every call exactly once.
    void writesWaitForTheDatabaseAndSurviveARestart()
    {
        const QString dir = test::tempDir(u"journal"_s);
        {
            auto down = unreachable();
            RecordJournal j(down.get(), opts(dir + u"/j"_s));
            QString error;
            QVERIFY2(j.open(&error), qPrintable(error));
            for (int i = 0; i < 3; ++i)
                recordCall(j, *down, u"CAdown%1"_s.arg(i));
            QTRY_VERIFY(!j.status().databaseTakesWrites);
            const RecordJournal::Status s = j.status();
            QCOMPARE(s.backlog, qint64(3 * 10));
            QVERIFY(s.fileWritable);
            QCOMPARE(s.applied, 0u);
            QVERIFY(!s.lastError.isEmpty());
            // On disk before the process ends (the writer fsyncs in batches).
            QTRY_VERIFY(filesIn(dir + u"/j"_s).count('\n') == 30);
            QVERIFY(filesIn(dir + u"/j"_s).contains("Mera order ABC123"));
        }
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        RecordJournal j(w.get(), opts(dir + u"/j"_s));
        QString error;
        QVERIFY(j.open(&error));
        QTRY_COMPARE(j.status().backlog, qint64(0));
        QVERIFY(j.replayDone());
        QCOMPARE(j.status().replayed, 30u);
        QCOMPARE(callRows(*w), 3);
        for (int i = 0; i < 3; ++i) {
            const Counts c = countsOf(*w, u"CAdown%1"_s.arg(i));
            QCOMPARE(c.outcome, u"resolved"_s);
            QCOMPARE(c.lines, 3);
            QCOMPARE(c.turns, 1);
            QCOMPARE(c.tools, 1);
            QCOMPARE(c.audioIn, 200); // two responses' usage, as totals
            QCOMPARE(c.cost, 0.02);
        }
        // All applied: once idle (or stopped), no file is left to replay.
        QTRY_VERIFY_WITH_TIMEOUT(filesIn(dir + u"/j"_s).isEmpty(), 5000);
    }

    // A crash after the database took writes but before the journal forgot them: the next run applies them
    // again, and nothing is stored twice.
    void aReplayStoresNothingTwice()
    {
        const QString dir = test::tempDir(u"journal"_s);
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        // The call's ten writes as a journal file holds them (the database away, so all of them are on disk).
        QByteArray copy;
        {
            auto down = unreachable();
            RecordJournal j(down.get(), opts(dir + u"/j"_s));
            QString error;
            QVERIFY(j.open(&error));
            recordCall(j, *down, u"CAtwice"_s);
            QTRY_VERIFY(filesIn(dir + u"/j"_s).count('\n') == 10);
            copy = filesIn(dir + u"/j"_s);
        }
        auto replay = [&](const QString &sub, const QByteArray &content, quint64 *replayed) {
            QDir().mkpath(dir + sub);
            QFile f(dir + sub + u"/1.journal"_s);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
            f.close();
            RecordJournal j(w.get(), opts(dir + sub));
            QString error;
            QVERIFY(j.open(&error));
            QTRY_COMPARE(j.status().backlog, qint64(0));
            QCOMPARE(j.status().rejected, 0u);
            *replayed = j.status().replayed;
        };
        // The database takes them once; then a crash before the journal forgot them: the same file again,
        // plus a write torn by the crash.
        quint64 replayed = 0;
        replay(u"/j1"_s, copy, &replayed);
        QCOMPARE(replayed, 10u);
        const Counts before = countsOf(*w, u"CAtwice"_s);
        QCOMPARE(before.lines, 3);
        QCOMPARE(before.tools, 1);
        QCOMPARE(before.audioIn, 200);
        replay(u"/j2"_s, copy + "1a2b {\"t\":\"li", &replayed);
        QCOMPARE(replayed, 10u);
        const Counts after = countsOf(*w, u"CAtwice"_s);
        QCOMPARE(callRows(*w), 1);
        QCOMPARE(after.outcome, u"resolved"_s);
        QCOMPARE(after.lines, before.lines);
        QCOMPARE(after.turns, before.turns);
        QCOMPARE(after.tools, before.tools);
        QCOMPARE(after.audioIn, before.audioIn);
        QCOMPARE(after.cost, before.cost);
    }

    // A webhook replayed after the call ended: the late session's writes never touch the finished record,
    // even when they are applied from the journal long after.
    void aFinishedRecordIsNeverWrittenAgain()
    {
        const QString dir = test::tempDir(u"journal"_s);
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        RecordJournal j(w.get(), {});
        QString error;
        QVERIFY(j.open(&error));
        recordCall(j, *w, u"CAdone"_s);
        recordCall(j, *w, u"CAdone"_s); // the second writer finds the row ended
        QTRY_COMPARE(j.status().backlog, qint64(0));
        const Counts c = countsOf(*w, u"CAdone"_s);
        QCOMPARE(c.lines, 3);
        QCOMPARE(c.tools, 1);
        QCOMPARE(c.audioIn, 200);
    }

    // Bounded: past JOURNAL_MAX_MB new writes are dropped, counted and reported; the queued ones are kept.
    void aFullJournalDropsAndSaysSo()
    {
        const QString dir = test::tempDir(u"journal"_s);
        auto down = unreachable();
        RecordJournal j(down.get(), opts(dir + u"/j"_s, {}, 4096));
        QString error;
        QVERIFY(j.open(&error));
        for (int i = 0; i < 200; ++i)
            j.append(
                {{u"t"_s, u"status"_s}, {u"sid"_s, u"CAfull%1"_s.arg(i)}, {u"status"_s, u"completed"_s}});
        const RecordJournal::Status s = j.status();
        QVERIFY(s.full);
        QVERIFY(s.dropped > 0);
        QVERIFY(s.backlogBytes <= 4096);
        QCOMPARE(quint64(s.backlog) + s.dropped, 200u);
    }

    // With a data key the journal holds no caller number or transcript in clear, and replays all the same.
    void sealedWithTheDataKey()
    {
        QString error;
        auto cipher = db::DataCipher::fromText(db::DataCipher::generateKeyLine(u"k1"_s).toUtf8(), &error);
        QVERIFY2(cipher && cipher->enabled(), qPrintable(error));
        const QString dir = test::tempDir(u"journal"_s);
        {
            auto down = unreachable();
            RecordJournal j(down.get(), opts(dir + u"/j"_s, cipher));
            QVERIFY(j.open(&error));
            recordCall(j, *down, u"CAsealed"_s);
            QTRY_VERIFY(filesIn(dir + u"/j"_s).count('\n') == 10);
            const QByteArray file = filesIn(dir + u"/j"_s);
            QVERIFY(!file.contains("9876543210"));
            QVERIFY(!file.contains("ABC123"));
            QVERIFY(!file.contains("Namaste"));
            QVERIFY(file.contains("enc:v1:k1:"));
        }
        // The next run, with the key, opens and applies them.
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        RecordJournal j(w.get(), opts(dir + u"/j"_s, cipher));
        QVERIFY(j.open(&error));
        QTRY_COMPARE(j.status().backlog, qint64(0));
        QCOMPARE(countsOf(*w, u"CAsealed"_s).lines, 3);
    }

    // The SQLite file deleted while the server runs: nothing is written into the vanished file (or a new
    // empty one); the database counts as unreachable, the writes wait, and the next start replays them.
    void aDeletedSqliteFileIsNoticed()
    {
        const QString dir = test::tempDir(u"journal"_s);
        {
            auto w = sqlite(dir + u"/v.db"_s);
            QVERIFY(w->initialise(false, false).result().ok());
            RecordJournal j(w.get(), opts(dir + u"/j"_s));
            QString error;
            QVERIFY(j.open(&error));
            recordCall(j, *w, u"CAbefore"_s);
            QTRY_COMPARE(j.status().backlog, qint64(0));
            QVERIFY(QFile::remove(dir + u"/v.db"_s));
            QFile::remove(dir + u"/v.db-wal"_s);
            QFile::remove(dir + u"/v.db-shm"_s);
            recordCall(j, *w, u"CAafter"_s);
            QTRY_VERIFY(!j.status().databaseTakesWrites);
            QVERIFY(!w->ping().result().ok());
            QCOMPARE(j.status().backlog, qint64(10));
            QVERIFY(!QFileInfo::exists(dir + u"/v.db"_s)); // no empty database made in its place
        }
        // The next start: a new database file, and the call that waited in the journal.
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        RecordJournal j(w.get(), opts(dir + u"/j"_s));
        QString error;
        QVERIFY(j.open(&error));
        QTRY_COMPARE(j.status().backlog, qint64(0));
        QCOMPARE(countsOf(*w, u"CAafter"_s).lines, 3);
        QCOMPARE(countsOf(*w, u"CAafter"_s).outcome, u"resolved"_s);
    }

    // SQLite's shared-memory file (the WAL index, mapped into memory) cut short or replaced by someone else
    // while the server runs: touching the mapping past the file's end would kill the process (SIGBUS). The
    // database thread notices before its next statement, gives the file back its size (SQLite rebuilds the
    // index from the WAL), and every write still lands.
    void aTruncatedSharedMemoryFileIsSurvived()
    {
        const QString dir = test::tempDir(u"journal"_s);
        auto w = sqlite(dir + u"/v.db"_s);
        QVERIFY(w->initialise(false, false).result().ok());
        RecordJournal j(w.get(), opts(dir + u"/j"_s));
        QString error;
        QVERIFY(j.open(&error));
        recordCall(j, *w, u"CAbefore"_s);
        QTRY_COMPARE(j.status().backlog, qint64(0));
        const QString shm = dir + u"/v.db-shm"_s;
        QVERIFY(QFileInfo(shm).size() > 0);
        QVERIFY(QFile::resize(shm, 0));
        recordCall(j, *w, u"CAafter"_s);
        QTRY_COMPARE(j.status().backlog, qint64(0));
        QCOMPARE(countsOf(*w, u"CAafter"_s).lines, 3);
        QCOMPARE(countsOf(*w, u"CAafter"_s).outcome, u"resolved"_s);
        QCOMPARE(countsOf(*w, u"CAbefore"_s).lines, 3);
        // Replaced by a new, empty file (a different inode): the same.
        QVERIFY(QFile::remove(shm));
        QFile fresh(shm);
        QVERIFY(fresh.open(QIODevice::WriteOnly));
        fresh.close();
        recordCall(j, *w, u"CAthird"_s);
        QTRY_COMPARE(j.status().backlog, qint64(0));
        QCOMPARE(countsOf(*w, u"CAthird"_s).lines, 3);
        QCOMPARE(callRows(*w), 3);
    }

    // A server killed while the database was away restarts: it first applies what its killed run journaled
    // (a call that did end keeps its real outcome and transcript), then marks that run's other calls
    // interrupted.
    void aRestartReplaysBeforeItSweeps()
    {
        const QString dir = test::tempDir(u"journal"_s);
        const QString dbPath = dir + u"/vaani.db"_s;
        const QString ended = u"CA"_s + QString(32, u'e'), cut = u"CA"_s + QString(32, u'c');
        {
            // What the killed run left in the database: both calls started, neither ended.
            auto w = sqlite(dbPath);
            QVERIFY(w->initialise(false, false).result().ok());
            for (const QString &sid : {ended, cut})
                QVERIFY(w->submit([sid](db::Repositories &r) {
                             return r.calls.start({sid,
                                                   u"+919876543210"_s,
                                                   u"+918000000000"_s,
                                                   u"test"_s,
                                                   {},
                                                   {},
                                                   QDateTime::currentDateTimeUtc().addSecs(-60)});
                         })
                            .result()
                            .ok());
        }
        // ... and in its journal: the first call's last line and its end, which the database never got.
        QVERIFY(QDir().mkpath(dir + u"/journal/test"_s));
        QFile f(dir + u"/journal/test/1.journal"_s);
        QVERIFY(f.open(QIODevice::WriteOnly));
        const qint64 at = QDateTime::currentMSecsSinceEpoch() - 5000;
        for (const QJsonObject &op : {QJsonObject{{u"t"_s, u"line"_s},
                                                  {u"sid"_s, ended},
                                                  {u"w"_s, u"k1"_s},
                                                  {u"seq"_s, 1},
                                                  {u"who"_s, u"agent"_s},
                                                  {u"text"_s, u"Aapka din shubh ho"_s},
                                                  {u"off"_s, 50000}},
                                      QJsonObject{{u"t"_s, u"end"_s},
                                                  {u"sid"_s, ended},
                                                  {u"w"_s, u"k1"_s},
                                                  {u"outcome"_s, u"resolved"_s},
                                                  {u"reason"_s, u"caller said bye"_s},
                                                  {u"lat"_s, QJsonArray{}},
                                                  {u"at"_s, double(at)}}})
            f.write(journal::encode(QJsonDocument(op).toJson(QJsonDocument::Compact)));
        f.close();

        test::ServerHarness h;
        QVERIFY(h.start([&](ServerOptions &o) {
            o.databaseUrl = u"sqlite://"_s + dbPath;
            o.dataDir = dir;
            o.seedDemoIfEmpty = false;
            o.settings.heartbeatMs = 200;
        }));
        QTRY_COMPARE(h.metric(u"vaani_journal_replayed_total"_s), 2.0);
        QString error;
        db::DbWorker check(db::DatabaseConfig::fromUrl(u"sqlite://"_s + dbPath, {}, &error));
        auto outcomeOf = [&](const QString &sid) {
            return check.submit([sid](db::Repositories &r) { return r.calls.findBySid(sid); })
                .result()
                .value.outcome;
        };
        QTRY_COMPARE(outcomeOf(cut), u"interrupted"_s);
        QCOMPARE(outcomeOf(ended), u"resolved"_s);
        QCOMPARE(countsOf(check, ended).lines, 1);
    }

    // One process per directory: a second server configured onto the same journal refuses to start.
    void oneProcessPerDirectory()
    {
        const QString dir = test::tempDir(u"journal"_s);
        auto w = unreachable();
        RecordJournal a(w.get(), opts(dir));
        RecordJournal b(w.get(), opts(dir));
        QString error;
        QVERIFY(a.open(&error));
        QVERIFY(!b.open(&error));
        QVERIFY2(error.contains(u"in use by process"_s), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
