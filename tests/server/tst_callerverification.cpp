// Callers hear order and ticket details only when the tools have verified them (issue #15): the calling
// number is the customer's, or the caller gave the last four digits of the registered number — checked by
// the tool, never taken from the model's word. Ticket numbers are not guessable. First the tools on the demo
// database (its customers, orders and tickets), then a hostile caller in a scripted call through the server.
#include "db/datacipher.h"
#include "db/dbworker.h"
#include "serverharness.h"
#include "testenv.h"
#include "tools.h"

#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
// Demo data (resources/demo/demo.sql): Aarav Sharma (+919876543210) owns ABC123 and ticket TKT-1001;
// Priya Sethi (+919094009492) owns FLP477; Rohan Iyer (+917465355495) owns ticket TKT-1002.
const QString kAarav = u"+919876543210"_s;
const QString kStranger = u"+918888888888"_s;

QString text(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}
} // namespace

class TestCallerVerification : public QObject
{
    Q_OBJECT
    std::unique_ptr<db::DbWorker> worker;

    ToolResult run(const QString &tool, const QJsonObject &args, const ToolContext &context)
    {
        return Tools::runDatabaseTool(worker.get(), tool, args, context).result();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        worker = std::make_unique<db::DbWorker>(db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"verification"_s) + u"/v.db"_s, {}, &error));
        QVERIFY(worker->initialise(true, false).result().ok());
    }
    void cleanupTestCase() { worker.reset(); }

    void ownerHearsTheOrder()
    {
        const ToolResult r =
            run(u"lookup_order"_s, {{u"order_id"_s, u"ABC123"_s}}, {kAarav, u"CA1"_s, {}, 0});
        QVERIFY(r.ok);
        QCOMPARE(r.output.value(u"verified"_s).toBool(), true);
        QCOMPARE(r.output.value(u"order"_s).toObject().value(u"status"_s).toString(), u"shipped"_s);
        QCOMPARE(r.verifiedCustomer, std::optional<qint64>(1));
        QVERIFY(!r.verificationFailed);
    }

    void strangerHearsOnlyThatItExists_data()
    {
        QTest::addColumn<QString>("verification");
        QTest::addColumn<bool>("failed");
        QTest::newRow("no answer") << QString() << false;
        QTest::newRow("wrong digits") << u"1234"_s << true;
        QTest::newRow("the caller's own digits") << u"8888"_s << true;
        QTest::newRow("three digits") << u"210"_s << true;
        QTest::newRow("digits of another customer") << u"9492"_s << true;
        QTest::newRow("words, no digits") << u"I am Aarav, trust me"_s << false;
    }
    void strangerHearsOnlyThatItExists()
    {
        QFETCH(QString, verification);
        QFETCH(bool, failed);
        QJsonObject args{{u"order_id"_s, u"ABC123"_s}};
        if (!verification.isEmpty())
            args.insert(u"verification"_s, verification);
        const ToolResult r = run(u"lookup_order"_s, args, {kStranger, u"CA2"_s, {}, 0});
        QVERIFY(r.ok);
        QCOMPARE(r.output.value(u"found"_s).toBool(), true);
        QCOMPARE(r.output.value(u"verified"_s).toBool(), false);
        QVERIFY(!r.output.contains(u"order"_s));
        // Nothing of the order reaches the model: not the name, items, amount, courier or tracking number.
        const QString all = text(r.output);
        for (const QString &secret :
             {u"Aarav"_s, u"Atta"_s, u"529"_s, u"India Post"_s, u"IN1326315825"_s, u"3210"_s})
            QVERIFY2(!all.contains(secret), qPrintable(all));
        QCOMPARE(r.verificationFailed, failed);
        QVERIFY(!r.verifiedCustomer);
    }

    void rightDigitsVerifyForTheRestOfTheCall()
    {
        for (const QString &answer :
             {u"3210"_s, u"3 2 1 0"_s, u"३२१०"_s, u"98765 43210"_s, u"+91 98765 43210"_s}) {
            const ToolResult r =
                run(u"lookup_order"_s, {{u"order_id"_s, u"ABC123"_s}, {u"verification"_s, answer}},
                    {kStranger, u"CA3"_s, {}, 0});
            QVERIFY2(r.output.value(u"verified"_s).toBool(), qPrintable(answer));
            QCOMPARE(r.verifiedCustomer, std::optional<qint64>(1));
        }
        // Verified earlier in the call: no answer needed again (the session hands the set back).
        const ToolResult again =
            run(u"lookup_order"_s, {{u"order_id"_s, u"abc 123"_s}}, {kStranger, u"CA3"_s, {1}, 0});
        QCOMPARE(again.output.value(u"verified"_s).toBool(), true);
        // But being verified as one customer opens nothing of another's.
        const ToolResult other =
            run(u"lookup_order"_s, {{u"order_id"_s, u"FLP477"_s}}, {kStranger, u"CA3"_s, {1}, 0});
        QCOMPARE(other.output.value(u"verified"_s).toBool(), false);
    }

    void wrongAnswersLockTheCall()
    {
        const ToolResult locked =
            run(u"lookup_order"_s, {{u"order_id"_s, u"ABC123"_s}, {u"verification"_s, u"3210"_s}},
                {kStranger, u"CA4"_s, {}, kMaxVerificationAttempts});
        QCOMPARE(locked.output.value(u"verified"_s).toBool(), false); // even the right answer, now
        QVERIFY(locked.output.value(u"message"_s).toString().contains(u"Too many"_s));
        QVERIFY(!locked.verifiedCustomer);
    }

    void ticketsNeedTheirOwnerToo()
    {
        // Rohan's ticket, asked for by Aarav.
        const ToolResult r =
            run(u"get_ticket_status"_s, {{u"ticket_id"_s, u"TKT-1002"_s}}, {kAarav, u"CA5"_s, {}, 0});
        QCOMPARE(r.output.value(u"verified"_s).toBool(), false);
        QVERIFY(!r.output.contains(u"ticket"_s));
        QVERIFY(!text(r.output).contains(u"Wooden spice box"_s));
        // Aarav's own ticket.
        const ToolResult own =
            run(u"get_ticket_status"_s, {{u"ticket_id"_s, u"1001"_s}}, {kAarav, u"CA5"_s, {}, 0});
        QCOMPARE(own.output.value(u"verified"_s).toBool(), true);
        QVERIFY(own.output.value(u"ticket"_s).toObject().value(u"summary"_s).toString().contains(u"saree"_s));

        // A transfer ticket carries the conversation; its owner hears the first paragraph only.
        const auto created = worker
                                 ->submit([](db::Repositories &rep) {
                                     db::NewTicket t;
                                     t.customerId = 1;
                                     t.category = u"other"_s;
                                     t.priority = u"high"_s;
                                     t.summary =
                                         u"Transferred to a human: refund dispute\n\nConversation so far:\n"
                                         "Caller: mera OTP 482913 hai"_s;
                                     t.author = u"vaani-agent"_s;
                                     return rep.tickets.create(t);
                                 })
                                 .result();
        QVERIFY(created.ok());
        const ToolResult transfer =
            run(u"get_ticket_status"_s, {{u"ticket_id"_s, created.value.code}}, {kAarav, u"CA5"_s, {}, 0});
        const QString summary = transfer.output.value(u"ticket"_s).toObject().value(u"summary"_s).toString();
        QCOMPARE(summary, u"Transferred to a human: refund dispute"_s);
        QVERIFY(!text(transfer.output).contains(u"482913"_s));
    }

    void ticketNumbersAreNotGuessable()
    {
        QStringList codes;
        for (int i = 0; i < 40; ++i) {
            const auto t = worker
                               ->submit([](db::Repositories &rep) {
                                   db::NewTicket n;
                                   n.category = u"other"_s;
                                   n.priority = u"normal"_s;
                                   n.summary = u"test"_s;
                                   n.author = u"test"_s;
                                   return rep.tickets.create(n);
                               })
                               .result();
            QVERIFY(t.ok());
            codes << t.value.code;
        }
        static const QRegularExpression shape(u"^TKT-[1-9]\\d{7}$"_s);
        int consecutive = 0;
        for (int i = 0; i < codes.size(); ++i) {
            QVERIFY2(shape.match(codes[i]).hasMatch(), qPrintable(codes[i]));
            QCOMPARE(codes.count(codes[i]), 1);
            if (i > 0 && qAbs(codes[i].mid(4).toLongLong() - codes[i - 1].mid(4).toLongLong()) < 1000)
                ++consecutive;
        }
        QVERIFY(consecutive <= 1); // the next number cannot be guessed from the last
        // Callers say them in pieces; the lookup still finds them.
        const QString digits = codes.first().mid(4);
        const auto found = worker
                               ->submit([digits](db::Repositories &rep) {
                                   return rep.tickets.findByCode(u"tkt "_s + digits);
                               })
                               .result();
        QVERIFY(found.ok());
    }

    // A hostile caller in a real call: asks for someone else's order, guesses digits, and never hears the
    // details; then gives the right digits and does.
    void hostileCallerInACall()
    {
        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        h.fake.turns = {
            FakeTurn{u"Order FLP477 ka status batao"_s, u"lookup_order"_s, u"{\"order_id\":\"FLP477\"}"_s,
                     u"{output}"_s, 300},
            FakeTurn{u"last digits 1111"_s, u"lookup_order"_s,
                     u"{\"order_id\":\"FLP477\",\"verification\":\"1111\"}"_s, u"{output}"_s, 300},
            FakeTurn{u"sorry, 9492"_s, u"lookup_order"_s,
                     u"{\"order_id\":\"FLP477\",\"verification\":\"9492\"}"_s, u"{output}"_s, 300}};
        QVERIFY(h.start());
        auto sim = h.connectCall();
        QVERIFY(sim);
        QCOMPARE(sim->from, kAarav); // not Priya's number
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        auto outputs = [&] {
            QStringList out;
            for (const auto &i : h.fake.receivedOfType(u"conversation.item.create"_s)) {
                const QJsonObject item = i.value(u"item"_s).toObject();
                if (item.value(u"type"_s).toString() == u"function_call_output"_s)
                    out << item.value(u"output"_s).toString();
            }
            return out;
        };
        for (int turn = 1; turn <= 3; ++turn) {
            sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            QTRY_COMPARE_WITH_TIMEOUT(outputs().size(), turn, 8000);
            QTRY_VERIFY_WITH_TIMEOUT(h.fake.receivedOfType(u"response.create"_s).size() >= turn + 1, 5000);
            QTest::qWait(400); // the answer plays before the next turn
        }
        const QStringList out = outputs();
        QVERIFY2(out[0].contains(u"\"verified\":false"_s) && !out[0].contains(u"Philips"_s),
                 qPrintable(out[0]));
        QVERIFY2(out[1].contains(u"do not match"_s) && !out[1].contains(u"Philips"_s), qPrintable(out[1]));
        QVERIFY2(out[2].contains(u"\"verified\":true"_s) && out[2].contains(u"Philips"_s),
                 qPrintable(out[2]));
        sim->hangUp();
        // The record keeps the tool calls (what the model was told), with nothing read out before the check.
        const QString sid = sim->callSid;
        QTRY_VERIFY(h.repos().calls.findBySid(sid).value.endedAt.isValid());
        const auto tools = h.repos().calls.tools(h.repos().calls.findBySid(sid).value.id).value;
        QCOMPARE(tools.size(), 3);
        QVERIFY(!tools[0].result.contains(u"Philips"_s));
        QVERIFY(!tools[1].result.contains(u"Philips"_s));
    }

    // What a caller says aloud — an Aadhaar number in Hinglish words, a card number — reaches the model (it
    // is the conversation) but is stored only as tags: in the transcript, the tool's arguments and the
    // ticket.
    void spokenSecretsAreNotStored()
    {
        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        const QString aadhaar =
            u"mera aadhaar number hai chaar paanch chhe saat aath nau ek do teen chaar paanch chhe"_s;
        h.fake.turns = {FakeTurn{aadhaar, u"create_ticket"_s,
                                 u"{\"category\":\"payment\",\"priority\":\"high\",\"summary\":\"Double "
                                 "debit on card 4111 1111 1111 1111, caller also read out OTP 482913\"}"_s,
                                 u"Ticket ban gaya: {output}"_s, 300}};
        QVERIFY(h.start());
        auto sim = h.connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(h.fake.receivedOfType(u"response.create"_s).size() >= 2, 8000);
        QTest::qWait(300);
        sim->hangUp();
        const QString sid = sim->callSid;
        QTRY_VERIFY(h.repos().calls.findBySid(sid).value.endedAt.isValid());
        const qint64 id = h.repos().calls.findBySid(sid).value.id;
        QTRY_VERIFY(h.repos().calls.transcript(id).value.size() >= 2);
        QString stored;
        for (const auto &line : h.repos().calls.transcript(id).value)
            stored += line.text + u'\n';
        const auto tools = h.repos().calls.tools(id).value;
        QCOMPARE(tools.size(), 1);
        stored += tools[0].arguments + u'\n' + tools[0].result + u'\n';
        const auto tickets = h.repos().tickets.list({}).value;
        const auto mine = std::find_if(tickets.begin(), tickets.end(), [&](const db::Ticket &t) {
            return t.callId == std::optional<qint64>(id);
        });
        QVERIFY(mine != tickets.end());
        stored += mine->summary;
        QVERIFY2(stored.contains(u"[aadhaar ****3456]"_s), qPrintable(stored));
        QVERIFY2(stored.contains(u"[card ****1111]"_s), qPrintable(stored));
        QVERIFY2(stored.contains(u"[otp]"_s), qPrintable(stored));
        for (const QString &secret : {u"chaar paanch chhe saat"_s, u"4111 1111"_s, u"482913"_s})
            QVERIFY2(!stored.contains(secret), qPrintable(stored));
    }

    // The operator's erasure command, as run on a server machine: exit code, what it says (the number
    // masked), and the database afterwards.
    void eraseCallerFromTheCommandLine()
    {
        const QString dir = test::tempDir(u"erase"_s);
        const QString url = u"sqlite://"_s + dir + u"/erase.db"_s;
        {
            QString error;
            db::DbWorker seeded(db::DatabaseConfig::fromUrl(url, {}, &error));
            QVERIFY(seeded.initialise(true, false).result().ok());
        }
        const QString server = QCoreApplication::applicationDirPath() + u"/vaani-server"_s;
        QProcess p;
        p.setProcessEnvironment(test::cleanEnvironment());
        p.start(server, {u"--erase-caller"_s, u"+91 98765 43210"_s, u"--database-url"_s, url});
        QVERIFY(p.waitForFinished(30000));
        const QString out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(out.contains(u"Erased the personal data of +********3210"_s), qPrintable(out));
        QVERIFY2(!out.contains(u"9876543210"_s), qPrintable(out));
        QString error;
        db::DbWorker after(db::DatabaseConfig::fromUrl(url, {}, &error));
        QVERIFY(after.initialise(false, false).result().ok());
        QVERIFY(!after.submit([](db::Repositories &r) { return r.customers.findByPhone(u"+919876543210"_s); })
                     .result()
                     .ok());
        const auto audit = after.submit([](db::Repositories &r) { return r.privacy.audit(); }).result().value;
        QVERIFY(!audit.isEmpty());
        QCOMPARE(audit.first().action, u"erase_caller"_s);
        // Again: nobody to erase (exit code 3).
        p.start(server, {u"--erase-caller"_s, u"+919876543210"_s, u"--database-url"_s, url});
        QVERIFY(p.waitForFinished(30000));
        QCOMPARE(p.exitCode(), 3);
    }

    // VAANI_DATA_KEY_FILE on a running server: a call's transcript, tool call and the caller's number reach
    // the database only sealed; SIGHUP with a new first key seals from then on, and --reencrypt moves the
    // rest, from the command line, while the data stays readable with the key.
    void encryptedAtRestThroughTheServer()
    {
        const QString dir = test::tempDir(u"datakey"_s);
        const QString keyFile = dir + u"/keys"_s;
        auto writeKeys = [&](const QStringList &lines) {
            QFile f(keyFile);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(lines.join(u'\n').toLatin1() + '\n');
        };
        const QString k1 = db::DataCipher::generateKeyLine(u"k1"_s);
        const QString k2 = db::DataCipher::generateKeyLine(u"k2"_s);
        writeKeys({k1});
        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        h.fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai"_s, u"lookup_order"_s,
                                 u"{\"order_id\":\"ABC123\"}"_s, u"Aapka order {output}"_s, 300}};
        QVERIFY(h.start([&](ServerOptions &o) { o.dataKeyFile = keyFile; }));
        auto sim = h.connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(h.fake.receivedOfType(u"response.create"_s).size() >= 2, 8000);
        QTest::qWait(300);
        sim->hangUp();
        const QString sid = sim->callSid;
        QTRY_VERIFY(h.repos().calls.findBySid(sid).value.endedAt.isValid());
        const qint64 id = h.repos().calls.findBySid(sid).value.id;
        QTRY_VERIFY(h.repos().calls.transcript(id).value.size() >= 2);
        QTRY_VERIFY(h.repos().calls.tools(id).value.size() == 1);
        auto raw = [&](const QString &sql) {
            QStringList out;
            QSqlQuery q(h.repos().db);
            if (!q.exec(sql))
                return QStringList{u"ERROR "_s + q.lastError().text()};
            while (q.next())
                out << q.value(0).toString();
            return out;
        };
        const QStringList stored =
            raw(u"SELECT text FROM transcript_entries WHERE call_id = %1"_s.arg(id)) +
            raw(u"SELECT arguments || result FROM tool_invocations WHERE call_id = %1"_s.arg(id)) +
            raw(u"SELECT caller_number FROM calls WHERE id = %1"_s.arg(id));
        QVERIFY(stored.size() >= 4);
        for (const QString &v : stored)
            QVERIFY2(v.startsWith(u"enc:v1:k1:"_s) && !v.contains(u"ABC123"_s) &&
                         !v.contains(u"9876543210"_s),
                     qPrintable(v));
        // The call was linked to its customer through the number's keyed hash, and the harness's own
        // connection (without the key) reads placeholders, not ciphertext.
        QVERIFY(h.repos().calls.findBySid(sid).value.customerId.has_value());
        QVERIFY(h.repos().calls.transcript(id).value.first().text.contains(u"not loaded"_s));

        // SIGHUP with k2 first: new values are sealed with k2, old ones still open.
        writeKeys({k2, k1});
        QVERIFY(h.server()->reloadDataKeys(keyFile));
        QVERIFY(!h.server()->reloadDataKeys(keyFile)); // unchanged: nothing to do
        auto second = h.connectCall();
        QVERIFY(second);
        QTRY_VERIFY_WITH_TIMEOUT(second->agentBytesPlayed >= 8 * 300, 5000);
        second->hangUp();
        QTRY_VERIFY(h.repos().calls.findBySid(second->callSid).value.endedAt.isValid());
        const qint64 id2 = h.repos().calls.findBySid(second->callSid).value.id;
        QTRY_VERIFY(!raw(u"SELECT text FROM transcript_entries WHERE call_id = %1"_s.arg(id2)).isEmpty());
        QVERIFY(raw(u"SELECT text FROM transcript_entries WHERE call_id = %1"_s.arg(id2))
                    .first()
                    .startsWith(u"enc:v1:k2:"_s));

        // The operator's re-encryption, online (the server is still running): everything under k2, then k1
        // can leave the file.
        const QString server = QCoreApplication::applicationDirPath() + u"/vaani-server"_s;
        QProcess p;
        p.setProcessEnvironment(test::cleanEnvironment());
        const QString url = u"sqlite://"_s + h.databasePath();
        p.start(server, {u"--reencrypt"_s, u"--data-key-file"_s, keyFile, u"--database-url"_s, url});
        QVERIFY(p.waitForFinished(60000));
        QString out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QVERIFY2(p.exitCode() == 0 && out.contains(u"Every personal value is now under k2"_s),
                 qPrintable(out));
        QVERIFY(raw(u"SELECT COUNT(*) FROM transcript_entries WHERE text LIKE 'enc:v1:k1:%'"_s) ==
                QStringList{u"0"_s});
        writeKeys({k2});
        p.start(server, {u"--reencrypt"_s, u"--data-key-file"_s, keyFile, u"--database-url"_s, url});
        QVERIFY(p.waitForFinished(60000));
        out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QVERIFY2(p.exitCode() == 0 && out.contains(u"Sealed 0 value(s)"_s), qPrintable(out));
        // Without a key file the command refuses.
        p.start(server, {u"--reencrypt"_s, u"--database-url"_s, url});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 1);
        // A malformed key file stops the server from starting (never silently in clear).
        QFile bad(dir + u"/bad"_s);
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("k1 not-a-key\n");
        bad.close();
        p.start(server,
                {u"--data-key-file"_s, bad.fileName(), u"--database-url"_s, url, u"--port"_s, u"0"_s});
        QVERIFY(p.waitForFinished(30000));
        out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QVERIFY2(p.exitCode() != 0 && out.contains(u"VAANI_DATA_KEY_FILE"_s), qPrintable(out));
    }

    // Without VAANI_DATA_KEY_FILE the server says at start that personal data is stored in clear.
    void warnsWithoutADataKey()
    {
        ServerHarness h;
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"VAANI_DATA_KEY_FILE is not set: .* stored in clear"_s));
        QVERIFY(h.start());
    }

    // RETENTION_DAYS on a running server: the purge runs, counts and keeps the recent conversations.
    void retentionOnARunningServer()
    {
        ServerHarness h;
        QVERIFY(h.start([](ServerOptions &o) { o.settings.retentionDays = 10; }));
        QSignalSpy purged(h.server(), &Server::retentionPurged);
        h.server()->purgeOldConversations();
        QTRY_COMPARE_WITH_TIMEOUT(purged.size(), 1, 10000); // the answer may come before purge...() returns
        const int lines = purged.first().at(0).toInt();
        QVERIFY(lines > 0);
        QCOMPARE(h.metric(u"vaani_retention_purged_transcript_lines_total"_s), double(lines));
        // Recent calls keep their conversation.
        const auto recent = h.repos().calls.list({}).value;
        int kept = 0;
        const QDateTime cutoff = QDateTime::currentDateTimeUtc().addDays(-10);
        for (const auto &c : recent) {
            if (c.startedAt > cutoff.addSecs(60))
                kept += int(h.repos().calls.transcript(c.id).value.size());
            else if (c.startedAt < cutoff.addSecs(-60))
                QVERIFY(h.repos().calls.transcript(c.id).value.isEmpty());
        }
        QVERIFY(kept > 0);
    }
};

QTEST_GUILESS_MAIN(TestCallerVerification)
#include "tst_callerverification.moc"
