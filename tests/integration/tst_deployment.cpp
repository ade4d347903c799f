// The production shape, end to end (issue #16): nginx started with the shipped deploy/nginx/vaani.conf and a
// test certificate, two vaani-server programs on one PostgreSQL (TLS, the CTest fixture) and one
// redis-server, and Twilio's side played through nginx over TLS with valid signatures. Only OpenAI is a fake.
//
// Scenarios, in order (they share the running deployment):
//   1. 50 concurrent calls through nginx: all complete, each with a complete record naming its server; both
//      servers serve; MAX_CALLS=50 holds for the deployment (a 51st call gets the fallback).
//   2. A stream token replayed against the other server is refused.
//   3. A webhook answered by one server whose stream lands on the other: one correct row, no leftover model
//      session on the first.
//   4. SIGTERM to one server mid-call: its calls finish within the grace period, new calls go to the other.
//   5. SIGKILL of a server mid-call: the survivor marks its calls interrupted within a bounded time.
// Nothing lost, no duplicate rows.
#include "db/dbworker.h"
#include "fakerealtime.h"
#include "nginxsite.h"
#include "redisprocess.h"
#include "testenv.h"
#include "twiliosimulator.h"

#include <QDir>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <csignal>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {

const QString kAuthToken = u"integration-auth-token-0123456789ab"_s;
constexpr int kMaxCalls = 50;

struct Instance
{
    explicit Instance(const QString &instance)
        : name(instance)
    {}
    QString name; // VAANI_INSTANCE, also its nginx upstream (vaani_<name>)
    quint16 port = 0;
    quint16 metricsPort = 0;
    std::unique_ptr<QProcess> process;
    QByteArray log;
};

} // namespace

class TestDeployment : public QObject
{
    Q_OBJECT
    QString m_dir;
    std::unique_ptr<RedisProcess> m_redis;
    FakeRealtimeServer m_fake;
    QString m_dbUrl;
    db::DatabaseConfig m_dbConfig;
    std::unique_ptr<db::DbWorker> m_db;
    quint16 m_nginxPort = 0;
    NginxProcess m_nginx;
    QSslConfiguration m_tls;
    Instance m_a{u"vaani-a"_s};
    Instance m_b{u"vaani-b"_s};
    QNetworkAccessManager m_nam;
    int m_seq = 0;

    QString publicUrl() const { return u"https://127.0.0.1:%1"_s.arg(m_nginxPort); }

    bool startServer(Instance &s)
    {
        if (!s.port) {
            s.port = freePort();
            s.metricsPort = freePort();
        }
        QProcessEnvironment env = cleanEnvironment();
        env.insert(u"VAANI_INSTANCE"_s, s.name);
        env.insert(u"HOST"_s, u"127.0.0.1"_s);
        env.insert(u"PORT"_s, QString::number(s.port));
        env.insert(u"METRICS_PORT"_s, QString::number(s.metricsPort));
        env.insert(u"DATABASE_URL"_s, m_dbUrl);
        env.insert(u"REDIS_URL"_s, m_redis->url());
        env.insert(u"TWILIO_AUTH_TOKEN"_s, kAuthToken);
        env.insert(u"PUBLIC_URL"_s, publicUrl());
        env.insert(u"TRUSTED_PROXIES"_s, u"127.0.0.1"_s);
        env.insert(u"MAX_CALLS"_s, QString::number(kMaxCalls));
        env.insert(u"OPENAI_API_KEY"_s, u"sk-test-key"_s);
        env.insert(u"OPENAI_REALTIME_URL"_s, m_fake.url().toString());
        env.insert(u"OPENAI_WARM_SESSIONS"_s, u"0"_s);
        env.insert(u"SHUTDOWN_GRACE"_s, u"30"_s);
        env.insert(u"VAANI_DATA_DIR"_s, m_dir + u"/data-"_s + s.name);
        env.insert(u"WORKER_THREADS"_s, u"2"_s);
        s.process = std::make_unique<QProcess>();
        s.process->setProcessChannelMode(QProcess::MergedChannels);
        s.process->setProcessEnvironment(env);
        s.log.clear();
        QObject::connect(s.process.get(), &QProcess::readyRead, s.process.get(),
                         [&s] { s.log += s.process->readAll(); });
        s.process->start(QCoreApplication::applicationDirPath() + u"/vaani-server"_s);
        [&] { QTRY_VERIFY_WITH_TIMEOUT(s.log.contains("listening on"), 20000); }();
        if (!s.log.contains("listening on"))
            qWarning().noquote() << s.name << "did not start:" << s.log;
        return s.log.contains("listening on");
    }

