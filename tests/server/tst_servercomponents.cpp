// Unit tests of the server's building blocks: stream tokens, rate limiter, TwiML, tool schemas, prices.
#include "callsession.h"
#include "config.h"
#include "fakerealtime.h"
#include "httpconnection.h"
#include "metrics.h"
#include "ratelimiter.h"
#include "realtimepool.h"
#include "server.h"
#include "streamtokens.h"
#include "tools.h"
#include "trustedproxies.h"
#include "twiliosimulator.h"
#include "twiml.h"
#include "worker.h"

#include <QJsonDocument>
#include <QLocalSocket>
#include <QTest>

#include <sys/socket.h>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestServerComponents : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // A warm session is never handed to a call once it is older than the pool's maximum age (the API caps a
    // session at 60 minutes; an old warm session would leave the call little of it): take() replaces it and
    // the call gets a fresh connection.
    void warmSessionsAreNeverHandedOutStale()
    {
        test::FakeRealtimeServer fake;
        QVERIFY(fake.listen());
        Metrics metrics;
        RealtimeEndpoint endpoint{fake.url(), u"gpt-realtime"_s, u"sk-test-key"_s, false, 5000, {}, {}};
        RealtimePool pool(endpoint, &metrics, 1);
        pool.setMaxAgeMs(400);
        QTRY_COMPARE(fake.connections, 1);
        // Young: handed out warm, and a replacement starts.
        RealtimeClient *young = pool.take();
        QVERIFY(young);
        QTRY_VERIFY(young->isWarm());
        QTRY_VERIFY(fake.connections >= 2);
        young->close();
        young->deleteLater();
        // The replacement gets old: not handed out; a fresh session is connecting instead.
        QTest::qWait(600); // let the pool's session age past 400 ms
        RealtimeClient *fresh = pool.take();
        QVERIFY(fresh);
        QVERIFY(!fresh->isWarm()); // the stale warm one was closed, this one only now connects
        QTRY_VERIFY(fake.connections >= 3);
        QTRY_VERIFY(fresh->isWarm());
        fresh->close();
        fresh->deleteLater();
    }

    // A handler that answers later (Redis): the connection waits, reads nothing more (a pipelined request
    // is handled after the deferred one is answered, answers stay in order), and answers 503 and closes when
    // the answer does not come within Timeouts::answerMs; a late answer is dropped.
    void deferredAnswers()
    {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        std::atomic<int> open{0};
        http::Response::Responder pending;
        QByteArrayList handled;
        const http::Handler handler = [&](const http::Request &r, const QHostAddress &) {
            handled << r.path;
            http::Response out;
            if (r.path == "/later")
                out.defer = [&](http::Response::Responder respond) { pending = std::move(respond); };
            else if (r.path == "/never")
                out.defer = [](http::Response::Responder) {};
            else
                out = http::Response::text(200, "now\n");
            return out;
        };
        const http::RefusalObserver refused;
        http::Timeouts timeouts;
        timeouts.answerMs = 300;
        QPointer<http::HttpConnection> connection =
            new http::HttpConnection(fds[0], &handler, &refused, {}, timeouts, &open, nullptr);
        QLocalSocket client;
        QVERIFY(client.setSocketDescriptor(fds[1]));
        QByteArray received;
        connect(&client, &QLocalSocket::readyRead, this, [&] { received += client.readAll(); });

        client.write("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY(pending);
        QCOMPARE(handled, QByteArrayList{"/later"}); // /now waits behind the unanswered /later
        QVERIFY(received.isEmpty());
        pending(http::Response::text(200, "later\n"));
        QTRY_VERIFY(received.contains("now\n"));
        QVERIFY(received.indexOf("later\n") < received.indexOf("now\n"));
        QCOMPARE(handled, (QByteArrayList{"/later", "/now"}));
        pending(http::Response::text(200, "twice\n")); // answered already: nothing happens
        received.clear();

        QElapsedTimer clock;
        clock.start();
        client.write("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY(received.startsWith("HTTP/1.1 503"));
        QVERIFY(clock.elapsed() >= 250);
        QTRY_VERIFY(!connection); // closed (and gone) after the 503
        QCOMPARE(open.load(), 0);
        QVERIFY(received.contains("Connection: close"));
    }

    void trustedProxies()
    {
        QString error;
        QVERIFY(!TrustedProxies::parse(u"10.0.0.0/8, not-an-ip"_s, &error));
        QVERIFY(error.contains(u"not-an-ip"_s));
        QVERIFY(!TrustedProxies::parse(u"10.0.0.0/99"_s, &error));
        const auto t = *TrustedProxies::parse(u"10.0.0.0/8 127.0.0.1,::1"_s, &error);
        QVERIFY(TrustedProxies::parse({}, &error)->isEmpty());
        const QHostAddress lb(u"10.1.2.3"_s), stranger(u"198.51.100.7"_s);
        QVERIFY(t.contains(lb));
        QVERIFY(t.contains(QHostAddress(u"::ffff:10.9.9.9"_s))); // IPv4-mapped
        QVERIFY(t.contains(QHostAddress(u"::1"_s)));
        QVERIFY(!t.contains(stranger));
        // From a stranger, X-Forwarded-For is its own claim.
        QCOMPARE(t.client(stranger, {"1.2.3.4"}), stranger);
        // From the balancer: the rightmost address that is not a trusted proxy.
        QCOMPARE(t.client(lb, {"1.2.3.4"}), QHostAddress(u"1.2.3.4"_s));
        QCOMPARE(t.client(lb, {"6.6.6.6, 1.2.3.4"}),
                 QHostAddress(u"1.2.3.4"_s)); // the client's own XFF first
        QCOMPARE(t.client(lb, {"1.2.3.4, 10.0.0.5"}), QHostAddress(u"1.2.3.4"_s));  // two proxies
        QCOMPARE(t.client(lb, {"6.6.6.6", "1.2.3.4"}), QHostAddress(u"1.2.3.4"_s)); // two header lines
        QCOMPARE(t.client(lb, {"1.2.3.4:5678"}), QHostAddress(u"1.2.3.4"_s));
        QCOMPARE(t.client(lb, {"[2001:db8::1]:443"}), QHostAddress(u"2001:db8::1"_s));
        QCOMPARE(t.client(lb, {"garbage, 1.2.3.4"}), QHostAddress(u"1.2.3.4"_s));
        QCOMPARE(t.client(lb, {"1.2.3.4, garbage"}), lb); // a malformed last hop: nothing right of it to use
        QCOMPARE(t.client(lb, {}), lb);
        // X-Forwarded-Proto only from a trusted peer, and only http or https.
        QCOMPARE(t.scheme(lb, "https"), QByteArray("https"));
        QCOMPARE(t.scheme(lb, "HTTPS, http"), QByteArray("https"));
        QCOMPARE(t.scheme(lb, "gopher"), QByteArray());
        QCOMPARE(t.scheme(stranger, "https"), QByteArray());
    }

    void streamTokens()
    {
        StreamTokens t("secret", 60);
        const qint64 now = 1'000'000;
        const QString tok = t.mint(u"CA1"_s, {}, now);
        QCOMPARE(t.verify(tok, u"CA2"_s, now), StreamTokens::Verdict::WrongCall);
        QCOMPARE(t.verify(tok, u"CA1"_s, now + 61'000), StreamTokens::Verdict::Expired);
        QCOMPARE(t.verify(tok, u"CA1"_s, now + 1000), StreamTokens::Verdict::Ok);
        QCOMPARE(t.verify(tok, u"CA1"_s, now + 2000), StreamTokens::Verdict::Replayed);
        QString tampered = t.mint(u"CA1"_s, {}, now);
        tampered[3] = tampered[3] == u'A' ? u'B' : u'A';
        QCOMPARE(t.verify(tampered, u"CA1"_s, now), StreamTokens::Verdict::BadSignature);
        QCOMPARE(t.verify(u"nodot"_s, u"CA1"_s, now), StreamTokens::Verdict::Malformed);
        QCOMPARE(t.verify(QString(1100, u'x'), u"CA1"_s, now), StreamTokens::Verdict::Malformed);
        // The webhook's numbers are bound into the token and come back only from a verified one.
        const QString bound = t.mint(u"CA7"_s, {u"+919876543210"_s, u"+91|80 00"_s}, now);
        StreamTokens::Bound numbers;
        QCOMPARE(t.verify(bound, u"CA7"_s, now, &numbers), StreamTokens::Verdict::Ok);
        QCOMPARE(numbers.caller, u"+919876543210"_s);
        QCOMPARE(numbers.called, u"+91|80 00"_s);

        // Rotating the key: tokens the old key signed stay valid while it is the previous one; a token from
        // any other key is refused; without the previous key, the old tokens are refused.
        StreamTokens before("key-2026-10", 60);
        const QString old = before.mint(u"CA9"_s, {}, now);
        StreamTokens rotated("key-2026-11", "key-2026-10", 60);
        QCOMPARE(rotated.verify(old, u"CA9"_s, now + 1000), StreamTokens::Verdict::Ok);
        QCOMPARE(rotated.verify(rotated.mint(u"CA10"_s, {}, now), u"CA10"_s, now), StreamTokens::Verdict::Ok);
        QCOMPARE(rotated.verify(StreamTokens("someone-else", 60).mint(u"CA11"_s, {}, now), u"CA11"_s, now),
                 StreamTokens::Verdict::BadSignature);
        StreamTokens afterGrace("key-2026-11", 60);
        QCOMPARE(afterGrace.verify(before.mint(u"CA12"_s, {}, now), u"CA12"_s, now),
                 StreamTokens::Verdict::BadSignature);
        // Another instance with the same auth token accepts it; a different token does not.
        StreamTokens same("secret", 60);
        StreamTokens other("other", 60);
        const QString t2 = t.mint(u"CA9"_s, {}, now);
        QCOMPARE(other.verify(t2, u"CA9"_s, now), StreamTokens::Verdict::BadSignature);
        QCOMPARE(same.verify(t2, u"CA9"_s, now), StreamTokens::Verdict::Ok);
        // Random keys differ per process.
        StreamTokens r1({}, 60), r2({}, 60);
        QCOMPARE(r2.verify(r1.mint(u"CA1"_s, {}, now), u"CA1"_s, now), StreamTokens::Verdict::BadSignature);
    }

    void demoDataOnlyWhereAsked()
    {
        // The embedded default database gets demo data when empty; one named by DATABASE_URL only on request.
        Config c;
        QCOMPARE(c.load(App::Server, {}, QProcessEnvironment()).status, Config::Status::Ok);
        ServerOptions o = ServerOptions::fromConfig(c);
        QVERIFY(o.seedDemoIfEmpty);
        QVERIFY(!o.forceDemo);
        QProcessEnvironment env;
        env.insert(u"DATABASE_URL"_s, u"postgresql://vaani@db.example.in/vaani"_s);
        QCOMPARE(c.load(App::Server, {}, env).status, Config::Status::Ok);
        o = ServerOptions::fromConfig(c);
        QVERIFY(!o.seedDemoIfEmpty);
        QVERIFY(!o.forceDemo);
        QCOMPARE(c.load(App::Server, {u"--seed-demo"_s}, env).status, Config::Status::Ok);
        QVERIFY(ServerOptions::fromConfig(c).forceDemo);
    }

    void rateLimiter()
    {
        RateLimiter rl(60); // one per second
        const QHostAddress a(u"10.0.0.1"_s), b(u"10.0.0.2"_s);
        qint64 t = 0;
        for (int i = 0; i < 60; ++i)
            QCOMPARE(rl.check(a, t), 0);
        QVERIFY(rl.check(a, t) >= 1);
        QCOMPARE(rl.check(b, t), 0); // per source
        QCOMPARE(rl.check(a, t + 1000), 0);
        QCOMPARE(RateLimiter(0).check(a, 0), 0);
    }

    void streamPathsNameTheirServer()
    {
        QCOMPARE(Worker::instanceSlug(u"Vaani_01.prod"_s), u"vaani-01-prod"_s);
        QCOMPARE(Worker::instanceSlug(u"ip-10-0-0-7"_s), u"ip-10-0-0-7"_s);
        QCOMPARE(Worker::instanceSlug(u"../évil/"_s), u"--vil"_s);
        QVERIFY(Worker::isInstanceStreamPath("/media-stream/server-a"));
        for (const char *bad :
             {"/media-stream/", "/media-stream/Server-A", "/media-stream/a/b", "/media-stream/a.b",
              "/media-stream/%2e%2e", "/media-streamx/a", "/media-stream"})
            QVERIFY2(!Worker::isInstanceStreamPath(bad), bad);
        QVERIFY(!Worker::isInstanceStreamPath(QByteArray("/media-stream/" + QByteArray(64, 'a'))));
    }

    void twimlEscapesAndParses()
    {
        const QByteArray x =
            twiml::connectStream(u"wss://h.example/media-stream"_s,
                                 {{u"a\"b"_s, u"<&>'"_s}, {u"caller"_s, u"+91 98"_s}}, u"+9111"_s);
        const test::TwimlDocument d = test::TwimlDocument::parse(x);
        QVERIFY2(d.valid, qPrintable(d.error));
        QCOMPARE(d.streamUrl, u"wss://h.example/media-stream"_s);
        QCOMPARE(d.parameters.value(u"a\"b"_s), u"<&>'"_s);
        QCOMPARE(d.verbsAfterConnect, QStringList({u"Say"_s, u"Dial:+9111"_s, u"Hangup"_s}));
        QVERIFY(test::TwimlDocument::parse(twiml::fallback({})).valid);
        QVERIFY(test::TwimlDocument::parse(twiml::transfer(u"+9111"_s, u"+9122"_s)).valid);
        QCOMPARE(twiml::escapeXml(u"a\u0001b"_s), u"ab"_s);
    }

    void toolValidation_data()
    {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("arguments");
        QTest::addColumn<QString>("error");
        QTest::newRow("ok") << u"lookup_order"_s << u"{\"order_id\":\"ABC123\"}"_s << QString();
        QTest::newRow("missing") << u"lookup_order"_s << u"{}"_s << u"missing required argument 'order_id'"_s;
        QTest::newRow("blank") << u"lookup_order"_s << u"{\"order_id\":\"  \"}"_s << u"missing required"_s;
        QTest::newRow("wrong type") << u"lookup_order"_s << u"{\"order_id\":123}"_s << u"must be a string"_s;
        QTest::newRow("extra") << u"lookup_order"_s << u"{\"order_id\":\"A\",\"x\":\"y\"}"_s
                               << u"unexpected argument"_s;
        QTest::newRow("not json") << u"lookup_order"_s << u"{order"_s << u"not a JSON object"_s;
        QTest::newRow("unknown tool") << u"launch_rocket"_s << u"{}"_s << u"unknown tool"_s;
        QTest::newRow("enum") << u"create_ticket"_s
                              << u"{\"category\":\"x\",\"summary\":\"s\",\"priority\":\"high\"}"_s
                              << u"must be one of"_s;
        QTest::newRow("ticket ok") << u"create_ticket"_s
                                   << u"{\"category\":\"refund\",\"summary\":\"s\",\"priority\":\"high\"}"_s
                                   << QString();
        QTest::newRow("no args tool") << u"find_orders_for_caller"_s << u""_s << QString();
        QTest::newRow("too long") << u"end_call"_s << u"{\"reason\":\""_s + QString(400, u'x') + u"\"}"_s
                                  << u"too long"_s;
    }
    void toolValidation()
    {
        QFETCH(QString, tool);
        QFETCH(QString, arguments);
        QFETCH(QString, error);
        QJsonObject args;
        const QString e = Tools::validate(tool, arguments, &args);
        if (error.isEmpty())
            QVERIFY2(e.isEmpty(), qPrintable(e));
        else
            QVERIFY2(e.contains(error), qPrintable(e));
    }

    void toolDefinitionsAreGaFunctionTools()
    {
        const QJsonArray defs = Tools::definitions();
        QCOMPARE(defs.size(), 7);
        for (const QJsonValue v : defs) {
            const QJsonObject o = v.toObject();
            QCOMPARE(o.value(u"type"_s).toString(), u"function"_s);
            QVERIFY(!o.value(u"description"_s).toString().isEmpty());
            QCOMPARE(o.value(u"parameters"_s).toObject().value(u"type"_s).toString(), u"object"_s);
        }
    }

    void toolRegistryIsTheOneDefinition()
    {
        // The schema sent to the model, the validation and the dispatch come from the same entries.
        const ToolRegistry &reg = ToolRegistry::instance();
        QCOMPARE(&reg.definitions(), &ToolRegistry::instance().definitions()); // built once
        QCOMPARE(reg.definitions().size(), reg.tools().size());
        int database = 0;
        for (qsizetype i = 0; i < reg.tools().size(); ++i) {
            const ToolSpec &t = reg.tools().at(i);
            QCOMPARE(reg.find(t.name), &t);
            const QJsonObject def = reg.definitions().at(i).toObject();
            QCOMPARE(def.value(u"name"_s).toString(), t.name);
            const QJsonObject schema = def.value(u"parameters"_s).toObject();
            QCOMPARE(schema.value(u"properties"_s).toObject().size(), t.params.size());
            QCOMPARE(schema.value(u"additionalProperties"_s).toBool(true), false);
            QJsonObject full;
            QStringList required;
            for (const ToolParam &p : t.params) {
                const QJsonObject prop = schema.value(u"properties"_s).toObject().value(p.name).toObject();
                QCOMPARE(prop.value(u"maxLength"_s).toInt(), p.maxLength);
                QCOMPARE(prop.value(u"enum"_s).toArray().size(), p.choices.size());
                full.insert(p.name, p.choices.isEmpty() ? u"x"_s : p.choices.first());
                if (p.required)
                    required << p.name;
            }
            QStringList schemaRequired;
            for (const QJsonValue r : schema.value(u"required"_s).toArray())
                schemaRequired << r.toString();
            QCOMPARE(schemaRequired, required);
            QJsonObject args;
            const QString full_ = QString::fromUtf8(QJsonDocument(full).toJson(QJsonDocument::Compact));
            QVERIFY2(ToolRegistry::validate(t, full_, &args).isEmpty(), qPrintable(t.name));
            for (const QString &r : required) {
                QJsonObject missing = full;
                missing.remove(r);
                QVERIFY(ToolRegistry::validate(t, QString::fromUtf8(QJsonDocument(missing).toJson()), &args)
                            .contains(r));
            }
            // Database tools have a handler; the two that act on the call are carried out by the session.
            QCOMPARE(bool(t.handler), t.kind == ToolKind::Database);
            database += t.kind == ToolKind::Database;
        }
        QCOMPARE(database, 4);
        QCOMPARE(reg.find(u"transfer_to_human"_s)->kind, ToolKind::Transfer);
        QCOMPARE(reg.find(u"end_call"_s)->kind, ToolKind::EndCall);
        QVERIFY(!reg.find(u"drop_tables"_s));
    }

    void prices()
    {
        Prices p{32, 64, 4, 16, 0.4};
        realtime::Usage u;
        u.inputAudioTokens = 1'000'000;
        u.outputAudioTokens = 500'000;
        u.inputTextTokens = 100'000;
        u.inputCachedTokens = 50'000;
        u.outputTextTokens = 10'000;
        QCOMPARE(p.cost(u), 32.0 + 32.0 + 0.2 + 0.02 + 0.16);
    }
};

QTEST_GUILESS_MAIN(TestServerComponents)
#include "tst_servercomponents.moc"
