// Issue #5 end to end over loopback: Twilio simulator → vaani-server → fake OpenAI Realtime (and fake Twilio
// REST). Greeting, warm sessions, an order lookup answered from the real database, tool errors, refused keys
// and rejected sessions ending in the fallback, limits, hang-up and transfer, and the call record.
// Turn-taking (silence, backchannels, barge-in) is tst_turntaking; the model's connection lost mid-call,
// tst_modeldrops.
#include "callflowfixture.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

class TestCallFlow : public QObject, protected CallFlowFixture
{
    Q_OBJECT
public:
    TestCallFlow()
        : CallFlowFixture("realtime-client-events.jsonl")
    {}

private Q_SLOTS:
    void initTestCase() { removeEvents(); }
    void init() { reset(); }
    void cleanup() { finish(); }

    void greetingFirstAndSessionConfiguredForThePhone()
    {
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * h->fake.greetingAudioMs, 5000);
        // session.update in the GA shape, every VAD field set, μ-law both ways, tools and transcription.
        const auto updates = h->fake.receivedOfType(u"session.update"_s);
        QCOMPARE(updates.size(), 1);
        const QJsonObject s = updates.first().value(u"session"_s).toObject();
        QCOMPARE(s.value(u"type"_s).toString(), u"realtime"_s);
        QVERIFY(realtime::sessionUsesPcmu(s));
        const QJsonObject input = s.value(u"audio"_s).toObject().value(u"input"_s).toObject();
        QCOMPARE(input.value(u"turn_detection"_s).toObject().size(), 7);
        QVERIFY(input.value(u"transcription"_s).toObject().contains(u"model"_s));
        // Hinglish callers: no fixed language (they switch), and a prompt asking for Hindi in Latin letters.
        QVERIFY(!input.value(u"transcription"_s).toObject().contains(u"language"_s));
        QVERIFY(
            input.value(u"transcription"_s).toObject().value(u"prompt"_s).toString().contains(u"Latin"_s));
        // The bridge decides turns (BACKCHANNEL_MS): the model neither answers nor cancels by itself.
        QCOMPARE(input.value(u"turn_detection"_s).toObject().value(u"create_response"_s).toBool(true), false);
        QCOMPARE(input.value(u"turn_detection"_s).toObject().value(u"interrupt_response"_s).toBool(true),
                 false);
        QCOMPARE(s.value(u"tools"_s).toArray().size(), 6);
        QVERIFY(s.value(u"instructions"_s).toString().contains(u"Hinglish"_s));
        // The greeting comes from the active prompt in the database.
        const auto creates = h->fake.receivedOfType(u"response.create"_s);
        QVERIFY(!creates.isEmpty());
        QVERIFY(creates.first()
                    .value(u"response"_s)
                    .toObject()
                    .value(u"instructions"_s)
                    .toString()
                    .contains(u"Namaste"_s));
        // The Realtime session was opened at the webhook, so greeting audio followed `start` quickly.
        QVERIFY2(sim->firstAudioAfterStartMs >= 0 && sim->firstAudioAfterStartMs < 1500,
                 qPrintable(QString::number(sim->firstAudioAfterStartMs)));
        QVERIFY(!sim->events.contains(u"wrong-streamSid"_s));
        QVERIFY(sim->events.contains(u"mark"_s));
        // Audio is not transcoded: the caller got exactly what the model produced.
        QCOMPARE(sim->agentBytesReceived, qint64(8 * h->fake.greetingAudioMs));
        QTRY_VERIFY(sim->marksEchoed > 0);
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
        const auto call = h->repos().calls.findBySid(sim->callSid).value;
        QVERIFY(call.firstAudioMs.has_value());
        QVERIFY(call.endedAt.isValid());
        QCOMPARE(call.promptVersion.value_or(0), 1);
        QCOMPARE(call.streamSid, sim->streamSid);
    }

    void warmSessionServesTheCallAndIsReplaced()
    {
        h->fake.connectDelayMs = 300; // slow to session.created: only a warm session hides it
        h->fake.greetingAudioMs = 400;
        QVERIFY(startHarness([](ServerOptions &o) {
            o.workerThreads = 1;
            o.settings.warmSessions = 1;
        }));
        // The pool connects before any call and sends nothing (no session.update until a call takes it).
        QTRY_COMPARE(h->fake.connections, 1);
        QTest::qWait(h->fake.connectDelayMs + 100);
        QVERIFY(h->fake.receivedOfType(u"session.update"_s).isEmpty());
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        // The call configured the warm session at once; a replacement is connecting.
        QTRY_COMPARE(h->fake.receivedOfType(u"session.update"_s).size(), 1);
        QTRY_COMPARE(h->fake.connections, 2);
        QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
        sim->openStream();
        QVERIFY(connected.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * h->fake.greetingAudioMs, 5000);
        QCOMPARE(h->fake.receivedOfType(u"session.update"_s).size(), 1); // the replacement stays idle
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
    }

    void refusedWarmSessionsBackOff()
    {
        QVERIFY(startHarness([](ServerOptions &o) {
            o.workerThreads = 1;
            o.settings.warmSessions = 2;
            o.settings.realtime.apiKey = u"sk-wrong"_s;
        }));
        // Both warm-ups are refused once; the replacements wait for the back-off (5 s) instead of hammering.
        QTRY_COMPARE(h->fake.rejectedHandshakes, 2);
        QTest::qWait(1500);
        QCOMPARE(h->fake.rejectedHandshakes, 2);
        // A call meanwhile connects on demand (and, with this key, ends in the fallback).
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QTRY_COMPARE(h->fake.rejectedHandshakes, 3);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome.isEmpty(), false);
    }

    void orderLookupReturnsTheDatabaseStatus()
    {
        h->fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                  u"{\"order_id\":\"abc 123\"}"_s,
                                  u"Aapka order ship ho gaya hai: {output}"_s, 800}};
        h->fake.greetingAudioMs = 600;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 600, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800));
        QTRY_VERIFY_WITH_TIMEOUT(!output().isEmpty(), 8000);
        const QJsonObject out = QJsonDocument::fromJson(output().toUtf8()).object();
        QCOMPARE(out.value(u"found"_s).toBool(), true);
        const QJsonObject order = out.value(u"order"_s).toObject();
        QCOMPARE(order.value(u"order_id"_s).toString(), u"ABC123"_s);
        QCOMPARE(order.value(u"status"_s).toString(), u"shipped"_s);
        QCOMPARE(order.value(u"status"_s).toString(), h->repos().orders.findByCode(u"ABC123"_s).value.status);
        // The output goes back as function_call_output, then exactly one response.create after response.done
        // (the greeting, the caller's turn — asked for by the bridge, BACKCHANNEL_MS — and the answer).
        QTRY_COMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 3);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * (600 + 800), 5000);
        for (const auto &r : h->fake.received)
            QVERIFY(r.type != u"error"_s);
        sim->hangUp();
        const QString sid = sim->callSid;
        QTRY_VERIFY(h->repos().calls.findBySid(sid).value.endedAt.isValid());
        const auto call = h->repos().calls.findBySid(sid).value;
        QTRY_COMPARE(h->repos().calls.transcript(call.id).value.size(), 3);
        const auto transcript = h->repos().calls.transcript(call.id).value;
        QCOMPARE(transcript.at(0).speaker, u"agent"_s);
        QVERIFY(transcript.at(0).text.startsWith(u"Namaste"_s));
        QCOMPARE(transcript.at(1).speaker, u"caller"_s);
        QCOMPARE(transcript.at(1).text, u"Mera order ABC123 kahan hai?"_s);
        QCOMPARE(transcript.at(2).speaker, u"agent"_s);
        QVERIFY(transcript.at(2).text.contains(u"shipped"_s));
        QVERIFY(transcript.at(1).offsetMs > transcript.at(0).offsetMs);
        const auto tools = h->repos().calls.tools(call.id).value;
        QCOMPARE(tools.size(), 1);
        QCOMPARE(tools.first().tool, u"lookup_order"_s);
        QVERIFY(tools.first().ok);
        QVERIFY(tools.first().result.contains(u"shipped"_s));
        QVERIFY(call.inputTokens > 0);
        QVERIFY(call.audioOutputTokens > 0);
        QVERIFY(call.costUsd > 0);
        QCOMPARE(call.turnCount, 1);
        QVERIFY(call.turnLatencyP50Ms.has_value());
        QCOMPARE(h->repos().calls.turns(call.id).value.size(), 1);
        QVERIFY(call.customerId.has_value());
    }

    void toolErrorsBecomeOutputsTheModelSpeaksAbout()
    {
        h->fake.turns = {
            FakeTurn{u"Order check karo"_s, u"lookup_order"_s, u"{}"_s, u"Maaf kijiye: {output}"_s, 400},
            FakeTurn{u"Rocket"_s, u"launch_rocket"_s, u"{\"to\":\"moon\"}"_s, u"Nahi: {output}"_s, 400}};
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(500));
        QTRY_VERIFY_WITH_TIMEOUT(!output(0).isEmpty(), 8000);
        QVERIFY2(output(0).contains(u"missing required argument 'order_id'"_s), qPrintable(output(0)));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 700, 5000);
        QTest::qWait(300);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(500));
        QTRY_VERIFY_WITH_TIMEOUT(!output(1).isEmpty(), 8000);
        QVERIFY(output(1).contains(u"unknown tool"_s));
        // Greeting; per turn the bridge's request (BACKCHANNEL_MS) and the one after the tool's output.
        QTRY_COMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 5);
        QVERIFY(sim->streamOpen); // the call goes on
        sim->hangUp();
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        const auto tools = h->repos().calls.tools(h->repos().calls.findBySid(sim->callSid).value.id).value;
        QCOMPARE(tools.size(), 2);
        QVERIFY(!tools.at(0).ok);
        QVERIFY(!tools.at(1).ok);
    }

    void refusedKeyEndsInFallback()
    {
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.realtime.apiKey = u"sk-wrong"_s; }));
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(sim->twiml.verbsAfterConnect.last(), u"Hangup"_s);
        QTRY_COMPARE(h->fake.rejectedHandshakes, 1);
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        sim->openStream();
        QVERIFY(closed.wait(5000)); // the server ends the stream: Twilio runs the fallback TwiML
        QCOMPARE(sim->agentBytesReceived, 0);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"failed"_s);
        QVERIFY(h->repos().calls.findBySid(sim->callSid).value.endReason.contains(u"401"_s));
        QVERIFY(h->fake.handshakeAuthHeaders.first() == "Bearer sk-wrong");
    }

    void rejectedSessionUpdateEndsInFallback()
    {
        h->fake.rejectSessionUpdate = true;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim); // Twilio's stream is accepted …
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        QVERIFY(!sim->streamOpen || closed.wait(5000)); // … and handed back to the TwiML fallback
        QCOMPARE(sim->agentBytesReceived, 0); // no static: nothing in the wrong format reaches the caller
        QCOMPARE(h->fake.receivedOfType(u"input_audio_buffer.append"_s).size(), 0);
        QVERIFY(!h->fake.receivedOfType(u"session.update"_s).isEmpty());
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"failed"_s);
        QVERIFY(
            h->repos().calls.findBySid(sim->callSid).value.endReason.contains(u"session.update rejected"_s));
    }

    void azureEndpointUsesApiKeyHeader()
    {
        h->fake.azure = true;
        h->fake.greetingAudioMs = 200;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.realtime.azure = true; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 200, 5000);
        QCOMPARE(h->fake.handshakeAuthHeaders.first(), QByteArray("sk-test-key"));
        // Azure takes the deployment from the URL; the session carries no model field.
        QVERIFY(!h->fake.receivedOfType(u"session.update"_s)
                     .first()
                     .value(u"session"_s)
                     .toObject()
                     .contains(u"model"_s));
        sim->hangUp();
    }

    void unreachableOrSlowModelEndsInFallback_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("reason"); // what the record's end reason names
        QTest::newRow("connection refused") << u"refused"_s << u"refused"_s;
        QTest::newRow("handshake deadline") << u"slow"_s << u"not ready within 800 ms"_s;
        // The upgrade answered with an HTTP error, as the API does (a JSON error body).
        QTest::newRow("401 bad key") << u"401 Unauthorized"_s << u"401"_s;
        QTest::newRow("429 rate limited") << u"429 Too Many Requests"_s << u"429"_s;
        QTest::newRow("500 server error") << u"500 Internal Server Error"_s << u"500"_s;
        QTest::newRow("503 overloaded") << u"503 Service Unavailable"_s << u"503"_s;
    }
    // The model unavailable at call start: the caller hears the fallback at once (or at
    // MODEL_CONNECT_TIMEOUT_MS): a Hinglish apology and a keypad menu; 2 puts them through to a human, 1
    // leaves a callback ticket with their number; the record says why.
    void unreachableOrSlowModelEndsInFallback()
    {
        QFETCH(QString, kind);
        QFETCH(QString, reason);
        h->fake.connectDelayMs = 3000; // only matters for "slow"
        // A model endpoint that answers the upgrade with an HTTP error.
        QTcpServer refusing;
        QVERIFY(refusing.listen(QHostAddress::LocalHost, 0));
        connect(&refusing, &QTcpServer::newConnection, this, [&refusing, kind] {
            while (QTcpSocket *s = refusing.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s, kind] {
                    if (!s->peek(8192).contains("\r\n\r\n"))
                        return;
                    s->readAll();
                    const QByteArray body = R"({"error":{"type":"invalid_request_error","message":"no"}})";
                    s->write("HTTP/1.1 " + kind.toLatin1() + "\r\nContent-Type: application/json\r\n" +
                             "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
                    s->disconnectFromHost();
                });
            }
        });
        QVERIFY(startHarness([&](ServerOptions &o) {
            o.settings.realtime.handshakeTimeoutMs = 800;
            o.settings.humanAgentNumber = u"+911140000000"_s;
            if (kind == u"refused"_s) {
                QTcpServer closed;
                closed.listen(QHostAddress::LocalHost, 0);
                o.settings.realtime.url = QUrl(u"ws://127.0.0.1:%1/v1/realtime"_s.arg(closed.serverPort()));
            } else if (kind != u"slow"_s) {
                o.settings.realtime.url = QUrl(u"ws://127.0.0.1:%1/v1/realtime"_s.arg(refusing.serverPort()));
            }
        }));
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QTRY_COMPARE_WITH_TIMEOUT(h->repos().calls.findBySid(sim->callSid).value.outcome, u"failed"_s, 5000);
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        sim->openStream();
        QVERIFY(closed.wait(5000)); // no session: the stream is handed to the fallback at once
        QCOMPARE(sim->agentBytesReceived, 0);
        const db::CallRecord failed = h->repos().calls.findBySid(sim->callSid).value;
        QVERIFY2(failed.endReason.contains(u"model unavailable"_s) && failed.endReason.contains(reason),
                 qPrintable(failed.endReason));

        // What Twilio plays next: the apology and the menu, in a Hindi voice, posting to this server.
        QCOMPARE(sim->twiml.verbsAfterConnect, QStringList({u"Say"_s, u"Gather"_s, u"Say"_s, u"Say"_s,
                                                            u"Dial:+911140000000"_s, u"Hangup"_s}));
        QVERIFY(QString::fromUtf8(sim->webhookBody).contains(u"<Say language=\"hi-IN\">माफ़ कीजिए"_s));
        QCOMPARE(sim->twiml.gatherAction, h->baseUrl() + u"/fallback-menu"_s);
        auto press = [&](const QString &digit) {
            return h->postSigned(u"/fallback-menu"_s, {{u"CallSid"_s, sim->callSid},
                                                       {u"AccountSid"_s, QString::fromLatin1(h->kAccountSid)},
                                                       {u"From"_s, sim->from},
                                                       {u"To"_s, sim->to},
                                                       {u"Digits"_s, digit}});
        };
        // 2: a human now.
        HttpResult r = press(u"2"_s);
        QCOMPARE(r.status, 200);
        QCOMPARE(TwimlDocument::parse(r.body).verbsAfterConnect,
                 QStringList({u"Say"_s, u"Dial:+911140000000"_s, u"Hangup"_s}));
        // 1: a callback ticket with the caller's number, linked to the call, once (Twilio may repeat).
        r = press(u"1"_s);
        QCOMPARE(r.status, 200);
        QVERIFY(QString::fromUtf8(r.body).contains(u"कॉलबैक अनुरोध दर्ज"_s));
        QCOMPARE(press(u"1"_s).status, 200);
        QTRY_COMPARE(h->repos().tickets.forCall(failed.id).value.size(), 1);
        const db::Ticket ticket = h->repos().tickets.forCall(failed.id).value.first();
        QCOMPARE(ticket.category, u"callback"_s);
        QCOMPARE(ticket.priority, u"high"_s);
        QVERIFY2(ticket.summary.contains(sim->from), qPrintable(ticket.summary));
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endReason.contains(u"callback"_s));
        QVERIFY(h->repos().calls.findBySid(sim->callSid).value.endReason.contains(u"transferred"_s));
        QCOMPARE(h->metric(u"vaani_fallback_menu_total{choice=\"callback\"}"_s), 2.0);
        // Anything else: the menu once more. Unsigned: refused.
        r = press(u"7"_s);
        QCOMPARE(TwimlDocument::parse(r.body).gatherAction, h->baseUrl() + u"/fallback-menu"_s);
        QCOMPARE(h->post(u"/fallback-menu"_s, "CallSid=" + sim->callSid.toLatin1() + "&Digits=1").status,
                 403);
    }

    void callerAudioHeldUntilSessionReadyAndNothingLost()
    {
        h->fake.connectDelayMs = 600; // the model is slow to come up: Twilio's audio arrives first
        h->fake.greetingAudioMs = 200;
        QVERIFY(startHarness());
        auto sim = h->newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
        sim->openStream();
        QVERIFY(connected.wait(5000));
        QTest::qWait(1200);
        sim->hangUp();
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        // No audio before the formats were confirmed, and every caller frame reached the model, in order.
        int firstAppend = -1, sessionUpdate = -1;
        for (int i = 0; i < h->fake.received.size(); ++i) {
            if (h->fake.received.at(i).type == u"session.update"_s && sessionUpdate < 0)
                sessionUpdate = i;
            if (h->fake.received.at(i).type == u"input_audio_buffer.append"_s && firstAppend < 0)
                firstAppend = i;
        }
        QVERIFY(sessionUpdate >= 0);
        QVERIFY(firstAppend > sessionUpdate);
        QTRY_COMPARE(h->fake.receivedOfType(u"input_audio_buffer.append"_s).size(), int(sim->framesSent));
        QVERIFY(sim->framesSent > 40);
    }

    void endCallHangsUpAfterTheGoodbye()
    {
        h->fake.turns = {
            FakeTurn{u"Bas, thank you"_s, u"end_call"_s, u"{\"reason\":\"caller done\"}"_s, QString(), 0}};
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QSignalSpy updated(rest.get(), &FakeTwilioRest::callUpdated);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(400));
        QVERIFY(updated.wait(8000));
        QCOMPARE(rest->updates.first().callSid, sim->callSid);
        QCOMPARE(rest->updates.first().twiml(), u"<Response><Hangup/></Response>"_s);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"resolved"_s);
        // The greeting and the caller's turn; no reply after end_call.
        QCOMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 2);
    }

    // MAX_CALL_MINUTES: before the limit the agent is asked (response.create with instructions) to tell the
    // caller the call must end and to say goodbye; the goodbye is played; at the limit the call is hung up
    // through Twilio, recorded as time_limit, counted.
    void callTimeLimitSaysGoodbyeThenHangsUp()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.maxCallMs = 3000; })); // wrap-up at 2 s
        QElapsedTimer clock;
        clock.start();
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QCOMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 1); // the greeting only
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 2, 5000);
        QVERIFY2(clock.elapsed() >= 1800, qPrintable(QString::number(clock.elapsed())));
        const QJsonObject wrapUp = h->fake.receivedOfType(u"response.create"_s).at(1);
        QVERIFY(wrapUp.value(u"response"_s)
                    .toObject()
                    .value(u"instructions"_s)
                    .toString()
                    .contains(u"maximum length"_s));
        const qint64 beforeGoodbye = sim->agentBytesPlayed;
        QSignalSpy updated(rest.get(), &FakeTwilioRest::callUpdated);
        QVERIFY(updated.wait(5000));
        QCOMPARE(rest->updates.first().twiml(), u"<Response><Hangup/></Response>"_s);
        QVERIFY(sim->agentBytesPlayed > beforeGoodbye); // the goodbye was heard before the cut
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"time_limit"_s);
        QVERIFY(h->repos().calls.findBySid(sim->callSid).value.endReason.contains(u"MAX_CALL_MINUTES"_s));
        QCOMPARE(h->metric(u"vaani_calls_time_limited_total"_s), 1.0);
        QCOMPARE(h->metric(u"vaani_calls_total{outcome=\"time_limit\"}"_s), 1.0);
    }

    // DAILY_SPEND_CAP_USD: once today's spend (read from the database, so every server's calls count) reaches
    // the cap, new calls get the fallback straight away (recorded as rejected, with the reason); calls in
    // progress go on.
    void dailySpendCapSendsNewCallsToTheFallback()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness([](ServerOptions &o) {
            o.settings.dailySpendCapUsd = 0.05;
            o.settings.spendRefreshMs = 200;
            o.settings.humanAgentNumber = u"+911140000000"_s;
        }));
        QTRY_COMPARE(h->metric(u"vaani_spend_today_usd"_s), 0.0);
        auto live = connectCall(); // under the cap: served
        QVERIFY(live);
        QTRY_VERIFY_WITH_TIMEOUT(live->agentBytesPlayed >= 8 * 300, 5000);

        // Another server's calls today cost 6 cents.
        db::CallStart other;
        other.callSid = u"CA"_s + QString(32, u'e');
        other.callerNumber = u"+919000000001"_s;
        other.serverInstance = u"elsewhere"_s;
        const qint64 id = h->repos().calls.start(other).value.id;
        QVERIFY(h->repos().calls.setUsage(id, {}, 0.06).ok());
        QTRY_VERIFY(h->metric(u"vaani_spend_today_usd"_s) >= 0.06);

        auto refused = h->newCall();
        QSignalSpy answered(refused.get(), &TwilioSimulator::webhookAnswered);
        refused->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(refused->webhookStatus, 200);
        QVERIFY2(refused->twiml.streamUrl.isEmpty(), refused->webhookBody.constData());
        QVERIFY(refused->webhookBody.contains("<Dial"));
        QVERIFY(refused->webhookBody.contains("+911140000000"));
        QTRY_COMPARE(h->repos().calls.findBySid(refused->callSid).value.outcome, u"rejected"_s);
        QCOMPARE(h->repos().calls.findBySid(refused->callSid).value.endReason, u"daily spend cap reached"_s);
        QCOMPARE(h->metric(u"vaani_webhook_errors_total{kind=\"spend_cap\"}"_s), 1.0);

        // The call in progress was not touched.
        QVERIFY(live->streamOpen);
        QCOMPARE(h->repos().calls.findBySid(live->callSid).value.outcome, u"in_progress"_s);
    }

    // MAX_CALLS_PER_CALLER: one number may hold at most N calls at once; the next gets the fallback (recorded
    // with the reason); another number is not affected; when one of the calls ends the number may call again.
    // Withheld numbers are not limited.
    void callsPerCallerAreLimited()
    {
        h->fake.greetingAudioMs = 200;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.maxCallsPerCaller = 2; }));
        auto first = connectCall();
        auto second = connectCall();
        QVERIFY(first && second);
        auto third = h->newCall();
        QSignalSpy answered(third.get(), &TwilioSimulator::webhookAnswered);
        third->placeCall();
        QVERIFY(answered.wait(5000));
        QVERIFY2(third->twiml.streamUrl.isEmpty(), third->webhookBody.constData());
        QTRY_COMPARE(h->repos().calls.findBySid(third->callSid).value.outcome, u"rejected"_s);
        QVERIFY(h->repos().calls.findBySid(third->callSid).value.endReason.contains(u"caller already has"_s));
        QCOMPARE(h->metric(u"vaani_webhook_errors_total{kind=\"caller_busy\"}"_s), 1.0);

        auto otherNumber = h->newCall();
        otherNumber->from = u"+919094009492"_s;
        QSignalSpy otherAnswered(otherNumber.get(), &TwilioSimulator::webhookAnswered);
        otherNumber->placeCall();
        QVERIFY(otherAnswered.wait(5000));
        QVERIFY(!otherNumber->twiml.streamUrl.isEmpty());
        std::vector<std::unique_ptr<TwilioSimulator>> hidden;
        for (const QString &withheld : {u"anonymous"_s, u"+266696687"_s}) {
            for (int i = 0; i < 3; ++i) { // more than the limit: withheld numbers are many different callers
                hidden.push_back(h->newCall());
                hidden.back()->from = withheld;
                QSignalSpy hiddenAnswered(hidden.back().get(), &TwilioSimulator::webhookAnswered);
                hidden.back()->placeCall();
                QVERIFY(hiddenAnswered.wait(5000));
                QVERIFY2(!hidden.back()->twiml.streamUrl.isEmpty(), qPrintable(withheld));
            }
        }

        first->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(first->callSid).value.outcome, u"dropped"_s);
        auto again = connectCall();
        QVERIFY(again); // a place came free
    }

    // The Auth Token rotated (SIGHUP) during a call: the hang-up through Twilio's REST API uses the new one.
    void hangUpAfterATokenRotationUsesTheNewToken()
    {
        h->fake.turns = {
            FakeTurn{u"Bas, thank you"_s, u"end_call"_s, u"{\"reason\":\"caller done\"}"_s, QString(), 0}};
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        const QString rotated = u"rotated-during-the-call-000000000"_s;
        ServerSettings fresh = h->options.settings;
        fresh.twilioAuthToken = rotated;
        QCOMPARE(h->server()->reloadSecrets(fresh), QStringList{u"TWILIO_AUTH_TOKEN"_s});
        rest->setAuthToken(rotated); // Twilio accepts only the new token now
        QSignalSpy updated(rest.get(), &FakeTwilioRest::callUpdated);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(400));
        QVERIFY(updated.wait(8000));
        QCOMPARE(rest->authFailures, 0);
        QCOMPARE(rest->updates.first().twiml(), u"<Response><Hangup/></Response>"_s);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"resolved"_s);
    }

    void transferToHumanOpensTicketAndDials()
    {
        h->fake.turns = {FakeTurn{u"Mujhe kisi insaan se baat karni hai"_s, u"transfer_to_human"_s,
                                  u"{\"reason\":\"caller asked for a person\"}"_s, QString(), 0}};
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.humanAgentNumber = u"+911140000000"_s; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QSignalSpy updated(rest.get(), &FakeTwilioRest::callUpdated);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(400));
        QVERIFY(updated.wait(8000));
        QVERIFY(rest->updates.first().twiml().contains(
            u"<Dial callerId=\"+918000000000\">+911140000000</Dial>"_s));
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"transferred"_s);
        const auto call = h->repos().calls.findBySid(sim->callSid).value;
        const auto tickets = h->repos().tickets.forCall(call.id).value;
        QCOMPARE(tickets.size(), 1);
        QVERIFY(tickets.first().summary.contains(u"Mujhe kisi insaan se baat karni hai"_s));
        QVERIFY(tickets.first().summary.contains(u"Namaste"_s));
        QVERIFY(output().contains(tickets.first().code));
    }

    void transferWithoutHumanNumberIsAnError()
    {
        h->fake.turns = {FakeTurn{u"Manager do"_s, u"transfer_to_human"_s, u"{\"reason\":\"manager\"}"_s,
                                  u"{output}"_s, 300}};
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(400));
        QTRY_VERIFY_WITH_TIMEOUT(!output().isEmpty(), 8000);
        QVERIFY(output().contains(u"No human colleague"_s));
        QTRY_COMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 3); // greeting, turn, the output
        QVERIFY(sim->streamOpen);
        QVERIFY(rest->updates.isEmpty());
        sim->hangUp();
    }
};

QTEST_GUILESS_MAIN(TestCallFlow)
#include "tst_callflow.moc"
