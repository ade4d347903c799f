// One call, one owner (issue #16): two servers on one database; Twilio's webhook reaches A (which opens a
// pre-warmed model session) and the Media Stream reaches B. B claims the call row and serves the call; A sees
// the claim, releases its model session and its call slot within seconds (not at the 60 s expiry), and never
// writes over B's record — no "no_stream", no second greeting in the transcript, the turn statistics are B's.
#include "callregistry.h"
#include "serverharness.h"

#include <QSignalSpy>
#include <QTest>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

class TestOneOwner : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void webhookOnOneServerStreamOnTheOther()
    {
        ServerHarness a;
        ServerHarness b;
        a.fake.greetingAudioMs = 400;
        b.fake.greetingAudioMs = 400;
        b.fake.turns = {FakeTurn{u"Mera order kahan hai"_s, {}, {}, u"Order ID bataiye"_s, 300}};
        QVERIFY(a.start([](ServerOptions &o) { o.settings.instance = u"server-a"_s; }));
        QVERIFY(b.start([&](ServerOptions &o) {
            o.settings.instance = u"server-b"_s;
            o.databaseUrl = u"sqlite://"_s + a.databasePath(); // one shared database
        }));
        auto sim = a.newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QCOMPARE(sim->webhookStatus, 200);
        QTRY_VERIFY(a.fake.clientConnected()); // A pre-warmed a model session for this call
        QVERIFY(a.server()->context()->registry->hasPrewarmed(sim->callSid));

        // The TwiML names A; the balancer sends the stream to B anyway (A is busy or gone), and B takes it.
        QCOMPARE(sim->twiml.streamUrl, u"ws://127.0.0.1:%1/media-stream/server-a"_s.arg(a.port()));
        sim->twiml.streamUrl = u"ws://127.0.0.1:%1/media-stream/server-a"_s.arg(b.port());
        QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
        sim->openStream();
        QVERIFY(connected.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 400, 8000); // B greets

        // A lets go within a few seconds: its model session closed, its slot free, nothing written.
        QTRY_VERIFY_WITH_TIMEOUT(!a.server()->context()->registry->hasPrewarmed(sim->callSid), 8000);
        QTRY_VERIFY_WITH_TIMEOUT(!a.fake.clientConnected(), 5000);
        QCOMPARE(a.server()->context()->registry->active(), 0);
        const db::CallRecord during = a.repos().calls.findBySid(sim->callSid).value;
        QCOMPARE(during.outcome, u"in_progress"_s);
        QCOMPARE(during.serverInstance, u"server-b"_s);
        QVERIFY(!during.streamSid.isEmpty());

        // B's call goes on and ends; the record is B's alone.
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * (400 + 300), 8000); // B answers the caller
        QTest::qWait(300);
        sim->hangUp();
        QTRY_VERIFY(a.repos().calls.findBySid(sim->callSid).value.endedAt.isValid());
        const db::CallRecord done = a.repos().calls.findBySid(sim->callSid).value;
        QCOMPARE(done.outcome, u"dropped"_s);
        QCOMPARE(done.serverInstance, u"server-b"_s);
        QVERIFY(done.turnCount >= 1);
        int greetings = 0;
        for (const auto &line : a.repos().calls.transcript(done.id).value)
            greetings += line.speaker == u"agent"_s && line.seq == 1 ? 1 : 0;
        QCOMPARE(greetings, 1);
        // Later, A's expiry path has nothing left to write either: the row stays B's.
        QTest::qWait(300);
        QCOMPARE(a.repos().calls.findBySid(sim->callSid).value.outcome, u"dropped"_s);
    }

    // The same server's pre-warmed session with no stream anywhere still records "no_stream" (and the cost
    // of the greeting it prepared).
    void noStreamAnywhereIsStillRecorded()
    {
        ServerHarness a;
        a.fake.greetingAudioMs = 300;
        QVERIFY(a.start([](ServerOptions &o) { o.settings.prewarmTimeoutMs = 1500; }));
        auto sim = a.newCall();
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QTRY_VERIFY_WITH_TIMEOUT(a.repos().calls.findBySid(sim->callSid).value.endedAt.isValid(), 8000);
        QCOMPARE(a.repos().calls.findBySid(sim->callSid).value.outcome, u"no_stream"_s);
    }
};

QTEST_GUILESS_MAIN(TestOneOwner)
#include "tst_oneowner.moc"
