#include "db/dbworker.h"
#include "testenv.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace vaani;
using namespace vaani::db;
using namespace Qt::StringLiterals;

class TestDbWorker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("engine");
        QTest::newRow("sqlite") << u"sqlite"_s;
        QTest::newRow("postgresql") << u"postgresql"_s;
    }

    void resultsArriveOnCallerThreadWithoutBlocking()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        const DatabaseConfig cfg = test::freshDatabase(engine, u"worker"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        DbWorker worker(cfg);
        auto init = worker.initialise(true, false);
        init.waitForFinished();
        QVERIFY2(init.result().ok(), qPrintable(init.result().error.message));
        QCOMPARE(init.result().value, Database::latestSchemaVersion());

        QThread *dbThread = nullptr;
        QThread *callbackThread = nullptr;
        QString status;
        worker
            .submit([&](Repositories &r) {
                dbThread = QThread::currentThread();
                return r.orders.findByCode(u"abc 123"_s);
            })
            .then(this, [&](DbResult<Order> o) {
                callbackThread = QThread::currentThread();
                status = o.value.status;
            });
        QTRY_COMPARE(status, u"shipped"_s);
        QCOMPARE(callbackThread, QThread::currentThread());
        QVERIFY(dbThread != QThread::currentThread());

        // Typed errors, not crashes.
        auto bad = worker.submit([](Repositories &r) { return r.tickets.get(987654); });
        bad.waitForFinished();
        QCOMPARE(bad.result().error.kind, DbError::Kind::NotFound);
        auto dup = worker.submit([](Repositories &r) {
            Customer c;
            c.name = u"Dup"_s;
            c.phone = u"+919876543210"_s;
            return r.customers.create(c);
        });
        dup.waitForFinished();
        QCOMPARE(dup.result().error.kind, DbError::Kind::Constraint);
        QVERIFY(worker.ping().result().ok());
    }

    // On one machine the embedded database is protected by its file's permissions: created for the owner
    // alone, with its directory, its write-ahead log and shared-memory files.
    // DATABASE_URL's libpq options against the fixture's PostgreSQL with TLS on: verify-full with the right
    // CA connects over TLS, with another CA it is refused; application_name and statement_timeout reach the
    // session, and a statement past the timeout is cancelled instead of hanging the database thread.
    void postgresOptionsAndTls()
    {
        QFETCH_GLOBAL(QString, engine);
        if (engine != u"postgresql"_s)
            QSKIP("PostgreSQL only");
        QString url;
        QString why;
        QVERIFY2(test::postgresUrl(&url, &why), qPrintable(why));
        const QString ca =
            QFileInfo(qEnvironmentVariable("VAANI_TEST_PG_URL_FILE")).absolutePath() + u"/ca.pem"_s;
        QVERIFY(QFileInfo::exists(ca));
        QString error;
        DatabaseConfig cfg = DatabaseConfig::fromUrl(
            url + u"?sslmode=verify-full&sslrootcert=%1&application_name=vaani-test&statement_timeout=300"_s
                      .arg(ca),
            {}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(cfg.statementTimeoutMs, 300);
        {
            DbWorker w(cfg);
            const auto seen =
                w.submit([](Repositories &r) -> DbResult<QStringList> {
                     QSqlQuery q(r.db);
                     QStringList out;
                     for (const QString &sql :
                          {u"SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"_s,
                           u"SHOW application_name"_s, u"SHOW statement_timeout"_s}) {
                         if (!q.exec(sql) || !q.next())
                             return DbError::from(q.lastError());
                         out << q.value(0).toString();
                     }
                     // Longer than the timeout: cancelled, with an error the caller sees.
                     out << (q.exec(u"SELECT pg_sleep(2)"_s) ? u"slept"_s : q.lastError().text());
                     return out;
                 }).result();
            QVERIFY2(seen.ok(), qPrintable(seen.error.message));
            QCOMPARE(seen.value.mid(0, 3), QStringList({u"true"_s, u"vaani-test"_s, u"300ms"_s}));
            QVERIFY2(seen.value.value(3).contains(u"statement timeout"_s), qPrintable(seen.value.value(3)));
        }
        // A CA that did not sign the server's certificate: no connection.
        const QString otherCa = test::tempDir(u"otherca"_s) + u"/ca.pem"_s;
        QVERIFY(QProcess::execute(u"openssl"_s, {u"req"_s, u"-new"_s, u"-x509"_s, u"-days"_s, u"1"_s,
                                                 u"-nodes"_s, u"-subj"_s, u"/CN=127.0.0.1"_s, u"-keyout"_s,
                                                 otherCa + u".key"_s, u"-out"_s, otherCa}) == 0);
        DatabaseConfig wrong =
            DatabaseConfig::fromUrl(url + u"?sslmode=verify-full&sslrootcert=%1"_s.arg(otherCa), {}, &error);
        QVERIFY(error.isEmpty());
        DbWorker w(wrong);
        const auto r = w.ping().result();
        QVERIFY(!r.ok());
        QCOMPARE(r.error.kind, DbError::Kind::Unreachable);
        QVERIFY2(r.error.message.contains(u"certificate"_s), qPrintable(r.error.message));
        // Options the driver cannot take safely are refused with the reason.
        DatabaseConfig::fromUrl(url + u"?statement_timeout=soon"_s, {}, &error);
        QVERIFY(error.contains(u"milliseconds"_s));
    }

    void sqliteFilesAreTheOwnersAlone()
    {
        QFETCH_GLOBAL(QString, engine);
        if (engine != u"sqlite"_s)
            QSKIP("file permissions are SQLite's");
        const QString dir = test::tempDir(u"perms"_s) + u"/fresh-data"_s;
        QString error;
        DbWorker worker(DatabaseConfig::fromUrl(u"sqlite://"_s + dir + u"/v.db"_s, {}, &error));
        QVERIFY(worker.initialise(false, false).result().ok());
        const auto owner = QFile::ReadOwner | QFile::WriteOwner;
        QCOMPARE(QFileInfo(dir + u"/v.db"_s).permissions() & ~(QFile::ReadUser | QFile::WriteUser), owner);
        QVERIFY(QFileInfo::exists(dir + u"/v.db-wal"_s));
        QCOMPARE(QFileInfo(dir + u"/v.db-wal"_s).permissions() & ~(QFile::ReadUser | QFile::WriteUser),
                 owner);
        QCOMPARE(QFileInfo(dir).permissions() & ~(QFile::ReadUser | QFile::WriteUser | QFile::ExeUser),
                 owner | QFile::ExeOwner);
    }

    // DATABASE_URL carries libpq's connection parameters (TLS above all): checked, passed to the driver,
    // and honoured — the test cluster speaks no TLS, so sslmode=require must fail rather than fall back.
    void postgresUrlParameters()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        auto c = DatabaseConfig::fromUrl(
            u"postgresql://u:p@db.example:6432/vaani?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem&"
            "application_name=vaani-admin"_s,
            {}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(c.options, (QStringList{u"sslmode=verify-full"_s, u"sslrootcert=/etc/ssl/db-ca.pem"_s,
                                         u"application_name=vaani-admin"_s, u"connect_timeout=5"_s}));
        for (const QString &bad : {u"?sslmode=sometimes"_s, u"?connect_timeout=soon"_s, u"?host=evil"_s,
                                   u"?application_name=a;sslmode=disable"_s}) {
            DatabaseConfig::fromUrl(u"postgresql://u:p@h/db"_s + bad, {}, &error);
            QVERIFY2(!error.isEmpty(), qPrintable(bad));
        }
        if (engine != u"postgresql"_s)
            return;
        QString url, why;
        QVERIFY2(test::postgresUrl(&url, &why), qPrintable(why));
        const QString sep = url.contains(u'?') ? u"&"_s : u"?"_s;
        DbError e;
        QSqlDatabase plain = Database::open(
            DatabaseConfig::fromUrl(url + sep + u"sslmode=disable"_s, {}, &error), u"params-plain"_s, &e);
        QVERIFY2(!e, qPrintable(e.message));
        plain = QSqlDatabase();
        Database::close(u"params-plain"_s);
        // The fixture has TLS on (postgresOptionsAndTls verifies its certificate).
        QSqlDatabase tls = Database::open(
            DatabaseConfig::fromUrl(url + sep + u"sslmode=require"_s, {}, &error), u"params-tls"_s, &e);
        QVERIFY2(!e, qPrintable(e.message));
        tls = QSqlDatabase();
        Database::close(u"params-tls"_s);
    }

    void unreachableDatabaseIsATypedError()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        DatabaseConfig cfg =
            engine == u"sqlite"_s
                ? DatabaseConfig::fromUrl(u"sqlite:///proc/no-such-dir/x.db"_s, {}, &error)
                : DatabaseConfig::fromUrl(u"postgresql://nobody:x@127.0.0.1:1/none"_s, {}, &error);
        QVERIFY(error.isEmpty());
        DbWorker worker(cfg);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"database unavailable"_s));
        auto r = worker.initialise(true, false);
        r.waitForFinished();
        QCOMPARE(r.result().error.kind, DbError::Kind::Unreachable);
        QVERIFY(!r.result().error.message.contains(u"nobody:x"_s));
    }

    void twoConnectionsWritingCallsLoseNothing()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        const DatabaseConfig cfg = test::freshDatabase(engine, u"worker"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        DbWorker a(cfg);
        DbWorker b(cfg);
        QVERIFY(a.initialise(false, false).result().ok());
        constexpr int kCalls = 20;
        constexpr int kEntries = 15;
        QList<QFuture<DbResult<bool>>> futures;
        for (int i = 0; i < kCalls; ++i) {
            DbWorker &w = (i % 2) ? a : b;
            futures << w.submit([i](Repositories &r) -> DbResult<bool> {
                CallStart s;
                s.callSid = u"CA%1"_s.arg(i, 32, 10, QChar(u'0'));
                s.callerNumber = u"+9198765%1"_s.arg(i, 5, 10, QChar(u'0'));
                auto c = r.calls.start(s);
                if (!c.ok())
                    return c.error;
                for (int k = 1; k <= kEntries; ++k) {
                    auto e = r.calls.addTranscript(
                        {0, c.value.id, k, u"caller"_s, u"line %1"_s.arg(k), k * 100, false, {}});
                    if (!e.ok())
                        return e;
                }
                return r.calls.end(c.value.id, {u"resolved"_s, {}, {}, {}, {}});
            });
        }
        for (auto &f : futures) {
            f.waitForFinished();
            QVERIFY2(f.result().ok(), qPrintable(f.result().error.message));
        }
        auto count = a.submit([](Repositories &r) -> DbResult<int> {
            QSqlQuery q(r.db);
            if (!q.exec(u"SELECT COUNT(*) FROM transcript_entries"_s) || !q.next())
                return DbError::from(q.lastError());
            return q.value(0).toInt();
        });
        QCOMPARE(count.result().value, kCalls * kEntries);
    }
};

QTEST_GUILESS_MAIN(TestDbWorker)
#include "tst_dbworker.moc"
