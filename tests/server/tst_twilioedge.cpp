// Issue #4: the Twilio edge over real loopback sockets — webhook + TwiML, signatures, stream tokens, the
// Media Streams WebSocket and its limits, status callbacks, probes, metrics, rate limits and call limits.
#include "serverharness.h"
#include "trustedproxies.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
twilio::FormParams webhookParams(const QString &callSid)
{
    return {{u"AccountSid"_s, QString::fromLatin1(ServerHarness::kAccountSid)},
            {u"ApiVersion"_s, u"2010-04-01"_s},
            {u"CallSid"_s, callSid},
            {u"CallStatus"_s, u"ringing"_s},
            {u"Direction"_s, u"inbound"_s},
            {u"From"_s, u"+919876543210"_s},
            {u"To"_s, u"+918000000000"_s}};
}

// Sends a request head in pieces of `piece` bytes (0: at once), a few milliseconds apart; returns the
// response head.
QByteArray rawRequest(quint16 port, const QByteArray &head, int piece = 0)
{
    QTcpSocket s;
    // The server's listener runs on this thread: wait with the event loop running, never blocking.
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!QTest::qWaitFor([&] { return s.state() == QAbstractSocket::ConnectedState; }, 3000))
        return {};
    for (qsizetype i = 0; i<head.size(); i += piece> 0 ? piece : head.size()) {
        s.write(head.mid(i, piece > 0 ? piece : head.size()));
        if (piece > 0)
            QTest::qWait(3);
    }
    QByteArray answer;
    (void)QTest::qWaitFor(
        [&] {
            answer += s.readAll();
            return answer.contains("\r\n\r\n");
        },
        3000);
    return answer;
}

QByteArray upgradeHead(quint16 port, const QByteArray &extraHeaders)
{
    return "GET /media-stream HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n" +
           extraHeaders + "\r\n";
}

QByteArray rawUpgrade(quint16 port, const QByteArray &extraHeaders)
{
    return rawRequest(port, upgradeHead(port, extraHeaders));
}
} // namespace

class TestTwilioEdge : public QObject
{
    Q_OBJECT
    std::unique_ptr<ServerHarness> h;

