// REDIS_URL (issue #16): the Redis connection on the event loop and the deployment state built on it,
// against a real redis-server started by the test — reconnection with back-off, deadlines against a Redis
// that hangs, the deployment-wide call limit, single-use stream tokens, rate limits, the server registry,
// expiry of a dead server's calls and the local fall-back while Redis is away.
#include "callregistry.h"
#include "deployment.h"
#include "metrics.h"
#include "redisclient.h"
#include "redisprocess.h"
#include "server.h"
#include "serverharness.h"
#include "testenv.h"

#include <QSignalSpy>
#include <QTest>

using namespace vaani;
using namespace vaani::cluster;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {

RedisAddress addressOf(const QString &url)
{
    QString error;
    const auto a = RedisAddress::parse(url, &error);
    if (!a)
        qFatal("bad test URL %s: %s", qPrintable(url), qPrintable(error));
    return *a;
}

// Runs one command and waits for its reply.
RedisReply ask(RedisClient &client, const QList<QByteArray> &args)
{
    RedisReply out = RedisReply::failed("no reply");
    bool done = false;
    client.command(args, [&](const RedisReply &r) {
        out = r;
        done = true;
    });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(done, 10000); }();
    return out;
}

template<typename Ask> Deployment::Verdict verdictOf(Ask ask)
{
    std::optional<Deployment::Verdict> v;
    QObject context;
    ask(&context, [&](Deployment::Verdict x) { v = x; });
    [&] { QTRY_VERIFY_WITH_TIMEOUT(v.has_value(), 10000); }();
    return v.value_or(Deployment::Verdict::Unknown);
}

struct Node
{
    Metrics metrics;
    CallRegistry registry{100};
    std::unique_ptr<Deployment> deployment;
    Node(const QString &url, const QString &instance, int maxCalls, int rate = 120, int heartbeatMs = 5000)
    {
        DeploymentOptions o;
        o.instance = instance;
        o.maxCalls = maxCalls;
        o.ratePerMinute = rate;
        o.heartbeatMs = heartbeatMs;
        o.redis.commandTimeoutMs = 300;
        o.redis.backoffMinMs = 50;
        o.redis.backoffMaxMs = 400;
        deployment = std::make_unique<Deployment>(addressOf(url), o, &metrics, &registry);
        registry.setOnRelease([d = deployment.get()](const QString &sid) { d->releaseCall(sid); });
        deployment->start();
    }
    Deployment::Verdict reserve(const QString &sid, const QByteArray &caller = {}, int perCaller = 0)
    {
        const auto v = verdictOf(
            [&](QObject *c, Deployment::Answer a) { deployment->reserveCall(sid, c, a, caller, perCaller); });
        if (v == Deployment::Verdict::Yes || v == Deployment::Verdict::Unknown)
            registry.tryReserve(sid);
        return v;
    }
    Deployment::Verdict token(const QByteArray &nonce)
    {
        return verdictOf([&](QObject *c, Deployment::Answer a) {
            deployment->useStreamToken(nonce, QDateTime::currentMSecsSinceEpoch() + 60000, c, a);
        });
    }
    std::pair<Deployment::Verdict, int> request(const QString &client)
    {
        std::optional<std::pair<Deployment::Verdict, int>> out;
        QObject context;
        deployment->allowRequest(client, &context, [&](Deployment::Verdict v, int wait) { out = {v, wait}; });
        [&] { QTRY_VERIFY_WITH_TIMEOUT(out.has_value(), 10000); }();
        return out.value_or(std::pair{Deployment::Verdict::Unknown, 0});
    }
};

} // namespace

class TestCluster : public QObject
{
    Q_OBJECT
    QString m_dir;

private Q_SLOTS:
    void init() { m_dir = tempDir(u"cluster-"_s + QString::fromLatin1(QTest::currentTestFunction())); }