    std::unique_ptr<TwilioSimulator> newCall()
    {
        auto sim = std::make_unique<TwilioSimulator>();
        sim->webhookUrl = QUrl(publicUrl() + u"/incoming-call"_s);
        sim->authToken = kAuthToken;
        sim->tls = m_tls;
        sim->callSid = u"CA%1"_s.arg(QString::number(++m_seq).rightJustified(32, u'0'));
        sim->from = u"+9198765%1"_s.arg(QString::number(10000 + m_seq).right(5));
        return sim;
    }

    db::CallRecord record(const QString &sid)
    {
        return m_db->submit([sid](db::Repositories &r) { return r.calls.findBySid(sid); }).result().value;
    }

    double metric(const Instance &s, const QString &sample)
    {
        QNetworkReply *reply =
            m_nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1/metrics"_s.arg(s.metricsPort))));
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(5000);
        const QString body = QString::fromUtf8(reply->readAll());
        reply->deleteLater();
        for (const QString &line : body.split(u'\n')) {
            if (line.startsWith(sample + u' '))
                return line.mid(sample.size() + 1).toDouble();
        }
        return 0;
    }

    // Places a call through nginx and follows it until the agent's greeting has played. Returns false on
    // failure.
    bool connect(TwilioSimulator &sim)
    {
        QSignalSpy answered(&sim, &TwilioSimulator::webhookAnswered);
        sim.placeCall();
        if (!answered.wait(15000) || sim.webhookStatus != 200 || sim.twiml.streamUrl.isEmpty())
            return false;
        QSignalSpy connected(&sim, &TwilioSimulator::streamConnected);
        sim.openStream();
        if (!connected.wait(15000))
            return false;
        [&] { QTRY_VERIFY_WITH_TIMEOUT(sim.agentBytesPlayed >= 8 * 400, 15000); }();
        return sim.agentBytesPlayed >= 8 * 400;
    }

    // Every row of the deployment's calls table (to catch duplicates).
    int rowsFor(const QString &sid)
    {
        return m_db
            ->submit([sid](db::Repositories &r) -> db::DbResult<int> {
                db::CallFilter f;
                f.limit = 1000;
                auto all = r.calls.list(f);
                if (!all.ok())
                    return all.error;
                return int(std::count_if(all.value.cbegin(), all.value.cend(),
                                         [&](const db::CallRecord &c) { return c.callSid == sid; }));
            })
            .result()
            .value;
    }

    void verifyComplete(const QString &sid, const QStringList &servers)
    {
        const db::CallRecord c = record(sid);
        QCOMPARE(c.outcome, u"dropped"_s);
        QVERIFY2(c.endReason.contains(u"caller hung up"_s), qPrintable(c.endReason));
        QVERIFY2(servers.contains(c.serverInstance), qPrintable(c.serverInstance));
        QVERIFY(!c.streamSid.isEmpty());
        QVERIFY(c.endedAt.isValid());
        QVERIFY(c.firstAudioMs.has_value());
        QCOMPARE(c.turnCount, 1);
        const auto lines =
            m_db->submit([id = c.id](db::Repositories &r) { return r.calls.transcript(id); }).result().value;
        QStringList said;
        for (const auto &l : lines)
            said << l.speaker + u": "_s + l.text;
        QCOMPARE(said, QStringList({u"agent: "_s + m_fake.greetingTranscript,
                                    u"caller: Mera order kahan hai"_s, u"agent: Order ID bataiye"_s}));
        QCOMPARE(rowsFor(sid), 1);
    }

private Q_SLOTS:
    void initTestCase()
    {
        for (const QString &program : {u"nginx"_s, u"redis-server"_s, u"openssl"_s}) {
            if (QStandardPaths::findExecutable(program).isEmpty() &&
                QStandardPaths::findExecutable(program, {u"/usr/sbin"_s}).isEmpty())
                QFAIL(qPrintable(program + u" is not installed: run scripts/vaani setup"_s));
        }
        m_dir = tempDir(u"deployment"_s);
        QString out;
        QVERIFY2(makeTestCertificate(m_dir, &out), qPrintable(out));
        m_tls = QSslConfiguration::defaultConfiguration();
        m_tls.setCaCertificates(QSslCertificate::fromPath(m_dir + u"/cert.pem"_s));

        QString why;
        m_dbConfig = freshDatabase(u"postgres"_s, u"deployment"_s, &why);
        QVERIFY2(why.isEmpty(), qPrintable(why));
        QString pgUrl;
        QVERIFY(postgresUrl(&pgUrl, &why));
        // The servers reach PostgreSQL over verified TLS, as in production.
        const QString caFile =
            QFileInfo(qEnvironmentVariable("VAANI_TEST_PG_URL_FILE")).dir().filePath(u"ca.pem"_s);
        QUrl url(pgUrl);
        url.setPath(u"/"_s + m_dbConfig.name);
        url.setQuery(u"sslmode=verify-full&sslrootcert="_s + caFile + u"&application_name=vaani-it"_s);
        m_dbUrl = url.toString();
        m_db = std::make_unique<db::DbWorker>(m_dbConfig);

        m_redis = std::make_unique<RedisProcess>(m_dir + u"/redis"_s);
        QVERIFY2(m_redis->start(&why), qPrintable(why));
        QVERIFY(m_fake.listen());
        m_fake.greetingAudioMs = 400;
        m_fake.turns = {FakeTurn{u"Mera order kahan hai"_s, {}, {}, u"Order ID bataiye"_s, 300}};

        m_nginxPort = freePort();
        m_a.port = freePort();
        m_a.metricsPort = freePort();
        m_b.port = freePort();
        m_b.metricsPort = freePort();
        QVERIFY(startServer(m_a)); // migrates the fresh database first
        QVERIFY(startServer(m_b));
        QVERIFY(m_db->initialise(false, false).result().ok());

        NginxSite site;
        site.dir = m_dir;
        site.sourceDir = QStringLiteral(VAANI_SOURCE_DIR);
        site.listenPort = m_nginxPort;
        site.serverA = m_a.port;
        site.serverB = m_b.port;
        QVERIFY2(m_nginx.start(site, &why), qPrintable(why));
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:servers"_s}), u"2"_s, 15000);
    }

