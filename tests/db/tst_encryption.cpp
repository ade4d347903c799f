// Encryption at rest on SQLite and PostgreSQL: with a data key, the demo data and everything written later
// is sealed in the database (a raw look — the SQLite file's bytes, pg_dump's output — shows no caller number
// or transcript text), yet the repositories find customers and calls by number and read everything back;
// without the key nothing opens; a key rotation with the online re-encryption moves every row to the new key;
// erasure finds the calls of a caller who never was a customer.
#include "db/datacipher.h"
#include "db/dbworker.h"
#include "testenv.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace vaani;
using namespace vaani::db;
using namespace Qt::StringLiterals;

namespace {
const QByteArray kK1 = "k1 " + QByteArray(32, '\x11').toBase64() + "\n";
const QByteArray kK2 = "k2 " + QByteArray(32, '\x22').toBase64() + "\n";

std::shared_ptr<const DataCipher> keys(const QByteArray &text)
{
    QString error;
    return DataCipher::fromText(text, &error);
}

// What a copy of the database shows to someone without the key.
QString rawDump(const DatabaseConfig &cfg)
{
    if (!cfg.isPostgres()) {
        // Fold the WAL into the file first, so both hold what a copy would hold.
        {
            DbError e;
            QSqlDatabase db = Database::open(cfg, u"raw"_s, &e);
            QSqlQuery(db).exec(u"PRAGMA wal_checkpoint(TRUNCATE)"_s);
        }
        Database::close(u"raw"_s);
        QString out;
        for (const QString &suffix : {QString(), u"-wal"_s}) {
            QFile f(cfg.sqlitePath + suffix);
            if (f.open(QIODevice::ReadOnly))
                out += QString::fromLatin1(f.readAll());
        }
        return out;
    }
    const QString bin = QDir(u"/usr/lib/postgresql"_s).entryList(QDir::Dirs | QDir::NoDotAndDotDot).value(0);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"PGPASSWORD"_s, cfg.password);
    p.setProcessEnvironment(env);
    p.start(u"/usr/lib/postgresql/%1/bin/pg_dump"_s.arg(bin),
            {u"-h"_s, cfg.host, u"-p"_s, QString::number(cfg.port), u"-U"_s, cfg.user, u"--data-only"_s,
             cfg.name});
    p.waitForFinished(60000);
    return QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
}
} // namespace

class TestEncryption : public QObject
{
    Q_OBJECT

