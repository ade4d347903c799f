// Issue #18 end to end, taking turns on the phone: silence prompted then ended with a callback, what does not
// count as silence, backchannels ("haan") that keep the agent talking, and a barge-in that clears Twilio's
// queue and truncates the answer where the caller stopped hearing it. Twilio simulator → vaani-server → fake
// OpenAI Realtime. The rest of the call flow is tst_callflow.
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

class TestTurnTaking : public QObject, protected CallFlowFixture
{
    Q_OBJECT
public:
    TestTurnTaking()
        : CallFlowFixture("realtime-client-events-turntaking.jsonl")
    {}

private Q_SLOTS:
    void initTestCase() { removeEvents(); }
    void init() { reset(); }
    void cleanup() { finish(); }

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
};

QTEST_GUILESS_MAIN(TestTurnTaking)
#include "tst_turntaking.moc"