    void cleanup()
    {
        // What the servers said, for a failed case.
        for (Instance *s : {&m_a, &m_b}) {
            QFile f(m_dir + u"/"_s + s->name + u".log"_s);
            if (f.open(QIODevice::WriteOnly | QIODevice::Append))
                f.write(s->log);
            s->log.clear();
        }
        if (QTest::currentTestFailed())
            qWarning().noquote() << "server logs:" << m_dir + u"/vaani-{a,b}.log"_s;
    }

    void cleanupTestCase()
    {
        m_nginx.stop();
        for (Instance *s : {&m_a, &m_b}) {
            if (s->process && s->process->state() != QProcess::NotRunning) {
                s->process->terminate();
                if (!s->process->waitForFinished(20000))
                    s->process->kill();
            }
        }
    }

    void fiftyCallsThroughNginx()
    {
        std::vector<std::unique_ptr<TwilioSimulator>> calls;
        for (int i = 0; i < kMaxCalls; ++i)
            calls.push_back(newCall());
        QSignalSpy *spies[kMaxCalls];
        for (int i = 0; i < kMaxCalls; ++i) {
            spies[i] = new QSignalSpy(calls[size_t(i)].get(), &TwilioSimulator::webhookAnswered);
            calls[size_t(i)]->placeCall();
        }
        for (int i = 0; i < kMaxCalls; ++i) {
            QTRY_VERIFY_WITH_TIMEOUT(spies[i]->count() == 1, 20000);
            delete spies[i];
            QCOMPARE(calls[size_t(i)]->webhookStatus, 200);
        }
        // Each TwiML names the server that took the webhook; nginx spread them over both.
        QHash<QString, int> byServer;
        for (const auto &c : calls) {
            const QUrl stream(c->twiml.streamUrl);
            QCOMPARE(stream.scheme(), u"wss"_s);
            QCOMPARE(stream.port(), int(m_nginxPort));
            ++byServer[stream.path().section(u'/', 2)];
        }
        QCOMPARE(byServer.keys().size(), 2);
        QVERIFY(byServer.contains(m_a.name) && byServer.contains(m_b.name));

        // The deployment holds 50 calls now: a 51st gets the fallback, whichever server answers it.
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:calls"_s}), QString::number(kMaxCalls),
                                  10000);
        auto extra = newCall();
        QSignalSpy extraAnswered(extra.get(), &TwilioSimulator::webhookAnswered);
        extra->placeCall();
        QVERIFY(extraAnswered.wait(15000));
        QCOMPARE(extra->webhookStatus, 200);
        QVERIFY2(extra->twiml.streamUrl.isEmpty(), extra->webhookBody.constData());
        QTRY_COMPARE(record(extra->callSid).outcome, u"rejected"_s);