    void parsesRedisUrls()
    {
        QString error;
        auto a = RedisAddress::parse(u"redis://:s%40cret@10.0.0.5:6380/2"_s, &error);
        QVERIFY2(a, qPrintable(error));
        QCOMPARE(a->host, u"10.0.0.5"_s);
        QCOMPARE(a->port, quint16(6380));
        QCOMPARE(a->password, QByteArray("s@cret"));
        QCOMPARE(a->user, QByteArray());
        QCOMPARE(a->db, 2);
        QVERIFY(!a->display().contains(u"cret"_s));
        auto b = RedisAddress::parse(u"redis://vaani:pw@redis.internal"_s, &error);
        QVERIFY(b);
        QCOMPARE(b->user, QByteArray("vaani"));
        QCOMPARE(b->port, quint16(6379));
        QCOMPARE(b->db, 0);
        for (const QString &bad : {u"rediss://host:6379"_s, u"http://host"_s, u"redis://"_s, u"redis://h/x"_s,
                                   u"redis://h:0"_s, u"redis://h/1?ssl=true"_s, u"redis://user@h"_s}) {
            error.clear();
            QVERIFY2(!RedisAddress::parse(bad, &error), qPrintable(bad));
            QVERIFY2(!error.isEmpty(), qPrintable(bad));
        }
        RedisAddress::parse(u"rediss://h"_s, &error);
        QVERIFY(error.contains(u"TLS"_s));
    }

