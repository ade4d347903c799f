// Graceful shutdown (issue #14): after SIGTERM the server stops taking calls (/readyz 503, the fallback
// TwiML) but lets live calls go on for SHUTDOWN_GRACE, then ends them with a goodbye (or a transfer),
// completes every record and exits 0. In process (Server::shutdown) and as a real process sent SIGTERM.
#include "callregistry.h"
#include "db/dbworker.h"
#include "serverharness.h"
#include "testenv.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <csignal>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

class TestShutdown : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void liveCallsFinishWithinTheGrace_data()
    {
        QTest::addColumn<QString>("human");
        QTest::addColumn<QString>("outcome");
        QTest::newRow("goodbye") << QString() << u"shutdown"_s;
        QTest::newRow("transfer") << u"+911140000000"_s << u"transferred"_s;
    }

    void liveCallsFinishWithinTheGrace()
    {
        QFETCH(QString, human);
        QFETCH(QString, outcome);
        ServerHarness h;
        h.fake.greetingAudioMs = 600;
        QVERIFY(h.start([&](ServerOptions &o) { o.settings.humanAgentNumber = human; }));
        auto sim = h.connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 600, 5000);
        QSignalSpy stopped(h.server(), &Server::stopped);
        h.server()->shutdown(4000);

        // Not ready any more; a new call gets the fallback, not a stream.
        const HttpResult ready = h.get(u"/readyz"_s);
        QCOMPARE(ready.status, 503);
        QVERIFY(ready.body.contains("\"shutting_down\":true"));
        auto late = h.newCall();
        QSignalSpy answered(late.get(), &TwilioSimulator::webhookAnswered);
        late->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(late->webhookStatus, 200);
        QVERIFY(!late->webhookBody.contains("<Stream"));
        QVERIFY(late->webhookBody.contains("<Say"));

        // The live call goes on during the grace: the caller is still heard and answered.
        QTest::qWait(500);
        QVERIFY(sim->streamOpen);
        const qint64 before = sim->agentBytesReceived;
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived > before, 3000);
        QVERIFY(stopped.isEmpty());

        // Then it is ended by the server, its record completed, and the server stops.
        QTRY_VERIFY_WITH_TIMEOUT(!sim->streamOpen, 5000);
        QVERIFY(stopped.wait(15000) || stopped.size() == 1);
        QCOMPARE(stopped.size(), 1);
        const auto call = h.repos().calls.findBySid(sim->callSid).value;
        QCOMPARE(call.outcome, outcome);
        QCOMPARE(call.endReason, u"server shutting down"_s);
        QVERIFY(call.endedAt.isValid());
        QVERIFY(h.repos().calls.transcript(call.id).value.size() >= 2);
        const auto refused = h.repos().calls.findBySid(late->callSid).value;
        QCOMPARE(refused.outcome, u"rejected"_s);
        QCOMPARE(refused.endReason, u"server shutting down"_s);
        QVERIFY(h.repos().calls.active().value.isEmpty());
        QCOMPARE(h.server()->context()->registry->active(), 0);
    }

    void callsThatEndDuringTheGraceStopTheServerEarly()
    {
        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        QVERIFY(h.start());
        auto sim = h.connectCall();
        QVERIFY(sim);
        QSignalSpy stopped(h.server(), &Server::stopped);
        QElapsedTimer clock;
        clock.start();
        h.server()->shutdown(30000);
        QTest::qWait(300);
        sim->hangUp();
        QVERIFY(stopped.wait(5000));
        QVERIFY(clock.elapsed() < 5000); // not the 30 s grace
        QCOMPARE(h.repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
    }

    void sigtermEndsTheProcessCleanly()
    {
        // The real program: SIGTERM arrives through the signalfd (not a handler), the server drains and
        // exits 0.
        const QString dir = tempDir(u"shutdown"_s);
        QProcess server;
        server.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-server"_s);
        server.setArguments({u"--port"_s, u"0"_s, u"--metrics-port"_s, u"0"_s, u"--host"_s, u"127.0.0.1"_s,
                             u"--data-dir"_s, dir, u"--shutdown-grace"_s, u"1"_s, u"--openai-warm-sessions"_s,
                             u"0"_s});
        server.setProcessChannelMode(QProcess::MergedChannels);
        server.start();
        QVERIFY(server.waitForStarted());
        QByteArray log;
        const QRegularExpression listening(u"listening on http://127.0.0.1:(\\d+)"_s);
        QRegularExpressionMatch m;
        QTRY_VERIFY_WITH_TIMEOUT(
            (log += server.readAll(), m = listening.match(QString::fromUtf8(log)), m.hasMatch()), 15000);
        ::kill(pid_t(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(15000));
        log += server.readAll();
        QVERIFY2(server.exitStatus() == QProcess::NormalExit && server.exitCode() == 0, log.constData());
        QVERIFY2(log.contains("SIGTERM received"), log.constData());
        QVERIFY2(log.contains("shut down: every call record is complete"), log.constData());
    }

    // The real program re-reads its secrets on SIGHUP (here TWILIO_AUTH_TOKEN from its file), keeps running,
    // and refuses a reload whose configuration is broken.
    void sighupReloadsSecrets()
    {
        const QString dir = tempDir(u"sighup"_s);
        auto write = [&](const QByteArray &token) {
            QFile f(dir + u"/twilio-token"_s);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(token + "\n");
        };
        write("first-token-00000000000000000000");
        QProcess server;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"TWILIO_AUTH_TOKEN_FILE"_s, dir + u"/twilio-token"_s);
        server.setProcessEnvironment(env);
        server.setProcessChannelMode(QProcess::MergedChannels);
        server.start(QCoreApplication::applicationDirPath() + u"/vaani-server"_s,
                     {u"--port"_s, u"0"_s, u"--metrics-port"_s, u"0"_s, u"--host"_s, u"127.0.0.1"_s,
                      u"--data-dir"_s, dir, u"--shutdown-grace"_s, u"1"_s, u"--openai-warm-sessions"_s,
                      u"0"_s});
        QVERIFY(server.waitForStarted());
        QByteArray log;
        QTRY_VERIFY_WITH_TIMEOUT((log += server.readAll()).contains("listening on"), 15000);
        write("second-token-1111111111111111111");
        ::kill(pid_t(server.processId()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT(
            (log += server.readAll()).contains("secrets reloaded; changed: TWILIO_AUTH_TOKEN"), 10000);
        QVERIFY2(!log.contains("second-token") && !log.contains("first-token"), log.constData());
        // A broken file: the reload is refused, the server carries on.
        QFile::remove(dir + u"/twilio-token"_s);
        ::kill(pid_t(server.processId()), SIGHUP);
        QTRY_VERIFY_WITH_TIMEOUT((log += server.readAll()).contains("secrets not reloaded"), 10000);
        QCOMPARE(server.state(), QProcess::Running);
        ::kill(pid_t(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(15000));
        log += server.readAll();
        QVERIFY2(server.exitCode() == 0, log.constData());
    }

    // SIGKILL leaves calls in progress; they do not stay so: a server still running marks them 'interrupted'
    // once the dead one's heartbeat is stale (ended at its last sign of life), and a server that restarts
    // under the same name does so at once for its own earlier run. Both with the real program killed.
    void killedServersCallsAreRecovered()
    {
        const QString dir = tempDir(u"killed"_s);
        const QString url = u"sqlite://"_s + dir + u"/v.db"_s;
        auto spawn = [&](QProcess &p, const QString &instance) {
            p.setProcessChannelMode(QProcess::MergedChannels);
            p.setProcessEnvironment(cleanEnvironment());
            p.start(QCoreApplication::applicationDirPath() + u"/vaani-server"_s,
                    {u"--port"_s, u"0"_s, u"--metrics-port"_s, u"0"_s, u"--host"_s, u"127.0.0.1"_s,
                     u"--database-url"_s, url, u"--instance"_s, instance, u"--openai-warm-sessions"_s,
                     u"0"_s});
            QByteArray log;
            QTRY_VERIFY_WITH_TIMEOUT((log += p.readAll(), log.contains("listening on")), 15000);
        };
        QString error;
        db::DbWorker db(db::DatabaseConfig::fromUrl(url, {}, &error));
        auto callOn = [&](const QString &instance, const QString &sid) {
            return db
                .submit([=](db::Repositories &r) {
                    db::CallStart s;
                    s.callSid = sid;
                    s.callerNumber = u"+919876543210"_s;
                    s.serverInstance = instance;
                    return r.calls.start(s);
                })
                .result()
                .value.id;
        };
        auto call = [&](qint64 id) {
            return db.submit([id](db::Repositories &r) { return r.calls.get(id); }).result().value;
        };

        // A dies; B, alive, notices.
        QProcess a;
        spawn(a, u"vaani-a"_s);
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY(db.initialise(false, false).result().ok());
        const qint64 onA = callOn(u"vaani-a"_s, u"CA"_s + QString(32, u'a'));
        auto b = std::make_unique<ServerHarness>();
        QVERIFY(b->start([&](ServerOptions &o) {
            o.databaseUrl = url;
            o.settings.instance = u"vaani-b"_s;
            o.settings.heartbeatMs = 200;
            o.settings.serverStaleMs = 1500;
        }));
        QTest::qWait(2500); // A beats every 5 s; 1.5 s without one is stale to B, so give A a beat in between
        // A's row was written at its start and keeps moving every 5 s; B must not take a live server's calls.
        ::kill(pid_t(a.processId()), SIGKILL);
        QVERIFY(a.waitForFinished(5000));
        const QDateTime killedAt = QDateTime::currentDateTimeUtc();
        QTRY_COMPARE_WITH_TIMEOUT(call(onA).outcome, u"interrupted"_s, 10000);
        const db::CallRecord recovered = call(onA);
        QVERIFY2(recovered.endReason.contains(u"vaani-a stopped"_s), qPrintable(recovered.endReason));
        QVERIFY(recovered.endedAt.isValid() && recovered.endedAt <= killedAt);
        QVERIFY(b->metric(u"vaani_calls_recovered_total"_s) >= 1);
        b.reset(); // the next case has no survivor

        // C is killed and comes back under its own name: its earlier run's call is closed at start.
        QProcess c1;
        spawn(c1, u"vaani-c"_s);
        const qint64 onC = callOn(u"vaani-c"_s, u"CA"_s + QString(32, u'c'));
        ::kill(pid_t(c1.processId()), SIGKILL);
        QVERIFY(c1.waitForFinished(5000));
        QProcess c2;
        spawn(c2, u"vaani-c"_s);
        QTRY_COMPARE_WITH_TIMEOUT(call(onC).outcome, u"interrupted"_s,
                                  12000); // its second beat (5 s) takes the name over, long before 20 s stale
        QVERIFY(call(onC).endReason.contains(u"restarted"_s));
        ::kill(pid_t(c2.processId()), SIGTERM);
        QVERIFY(c2.waitForFinished(15000));
    }

    // A server that cannot start says why and exits 1 — also when it fails before its event loop runs (a
    // failure signalled then used to be lost, and the process stayed up doing nothing). Never falls back to
    // another database than the one asked for.
    void startFailuresExitWithOne_data()
    {
        QTest::addColumn<QString>("why");
        QTest::newRow("port in use") << u"port"_s;
        QTest::newRow("bad DATABASE_URL option") << u"url"_s;
        QTest::newRow("unknown DATABASE_URL parameter") << u"param"_s;
    }
    void startFailuresExitWithOne()
    {
        QFETCH(QString, why);
        QTcpServer taken;
        QVERIFY(taken.listen(QHostAddress::LocalHost));
        QStringList args{u"--host"_s,
                         u"127.0.0.1"_s,
                         u"--data-dir"_s,
                         tempDir(u"startfail"_s),
                         u"--openai-warm-sessions"_s,
                         u"0"_s};
        QString expected;
        if (why == u"port"_s) {
            args << u"--port"_s << QString::number(taken.serverPort()) << u"--metrics-port"_s << u"0"_s;
            expected = u"cannot listen"_s;
        } else {
            args << u"--port"_s << u"0"_s << u"--metrics-port"_s << u"0"_s << u"--database-url"_s
                 << (why == u"url"_s ? u"postgresql://u:p@127.0.0.1:1/x?sslmode=sometimes"_s
                                     : u"postgresql://u:p@127.0.0.1:1/x?password=leak"_s);
            expected = why == u"url"_s ? u"sslmode must be one of"_s : u"unknown parameter 'password'"_s;
        }
        QProcess server;
        server.setProcessChannelMode(QProcess::MergedChannels);
        server.start(QCoreApplication::applicationDirPath() + u"/vaani-server"_s, args);
        QVERIFY(server.waitForFinished(15000));
        const QString log = QString::fromUtf8(server.readAll());
        QCOMPARE(server.exitCode(), 1);
        QVERIFY2(log.contains(expected), qPrintable(log));
        QVERIFY2(!log.contains(u"leak"_s), qPrintable(log));
    }
};

QTEST_GUILESS_MAIN(TestShutdown)
#include "tst_shutdown.moc"