        // All 50 talk at once: greeting, the caller's question, the agent's answer, hang-up.
        for (auto &c : calls)
            c->openStream();
        for (auto &c : calls)
            QTRY_VERIFY_WITH_TIMEOUT(c->streamOpen && c->agentBytesPlayed >= 8 * 400, 30000);
        for (auto &c : calls)
            c->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        for (auto &c : calls)
            QTRY_VERIFY_WITH_TIMEOUT(c->agentBytesPlayed >= 8 * (400 + 300), 30000);
        for (auto &c : calls)
            c->hangUp();
        for (auto &c : calls)
            QTRY_COMPARE_WITH_TIMEOUT(record(c->callSid).outcome, u"dropped"_s, 20000);
        for (auto &c : calls) {
            verifyComplete(c->callSid, {m_a.name, m_b.name});
            if (QTest::currentTestFailed())
                return;
            // The record names the server its stream went to: the one the TwiML named.
            QCOMPARE(record(c->callSid).serverInstance, QUrl(c->twiml.streamUrl).path().section(u'/', 2));
        }
        // The deployment is empty again, and no model session is left open.
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:calls"_s}), u"0"_s, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(!m_fake.clientConnected(), 10000);
    }

    void replayedStreamTokenIsRefusedByTheOtherServer()
    {
        auto call = newCall();
        QVERIFY(connect(*call));
        const QString owner = QUrl(call->twiml.streamUrl).path().section(u'/', 2);
        const QString other = owner == m_a.name ? m_b.name : m_a.name;
        // An attacker who captured the TwiML (token included) opens a stream to the other server, with a
        // valid signature for that URL.
        auto replay = newCall();
        replay->callSid = call->callSid;
        replay->twiml = call->twiml;
        replay->twiml.streamUrl = publicUrl().replace(u"https"_s, u"wss"_s) + u"/media-stream/"_s + other;
        QSignalSpy closed(replay.get(), &TwilioSimulator::streamClosed);
        replay->openStream();
        QVERIFY(closed.wait(15000));
        QCOMPARE(replay->closeCode, 1008); // policy violation
        QCOMPARE(replay->agentBytesReceived, 0);
        const Instance &otherServer = owner == m_a.name ? m_b : m_a;
        QVERIFY(metric(otherServer, u"vaani_signature_rejections_total{where=\"stream_token_replayed\"}"_s) >=
                1);
        // The real call is untouched.
        QVERIFY(call->streamOpen);
        call->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(call->agentBytesPlayed >= 8 * (400 + 300), 15000);
        call->hangUp();
        QTRY_COMPARE_WITH_TIMEOUT(record(call->callSid).outcome, u"dropped"_s, 15000);
        verifyComplete(call->callSid, {owner});
    }

    void webhookOnOneServerStreamOnTheOther()
    {
        auto call = newCall();
        QSignalSpy answered(call.get(), &TwilioSimulator::webhookAnswered);
        call->placeCall();
        QVERIFY(answered.wait(15000));
        const QString first = QUrl(call->twiml.streamUrl).path().section(u'/', 2);
        const QString second = first == m_a.name ? m_b.name : m_a.name;
        // The first server took the call's place in the deployment at the webhook.
        QCOMPARE(m_redis->cli({u"HGET"_s, u"vaani:call-owners"_s, call->callSid}), first);
        QTRY_VERIFY_WITH_TIMEOUT(m_fake.clientConnected(), 10000); // the first server pre-warmed
        call->twiml.streamUrl = publicUrl().replace(u"https"_s, u"wss"_s) + u"/media-stream/"_s + second;
        QSignalSpy connected(call.get(), &TwilioSimulator::streamConnected);
        call->openStream();
        QVERIFY(connected.wait(15000));
        QTRY_VERIFY_WITH_TIMEOUT(call->agentBytesPlayed >= 8 * 400, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"HGET"_s, u"vaani:call-owners"_s, call->callSid}), second,
                                  5000);
        call->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(call->agentBytesPlayed >= 8 * (400 + 300), 15000);
        call->hangUp();
        QTRY_COMPARE_WITH_TIMEOUT(record(call->callSid).outcome, u"dropped"_s, 15000);
        verifyComplete(call->callSid, {second});
        // The first server let its pre-warmed model session go: none left anywhere.
        QTRY_VERIFY_WITH_TIMEOUT(!m_fake.clientConnected(), 10000);
        QCOMPARE(m_redis->cli({u"ZCARD"_s, u"vaani:calls"_s}), u"0"_s);
    }

    void sigtermLetsCallsFinishWhileNewCallsGoToTheOther()
    {
        std::vector<std::unique_ptr<TwilioSimulator>> running;
        for (int i = 0; i < 6; ++i) {
            running.push_back(newCall());
            QVERIFY(connect(*running.back()));
        }
        int onA = 0;
        for (const auto &c : running)
            onA += QUrl(c->twiml.streamUrl).path().endsWith(m_a.name) ? 1 : 0;
        QVERIFY(onA > 0);
        ::kill(pid_t(m_a.process->processId()), SIGTERM);
        QTRY_VERIFY_WITH_TIMEOUT(m_a.log.contains("shutting down"), 10000);
        // New calls meanwhile: every one is served, by b (a answers 503 and nginx moves on).
        std::vector<std::unique_ptr<TwilioSimulator>> fresh;
        for (int i = 0; i < 4; ++i) {
            fresh.push_back(newCall());
            QVERIFY(connect(*fresh.back()));
            QCOMPARE(QUrl(fresh.back()->twiml.streamUrl).path().section(u'/', 2), m_b.name);
        }
        // The calls a was serving go on (the grace is 30 s) and end normally.
        for (auto &c : running) {
            QVERIFY(c->streamOpen);
            c->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        }
        for (auto &c : fresh)
            c->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        for (auto &c : running)
            QTRY_VERIFY_WITH_TIMEOUT(c->agentBytesPlayed >= 8 * (400 + 300), 20000);
        for (auto &c : fresh)
            QTRY_VERIFY_WITH_TIMEOUT(c->agentBytesPlayed >= 8 * (400 + 300), 20000);
        for (auto &c : running)
            c->hangUp();
        for (auto &c : fresh)
            c->hangUp();
        QVERIFY(m_a.process->waitForFinished(30000));
        QCOMPARE(m_a.process->exitCode(), 0);
        for (auto &c : running) {
            QTRY_COMPARE_WITH_TIMEOUT(record(c->callSid).outcome, u"dropped"_s, 10000);
            verifyComplete(c->callSid, {m_a.name, m_b.name});
        }
        for (auto &c : fresh) {
            QTRY_COMPARE_WITH_TIMEOUT(record(c->callSid).outcome, u"dropped"_s, 10000);
            verifyComplete(c->callSid, {m_b.name});
        }
        // a left the registry when it stopped.
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:servers"_s}), u"1"_s, 5000);
    }

    void sigkillLeavesCallsToTheSurvivor()
    {
        QVERIFY(startServer(m_a)); // back after the previous case
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:servers"_s}), u"2"_s, 10000);
        std::vector<std::unique_ptr<TwilioSimulator>> calls;
        QStringList onB;
        for (int i = 0; i < 6; ++i) {
            calls.push_back(newCall());
            QVERIFY(connect(*calls.back()));
            if (QUrl(calls.back()->twiml.streamUrl).path().endsWith(m_b.name))
                onB << calls.back()->callSid;
        }
        QVERIFY(!onB.isEmpty());
        QElapsedTimer clock;
        clock.start();
        ::kill(pid_t(m_b.process->processId()), SIGKILL);
        QVERIFY(m_b.process->waitForFinished(5000));
        // a notices b's silence (heartbeat 5 s, stale after 20 s) and closes b's calls as interrupted.
        for (const QString &sid : onB)
            QTRY_COMPARE_WITH_TIMEOUT(record(sid).outcome, u"interrupted"_s, 40000);
        qInfo() << "b's calls marked interrupted" << clock.elapsed() << "ms after SIGKILL";
        QVERIFY(metric(m_a, u"vaani_calls_recovered_total"_s) >= onB.size());
        // b's calls leave the deployment's count (expired in Redis); a's calls finish normally.
        for (auto &c : calls) {
            if (onB.contains(c->callSid))
                continue;
            c->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            QTRY_VERIFY_WITH_TIMEOUT(c->agentBytesPlayed >= 8 * (400 + 300), 15000);
            c->hangUp();
            QTRY_COMPARE_WITH_TIMEOUT(record(c->callSid).outcome, u"dropped"_s, 10000);
            verifyComplete(c->callSid, {m_a.name});
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_redis->cli({u"ZCARD"_s, u"vaani:calls"_s}), u"0"_s, 20000);
        for (const QString &sid : onB)
            QCOMPARE(rowsFor(sid), 1);
    }
};

QTEST_GUILESS_MAIN(TestDeployment)
#include "tst_deployment.moc"