    void talksToRedisAndReconnects()
    {
        RedisProcess redis(m_dir, u"hunter2"_s);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));

        // The wrong password: refused, said once, retried with back-off (never up).
        RedisClient wrong(addressOf(u"redis://:nope@127.0.0.1:%1"_s.arg(redis.port())), {2000, 300, 50, 200});
        QSignalSpy wrongDown(&wrong, &RedisClient::down);
        wrong.open();
        QVERIFY(wrongDown.wait(5000));
        QVERIFY(wrongDown.at(0).at(0).toString().contains(u"credentials"_s));
        QVERIFY(!wrong.isUp());

        RedisClient client(addressOf(redis.url(3)), {2000, 300, 50, 400});
        QSignalSpy up(&client, &RedisClient::up);
        QSignalSpy down(&client, &RedisClient::down);
        // Before it is up, commands fail at once (not queued) — and later, never inside command().
        bool early = false;
        client.command({"PING"}, [&](const RedisReply &r) { early = !r.answered(); });
        QVERIFY(!early);
        QTRY_VERIFY(early);
        client.open();
        QVERIFY(up.wait(5000));
        // Binary-safe arguments, the selected database, every reply type.
        const QByteArray binary("a\0b\r\n$3", 7);
        QCOMPARE(ask(client, {"SET", "k", binary}).type, RedisReply::Type::Status);
        QCOMPARE(ask(client, {"GET", "k"}).string, binary);
        QCOMPARE(ask(client, {"GET", "missing"}).type, RedisReply::Type::Nil);
        QCOMPARE(ask(client, {"INCR", "n"}).integer, 1);
        QCOMPARE(ask(client, {"NOSUCHCOMMAND"}).type, RedisReply::Type::Error);
        const RedisReply list = ask(client, {"EVAL", "return {1, 'two', {3}}", "0"});
        QCOMPARE(list.type, RedisReply::Type::Array);
        QCOMPARE(list.elements.size(), 3);
        QCOMPARE(list.elements.at(1).string, QByteArray("two"));
        QCOMPARE(redis.cli({u"-n"_s, u"3"_s, u"GET"_s, u"n"_s}), u"1"_s);

        // Redis goes away: the loss is reported, commands fail fast, and the client comes back by itself
        // once Redis is back on the same port.
        redis.stop();
        QVERIFY(down.wait(5000));
        QVERIFY(!client.isUp());
        QCOMPARE(ask(client, {"PING"}).type, RedisReply::Type::Failed);
        QVERIFY2(redis.start(&why), qPrintable(why));
        QVERIFY(up.wait(5000));
        QCOMPARE(ask(client, {"PING"}).string, QByteArray("PONG"));

        // Redis hangs (SIGSTOP): the command fails at its deadline instead of waiting, the connection is
        // dropped and, once Redis runs again, reopened.
        redis.pause();
        QElapsedTimer clock;
        clock.start();
        const RedisReply hung = ask(client, {"PING"});
        QCOMPARE(hung.type, RedisReply::Type::Failed);
        QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
        QVERIFY(hung.string.contains("no answer"));
        QVERIFY(!client.isUp());
        redis.resume();
        QTRY_VERIFY_WITH_TIMEOUT(client.isUp(), 8000);
        QCOMPARE(ask(client, {"PING"}).string, QByteArray("PONG"));
    }

    void deploymentSharesLimitsTokensAndServers()
    {
        RedisProcess redis(m_dir);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));
        Node a(redis.url(), u"server-a"_s, 3, 2);
        Node b(redis.url(), u"server-b"_s, 3, 2);
        QTRY_VERIFY(a.deployment->isUp() && b.deployment->isUp());
        QSignalSpy beaten(b.deployment.get(), &Deployment::beaten);
        a.deployment->beat();
        b.deployment->beat();
        QVERIFY(beaten.wait(5000));
        QCOMPARE(b.deployment->liveServers(), 2);
        QCOMPARE(redis.cli({u"ZCARD"_s, u"vaani:servers"_s}), u"2"_s);
        QCOMPARE(a.metrics.redisUp.load(), 1);

        // MAX_CALLS=3 across both servers.
        using V = Deployment::Verdict;
        QCOMPARE(a.reserve(u"CA1"_s), V::Yes);
        QCOMPARE(b.reserve(u"CA2"_s), V::Yes);
        QCOMPARE(a.reserve(u"CA3"_s), V::Yes);
        QCOMPARE(b.reserve(u"CA4"_s), V::No);
        QCOMPARE(a.reserve(u"CA4"_s), V::No);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CA2"_s}), u"server-b"_s);
        // A call's stream reaching the other server moves the call there (same slot, no second one)…
        QCOMPARE(b.reserve(u"CA3"_s), V::Yes);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CA3"_s}), u"server-b"_s);
        QCOMPARE(redis.cli({u"ZCARD"_s, u"vaani:calls"_s}), u"3"_s);
        // …and the server that lost it releases nothing of b's.
        a.registry.release(u"CA3"_s);
        QCOMPARE(b.reserve(u"CA5"_s), V::No);
        QCOMPARE(redis.cli({u"ZCARD"_s, u"vaani:calls"_s}), u"3"_s);
        // A call that ends frees its place for the whole deployment.
        a.registry.release(u"CA1"_s);
        QTRY_COMPARE(redis.cli({u"ZCARD"_s, u"vaani:calls"_s}), u"2"_s);
        QCOMPARE(b.reserve(u"CA5"_s), V::Yes);

        // A stream token is used once in the deployment.
        QCOMPARE(a.token("nonce-1"), V::Yes);
        QCOMPARE(b.token("nonce-1"), V::No);
        QCOMPARE(a.token("nonce-1"), V::No);
        QCOMPARE(b.token("nonce-2"), V::Yes);
        const qint64 ttl = redis.cli({u"PTTL"_s, u"vaani:token:nonce-1"_s}).toLongLong();
        QVERIFY2(ttl > 60000 && ttl <= 121000,
                 qPrintable(QString::number(ttl))); // the token's life + a minute

        // Two webhooks a minute per client, counted across both servers.
        QCOMPARE(a.request(u"203.0.113.7"_s).first, V::Yes);
        QCOMPARE(b.request(u"203.0.113.7"_s).first, V::Yes);
        const auto third = a.request(u"203.0.113.7"_s);
        QCOMPARE(third.first, V::No);
        QVERIFY(third.second >= 1 && third.second <= 60);
        QCOMPARE(b.request(u"198.51.100.1"_s).first, V::Yes); // another client has its own budget

        // A clean stop leaves the registry at once.
        a.deployment->leave();
        QTRY_COMPARE(redis.cli({u"ZCARD"_s, u"vaani:servers"_s}), u"1"_s);
        QCOMPARE(redis.cli({u"EXISTS"_s, u"vaani:server:server-a"_s}), u"0"_s);
    }

    // MAX_CALLS_PER_CALLER across servers: a caller's calls are counted under a keyed hash of the number
    // wherever they run; the place comes free when one ends; the number never reaches Redis.
    void callsPerCallerAcrossServers()
    {
        RedisProcess redis(m_dir);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));
        Node a(redis.url(), u"server-a"_s, 10);
        Node b(redis.url(), u"server-b"_s, 10);
        QTRY_VERIFY(a.deployment->isUp() && b.deployment->isUp());
        using V = Deployment::Verdict;
        const QByteArray priya = "5f0c1e9a7b3d2c4e8a6b1d0f9e2c3a4b",
                         rohan = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        QCOMPARE(a.reserve(u"CA1"_s, priya, 2), V::Yes);
        QCOMPARE(b.reserve(u"CA2"_s, priya, 2), V::Yes);
        QCOMPARE(a.reserve(u"CA3"_s, priya, 2), V::CallerBusy);
        QCOMPARE(b.reserve(u"CA3"_s, priya, 2), V::CallerBusy);
        QCOMPARE(b.reserve(u"CA4"_s, rohan, 2), V::Yes);
        QCOMPARE(a.reserve(u"CA5"_s), V::Yes); // a withheld number: not limited
        QCOMPARE(redis.cli({u"ZCARD"_s, u"vaani:caller:"_s + QString::fromLatin1(priya)}), u"2"_s);
        // The stream of Priya's first call lands on b: the same call, not a third one.
        QCOMPARE(b.reserve(u"CA1"_s, priya, 2), V::Yes);
        a.registry.release(u"CA1"_s); // a let go of it: nothing changes
        QCOMPARE(a.reserve(u"CA6"_s, priya, 2), V::CallerBusy);
        b.registry.release(u"CA2"_s); // one of Priya's calls ends
        QTRY_COMPARE(redis.cli({u"ZCARD"_s, u"vaani:caller:"_s + QString::fromLatin1(priya)}), u"1"_s);
        QCOMPARE(a.reserve(u"CA6"_s, priya, 2), V::Yes);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-callers"_s, u"CA6"_s}), QString::fromLatin1(priya));
    }

    void deadServersCallsExpire()
    {
        RedisProcess redis(m_dir);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));
        auto a = std::make_unique<Node>(redis.url(), u"server-a"_s, 2, 120, 500);
        Node b(redis.url(), u"server-b"_s, 2, 120, 500);
        QTRY_VERIFY(a->deployment->isUp() && b.deployment->isUp());
        using V = Deployment::Verdict;
        QCOMPARE(a->reserve(u"CA1"_s), V::Yes);
        QCOMPARE(b.reserve(u"CB1"_s), V::Yes);
        // Heartbeats keep both calls alive well past their expiry of 3 beats.
        QTest::qWait(2 * 500 * Deployment::kExpiryBeats);
        QCOMPARE(b.reserve(u"CB2"_s), V::No);
        QTRY_COMPARE(b.deployment->liveServers(), 2);
        // Server a dies without a word (no release, no leave): its call and its registration expire.
        a.reset();
        QTRY_VERIFY_WITH_TIMEOUT(b.reserve(u"CB2"_s) == V::Yes, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(b.deployment->liveServers(), 1, 5000);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CA1"_s}), QString());
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CB1"_s}), u"server-b"_s);

        // Redis loses everything (a restart without persistence): b's next heartbeat registers its live
        // calls again.
        redis.stop();
        QVERIFY2(redis.start(&why), qPrintable(why));
        QTRY_COMPARE_WITH_TIMEOUT(redis.cli({u"ZCARD"_s, u"vaani:calls"_s}), u"2"_s, 8000);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CB2"_s}), u"server-b"_s);
    }

    void fallsBackWhenRedisIsAway()
    {
        RedisProcess redis(m_dir);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));
        Node a(redis.url(), u"server-a"_s, 10, 120, 200);
        Node b(redis.url(), u"server-b"_s, 10, 120, 200);
        QTRY_VERIFY(a.deployment->isUp() && b.deployment->isUp());
        QTRY_COMPARE(a.deployment->liveServers(), 2);
        QTRY_COMPARE(a.registry.limit(), 10); // while Redis decides, no local cap below MAX_CALLS

        redis.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!a.deployment->isUp(), 5000);
        QCOMPARE(a.metrics.redisUp.load(), 0);
        // Each server takes its share of MAX_CALLS (10 over the 2 servers last seen).
        QCOMPARE(a.registry.limit(), 5);
        QCOMPARE(a.deployment->fallbackShare(), 5);
        using V = Deployment::Verdict;
        QCOMPARE(a.reserve(u"CA1"_s), V::Unknown);
        QCOMPARE(a.token("n"), V::Unknown);
        QCOMPARE(a.request(u"203.0.113.7"_s).first, V::Unknown);
        const QByteArray metrics = a.metrics.render();
        QVERIFY(metrics.contains("vaani_redis_up 0"));
        QVERIFY(metrics.contains("vaani_redis_fallbacks_total{kind=\"call_limit\"} 1"));
        QVERIFY(metrics.contains("vaani_redis_fallbacks_total{kind=\"stream_token\"} 1"));
        QVERIFY(metrics.contains("vaani_redis_fallbacks_total{kind=\"rate_limit\"} 1"));

        // Back: reconnected with back-off, the deployment decides again.
        QVERIFY2(redis.start(&why), qPrintable(why));
        QTRY_VERIFY_WITH_TIMEOUT(a.deployment->isUp(), 8000);
        QTRY_COMPARE_WITH_TIMEOUT(a.registry.limit(), 10, 5000);
        QCOMPARE(a.reserve(u"CA2"_s), V::Yes);
        QTRY_COMPARE_WITH_TIMEOUT(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, u"CA1"_s}), u"server-a"_s,
                                  5000);
    }

    // Through the server: the webhook rate limit is Redis's (a deferred HTTP answer); when Redis hangs, a
    // live call goes on untouched and a new call is answered within REDIS_TIMEOUT_MS by this server alone
    // (its own limiter, its share of MAX_CALLS), with a warning and vaani_redis_fallbacks_total; when Redis
    // answers again the deployment decides again.
    void serverDecidesAloneWhileRedisHangs()
    {
        RedisProcess redis(m_dir);
        QString why;
        QVERIFY2(redis.start(&why), qPrintable(why));
        ServerHarness server;
        server.fake.greetingAudioMs = 400;
        server.fake.turns = {FakeTurn{u"Mera order kahan hai"_s, {}, {}, u"Order ID bataiye"_s, 300},
                             FakeTurn{u"ABC123"_s, {}, {}, u"Mil gaya"_s, 300}};
        QVERIFY(server.start([&](ServerOptions &o) {
            o.redisUrl = redis.url();
            o.redisTimeoutMs = 300;
            o.rateLimitPerMinute = 3;
            o.maxCalls = 40;
            o.settings.instance = u"solo"_s;
        }));
        Deployment *deployment = server.server()->context()->deployment;
        QVERIFY(deployment);
        QTRY_VERIFY(deployment->isUp());
        QTRY_COMPARE(server.metric(u"vaani_redis_up"_s), 1.0);

        auto live = server.connectCall(); // webhook 1 of 3 this minute
        QVERIFY(live);
        QTRY_VERIFY_WITH_TIMEOUT(live->agentBytesPlayed >= 8 * 400, 8000);
        QCOMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, live->callSid}), u"solo"_s);
        QCOMPARE(redis.cli({u"GET"_s, u"vaani:rate:127.0.0.1"_s}), u"1"_s);
        // Redis counts the webhooks: the 4th this minute is refused, with the window's remaining time.
        const twilio::FormParams status{{u"CallSid"_s, live->callSid}, {u"CallStatus"_s, u"ringing"_s}};
        QCOMPARE(server.postSigned(u"/call-status"_s, status).status, 204);
        QCOMPARE(server.postSigned(u"/call-status"_s, status).status, 204);
        const HttpResult limited = server.postSigned(u"/call-status"_s, status);
        QCOMPARE(limited.status, 429);
        const int retry = limited.headers.value("retry-after").toInt();
        QVERIFY2(retry >= 1 && retry <= 60, limited.headers.value("retry-after").constData());
        redis.cli({u"DEL"_s, u"vaani:rate:127.0.0.1"_s}); // a new minute

        // Redis hangs.
        redis.pause();
        QElapsedTimer clock;
        clock.start();
        auto fresh = server.connectCall();
        QVERIFY(fresh);
        QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
        QTRY_VERIFY(server.metric(u"vaani_redis_fallbacks_total{kind=\"rate_limit\"}"_s) >= 1);
        QTRY_COMPARE(server.metric(u"vaani_redis_up"_s), 0.0);
        // The live call never noticed.
        live->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(live->agentBytesPlayed >= 8 * (400 + 300), 8000);
        QCOMPARE(server.server()->context()->registry->limit(), 40); // MAX_CALLS over the 1 server last seen

        redis.resume();
        QTRY_VERIFY_WITH_TIMEOUT(deployment->isUp(), 8000);
        QTRY_COMPARE(server.metric(u"vaani_redis_up"_s), 1.0);
        // Both calls are back in the deployment's registry (re-asserted by the heartbeat after the outage).
        deployment->beat();
        QTRY_COMPARE(redis.cli({u"HGET"_s, u"vaani:call-owners"_s, fresh->callSid}), u"solo"_s);
        live->hangUp();
        fresh->hangUp();
        QTRY_COMPARE(redis.cli({u"ZCARD"_s, u"vaani:calls"_s}), u"0"_s);
    }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
