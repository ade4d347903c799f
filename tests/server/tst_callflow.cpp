// Issue #5 end to end over loopback: Twilio simulator → vaani-server → fake OpenAI Realtime (and fake Twilio
// REST). Greeting, an order lookup answered from the real database, barge-in with clear + truncate, tool
// errors, refused keys and rejected sessions ending in the fallback, hang-up and transfer, and the call
// record.
#include "faketwiliorest.h"
#include "serverharness.h"
#include "testenv.h"

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

// A TCP relay in front of the fake model: partition() makes the connections through it go silent both ways
// without closing them, as a network failure does (no reset, no FIN); later connections pass.
class Relay : public QObject
{
public:
    explicit Relay(quint16 target)
        : m_target(target)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *in = m_server.nextPendingConnection()) {
                auto *out = new QTcpSocket(in);
                auto dead = std::make_shared<bool>(false);
                m_dead << dead;
                out->connectToHost(QHostAddress::LocalHost, m_target);
                const auto pipe = [dead](QTcpSocket *from, QTcpSocket *to) {
                    const QByteArray bytes = from->readAll();
                    if (!*dead)
                        to->write(bytes);
                };
                connect(in, &QTcpSocket::readyRead, out, [=] {
                    if (out->state() == QAbstractSocket::ConnectedState)
                        pipe(in, out);
                });
                connect(out, &QTcpSocket::connected, in, [=] { pipe(in, out); });
                connect(out, &QTcpSocket::readyRead, in, [=] { pipe(out, in); });
                connect(in, &QTcpSocket::disconnected, in, [=] {
                    if (!*dead)
                        out->disconnectFromHost();
                    in->deleteLater();
                });
                connect(out, &QTcpSocket::disconnected, in, [=] {
                    if (!*dead)
                        in->disconnectFromHost();
                });
            }
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    void partition()
    {
        for (const auto &dead : std::as_const(m_dead))
            *dead = true;
    }

private:
    quint16 m_target;
    QList<std::shared_ptr<bool>> m_dead; // one per connection (before m_server: its sockets go first)
    QTcpServer m_server;
};

class TestCallFlow : public QObject
{
    Q_OBJECT
    std::unique_ptr<ServerHarness> h;
    std::unique_ptr<FakeTwilioRest> rest;

    QString eventsFile() const
    {
        return qEnvironmentVariable("VAANI_TEST_TMP") + u"/realtime-client-events.jsonl"_s;
    }

    std::unique_ptr<TwilioSimulator> connectCall() { return h->connectCall(); }

    bool startHarness(const std::function<void(ServerOptions &)> &tweak = {})
    {
        rest = std::make_unique<FakeTwilioRest>(QString::fromLatin1(ServerHarness::kAccountSid),
                                                QString::fromLatin1(ServerHarness::kAuthToken));
        if (!rest->listen())
            return false;
        const QUrl restUrl = rest->baseUrl();
        return h->start([&](ServerOptions &o) {
            o.settings.twilio.apiBase = restUrl;
            if (tweak)
                tweak(o);
        });
    }

    QString output(int index = 0)
    {
        const auto items = h->fake.receivedOfType(u"conversation.item.create"_s);
        QList<QJsonObject> outputs;
        for (const auto &i : items)
            if (i.value(u"item"_s).toObject().value(u"type"_s).toString() == u"function_call_output"_s)
                outputs << i.value(u"item"_s).toObject();
        return index < outputs.size() ? outputs.at(index).value(u"output"_s).toString() : QString();
    }

private Q_SLOTS:
    void initTestCase() { QFile::remove(eventsFile()); }
    void init() { h = std::make_unique<ServerHarness>(); }
    void cleanup()
    {
        if (h)
            h->fake.writeEvents(eventsFile());
        h.reset();
        rest.reset();
    }

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