    template<typename F> static auto run(DbWorker &w, F fn) { return w.submit(fn).result(); }

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("engine");
        QTest::newRow("sqlite") << u"sqlite"_s;
        QTest::newRow("postgresql") << u"postgresql"_s;
    }

    void sealedAtRestAndReadable()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        DatabaseConfig cfg = test::freshDatabase(engine, u"enc"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        cfg.cipher = keys(kK1);
        {
            DbWorker w(cfg);
            QVERIFY(w.initialise(true, false).result().ok());
            // Written by a call after start.
            const auto call = run(w, [](Repositories &r) {
                CallStart s;
                s.callSid = u"CA"_s + QString(32, u'e');
                s.callerNumber = u"+919876543210"_s;
                return r.calls.start(s);
            });
            QVERIFY2(call.ok(), qPrintable(call.error.message));
            QVERIFY(call.value.customerId.has_value()); // found Aarav by his number's hash
            const qint64 id = call.value.id;
            QVERIFY(run(w, [id](Repositories &r) {
                        return r.calls.addTranscript(
                            {0, id, 1, u"caller"_s, u"Zebra kahan hai mera parcel"_s, 10, false, {}});
                    }).ok());
            QVERIFY(run(w, [id](Repositories &r) {
                        return r.calls.addToolInvocation({0,
                                                          id,
                                                          u"lookup_order"_s,
                                                          u"{\"order_id\":\"QUOKKA1\"}"_s,
                                                          u"{\"status\":\"shipped\"}"_s,
                                                          5,
                                                          true,
                                                          {},
                                                          1});
                    }).ok());
            auto ticket = run(w, [id](Repositories &r) {
                NewTicket t;
                t.callId = id;
                t.category = u"delivery"_s;
                t.summary = u"Platypus delivery delayed"_s;
                t.author = u"vaani"_s;
                return r.tickets.create(t);
            });
            QVERIFY(ticket.ok());

            // Read back through the repositories: all in clear, lookups by number work.
            auto lines = run(w, [id](Repositories &r) { return r.calls.transcript(id); });
            QCOMPARE(lines.value.value(0).text, u"Zebra kahan hai mera parcel"_s);
            auto tools = run(w, [id](Repositories &r) { return r.calls.tools(id); });
            QCOMPARE(tools.value.value(0).arguments, u"{\"order_id\":\"QUOKKA1\"}"_s);
            QCOMPARE(run(w, [&](Repositories &r) { return r.tickets.get(ticket.value.id); }).value.summary,
                     u"Platypus delivery delayed"_s);
            auto aarav = run(w, [](Repositories &r) { return r.customers.findByPhone(u"98765 43210"_s); });
            QVERIFY(aarav.ok());
            QCOMPARE(aarav.value.phone, u"+919876543210"_s);
            QVERIFY(!run(w, [](Repositories &r) {
                         return r.orders.forPhone(u"+919876543210"_s);
                     }).value.isEmpty());
            QCOMPARE(
                run(w, [](Repositories &r) { return r.customers.search(u"+91 98765 43210"_s); }).value.size(),
                1);
            QVERIFY(run(w, [](Repositories &r) { return r.customers.search(u"3210"_s); }).value.size() >= 1);
            // Demo transcripts and tickets (sealed at load) open too.
            auto demoTicket = run(w, [](Repositories &r) { return r.tickets.findByCode(u"TKT-1001"_s); });
            QVERIFY(demoTicket.ok() && !demoTicket.value.summary.startsWith(u"enc:"_s) &&
                    !demoTicket.value.summary.isEmpty());
            QCOMPARE(run(w, [](Repositories &r) { return r.privacy.valuesNotUnderCurrentKey(); }).value, 0);
        }

        // A copy of the database: no number, no transcript text, no tool arguments, no ticket summary.
        const QString dump = rawDump(cfg);
        QVERIFY2(dump.size() > 10000, qPrintable(dump.left(500)));
        for (const QString &secret : {u"9876543210"_s, u"Zebra"_s, u"QUOKKA1"_s, u"Platypus"_s,
                                      u"ID mere paas nahi hai"_s, u"7465355495"_s})
            QVERIFY2(!dump.contains(secret), qPrintable(secret));
        QVERIFY(dump.contains(u"enc:v1:k1:"_s));

        // Without the key: nothing opens, and the app says why instead of showing ciphertext.
        DatabaseConfig noKey = cfg;
        noKey.cipher = {};
        {
            DbWorker w(noKey);
            QVERIFY(w.initialise(false, false).result().ok());
            auto t = run(w, [](Repositories &r) { return r.tickets.findByCode(u"TKT-1001"_s); });
            QVERIFY2(t.value.summary.contains(u"key k1, which is not loaded"_s), qPrintable(t.value.summary));
        }

        // Rotation: k2 first, k1 still loaded; re-encryption moves everything to k2; then k1 can go.
        cfg.cipher = keys(kK2 + kK1);
        {
            DbWorker w(cfg);
            QVERIFY(w.initialise(false, false).result().ok());
            QVERIFY(run(w, [](Repositories &r) { return r.privacy.valuesNotUnderCurrentKey(); }).value > 0);
            const int auditBefore =
                run(w, [](Repositories &r) { return r.privacy.audit(5000); }).value.size();
            auto report = run(w, [](Repositories &r) { return r.privacy.reencrypt(7); }); // small batches
            QVERIFY2(report.ok(), qPrintable(report.error.message));
            QVERIFY(report.value.values > 100);
            QVERIFY(report.value.hashes >= 36);
            QCOMPARE(report.value.unopened, 0);
            // Re-sealing changes no value: the audit log does not get a row per customer or ticket.
            QCOMPARE(run(w, [](Repositories &r) { return r.privacy.audit(5000); }).value.size(), auditBefore);
            // A real change of a number still is audited.
            auto rohan = run(w, [](Repositories &r) { return r.customers.findByPhone(u"+917465355495"_s); });
            QVERIFY(rohan.ok());
            rohan.value.phone = u"+917465355400"_s;
            QVERIFY(run(w, [&](Repositories &r) { return r.customers.update(rohan.value); }).ok());
            const auto audit = run(w, [](Repositories &r) { return r.privacy.audit(5000); }).value;
            QCOMPARE(audit.size(), auditBefore + 1);
            QCOMPARE(audit.first().action, u"customers.update"_s);
            QVERIFY2(!audit.first().detail.contains(u"7465355"_s) && !audit.first().detail.contains(u"k2:"_s),
                     qPrintable(audit.first().detail));
            QCOMPARE(run(w, [](Repositories &r) { return r.privacy.valuesNotUnderCurrentKey(); }).value, 0);
            // Running it again has nothing to do.
            QCOMPARE(run(w, [](Repositories &r) { return r.privacy.reencrypt(); }).value.values, 0);
            QVERIFY(!run(w, [](Repositories &r) -> DbResult<bool> {
                         if (auto e = Database::compact(r.db))
                             return e;
                         return true;
                     }).error); // as vaani-server --reencrypt does after sealing
        }
        cfg.cipher = keys(kK2);
        {
            DbWorker w(cfg);
            QVERIFY(w.initialise(false, false).result().ok());
            QVERIFY(run(w, [](Repositories &r) { return r.customers.findByPhone(u"+919876543210"_s); }).ok());
            auto t = run(w, [](Repositories &r) { return r.tickets.findByCode(u"TKT-1001"_s); });
            QVERIFY(!t.value.summary.startsWith(u"["_s));
        }
        QVERIFY(!rawDump(cfg).contains(u"enc:v1:k1:"_s));
    }

    void erasureFindsCallersWhoAreNotCustomers()
    {
        QFETCH_GLOBAL(QString, engine);
        for (const bool withKey : {true, false}) {
            QString error;
            DatabaseConfig cfg = test::freshDatabase(engine, u"encerase"_s, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            if (withKey)
                cfg.cipher = keys(kK1);
            DbWorker w(cfg);
            QVERIFY(w.initialise(true, false).result().ok());
            const auto call = run(w, [](Repositories &r) {
                CallStart s;
                s.callSid = u"CA"_s + QString(32, u'f');
                s.callerNumber = u"+911234509876"_s; // no customer has this number
                return r.calls.start(s);
            });
            QVERIFY(call.ok() && !call.value.customerId);
            const qint64 id = call.value.id;
            QVERIFY(run(w, [id](Repositories &r) {
                        return r.calls.addTranscript(
                            {0, id, 1, u"caller"_s, u"main Kavya bol rahi hoon"_s, 10, false, {}});
                    }).ok());
            auto erased = run(
                w, [](Repositories &r) { return r.privacy.eraseCaller(u"+91 12345 09876"_s, u"test"_s); });
            QVERIFY2(erased.ok(), qPrintable(erased.error.message));
            QVERIFY(erased.value.found);
            QVERIFY(!erased.value.customer);
            QCOMPARE(erased.value.calls, 1);
            QCOMPARE(erased.value.transcriptLines, 1);
            QVERIFY(run(w, [id](Repositories &r) { return r.calls.transcript(id); }).value.isEmpty());
            QCOMPARE(run(w, [id](Repositories &r) { return r.calls.get(id); }).value.callerMasked,
                     u"erased"_s);
            // Nothing left to find.
            QVERIFY(!run(w, [](Repositories &r) {
                         return r.privacy.eraseCaller(u"+911234509876"_s, u"test"_s);
                     }).value.found);
        }
    }
};

QTEST_GUILESS_MAIN(TestEncryption)
#include "tst_encryption.moc"
