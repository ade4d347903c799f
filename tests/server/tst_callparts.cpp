// The parts of a CallSession, each alone and on a fake clock (time moves only when the test says so):
// PlaybackLedger (marks, what the caller heard, where a barge-in truncates), ResponseGate (one response at a
// time, tool outputs after response.done) and CallRecorder (the record's writes, against a real SQLite
// file). The session that composes them is tst_callsession; whole calls are tst_callflow.
#include "backchannel.h"
#include "callrecorder.h"
#include "conversationhistory.h"
#include "db/dbworker.h"
#include "playbackledger.h"
#include "recordjournal.h"
#include "responsegate.h"
#include "testenv.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
struct FakeClock
{
    std::shared_ptr<qint64> now = std::make_shared<qint64>(1'000'000);
    Clock clock() const
    {
        return [n = now] { return *n; };
    }
    void advance(qint64 ms) { *now += ms; }
};

constexpr qint64 kFrame = 160; // 20 ms of 8 kHz μ-law

QStringList types(const QList<QByteArray> &sent)
{
    QStringList out;
    for (const QByteArray &e : sent)
        out << QJsonDocument::fromJson(e).object().value(u"type"_s).toString();
    return out;
}
} // namespace

class TestCallParts : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    // ---- PlaybackLedger ----
    void ledgerMarksEveryHundredMillisecondsAndAtItemEnds()
    {
        FakeClock t;
        PlaybackLedger ledger(t.clock());
        QStringList after;
        for (int i = 0; i < 12; ++i) {
            const auto marks = ledger.sent(u"it1"_s, kFrame);
            QVERIFY(marks.before.isEmpty());
            after << marks.after;
        }
        // A mark after every fifth frame (800 bytes), none in between.
        QCOMPARE(after, (QStringList{{}, {}, {}, {}, u"a1"_s, {}, {}, {}, {}, u"a2"_s, {}, {}}));
        QVERIFY(ledger.audioQueued());
        // Another item's audio: the first item's last 40 ms get their own mark first.
        const auto next = ledger.sent(u"it2"_s, kFrame);
        QCOMPARE(next.before, u"a3"_s);
        QVERIFY(next.after.isEmpty());
        QCOMPARE(ledger.seal(), u"a4"_s);   // before a hang-up: the rest of it2
        QCOMPARE(ledger.seal(), QString()); // nothing unmarked left
        QVERIFY(ledger.awaitingMarks());
        for (const QString &m : {u"a1"_s, u"a2"_s, u"a3"_s, u"a4"_s})
            ledger.played(m);
        QVERIFY(!ledger.awaitingMarks());
        QVERIFY(!ledger.audioQueued());
        QCOMPARE(ledger.heardBytes(u"it1"_s), 12 * kFrame);
        QCOMPARE(ledger.heardBytes(u"it2"_s), kFrame);
    }

    void ledgerKnowsWhatTheCallerHeard()
    {
        FakeClock t;
        PlaybackLedger ledger(t.clock());
        ledger.received(u"it1"_s, 15 * kFrame);
        for (int i = 0; i < 15; ++i)
            ledger.sent(u"it1"_s, kFrame); // 300 ms queued at Twilio at once, playing from now
        QCOMPARE(ledger.heardBytes(u"it1"_s), 0);
        t.advance(20);
        QCOMPARE(ledger.heardBytes(u"it1"_s), 0); // one frame held back
        t.advance(130);
        QCOMPARE(ledger.heardBytes(u"it1"_s), (150 - 20) * 8);
        // The echo of a1 (100 ms) confirms it; time since the echo adds the rest.
        ledger.played(u"a1"_s);
        QCOMPARE(ledger.heardBytes(u"it1"_s), 800);
        t.advance(70);
        QCOMPARE(ledger.heardBytes(u"it1"_s), 800 + (70 - 20) * 8);
        // Never more than was sent, however long it has been.
        t.advance(10'000);
        QCOMPARE(ledger.heardBytes(u"it1"_s), 15 * kFrame);
        QCOMPARE(ledger.heardBytes(u"other"_s), 0);
    }

    void ledgerCountsItemsInPlayOrder()
    {
        FakeClock t;
        PlaybackLedger ledger(t.clock());
        for (int i = 0; i < 5; ++i)
            ledger.sent(u"first"_s, kFrame); // 100 ms
        for (int i = 0; i < 5; ++i)
            ledger.sent(u"second"_s, kFrame); // then 100 ms more
        t.advance(170);
        QCOMPARE(ledger.heardBytes(u"first"_s), 800);
        QCOMPARE(ledger.heardBytes(u"second"_s), (170 - 20 - 100) * 8);
    }

    void ledgerClearTruncatesAtWhatWasHeard()
    {
        FakeClock t;
        PlaybackLedger ledger(t.clock());
        ledger.received(u"it1"_s, 50 * kFrame); // the model sent a second of audio
        for (int i = 0; i < 20; ++i)
            ledger.sent(u"it1"_s, kFrame); // 400 ms of it reached Twilio
        t.advance(150);
        const std::optional<qint64> at = ledger.clear(u"it1"_s);
        QVERIFY(at.has_value());
        QCOMPARE(*at, 130); // ms heard: 150 - the held-back frame
        // Cleared audio was never played: its echoes (Twilio echoes marks on clear) do not count as heard,
        // but a hang-up still waits for them.
        QVERIFY(ledger.awaitingMarks());
        for (const QString &m : {u"a1"_s, u"a2"_s, u"a3"_s, u"a4"_s})
            ledger.played(m);
        QVERIFY(!ledger.awaitingMarks());
        QCOMPARE(ledger.heardBytes(u"it1"_s), 0);

        // Everything heard: nothing to truncate.
        PlaybackLedger done(t.clock());
        done.received(u"it2"_s, 5 * kFrame);
        for (int i = 0; i < 5; ++i)
            done.sent(u"it2"_s, kFrame);
        done.played(u"a1"_s);
        QVERIFY(!done.clear(u"it2"_s).has_value());
        QVERIFY(!done.clear(QString()).has_value());
    }

    void ledgerPlaysFromNowAfterAnIdleSpell()
    {
        FakeClock t;
        PlaybackLedger ledger(t.clock());
        for (int i = 0; i < 5; ++i)
            ledger.sent(u"greeting"_s, kFrame);
        ledger.played(u"a1"_s);
        t.advance(5000); // the caller talks for five seconds
        for (int i = 0; i < 5; ++i)
            ledger.sent(u"answer"_s, kFrame);
        QCOMPARE(ledger.heardBytes(u"answer"_s), 0); // starts playing now, not five seconds ago
        t.advance(60);
        QCOMPARE(ledger.heardBytes(u"answer"_s), 40 * 8);
    }

    // ---- ResponseGate ----
    void gateRunsOneResponseAtATime()
    {
        QList<QByteArray> sent;
        ResponseGate gate([&](const QByteArray &e) { sent << e; });
        QVERIFY(gate.idle());
        gate.request(QJsonObject{{u"instructions"_s, u"greet"_s}});
        QCOMPARE(types(sent), QStringList{u"response.create"_s});
        QVERIFY(gate.responseActive());
        gate.request(QJsonObject{{u"instructions"_s, u"second"_s}}); // requested, not yet created: waits
        QCOMPARE(sent.size(), 1);
        gate.created(u"r1"_s);
        gate.request(QJsonObject{{u"instructions"_s, u"third"_s}}); // active: waits (the latest wins)
        QCOMPARE(sent.size(), 1);
        gate.done(u"r1"_s);
        QCOMPARE(types(sent), (QStringList{u"response.create"_s, u"response.create"_s}));
        QCOMPARE(QJsonDocument::fromJson(sent[1])
                     .object()
                     .value(u"response"_s)
                     .toObject()
                     .value(u"instructions"_s),
                 u"third"_s);
        gate.created(u"r2"_s);
        gate.done(u"r2"_s);
        QVERIFY(gate.idle());
        QCOMPARE(sent.size(), 2);
        // Refused because one was active after all: asked again after the next done.
        gate.request();
        gate.refusedAsActive();
        QVERIFY(!gate.responseActive());
        gate.created(u"r3"_s);
        gate.done(u"r3"_s);
        QCOMPARE(types(sent).count(u"response.create"_s), 4);
    }

    void gateSendsToolOutputsAfterResponseDone()
    {
        QList<QByteArray> sent;
        ResponseGate gate([&](const QByteArray &e) { sent << e; });
        gate.request();
        gate.created(u"r1"_s);
        QVERIFY(gate.toolStarted(u"call_a"_s));
        QVERIFY(!gate.toolStarted(u"call_a"_s)); // announced twice (arguments.done and output_item.done)
        QVERIFY(!gate.toolStarted(QString()));
        QVERIFY(gate.toolStarted(u"call_b"_s));
        QCOMPARE(gate.toolsInFlight(), 2);
        gate.toolFinished(u"call_a"_s, u"{\"ok\":true}"_s); // the response is still active
        QCOMPARE(sent.size(), 1);
        gate.done(u"r1"_s); // call_b still running
        QCOMPARE(sent.size(), 1);
        QVERIFY(!gate.idle());
        gate.toolFinished(u"call_b"_s, u"{\"ok\":false}"_s);
        QCOMPARE(types(sent), (QStringList{u"response.create"_s, u"conversation.item.create"_s,
                                           u"conversation.item.create"_s, u"response.create"_s}));
        const QJsonObject item = QJsonDocument::fromJson(sent[1]).object().value(u"item"_s).toObject();
        QCOMPARE(item.value(u"type"_s).toString(), u"function_call_output"_s);
        QCOMPARE(item.value(u"call_id"_s).toString(), u"call_a"_s);
    }

    void gateEndingSendsOutputsButAsksNoMore()
    {
        QList<QByteArray> sent;
        ResponseGate gate([&](const QByteArray &e) { sent << e; });
        gate.request();
        gate.created(u"r1"_s);
        QVERIFY(gate.toolStarted(u"bye"_s));
        gate.setFinal();
        gate.toolFinished(u"bye"_s, u"{\"hanging_up\":true}"_s);
        gate.done(u"r1"_s);
        QCOMPARE(types(sent), (QStringList{u"response.create"_s, u"conversation.item.create"_s}));
        QVERIFY(gate.idle());
    }

    void gateDropsInterruptedResponses()
    {
        ResponseGate gate([](const QByteArray &) {});
        gate.cancelActive(); // nothing active: nothing cancelled
        QVERIFY(!gate.isCancelled(QString()));
        gate.request();
        gate.created(u"r1"_s);
        gate.cancelActive();
        QVERIFY(gate.isCancelled(u"r1"_s));
        QVERIFY(!gate.isCancelled(u"r2"_s));
    }

    // The model session dropped with a response under way and a tool running: nothing goes out until the
    // replacement is ready; then one response (the continuation), and the tool's output — replayed with the
    // history — is not sent again.
    void gateSuspendedDuringAResume()
    {
        QList<QByteArray> sent;
        ResponseGate gate([&](const QByteArray &e) { sent << e; });
        gate.request();
        gate.created(u"r1"_s);
        QVERIFY(gate.toolStarted(u"call_a"_s));
        gate.suspend();
        QVERIFY(!gate.responseActive());
        gate.toolFinished(u"call_a"_s, u"{\"ok\":true}"_s);
        gate.request(QJsonObject{{u"instructions"_s, u"dtmf"_s}});
        QCOMPARE(sent.size(), 1); // nothing while suspended
        QVERIFY(gate.resume(QJsonObject{{u"instructions"_s, u"continue"_s}}));
        QCOMPARE(types(sent), (QStringList{u"response.create"_s, u"response.create"_s}));
        QCOMPARE(QJsonDocument::fromJson(sent[1])
                     .object()
                     .value(u"response"_s)
                     .toObject()
                     .value(u"instructions"_s),
                 u"continue"_s);
        gate.created(u"r2"_s);
        gate.done(u"r2"_s);
        QCOMPARE(sent.size(), 2); // the output went with the history; the continuation answered it
        QVERIFY(gate.idle());
    }

    void gateResumeAsksForWhatWaited()
    {
        QList<QByteArray> sent;
        ResponseGate gate([&](const QByteArray &e) { sent << e; });
        gate.suspend();
        QVERIFY(!gate.resume(std::nullopt)); // nothing under way, nothing asked
        QVERIFY(sent.isEmpty());
        gate.suspend();
        gate.request(QJsonObject{{u"instructions"_s, u"key pressed"_s}});
        QVERIFY(gate.resume(std::nullopt));
        QCOMPARE(QJsonDocument::fromJson(sent.value(0))
                     .object()
                     .value(u"response"_s)
                     .toObject()
                     .value(u"instructions"_s),
                 u"key pressed"_s);
        gate.created(u"r1"_s);
        gate.done(u"r1"_s);
        // A tool that finished during the gap with no response pending: its output is answered.
        QVERIFY(gate.toolStarted(u"call_b"_s));
        gate.suspend();
        gate.toolFinished(u"call_b"_s, u"{}"_s);
        QVERIFY(gate.resume(std::nullopt));
        QCOMPARE(types(sent), (QStringList{u"response.create"_s, u"response.create"_s}));
        // Ending (a goodbye under way): no new response after a resume.
        gate.created(u"r2"_s);
        gate.done(u"r2"_s);
        gate.setFinal();
        gate.suspend();
        QVERIFY(!gate.resume(QJsonObject{{u"instructions"_s, u"continue"_s}}));
        QCOMPARE(sent.size(), 2);
    }

    // ---- Backchannels ----
    void backchannelWords()
    {
        for (const QString &t : {u"haan"_s, u"Haan ji."_s, u"haan, haan"_s, u"Acha"_s, u"accha!"_s, u"Hmm…"_s,
                                 u"ok"_s, u"Okay."_s, u"theek hai"_s, u"Right."_s, u"yes"_s, u"uh-huh"_s,
                                 u"जी"_s, u"हाँ जी"_s, u"अच्छा"_s, u"ठीक है"_s})
            QVERIFY2(isBackchannel(t), qPrintable(t));
        for (const QString &t :
             {u""_s, u"  "_s, u"ruko"_s, u"Ruko, mera order galat hai"_s, u"nahi"_s,
              u"haan mera order ABC123 hai"_s, u"haan haan haan haan haan"_s, u"no"_s, u"रुको"_s, u"order"_s})
            QVERIFY2(!isBackchannel(t), qPrintable(t));
    }

    // ---- ConversationHistory ----
    void historyReplaysTheConversationAsItems()
    {
        ConversationHistory h;
        h.agent(u"  Namaste! Main Vaani hoon.  "_s);
        h.caller(u"Mera order ABC123?"_s);
        h.caller(u"   "_s); // nothing said: not kept
        h.functionCall(u"call_1"_s, u"lookup_order"_s, u"{\"order_id\":\"ABC123\"}"_s);
        h.functionOutput(u"call_1"_s, u"{\"found\":true}"_s);
        h.agent(u"Aapka order ship ho gaya hai."_s);
        const QList<QByteArray> events = h.replayEvents();
        QCOMPARE(events.size(), 5);
        QList<QJsonObject> items;
        for (const QByteArray &e : events) {
            const QJsonObject o = QJsonDocument::fromJson(e).object();
            QCOMPARE(o.value(u"type"_s).toString(), u"conversation.item.create"_s);
            items << o.value(u"item"_s).toObject();
        }
        const auto part = [](const QJsonObject &item) {
            return item.value(u"content"_s).toArray().first().toObject();
        };
        QCOMPARE(items[0].value(u"role"_s).toString(), u"assistant"_s);
        QCOMPARE(part(items[0]).value(u"type"_s).toString(), u"output_text"_s); // GA: never assistant audio
        QCOMPARE(part(items[0]).value(u"text"_s).toString(), u"Namaste! Main Vaani hoon."_s);
        QCOMPARE(items[1].value(u"role"_s).toString(), u"user"_s);
        QCOMPARE(part(items[1]).value(u"type"_s).toString(), u"input_text"_s);
        QCOMPARE(items[2].value(u"type"_s).toString(), u"function_call"_s);
        QCOMPARE(items[2].value(u"call_id"_s).toString(), u"call_1"_s);
        QCOMPARE(items[2].value(u"name"_s).toString(), u"lookup_order"_s);
        QCOMPARE(items[2].value(u"arguments"_s).toString(), u"{\"order_id\":\"ABC123\"}"_s);
        QCOMPARE(items[3].value(u"type"_s).toString(), u"function_call_output"_s);
        QCOMPARE(items[3].value(u"output"_s).toString(), u"{\"found\":true}"_s);
        QCOMPARE(items[4].value(u"role"_s).toString(), u"assistant"_s);
    }

    void historyIsBoundedAndNeverOrphansAnOutput()
    {
        ConversationHistory h;
        h.functionCall(u"call_old"_s, u"lookup_order"_s, u"{}"_s);
        h.functionOutput(u"call_old"_s, u"{\"ok\":true}"_s);
        for (int i = 0; i < ConversationHistory::kMaxEntries - 1; ++i)
            h.caller(u"turn %1"_s.arg(i));
        // The call went first; its output is still kept but is not replayed without it.
        QCOMPARE(h.entries().size(), ConversationHistory::kMaxEntries);
        QCOMPARE(h.entries().first().kind, ConversationHistory::Kind::FunctionOutput);
        for (const QByteArray &e : h.replayEvents())
            QVERIFY(!e.contains("function_call_output"));
        // By size: long texts are cut per entry and the total stays under the bound.
        ConversationHistory big;
        for (int i = 0; i < 20; ++i)
            big.agent(QString(10000, u'a'));
        QVERIFY(big.chars() <= ConversationHistory::kMaxChars);
        QCOMPARE(big.entries().last().text.size(), ConversationHistory::kMaxEntryChars);
        // An output too long to repeat stays valid JSON.
        ConversationHistory tool;
        tool.functionCall(u"c"_s, u"lookup_order"_s, u"{}"_s);
        tool.functionOutput(u"c"_s, u"{\"x\":\""_s + QString(9000, u'x') + u"\"}"_s);
        const QJsonObject out =
            QJsonDocument::fromJson(tool.replayEvents().last()).object().value(u"item"_s).toObject();
        QJsonParseError err;
        QJsonDocument::fromJson(out.value(u"output"_s).toString().toUtf8(), &err);
        QCOMPARE(err.error, QJsonParseError::NoError);
    }

    // ---- CallRecorder ----
    void recorderWritesTheRecordInOrder()
    {
        QString error;
        db::DbWorker worker(db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"callparts"_s) + u"/r.db"_s, {}, &error));
        QVERIFY(worker.initialise(false, false).result().ok());
        RecordJournal journal(&worker, {});
        QVERIFY(journal.open(&error));
        auto count = [&] {
            return worker.submit([](db::Repositories &r) { return r.calls.list({}); }).result().value.size();
        };
        FakeClock t;
        {
            CallRecorder idle(&journal, &worker, u"CAidle"_s, t.clock());
            Q_UNUSED(idle); // constructing one writes nothing
        }
        QCOMPARE(count(), 0);

        CallRecorder rec(&journal, &worker, u"CArec"_s, t.clock());
        QObject context;
        std::optional<db::DbResult<db::CallRecord>> checked;
        rec.open({u"CArec"_s, u"+919876543210"_s, u"+918000000000"_s, u"test"_s, {}, {}, {}}, &context,
                 [&](const db::DbResult<db::CallRecord> &c) { checked = c; });
        rec.open({u"CArec"_s, {}, {}, {}, {}, {}, {}}, &context,
                 [](const db::DbResult<db::CallRecord> &) { QFAIL("opened twice"); });
        QVERIFY(!checked); // from the event loop, never inside open()
        QTRY_VERIFY(checked.has_value());
        QCOMPARE(checked->value.outcome, u"in_progress"_s);

        QCOMPARE(rec.offsetMs(), 0);
        rec.startClock();
        t.advance(1200);
        rec.transcript(u"agent"_s, u"Namaste, Vaani bol rahi hoon"_s, u"item_greet"_s);
        t.advance(800);
        rec.firstAudio();
        rec.transcript(u"caller"_s, u"mera order kahan hai"_s);
        rec.truncated(u"item_answer"_s); // cut before its transcript arrived
        t.advance(300);
        rec.transcript(u"agent"_s, u"Aapka order"_s, u"item_answer"_s);
        rec.truncated(u"item_greet"_s); // and one whose line exists
        rec.turn(640);
        rec.tool(u"lookup_order"_s, u"{\"order_id\":\"ORD-1\"}"_s, u"{\"found\":true}"_s, 12, true);
        realtime::Usage u;
        u.inputAudioTokens = 100;
        u.outputAudioTokens = 50;
        u.totalTokens = 150;
        rec.usage(u, 0.01);
        rec.end(u"resolved"_s, u"agent ended the call"_s);
        QCOMPARE(rec.conversation(),
                 (QStringList{u"Agent: Namaste, Vaani bol rahi hoon"_s, u"Caller: mera order kahan hai"_s,
                              u"Agent: Aapka order"_s}));

        const db::CallRecord call =
            worker.submit([](db::Repositories &r) { return r.calls.findBySid(u"CArec"_s); }).result().value;
        const qint64 id = call.id;
        const auto lines =
            worker.submit([id](db::Repositories &r) { return r.calls.transcript(id); }).result().value;
        const auto tools =
            worker.submit([id](db::Repositories &r) { return r.calls.tools(id); }).result().value;
        const auto turns =
            worker.submit([id](db::Repositories &r) { return r.calls.turns(id); }).result().value;
        QCOMPARE(call.outcome, u"resolved"_s);
        QCOMPARE(call.firstAudioMs, std::optional<int>(2000));
        QCOMPARE(call.audioInputTokens, 100);
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines[0].offsetMs, 1200);
        QCOMPARE(lines[1].offsetMs, 2000);
        QCOMPARE(lines[2].offsetMs, 2300);
        QVERIFY(lines[0].truncated);
        QVERIFY(!lines[1].truncated);
        QVERIFY(lines[2].truncated);
        QCOMPARE(tools.size(), 1);
        QCOMPARE(tools[0].tool, u"lookup_order"_s);
        QCOMPARE(turns.size(), 1);
        QCOMPARE(turns[0].latencyMs, 640);
        QCOMPARE(turns[0].offsetMs, 2300);
    }

    void recorderNeverWritesAnotherCallsRecord()
    {
        QString error;
        db::DbWorker worker(db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"callparts"_s) + u"/d.db"_s, {}, &error));
        QVERIFY(worker.initialise(false, false).result().ok());
        // The call ended before (a webhook replayed after it).
        QVERIFY(worker
                    .submit([](db::Repositories &r) -> db::DbResult<bool> {
                        const auto c = r.calls.start(
                            {u"CAold"_s, u"+919876543210"_s, u"+918000000000"_s, u"a"_s, {}, {}, {}});
                        return r.calls.end(c.value.id, {u"transferred"_s, u"to a human"_s, {}, {}, {}});
                    })
                    .result()
                    .ok());
        FakeClock t;
        RecordJournal journal(&worker, {});
        QVERIFY(journal.open(&error));
        CallRecorder rec(&journal, &worker, u"CAold"_s, t.clock());
        QObject context;
        std::optional<db::DbResult<db::CallRecord>> checked;
        rec.open({u"CAold"_s, u"+919876543210"_s, u"+918000000000"_s, u"b"_s, {}, {}, {}}, &context,
                 [&](const db::DbResult<db::CallRecord> &c) { checked = c; });
        QTRY_VERIFY(checked.has_value());
        QCOMPARE(checked->value.outcome, u"transferred"_s);
        rec.transcript(u"caller"_s, u"hello?"_s);
        rec.end(u"duplicate"_s, u"call already handled"_s);
        const db::CallRecord old =
            worker.submit([](db::Repositories &r) { return r.calls.findBySid(u"CAold"_s); }).result().value;
        const qint64 id = old.id;
        const auto lines =
            worker.submit([id](db::Repositories &r) { return r.calls.transcript(id); }).result().value;
        QCOMPARE(old.outcome, u"transferred"_s);
        QCOMPARE(old.endReason, u"to a human"_s);
        QVERIFY(lines.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCallParts)
#include "tst_callparts.moc"
