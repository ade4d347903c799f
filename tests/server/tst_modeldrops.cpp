// Issue #17 end to end: the model's connection lost mid-call — reset between turns or mid-answer, the
// session's time limit, a silent network partition, the model gone for good — and the call resuming on a new
// session with the conversation so far. Twilio simulator → vaani-server → fake OpenAI Realtime (through a
// relay that can partition). The rest of the call flow is tst_callflow.
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

class TestModelDrops : public QObject, protected CallFlowFixture
{
    Q_OBJECT
public:
    TestModelDrops()
        : CallFlowFixture("realtime-client-events-modeldrops.jsonl")
    {}

private Q_SLOTS:
    void initTestCase() { removeEvents(); }
    void init() { reset(); }
    void cleanup() { finish(); }

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

QTEST_GUILESS_MAIN(TestModelDrops)
#include "tst_modeldrops.moc"