    // #18 SILENCE_PROMPT_S: the caller says nothing after the agent has finished — a gentle check; silent
    // again — a callback ticket for their number, a goodbye, the hang-up (outcome no_response).
    void silenceIsPromptedThenTheCallEndsWithACallback()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.silencePromptMs = 1000; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QElapsedTimer quiet;
        quiet.start();
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 2, 3000);
        QVERIFY(quiet.elapsed() >= 900);
        const QString check = h->fake.receivedOfType(u"response.create"_s)
                                  .last()
                                  .value(u"response"_s)
                                  .toObject()
                                  .value(u"instructions"_s)
                                  .toString();
        QVERIFY2(check.contains(u"still there"_s), qPrintable(check));
        QVERIFY(sim->streamOpen);
        // Silent again after the check has played: the goodbye, then the hang-up through Twilio's API.
        QSignalSpy updated(rest.get(), &FakeTwilioRest::callUpdated);
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 3, 5000);
        QVERIFY(h->fake.receivedOfType(u"response.create"_s)
                    .last()
                    .value(u"response"_s)
                    .toObject()
                    .value(u"instructions"_s)
                    .toString()
                    .contains(u"call them back"_s));
        QVERIFY(updated.wait(8000));
        QCOMPARE(rest->updates.first().twiml(), u"<Response><Hangup/></Response>"_s);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"no_response"_s);
        const auto call = h->repos().calls.findBySid(sim->callSid).value;
        QTRY_VERIFY(!h->repos().tickets.forCall(call.id).value.isEmpty());
        const auto tickets = h->repos().tickets.forCall(call.id).value;
        QCOMPARE(tickets.size(), 1);
        QCOMPARE(tickets.first().category, u"callback"_s);
        QCOMPARE(tickets.first().priority, u"high"_s);
        QVERIFY(hasLine(linesOf(sim->callSid), u"system"_s, u"silent again"_s));
    }

    // Talking resets the count; a tool running or the agent speaking is never "silence".
    void speechOrAnAnswerIsNotSilence()
    {
        h->fake.greetingAudioMs = 2500; // longer than SILENCE_PROMPT_S: the agent speaking is not silence
        h->fake.deltaMs = 20;
        h->fake.turns = {FakeTurn{u"Mera order ABC123?"_s, {}, {}, u"Ji, dekhti hoon."_s, 300}};
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.silencePromptMs = 1500; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 2500, 6000);
        QCOMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 1);
        QTest::qWait(800);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(500)); // the caller talks before the prompt
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 2, 3000);
        QVERIFY(
            h->fake.receivedOfType(u"response.create"_s).last().value(u"response"_s).toObject().isEmpty());
        // After the answer: a fresh count, so the next check is a first one.
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 3, 5000);
        QVERIFY(h->fake.receivedOfType(u"response.create"_s)
                    .last()
                    .value(u"response"_s)
                    .toObject()
                    .value(u"instructions"_s)
                    .toString()
                    .contains(u"still there"_s));
        sim->hangUp();
    }

    // #18: "haan" three times during a long answer keeps the agent talking; "ruko, mera order galat hai"
    // stops it (Twilio cleared, the answer cut where the caller stopped hearing it) and is answered.
    void backchannelsKeepTheAgentTalkingAnInterruptionStopsIt()
    {
        h->fake.greetingAudioMs = 12000;
        h->fake.deltaMs = 100;
        h->fake.utterances = {u"haan"_s, u"haan ji"_s, u"acha"_s, u"ruko, mera order galat hai"_s};
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 500, 5000);
        for (int i = 0; i < 3; ++i) {
            sim->queueCallerAudio(TwilioSimulator::loudSpeech(300) + QByteArray(8 * 700, char(0xFF)));
            QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"input_audio_buffer.append"_s).isEmpty(), false,
                                      1000);
            QTest::qWait(1000);
        }
        QTRY_COMPARE(metricSamples().value(u"vaani_backchannels_total"_s), 3.0);
        QCOMPARE(sim->clears, 0);
        QCOMPARE(h->fake.receivedOfType(u"response.cancel"_s).size(), 0);
        QCOMPARE(h->fake.receivedOfType(u"response.create"_s).size(), 1); // only the greeting's
        // The agent is still talking: seconds of its answer are still to play at "Twilio".
        QVERIFY(sim->agentBytesReceived - sim->agentBytesPlayed > 8 * 2000);
        const qint64 playedBefore = sim->agentBytesPlayed;
        QElapsedTimer sinceSpeech;
        sinceSpeech.start();
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(1200));
        QTRY_VERIFY_WITH_TIMEOUT(sim->clears == 1, 3000);
        const qint64 toClearMs = sinceSpeech.elapsed();
        QVERIFY2(toClearMs < 1500, qPrintable(QString::number(toClearMs))); // BACKCHANNEL_MS, plus the VAD
        QVERIFY(sim->agentBytesCleared > 0);
        // The answer had been generated in full (the fake is faster than real time): nothing to cancel, the
        // rest of it is cleared at Twilio and cut from the model's memory.
        QCOMPARE(h->fake.receivedOfType(u"response.cancel"_s).size(), 0);
        QTRY_COMPARE(h->fake.receivedOfType(u"conversation.item.truncate"_s).size(), 1);
        QVERIFY(sim->agentBytesPlayed - playedBefore < 8 * 1500);
        // Answered once the caller stops.
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 2, 5000);
        QVERIFY2(h->fake.errorsSent.isEmpty(), qPrintable(h->fake.errorsSent.join(u',')));
        sim->hangUp();
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        const auto lines = linesOf(sim->callSid);
        QVERIFY(hasLine(lines, u"caller"_s, u"haan ji"_s));
        QVERIFY(hasLine(lines, u"caller"_s, u"ruko, mera order galat hai"_s));
        QCOMPARE(metricSamples().value(u"vaani_barge_ins_total"_s), 1.0);
    }

    void bargeInClearsAndTruncatesAtWhatWasHeard()
    {
        h->fake.greetingAudioMs = 5000;
        h->fake.deltaMs = 100;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 1200, 5000);
        QSignalSpy cleared(sim.get(), &TwilioSimulator::clearReceived);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QVERIFY(cleared.wait(3000));
        QCOMPARE(sim->clears, 1);
        QVERIFY(sim->agentBytesCleared > 0); // the rest of the greeting never reaches the caller
        QTRY_COMPARE(h->fake.receivedOfType(u"conversation.item.truncate"_s).size(), 1);
        const QJsonObject t = h->fake.receivedOfType(u"conversation.item.truncate"_s).first();
        const qint64 heardMs = sim->playedAtLastClear / 8;
        const qint64 endMs = t.value(u"audio_end_ms"_s).toInteger();
        // Heard = chunks whose marks came back before the clear: at most what played, at least one chunk
        // less.
        QVERIFY2(endMs <= heardMs && endMs >= heardMs - h->fake.deltaMs - 40,
                 qPrintable(u"audio_end_ms %1, heard %2"_s.arg(endMs).arg(heardMs)));
        QCOMPARE(t.value(u"content_index"_s).toInt(), 0);
        QVERIFY(t.value(u"item_id"_s).toString().startsWith(u"item_"_s));
        // The model accepted it (no error), and the bot is silent afterwards.
        QTRY_VERIFY(std::none_of(h->fake.received.begin(), h->fake.received.end(),
                                 [](const auto &r) { return r.type == u"error"_s; }));
        const qint64 afterClear = sim->agentBytesReceived;
        QTest::qWait(300);
        QVERIFY(sim->agentBytesReceived - afterClear < 8 * 1000); // at most the reply to the new turn begins
        sim->hangUp();
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

    QList<QJsonObject> itemsCreatedSince(int index) const
    {
        QList<QJsonObject> items;
        const auto all = h->fake.receivedOfType(u"conversation.item.create"_s);
        for (qsizetype i = index; i < all.size(); ++i)
            items << all.at(i).value(u"item"_s).toObject();
        return items;
    }

    QList<db::TranscriptEntry> linesOf(const QString &callSid)
    {
        const auto call = h->repos().calls.findBySid(callSid).value;
        return h->repos().calls.transcript(call.id).value;
    }

    static bool hasLine(const QList<db::TranscriptEntry> &lines, const QString &speaker, const QString &text)
    {
        return std::any_of(lines.begin(), lines.end(), [&](const db::TranscriptEntry &l) {
            return l.speaker == speaker && l.text.contains(text);
        });
    }

    QHash<QString, double> metricSamples()
    {
        QHash<QString, double> samples;
        QHash<QString, QString> types;
        QString error;
        if (!parsePrometheus(h->get(u"/metrics"_s).body, &samples, &types, &error))
            qWarning() << error;
        return samples;
    }

    // #17: the model's connection reset mid-call, between turns. The call goes on on a new session that
    // hears the conversation so far (greeting, the caller's turn, the tool call and its output, the
    // answer) and carries on with the next turn; the record notes the reconnect and its gap.
    void modelDropBetweenTurnsResumesWithTheConversation()
    {
        h->fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                  u"{\"order_id\":\"ABC123\"}"_s, u"Aapka order: {output}"_s, 500},
                         FakeTurn{u"Aur delivery kab hogi?"_s, {}, {}, u"Kal tak pahunch jayega."_s, 500}};
        h->fake.greetingAudioMs = 400;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 400, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800));
        QTRY_VERIFY_WITH_TIMEOUT(!output().isEmpty(), 8000);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * (400 + 500), 5000);
        QTRY_VERIFY(!h->fake.responding());
        QTRY_VERIFY(hasLine(linesOf(sim->callSid), u"agent"_s, u"Aapka order"_s));
        const int itemsBefore = int(h->fake.receivedOfType(u"conversation.item.create"_s).size());
        const int appendsBefore = int(h->fake.receivedOfType(u"input_audio_buffer.append"_s).size());
        const int responsesBefore = int(h->fake.receivedOfType(u"response.create"_s).size());
        QCOMPARE(h->fake.connections, 1);

        h->fake.closeAll(); // a network drop: the connection is reset
        QTRY_COMPARE(h->fake.receivedOfType(u"session.update"_s).size(), 2);
        QCOMPARE(h->fake.connections, 2);
        QTRY_VERIFY(itemsCreatedSince(itemsBefore).size() >= 5);
        const QList<QJsonObject> replay = itemsCreatedSince(itemsBefore);
        QCOMPARE(replay.size(), 5);
        QCOMPARE(replay.at(0).value(u"role"_s).toString(), u"assistant"_s);
        QCOMPARE(replay.at(0).value(u"content"_s).toArray().first().toObject().value(u"type"_s).toString(),
                 u"output_text"_s);
        QVERIFY(replay.at(0)
                    .value(u"content"_s)
                    .toArray()
                    .first()
                    .toObject()
                    .value(u"text"_s)
                    .toString()
                    .startsWith(u"Namaste"_s));
        QCOMPARE(replay.at(1).value(u"role"_s).toString(), u"user"_s);
        QCOMPARE(replay.at(1).value(u"content"_s).toArray().first().toObject().value(u"text"_s).toString(),
                 u"Mera order ABC123 kahan hai?"_s);
        QCOMPARE(replay.at(2).value(u"type"_s).toString(), u"function_call"_s);
        QCOMPARE(replay.at(2).value(u"name"_s).toString(), u"lookup_order"_s);
        QCOMPARE(replay.at(3).value(u"type"_s).toString(), u"function_call_output"_s);
        QCOMPARE(replay.at(3).value(u"call_id"_s), replay.at(2).value(u"call_id"_s));
        QVERIFY(replay.at(3).value(u"output"_s).toString().contains(u"shipped"_s));
        QCOMPARE(replay.at(4).value(u"role"_s).toString(), u"assistant"_s);
        QVERIFY2(h->fake.errorsSent.isEmpty(), qPrintable(h->fake.errorsSent.join(u',')));
        // Nothing was under way: no response is asked for; the caller's audio flows to the new session.
        QTRY_VERIFY(h->fake.receivedOfType(u"input_audio_buffer.append"_s).size() > appendsBefore + 30);
        QCOMPARE(h->fake.receivedOfType(u"response.create"_s).size(), responsesBefore);
        QVERIFY(sim->streamOpen);

        // The next turn is answered on the new session.
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800));
        QTRY_VERIFY_WITH_TIMEOUT(hasLine(linesOf(sim->callSid), u"agent"_s, u"Kal tak"_s), 8000);
        sim->hangUp();
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        const auto call = h->repos().calls.findBySid(sim->callSid).value;
        QCOMPARE(call.outcome, u"dropped"_s); // the caller hung up: not a failed call
        const auto lines = linesOf(sim->callSid);
        QVERIFY(hasLine(lines, u"system"_s, u"Model connection lost"_s));
        QVERIFY(hasLine(lines, u"system"_s, u"attempt 1"_s));
        const auto samples = metricSamples();
        QCOMPARE(samples.value(u"vaani_model_resumes_total{result=\"resumed\"}"_s), 1.0);
        QCOMPARE(samples.value(u"vaani_model_resume_gap_ms_count"_s), 1.0);
        QCOMPARE(samples.value(u"vaani_calls_total{outcome=\"failed\"}"_s), 0.0);
    }

    // The drop comes while the agent is talking: the new session is asked to continue its answer after a
    // short "one moment", told what it had said so far; the caller's audio during the gap reaches the model.
    void modelDropMidAnswerContinuesAfterOneMoment()
    {
        h->fake.greetingAudioMs = 4000;
        h->fake.deltaMs = 100;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 1500, 5000);
        QVERIFY(h->fake.responding());
        h->fake.connectDelayMs = 400; // the reconnect takes a while: caller audio is held meanwhile
        const qint64 framesAtDrop = sim->framesSent;
        const qint64 agentAtDrop = sim->agentBytesReceived;
        h->fake.closeAll();
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"response.create"_s).size(), 2, 5000);
        const QJsonObject resume =
            h->fake.receivedOfType(u"response.create"_s).last().value(u"response"_s).toObject();
        const QString instructions = resume.value(u"instructions"_s).toString();
        QVERIFY2(instructions.contains(u"ek second"_s), qPrintable(instructions));
        QVERIFY2(instructions.contains(u"You had said so far: \"Namaste"_s), qPrintable(instructions));
        QVERIFY(sim->framesSent - framesAtDrop >= 15); // the gap lasted 300 ms or more
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= agentAtDrop + 8 * 1000, 5000);
        QVERIFY2(h->fake.errorsSent.isEmpty(), qPrintable(h->fake.errorsSent.join(u',')));
        // Every frame the caller sent reached a model session (those sent into the dead connection again).
        QTRY_VERIFY(h->fake.receivedOfType(u"input_audio_buffer.append"_s).size() >= sim->framesSent - 2);
        sim->hangUp();
        QTRY_VERIFY(h->repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        QVERIFY(hasLine(linesOf(sim->callSid), u"system"_s, u"the agent continues its answer"_s));
    }

    // The caller talks over the old session's audio still playing at Twilio after a resume: the barge-in
    // clears Twilio's queue, and no truncate of an item the new session never had is sent.
    void bargeInAfterAResumeTruncatesNothingUnknown()
    {
        h->fake.greetingAudioMs = 6000;
        h->fake.deltaMs = 100;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 4000, 5000);
        QVERIFY(sim->agentBytesPlayed < 8 * 3000); // most of it still queued at "Twilio"
        h->fake.connectDelayMs = 300;
        h->fake.closeAll();
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800)); // held, then heard by the new session
        QTRY_VERIFY_WITH_TIMEOUT(sim->clears >= 1, 5000);
        QTRY_COMPARE(h->fake.receivedOfType(u"session.update"_s).size(), 2);
        QTest::qWait(300);
        QVERIFY2(!h->fake.errorsSent.contains(u"item_truncate_invalid_item_id"_s),
                 qPrintable(h->fake.errorsSent.join(u',')));
        QVERIFY2(h->fake.errorsSent.isEmpty(), qPrintable(h->fake.errorsSent.join(u',')));
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
    }

    // The API's 60-minute limit: session_expired, then close 1001. The call goes on on a new session.
    void sessionExpiryMidCallResumes()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QTRY_VERIFY(!h->fake.responding());
        h->fake.expireAll();
        QTRY_COMPARE(h->fake.receivedOfType(u"session.update"_s).size(), 2);
        QTRY_COMPARE(metricSamples().value(u"vaani_model_resumes_total{result=\"resumed\"}"_s), 1.0);
        QVERIFY(sim->streamOpen);
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
        QVERIFY(hasLine(linesOf(sim->callSid), u"system"_s, u"model session expired"_s));
    }

    // A session nearing the API's limit is replaced at a quiet moment, before the API ends it.
    void rolloverBeforeTheSessionLimit()
    {
        h->fake.greetingAudioMs = 300;
        h->fake.sessionLifetimeMs = 4000;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.modelRolloverMs = 1500; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_COMPARE_WITH_TIMEOUT(metricSamples().value(u"vaani_model_resumes_total{result=\"rollover\"}"_s),
                                  1.0, 5000);
        QCOMPARE(h->fake.sessionsExpired, 0);
        QCOMPARE(h->fake.connections, 2);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600)); // the new session answers
        QTRY_VERIFY_WITH_TIMEOUT(hasLine(linesOf(sim->callSid), u"agent"_s, u"Ji, bataiye"_s), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(metricSamples().value(u"vaani_model_resumes_total{result=\"rollover\"}"_s),
                                  2.0, 5000); // and is renewed in turn
        QCOMPARE(h->fake.sessionsExpired, 0);
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
        QVERIFY(hasLine(linesOf(sim->callSid), u"system"_s, u"Model session renewed"_s));
        QCOMPARE(metricSamples().value(u"vaani_model_resumes_total{result=\"resumed\"}"_s), 0.0);
    }

    // The model cannot be reached again: after MODEL_RECONNECT_ATTEMPTS the call ends in the fallback, once.
    void modelGoneForGoodEndsInTheFallbackOnce()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness());
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        h->fake.expectedKey = u"sk-revoked"_s; // every reconnect is refused (401)
        h->fake.closeAll();
        QVERIFY(closed.wait(8000));
        QCOMPARE(h->fake.rejectedHandshakes, 3);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"failed"_s);
        const auto call = h->repos().calls.findBySid(sim->callSid).value;
        QVERIFY2(call.endReason.contains(u"3 reconnect attempts failed"_s), qPrintable(call.endReason));
        const auto samples = metricSamples();
        QCOMPARE(samples.value(u"vaani_calls_total{outcome=\"failed\"}"_s), 1.0);
        QCOMPARE(samples.value(u"vaani_calls_active"_s), 0.0);
        QCOMPARE(samples.value(u"vaani_model_resumes_total{result=\"failed\"}"_s), 1.0);
    }

    // The network to the model fails silently (no reset, no close): the pings go unanswered, the session is
    // taken as lost after a few silent ticks and the call resumes on a new connection.
    void silentNetworkFailureIsNoticedAndResumed()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(h->fake.listen());
        Relay relay(quint16(h->fake.url().port()));
        QVERIFY(relay.listen());
        QVERIFY(startHarness([&](ServerOptions &o) {
            o.settings.realtime.url = QUrl(u"ws://127.0.0.1:%1/v1/realtime"_s.arg(relay.port()));
            o.settings.realtime.livenessTickMs = 200;
        }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QTRY_VERIFY(!h->fake.responding());
        QTest::qWait(700); // silence on both sides: the pings alone keep the session known alive
        QCOMPARE(h->fake.connections, 1);
        relay.partition();
        QTRY_COMPARE_WITH_TIMEOUT(h->fake.receivedOfType(u"session.update"_s).size(), 2, 5000);
        QTRY_COMPARE(metricSamples().value(u"vaani_model_resumes_total{result=\"resumed\"}"_s), 1.0);
        QCOMPARE(metricSamples().value(u"vaani_realtime_errors_total{kind=\"unresponsive\"}"_s), 1.0);
        QVERIFY(sim->streamOpen);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600)); // answered on the new connection
        QTRY_VERIFY_WITH_TIMEOUT(hasLine(linesOf(sim->callSid), u"agent"_s, u"Ji, bataiye"_s), 5000);
        sim->hangUp();
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
    }

    // MODEL_RECONNECT_ATTEMPTS=0: no resume, the fallback at once (as before #17).
    void noResumeWhenTurnedOff()
    {
        h->fake.greetingAudioMs = 300;
        QVERIFY(startHarness([](ServerOptions &o) { o.settings.modelReconnectAttempts = 0; }));
        auto sim = connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 5000);
        QSignalSpy closed(sim.get(), &TwilioSimulator::streamClosed);
        h->fake.closeAll();
        QVERIFY(closed.wait(5000));
        QCOMPARE(h->fake.connections, 1);
        QTRY_COMPARE(h->repos().calls.findBySid(sim->callSid).value.outcome, u"failed"_s);
    }
};

QTEST_GUILESS_MAIN(TestCallFlow)
#include "tst_callflow.moc"