    double metric(const QString &sample) { return h->metric(sample); }

private Q_SLOTS:
    void init()
    {
        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start());
    }
    void cleanup() { h.reset(); }

    void webhookAnswersTwimlWithStreamAndFallback()
    {
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(sim->webhookStatus, 200);
        QVERIFY2(sim->twiml.valid, qPrintable(sim->twiml.error));
        QVERIFY(sim->twiml.hasConnect);
        QCOMPARE(sim->twiml.streamUrl,
                 u"ws://127.0.0.1:%1/media-stream/test"_s.arg(h->port())); // names its server
        QVERIFY(sim->twiml.parameters.value(u"streamToken"_s).contains(u'.'));
        // The numbers travel inside the signed token only: a stream cannot claim another caller.
        QCOMPARE(sim->twiml.parameters.keys(), QStringList{u"streamToken"_s});
        // Never dead air: the stream failing leads to a Hinglish apology, a keypad menu (1: a callback)
        // posted back to this server, and a goodbye.
        QCOMPARE(sim->twiml.verbsAfterConnect,
                 QStringList({u"Say"_s, u"Gather"_s, u"Say"_s, u"Say"_s, u"Hangup"_s}));
        QCOMPARE(sim->twiml.gatherAction, h->baseUrl() + u"/fallback-menu"_s);
        // The call is recorded, with a masked caller.
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).ok());
        QCOMPARE(h->repos().calls.findBySid(sim->callSid).value.callerMasked, u"+********3210"_s);
        // The Realtime session opens while Twilio is still connecting the stream.
        QTRY_VERIFY(h->fake.connections >= 1);
    }

    void webhookWithHumanAgentTransfersOnFallback()
    {
        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start([](ServerOptions &o) { o.settings.humanAgentNumber = u"+911140000000"_s; }));
        const HttpResult r =
            h->postSigned(u"/incoming-call"_s, webhookParams(u"CA11111111111111111111111111111111"_s));
        QCOMPARE(r.status, 200);
        QVERIFY(r.headers.value("content-type").startsWith("text/xml"));
        const TwimlDocument d = TwimlDocument::parse(r.body);
        QCOMPARE(d.verbsAfterConnect, QStringList({u"Say"_s, u"Gather"_s, u"Say"_s, u"Say"_s,
                                                   u"Dial:+911140000000"_s, u"Hangup"_s}));
        QVERIFY(QString::fromUtf8(r.body).contains(u"दो दबाइए"_s)); // 2: a human now
    }

    void forgedSignaturesRejected_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("missing") << u"missing"_s;
        QTest::newRow("forged") << u"forged"_s;
        QTest::newRow("wrong token") << u"wrong-token"_s;
        QTest::newRow("tampered parameter") << u"tampered"_s;
        QTest::newRow("other url") << u"other-url"_s;
    }
    void forgedSignaturesRejected()
    {
        QFETCH(QString, kind);
        const QString sid = u"CA22222222222222222222222222222222"_s;
        twilio::FormParams params = webhookParams(sid);
        const QString url = h->baseUrl() + u"/incoming-call"_s;
        QByteArray sig = twilio::computeSignature(h->options.settings.twilioAuthToken, url, params);
        if (kind == u"missing"_s)
            sig.clear();
        else if (kind == u"forged"_s)
            sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        else if (kind == u"wrong-token"_s)
            sig = twilio::computeSignature(u"another-token"_s, url, params);
        else if (kind == u"tampered"_s)
            params[5].second = u"+911111111111"_s;
        else if (kind == u"other-url"_s)
            sig = twilio::computeSignature(h->options.settings.twilioAuthToken, url + u"?x=1"_s, params);
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!sig.isEmpty())
            headers.append({"X-Twilio-Signature", sig});
        const HttpResult r = h->post(u"/incoming-call"_s, twilio::encodeForm(params), headers);
        QCOMPARE(r.status, 403);
        QVERIFY(!r.body.contains("<Response>"));
        QCOMPARE(metric(u"vaani_signature_rejections_total{where=\"/incoming-call\"}"_s), 1.0);
        QCOMPARE(h->repos().calls.findBySid(sid).error.kind, db::DbError::Kind::NotFound);
        QCOMPARE(h->fake.connections, 0);
    }

    void badRequestsAnsweredWithErrors()
    {
        // Signed but without a CallSid.
        twilio::FormParams p = webhookParams(u"CA1"_s);
        p.removeAt(2);
        QCOMPARE(h->postSigned(u"/incoming-call"_s, p).status, 400);
        // Wrong content type.
        QCOMPARE(h->post(u"/incoming-call"_s, "{}", {{"Content-Type", "application/json"}}).status, 415);
        // Unknown path, wrong method.
        QCOMPARE(h->get(u"/nope"_s).status, 404);
        const HttpResult wrongMethod = h->get(u"/incoming-call"_s);
        QCOMPARE(wrongMethod.status, 405);
        QCOMPARE(wrongMethod.headers.value("allow"), QByteArray("POST"));
        QCOMPARE(h->get(u"/healthz"_s).status, 200);
    }

    void upgradeRejectedBeforeHandshake()
    {
        const QByteArray none = rawUpgrade(h->port(), {});
        QVERIFY2(none.startsWith("HTTP/1.1 403"), none.constData());
        QVERIFY(!none.contains("101"));
        const QByteArray forged =
            rawUpgrade(h->port(), "X-Twilio-Signature: N2Y//FHA042H22oVtTOPT1X3yoU=\r\n");
        QVERIFY2(forged.startsWith("HTTP/1.1 403"), forged.constData());
        const QByteArray good = rawUpgrade(
            h->port(), "x-twilio-signature: " +
                           twilio::computeSignature(h->options.settings.twilioAuthToken,
                                                    u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port())) +
                           "\r\n");
        QVERIFY2(good.startsWith("HTTP/1.1 101"), good.constData());
        QVERIFY(metric(u"vaani_signature_rejections_total{where=\"media_stream\"}"_s) >= 1);
        QVERIFY(metric(u"vaani_signature_rejections_total{where=\"media_stream_missing\"}"_s) >= 1);
        // A plain GET (signed, no upgrade) is told to upgrade.
        const HttpResult plain =
            h->get(u"/media-stream"_s,
                   {{"X-Twilio-Signature",
                     twilio::computeSignature(h->options.settings.twilioAuthToken,
                                              u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port()))}});
        QCOMPARE(plain.status, 426);
        // The same on a fresh connection (the first request decides who serves it).
        const QByteArray signature =
            "X-Twilio-Signature: " +
            twilio::computeSignature(h->options.settings.twilioAuthToken,
                                     u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port())) +
            "\r\n";
        QByteArray noUpgrade = upgradeHead(h->port(), signature);
        noUpgrade.replace("Upgrade: websocket\r\n", "");
        QVERIFY(rawRequest(h->port(), noUpgrade).startsWith("HTTP/1.1 426"));
        QByteArray oldVersion = upgradeHead(h->port(), signature);
        oldVersion.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
        const QByteArray versionAnswer = rawRequest(h->port(), oldVersion);
        QVERIFY2(versionAnswer.startsWith("HTTP/1.1 426") &&
                     versionAnswer.contains("Sec-WebSocket-Version: 13"),
                 versionAnswer.constData());
        // A head that arrives a few bytes at a time is still read whole; an endless one is refused.
        const QByteArray slow = rawRequest(h->port(), upgradeHead(h->port(), signature), 7);
        QVERIFY2(slow.startsWith("HTTP/1.1 101"), slow.constData());
        const QByteArray huge =
            rawRequest(h->port(), upgradeHead(h->port(), "X-Padding: " + QByteArray(9000, 'p') + "\r\n"));
        QVERIFY2(huge.startsWith("HTTP/1.1 431"), huge.constData());
        // Other paths still reach the HTTP server from a fresh connection, a byte at a time too.
        const QByteArray probe = rawRequest(h->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3);
        QVERIFY2(probe.startsWith("HTTP/1.1 200"), probe.constData());
    }

    void streamTokenRules_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("forged") << u"forged"_s;
        QTest::newRow("missing") << u"missing"_s;
        QTest::newRow("other call") << u"other-call"_s;
        QTest::newRow("replayed") << u"replayed"_s;
    }
    void streamTokenRules()
    {
        QFETCH(QString, kind);
        auto a = h->newCall();
        QSignalSpy answered(a.get(), &TwilioSimulator::webhookAnswered);
        a->placeCall();
        QVERIFY(answered.wait(5000));
        const QString tokenA = a->twiml.parameters.value(u"streamToken"_s);
        auto b = h->newCall();
        b->twiml = a->twiml;
        QString token;
        if (kind == u"forged"_s)
            token = u"Q0ExfDk5OTk5OTk5OTk5OTl8eA.AAAA"_s;
        else if (kind == u"missing"_s)
            token = u""_s;
        else if (kind == u"other-call"_s)
            token = tokenA; // b has its own CallSid
        if (kind == u"replayed"_s) {
            QSignalSpy aConnected(a.get(), &TwilioSimulator::streamConnected);
            a->openStream();
            QVERIFY(aConnected.wait(5000));
            QTest::qWait(200);
            QVERIFY(a->streamOpen);
            b->callSid = a->callSid;
            token = tokenA;
        }
        QSignalSpy closed(b.get(), &TwilioSimulator::streamClosed);
        b->openStream(token);
        QVERIFY(closed.wait(5000));
        QCOMPARE(b->closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
        QVERIFY2(b->closeReason.contains(u"stream token"_s), qPrintable(b->closeReason));
    }

    void malformedAndOversizedMessages()
    {
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
        sim->openStream();
        QVERIFY(connected.wait(5000));
        sim->sendRaw(u"not json at all"_s);
        sim->sendRaw(u"{\"event\":\"media\",\"media\":{}}"_s);
        sim->sendRaw(u"{\"event\":\"mark\",\"sequenceNumber\":\"x\"}"_s);
        sim->sendRaw(
            u"{\"event\":\"brand-new-event\",\"streamSid\":\"MZ\"}"_s); // unknown: ignored, not an error
        QTRY_COMPARE(metric(u"vaani_stream_errors_total{kind=\"malformed_message\"}"_s), 3.0);
        QTest::qWait(100);
        QVERIFY(sim->streamOpen);

        // Meanwhile another caller is served normally.
        auto other = h->newCall();
        QSignalSpy otherAnswered(other.get(), &TwilioSimulator::webhookAnswered);
        other->placeCall();
        QVERIFY(otherAnswered.wait(5000));
        QCOMPARE(other->webhookStatus, 200);
        QSignalSpy otherConnected(other.get(), &TwilioSimulator::streamConnected);
        other->openStream();
        QVERIFY(otherConnected.wait(5000));

        // An oversized message closes only that stream (1009).
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        sim->sendRaw(u"{\"event\":\"media\",\"media\":{\"payload\":\""_s + QString(70000, u'A') + u"\"}}"_s);
        QVERIFY(closed.wait(5000));
        QCOMPARE(sim->closeCode, int(QWebSocketProtocol::CloseCodeTooMuchData));
        QTest::qWait(100);
        QVERIFY(other->streamOpen);
        QCOMPARE(h->get(u"/healthz"_s).status, 200);
    }

    void startDeadlineClosesSilentSockets()
    {
        QWebSocket ws;
        QNetworkRequest req(QUrl(u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port())));
        req.setRawHeader("x-twilio-signature",
                         twilio::computeSignature(h->options.settings.twilioAuthToken,
                                                  u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port())));
        QSignalSpy connected(&ws, &QWebSocket::connected);
        QSignalSpy disconnected(&ws, &QWebSocket::disconnected);
        ws.open(req);
        QVERIFY(connected.wait(5000));
        QVERIFY(disconnected.wait(5000)); // deadline is 2 s in the harness
        QCOMPARE(ws.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
        QCOMPARE(metric(u"vaani_stream_errors_total{kind=\"start_timeout\"}"_s), 1.0);
    }

    // A Media Stream the server closes (here: no start message in time) waits for the caller's side to answer
    // the close frame, as RFC 6455 §7.1.1 asks, instead of cutting the TCP connection under it: the stream
    // object deletes itself at once, its socket finishes the handshake on its own.
    void streamCloseWaitsForTheAnswer()
    {
        const QString url = u"ws://127.0.0.1:%1/media-stream"_s.arg(h->port());
        const QByteArray signature = twilio::computeSignature(h->options.settings.twilioAuthToken, url);
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, h->port());
        QTRY_COMPARE(s.state(), QAbstractSocket::ConnectedState);
        s.write(upgradeHead(h->port(), "X-Twilio-Signature: " + signature + "\r\n"));
        QByteArray in;
        QTRY_VERIFY((in += s.readAll()).contains("\r\n\r\n"));
        QVERIFY2(in.startsWith("HTTP/1.1 101"), in.constData());
        in.remove(0, in.indexOf("\r\n\r\n") + 4);
        // The harness's start deadline is 2 s: then a close frame, 1008.
        QTRY_VERIFY_WITH_TIMEOUT((in += s.readAll()).size() >= 4, 5000);
        QCOMPARE(quint8(in[0]), quint8(0x88));
        QCOMPARE(in.mid(2, 2).toHex(), QByteArray("03f0"));
        QTest::qWait(300);
        QCOMPARE(s.state(), QAbstractSocket::ConnectedState);
        const char answer[] = {char(0x88), char(0x82), 1, 2, 3, 4, char(0x03 ^ 1), char(0xf0 ^ 2)};
        s.write(answer, sizeof answer);
        QTRY_COMPARE(s.state(), QAbstractSocket::UnconnectedState);
    }

    void callStatusCallbackUpdatesRecord()
    {
        const QString sid = u"CA33333333333333333333333333333333"_s;
        QCOMPARE(h->postSigned(u"/incoming-call"_s, webhookParams(sid)).status, 200);
        QTRY_VERIFY(h->repos().calls.findBySid(sid).ok());
        twilio::FormParams p = webhookParams(sid);
        p[3].second = u"completed"_s;
        p.append({u"CallDuration"_s, u"42"_s});
        QCOMPARE(h->post(u"/call-status"_s, twilio::encodeForm(p)).status, 403); // unsigned
        QCOMPARE(h->postSigned(u"/call-status"_s, p).status, 204);
        QTRY_COMPARE(h->repos().calls.findBySid(sid).value.twilioStatus, u"completed"_s);
        QCOMPARE(h->repos().calls.findBySid(sid).value.durationS.value_or(-1), 42);
        p[3].second = u"exploded"_s;
        QCOMPARE(h->postSigned(u"/call-status"_s, p).status, 400);
    }

    void probes()
    {
        const HttpResult health = h->get(u"/healthz"_s);
        QCOMPARE(health.status, 200);
        const HttpResult ready = h->get(u"/readyz"_s);
        QCOMPARE(ready.status, 200);
        const QJsonObject o = QJsonDocument::fromJson(ready.body).object();
        QCOMPARE(o.value(u"database"_s).toString(), u"ok"_s);
        QCOMPARE(o.value(u"accepting_calls"_s).toBool(), true);
    }

    // /metrics and /readyz answer only on the metrics listener; the public port (the one nginx forwards)
    // serves Twilio's paths and /healthz, and the metrics listener serves nothing of Twilio's.
    void metricsAndProbesOnTheirOwnListener()
    {
        QVERIFY(h->server()->metricsPort() != 0 && h->server()->metricsPort() != h->port());
        QNetworkAccessManager nam;
        auto status = [&](const QString &base, const QString &path) {
            QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(base + path)));
            QSignalSpy done(reply, &QNetworkReply::finished);
            if (!done.wait(5000))
                return -1;
            reply->deleteLater();
            return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        };
        QCOMPARE(status(h->baseUrl(), u"/metrics"_s), 404);
        QCOMPARE(status(h->baseUrl(), u"/readyz"_s), 404);
        QCOMPARE(status(h->baseUrl(), u"/healthz"_s), 200);
        QCOMPARE(status(h->metricsUrl(), u"/metrics"_s), 200);
        QCOMPARE(status(h->metricsUrl(), u"/readyz"_s), 200);
        QCOMPARE(status(h->metricsUrl(), u"/healthz"_s), 200);
        QCOMPARE(status(h->metricsUrl(), u"/incoming-call"_s), 404);
        QCOMPARE(status(h->metricsUrl(), u"/media-stream"_s), 404);
    }

    // TRUSTED_PROXIES: behind a trusted balancer each client has its own rate limit (X-Forwarded-For), and
    // the scheme it reports is the one Twilio signed; from an untrusted peer both headers are ignored.
    void trustedProxies_data()
    {
        QTest::addColumn<bool>("trusted");
        QTest::newRow("peer is a trusted proxy") << true;
        QTest::newRow("peer is not trusted") << false;
    }
    void trustedProxies()
    {
        QFETCH(bool, trusted);
        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start([&](ServerOptions &o) {
            o.rateLimitPerMinute = 3;
            o.settings.publicUrl =
                QUrl(); // the signature URL comes from the request (and the proxy's scheme)
            o.settings.trustedProxies =
                *TrustedProxies::parse(trusted ? u"127.0.0.0/8, ::1"_s : u"10.0.0.0/8"_s, nullptr);
        }));
        int n = 0;
        auto send = [&](const QByteArray &client, const QByteArray &scheme) {
            const twilio::FormParams p =
                webhookParams(u"CA%1"_s.arg(QString::number(++n).rightJustified(32, u'7')));
            const QString signedUrl =
                QString::fromLatin1(scheme) + u"://127.0.0.1:%1/incoming-call"_s.arg(h->port());
            const QByteArray sig =
                twilio::computeSignature(QString::fromLatin1(ServerHarness::kAuthToken), signedUrl, p);
            return h
                ->post(u"/incoming-call"_s, twilio::encodeForm(p),
                       {{"X-Twilio-Signature", sig},
                        {"X-Forwarded-For", "198.51.100.9, " + client},
                        {"X-Forwarded-Proto", scheme}})
                .status;
        };
        // Twilio reached the balancer over https and it says so.
        const int first = send("203.0.113.1", "https");
        QCOMPARE(first, trusted ? 200 : 403); // untrusted: the https claim is ignored, the signature fails
        if (!trusted) {
            // Signed for the scheme the request really came in on, it passes; and all senders share the
            // connecting address's budget, whatever X-Forwarded-For says.
            QCOMPARE(send("203.0.113.2", "http"), 200);
            QCOMPARE(send("203.0.113.3", "http"), 200);
            QCOMPARE(send("203.0.113.4", "http"), 200);
            QCOMPARE(send("203.0.113.5", "http"), 429);
            return;
        }
        // Three a minute per client: the fourth from one client is refused, another client still gets in.
        QCOMPARE(send("203.0.113.1", "https"), 200);
        QCOMPARE(send("203.0.113.1", "https"), 200);
        QCOMPARE(send("203.0.113.1", "https"), 429);
        QCOMPARE(send("203.0.113.2", "https"), 200);
    }

    void metricsScrapedAndParsed()
    {
        QCOMPARE(
            h->postSigned(u"/incoming-call"_s, webhookParams(u"CA44444444444444444444444444444444"_s)).status,
            200);
        QCOMPARE(h->post(u"/incoming-call"_s, twilio::encodeForm(webhookParams(u"CA5"_s))).status, 403);
        const HttpResult r = h->get(u"/metrics"_s);
        QCOMPARE(r.status, 200);
        QVERIFY(r.headers.value("content-type").startsWith("text/plain; version=0.0.4"));
        QHash<QString, double> samples;
        QHash<QString, QString> types;
        QString error;
        QVERIFY2(parsePrometheus(r.body, &samples, &types, &error), qPrintable(error));
        QCOMPARE(types.value(u"vaani_calls_active"_s), u"gauge"_s);
        QCOMPARE(types.value(u"vaani_turn_latency_ms"_s), u"histogram"_s);
        QCOMPARE(types.value(u"vaani_first_audio_ms"_s), u"histogram"_s);
        for (const char *family : {"vaani_calls_total", "vaani_stream_errors_total",
                                   "vaani_webhook_errors_total", "vaani_media_frames_in_total",
                                   "vaani_media_frames_out_total", "vaani_signature_rejections_total"})
            QCOMPARE(types.value(QLatin1String(family)), u"counter"_s);
        QCOMPARE(samples.value(u"vaani_http_requests_total{route=\"/incoming-call\",status=\"200\"}"_s), 1.0);
        QCOMPARE(samples.value(u"vaani_http_requests_total{route=\"/incoming-call\",status=\"403\"}"_s), 1.0);
        QCOMPARE(samples.value(u"vaani_webhook_errors_total{kind=\"signature\"}"_s), 1.0);
        QVERIFY(samples.contains(u"vaani_turn_latency_ms_bucket{le=\"+Inf\"}"_s));
        QCOMPARE(samples.value(u"vaani_turn_latency_ms_count"_s),
                 samples.value(u"vaani_turn_latency_ms_bucket{le=\"+Inf\"}"_s));
    }

    void rateLimitAndBodyCap()
    {
        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start([](ServerOptions &o) { o.rateLimitPerMinute = 3; }));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(h->post(u"/call-status"_s, "x=1").status, 403);
        const HttpResult limited = h->post(u"/call-status"_s, "x=1");
        QCOMPARE(limited.status, 429);
        QVERIFY(limited.headers.value("retry-after").toInt() >= 1);
        QCOMPARE(h->get(u"/healthz"_s).status, 200); // probes are not rate limited

        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start());
        QCOMPARE(h->post(u"/incoming-call"_s, QByteArray(70 * 1024, 'a')).status, 413);
    }

    void callLimitAnswersWithFallback()
    {
        h = std::make_unique<ServerHarness>();
        QVERIFY(h->start([](ServerOptions &o) { o.maxCalls = 1; }));
        QCOMPARE(
            h->postSigned(u"/incoming-call"_s, webhookParams(u"CA66666666666666666666666666666661"_s)).status,
            200);
        const HttpResult second =
            h->postSigned(u"/incoming-call"_s, webhookParams(u"CA66666666666666666666666666666662"_s));
        QCOMPARE(second.status, 200);
        const TwimlDocument d = TwimlDocument::parse(second.body);
        QVERIFY(!d.hasConnect);
        QCOMPARE(d.verbsAfterConnect, QStringList({u"Say"_s, u"Gather"_s, u"Say"_s, u"Say"_s, u"Hangup"_s}));
        QCOMPARE(h->get(u"/readyz"_s).status, 503);
        QTRY_COMPARE(h->repos().calls.findBySid(u"CA66666666666666666666666666666662"_s).value.outcome,
                     u"rejected"_s);
    }

    // Twilio's token rotation: with the new token primary and the old one secondary, webhooks and streams
    // signed with either are served; anything else is still refused.
    void secondaryAuthTokenDuringRotation()
    {
        h = std::make_unique<ServerHarness>();
        const QString oldToken = QString::fromLatin1(ServerHarness::kAuthToken);
        QVERIFY(h->start([&](ServerOptions &o) {
            o.settings.twilioAuthToken = u"brand-new-auth-token-0000000000"_s;
            o.settings.twilioAuthTokenSecondary = oldToken;
        }));
        for (const QString &token : {oldToken, u"brand-new-auth-token-0000000000"_s}) {
            auto sim = h->newCall();
            sim->authToken = token;
            QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
            sim->placeCall();
            QVERIFY(answered.wait(5000));
            QCOMPARE(sim->webhookStatus, 200);
            QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
            sim->openStream();
            QVERIFY(connected.wait(5000));
            sim->hangUp();
        }
        auto forged = h->newCall();
        forged->authToken = u"not-a-token-twilio-ever-had"_s;
        QSignalSpy answered(forged.get(), &TwilioSimulator::webhookAnswered);
        forged->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(forged->webhookStatus, 403);
    }

    // SIGHUP's reload (Server::reloadSecrets) during a live call: Twilio's token rotated in two steps, the
    // OpenAI key changed; the call in progress never notices, new calls use the new secrets, and an empty
    // primary token (which would turn signature checks off) is refused.
    void secretsRotateDuringALiveCall()
    {
        h = std::make_unique<ServerHarness>();
        h->fake.greetingAudioMs = 300;
        QVERIFY(h->start());
        auto live = h->connectCall();
        QVERIFY(live);
        QTRY_VERIFY_WITH_TIMEOUT(live->agentBytesPlayed >= 8 * 300, 5000);
        const QString oldToken = QString::fromLatin1(ServerHarness::kAuthToken);
        const QString newToken = u"rotated-auth-token-1111111111111"_s;
        auto webhookWith = [&](const QString &token) {
            auto sim = h->newCall();
            sim->authToken = token;
            QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
            sim->placeCall();
            return answered.wait(5000) ? sim->webhookStatus : 0;
        };
        auto stillTalking = [&] {
            const qint64 before = live->agentBytesReceived;
            live->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            return QTest::qWaitFor([&] { return live->agentBytesReceived > before; }, 5000) &&
                   live->streamOpen;
        };

        ServerSettings fresh = h->options.settings;
        fresh.twilioAuthToken = newToken;
        fresh.twilioAuthTokenSecondary = oldToken;
        QCOMPARE(h->server()->reloadSecrets(fresh),
                 (QStringList{u"TWILIO_AUTH_TOKEN"_s, u"TWILIO_AUTH_TOKEN_SECONDARY"_s}));
        QCOMPARE(webhookWith(newToken), 200);
        QCOMPARE(webhookWith(oldToken), 200);
        QVERIFY(stillTalking());

        fresh.twilioAuthTokenSecondary.clear(); // Twilio signs with the new token only now
        QCOMPARE(h->server()->reloadSecrets(fresh), QStringList{u"TWILIO_AUTH_TOKEN_SECONDARY"_s});
        QCOMPARE(webhookWith(oldToken), 403);
        QCOMPARE(webhookWith(newToken), 200);
        QVERIFY(stillTalking());

        ServerSettings emptied = fresh;
        emptied.twilioAuthToken.clear();
        QVERIFY(h->server()->reloadSecrets(emptied).isEmpty());
        QCOMPARE(webhookWith(u"anything-at-all-0000000000000000"_s), 403); // checks still on

        // A new OpenAI key: new calls connect with it (the fake now accepts only the new one).
        h->fake.expectedKey = u"sk-rotated-key"_s;
        fresh.realtime.apiKey = u"sk-rotated-key"_s;
        QCOMPARE(h->server()->reloadSecrets(fresh), QStringList{u"OPENAI_API_KEY"_s});
        auto next = h->newCall();
        next->authToken = newToken;
        QSignalSpy answered(next.get(), &TwilioSimulator::webhookAnswered);
        next->placeCall();
        QVERIFY(answered.wait(5000));
        QSignalSpy connected(next.get(), &TwilioSimulator::streamConnected);
        next->openStream();
        QVERIFY(connected.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(next->agentBytesPlayed >= 8 * 300, 8000); // greeted: the model session is up
        QTest::qWait(300);
        QCOMPARE(h->fake.rejectedHandshakes,
                 0); // warm sessions were replaced with the new key, none with the old
        QVERIFY(live->streamOpen);
    }

    void withoutAuthTokenSignaturesAreNotChecked()
    {
        h = std::make_unique<ServerHarness>();
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"TWILIO_AUTH_TOKEN is not set"_s));
        QVERIFY(h->start([](ServerOptions &o) { o.settings.twilioAuthToken.clear(); }));
        const HttpResult r = h->post(
            u"/incoming-call"_s, twilio::encodeForm(webhookParams(u"CA77777777777777777777777777777777"_s)));
        QCOMPARE(r.status, 200);
        QVERIFY(TwimlDocument::parse(r.body).hasConnect);
    }
};

QTEST_GUILESS_MAIN(TestTwilioEdge)
#include "tst_twilioedge.moc"
