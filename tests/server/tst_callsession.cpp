// CallSession as a job: lifecycle races with loopback legs (no sockets) — it finishes exactly once whatever
// ends first, never sends a second response.create while one is active, and a tool result that arrives after
// the caller hung up is dropped, not sent.
#include "callregistry.h"
#include "callsession.h"
#include "db/dbworker.h"
#include "metrics.h"
#include "mulaw.h"
#include "recordjournal.h"
#include "testenv.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>

#include <cmath>
#include <functional>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
class LoopTelephony : public TelephonyLeg
{
public:
    QList<QString> sent;
    int closes = 0;
    void sendMedia(QByteArrayView, const QString &mark) override
    {
        sent << u"media"_s;
        if (!mark.isEmpty())
            sent << u"mark:"_s + mark;
    }
    void sendMark(const QString &name) override { sent << u"mark:"_s + name; }
    void sendClear() override { sent << u"clear"_s; }
    void close(const QString &reason) override
    {
        ++closes;
        Q_EMIT stopped(reason); // like MediaStream: closing ends the stream
    }
    bool isStarted() const override { return true; }
    QString streamSid() const override { return u"MZloop"_s; }
};

// Owned by the session (deleted with it): what it saw is kept in a log the test shares, so the test can read
// it after the session is gone.
struct ModelLog
{
    QList<QJsonObject> sent;
    int closes = 0;
};

class LoopModel : public ModelLeg
{
public:
    std::shared_ptr<ModelLog> log = std::make_shared<ModelLog>();
    QList<QJsonObject> &sent = log->sent;
    bool isUp = false;
    realtime::SessionConfig config;
    void start(const realtime::SessionConfig &c) override { config = c; }
    void send(const QByteArray &e) override { log->sent << QJsonDocument::fromJson(e).object(); }
    void close() override { ++log->closes; }
    bool isReady() const override { return isUp; }
    void becomeReady()
    {
        isUp = true;
        Q_EMIT ready();
    }
    void serverEvent(const QJsonObject &o)
    {
        auto r = realtime::parse(QJsonDocument(o).toJson(QJsonDocument::Compact));
        Q_EMIT event(r.event);
    }
    int count(const QString &type) const { return countOf(*log, type); }
    static int countOf(const ModelLog &l, const QString &type)
    {
        return int(std::count_if(l.sent.begin(), l.sent.end(), [&](const QJsonObject &o) {
            return o.value(u"type"_s).toString() == type;
        }));
    }
};
} // namespace

class TestCallSession : public QObject
{
    Q_OBJECT
    std::unique_ptr<db::DbWorker> worker;
    std::unique_ptr<RecordJournal> journal;
    std::unique_ptr<Metrics> metrics;
    std::unique_ptr<CallRegistry> registry;
    ServerContext ctx;

    CallSession *make(LoopModel **model, const QString &sid = u"CAloop"_s)
    {
        *model = new LoopModel;
        auto *s = new CallSession({sid, u"+919876543210"_s, u"+918000000000"_s}, &ctx, *model);
        registry->tryReserve(sid);
        s->start(CallSession::builtInPrompt());
        return s;
    }

    // A session with the phone attached, the model ready and response r1 speaking item it1 in chunks of `ms`.
    std::function<void()> speaking(LoopModel **model, LoopTelephony *phone, int ms)
    {
        CallSession *s = make(model);
        s->attachStream(phone);
        (*model)->becomeReady();
        (*model)->serverEvent(
            {{u"type"_s, u"response.created"_s}, {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}}}});
        const QString chunk = QString::fromLatin1(QByteArray(8 * ms, '\xff').toBase64());
        LoopModel *m = *model;
        return [m, chunk] {
            m->serverEvent({{u"type"_s, u"response.output_audio.delta"_s},
                            {u"response_id"_s, u"r1"_s},
                            {u"item_id"_s, u"it1"_s},
                            {u"delta"_s, chunk}});
        };
    }

    // BACKCHANNEL_MS 150, and an answer of `chunks` × 100 ms sent to Twilio (none of it played yet).
    void answerPlaying(LoopModel **model, LoopTelephony *phone, int chunks)
    {
        ctx.settings.backchannelMs = 150;
        const auto delta = speaking(model, phone, 100);
        for (int i = 0; i < chunks; ++i)
            delta();
    }

    // Caller audio through the stream: 20 ms frames, loud (a 440 Hz tone) or silent.
    static void callerFrames(LoopTelephony &phone, int count, bool loud)
    {
        QList<std::int16_t> pcm(160);
        for (qsizetype i = 0; i < pcm.size(); ++i)
            pcm[i] = loud ? std::int16_t(8000 * std::sin(2 * M_PI * 440.0 * double(i) / 8000.0)) : 0;
        const QByteArray payload = mulaw::encode(pcm).toBase64();
        for (int i = 0; i < count; ++i)
            Q_EMIT phone.media(payload, 0);
    }

private Q_SLOTS:
    void init()
    {
        ctx.settings.backchannelMs = ServerSettings{}.backchannelMs;
        QString error;
        worker = std::make_unique<db::DbWorker>(db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"session"_s) + u"/v.db"_s, {}, &error));
        QVERIFY(worker->initialise(true, false).result().ok());
        metrics = std::make_unique<Metrics>();
        registry = std::make_unique<CallRegistry>(10);
        ctx.db = worker.get();
        journal = std::make_unique<RecordJournal>(worker.get(), RecordJournal::Options{});
        QString journalError;
        QVERIFY(journal->open(&journalError));
        ctx.journal = journal.get();
        ctx.metrics = metrics.get();
        ctx.registry = registry.get();
        ctx.settings.hangupDrainTimeoutMs = 500;
    }
    void cleanup()
    {
        QTest::qWait(50); // let deleteLater run
        journal.reset();
        worker.reset();
    }

    // Constructing a session has no side effects: the call's record is opened by start(), attachStream() or
    // armPrewarmExpiry(), whichever comes first, so a creator can wire the session up before anything
    // happens.
    void constructorWritesNothing()
    {
        auto *model = new LoopModel;
        auto *s = new CallSession({u"CAquiet"_s, u"+919876543210"_s, u"+918000000000"_s}, &ctx, model);
        QTest::qWait(50);
        auto rows = [&] {
            return worker->submit([](db::Repositories &r) { return r.calls.findBySid(u"CAquiet"_s); })
                .result()
                .ok();
        };
        QVERIFY(!rows());
        registry->tryReserve(u"CAquiet"_s);
        QVERIFY(registry->addPrewarmed(u"CAquiet"_s, s));
        s->armPrewarmExpiry(60000);
        QTRY_VERIFY(rows());
        QSignalSpy finished(s, &CallSession::finished);
        s->endForShutdown(u"test over"_s);
        QCOMPARE(finished.size(), 1);
    }

    // Every pair of lifecycle events, in both orders, for a call in progress and for one pre-warmed by the
    // webhook and still waiting for its stream: the session finishes exactly once (a terminating event ends
    // the calls the pair leaves alive), releases its call slot, leaves the registry and deletes itself.
    void lifecycleTable_data()
    {
        QTest::addColumn<bool>("attached");
        QTest::addColumn<QString>("first");
        QTest::addColumn<QString>("second");
        const QStringList live = {u"caller stop"_s, u"model error"_s,     u"model close"_s,
                                  u"tool result"_s, u"hang-up request"_s, u"session_expired"_s,
                                  u"shutdown"_s};
        const QStringList waiting = {u"stream never started"_s, u"model error"_s, u"model close"_s,
                                     u"session_expired"_s,      u"shutdown"_s,    u"stream attaches"_s};
        for (const QString &a : live)
            for (const QString &b : live)
                QTest::addRow("live: %s, %s", qPrintable(a), qPrintable(b)) << true << a << b;
        for (const QString &a : waiting)
            for (const QString &b : waiting)
                QTest::addRow("pre-warmed: %s, %s", qPrintable(a), qPrintable(b)) << false << a << b;
    }

    void lifecycleTable()
    {
        QFETCH(bool, attached);
        QFETCH(QString, first);
        QFETCH(QString, second);
        static int n = 0;
        const QString sid = u"CAtable%1"_s.arg(++n);
        LoopModel *model;
        QPointer<CallSession> s = make(&model, sid);
        QSignalSpy finished(s.data(), &CallSession::finished);
        LoopTelephony phone;
        bool onPhone = false;
        auto attach = [&] {
            if (CallSession *taken = registry->takePrewarmed(sid)) {
                taken->attachStream(&phone);
                onPhone = true;
            }
        };
        if (attached) {
            s->attachStream(&phone);
            onPhone = true;
            model->becomeReady();
        } else {
            QVERIFY(registry->addPrewarmed(sid, s));
            model->becomeReady();
        }
        int calls = 0;
        auto apply = [&](const QString &event) {
            if (event == u"caller stop"_s) {
                if (onPhone)
                    Q_EMIT phone.stopped(u"stop"_s);
            } else if (event == u"stream attaches"_s) {
                attach();
            } else if (event == u"stream never started"_s) {
                if (s)
                    s->armPrewarmExpiry(0);
            } else if (event == u"shutdown"_s) {
                if (s)
                    s->endForShutdown(u"server shutting down"_s);
            } else if (!s) {
                return; // the model leg went with the session
            } else if (event == u"model error"_s) {
                model->serverEvent({{u"type"_s, u"error"_s},
                                    {u"error"_s, QJsonObject{{u"type"_s, u"server_error"_s},
                                                             {u"code"_s, u"server_error"_s},
                                                             {u"message"_s, u"boom"_s}}}});
            } else if (event == u"session_expired"_s) {
                model->serverEvent({{u"type"_s, u"error"_s},
                                    {u"error"_s, QJsonObject{{u"type"_s, u"invalid_request_error"_s},
                                                             {u"code"_s, u"session_expired"_s},
                                                             {u"message"_s, u"Your session hit the maximum "
                                                                            "duration of 60 minutes."_s}}}});
            } else if (event == u"model close"_s) {
                Q_EMIT model->failed(u"socket closed"_s);
            } else if (event == u"tool result"_s || event == u"hang-up request"_s) {
                const bool end = event == u"hang-up request"_s;
                const QString callId = u"call%1"_s.arg(++calls);
                const QString response = u"rt%1"_s.arg(calls);
                model->serverEvent(
                    {{u"type"_s, u"response.created"_s}, {u"response"_s, QJsonObject{{u"id"_s, response}}}});
                model->serverEvent(
                    {{u"type"_s, u"response.function_call_arguments.done"_s},
                     {u"response_id"_s, response},
                     {u"item_id"_s, QString(u"fc"_s + callId)},
                     {u"call_id"_s, callId},
                     {u"name"_s, end ? u"end_call"_s : u"lookup_order"_s},
                     {u"arguments"_s, end ? u"{\"reason\":\"done\"}"_s : u"{\"order_id\":\"ABC123\"}"_s}});
                if (s)
                    model->serverEvent(
                        {{u"type"_s, u"response.done"_s},
                         {u"response"_s, QJsonObject{{u"id"_s, response}, {u"status"_s, u"completed"_s}}}});
                QTest::qWait(30); // the tool's answer comes back from the database thread
            }
            QTest::qWait(5);
        };
        apply(first);
        apply(second);
        // End whatever is still alive: the caller hangs up, or a stream that never came expires.
        if (s && finished.isEmpty()) {
            if (onPhone)
                Q_EMIT phone.stopped(u"stop"_s);
            else
                s->armPrewarmExpiry(0);
        }
        QTRY_COMPARE(finished.size(), 1);
        QTRY_VERIFY(s.isNull()); // deleted itself
        QCOMPARE(finished.size(), 1);
        QCOMPARE(registry->active(), 0);
        QVERIFY(!registry->hasPrewarmed(sid));
        QCOMPARE(metrics->callsActive.load(), 0);
    }

    void stopAndModelFailureTogetherFinishOnce()
    {
        LoopModel *model;
        CallSession *s = make(&model);
        const auto log = model->log;
        QSignalSpy finished(s, &CallSession::finished);
        LoopTelephony phone;
        s->attachStream(&phone);
        model->becomeReady();
        Q_EMIT phone.stopped(u"stop"_s);
        Q_EMIT model->failed(u"socket dropped"_s);
        QCOMPARE(finished.size(), 1);
        QTest::qWait(20); // the session deletes itself (and its model leg)
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(1).toString(), u"dropped"_s);
        QCOMPARE(log->closes, 1);
        QCOMPARE(registry->active(), 0);
        QCOMPARE(metrics->callsActive.load(), 0);
    }

    void hangUpDuringAToolCallDropsTheResult()
    {
        LoopModel *model;
        CallSession *s = make(&model);
        const auto log = model->log;
        QSignalSpy finished(s, &CallSession::finished);
        LoopTelephony phone;
        s->attachStream(&phone);
        model->becomeReady();
        // The database thread is held busy until after the hang-up, so the lookup cannot finish (and its
        // continuation run at once) before it, however the threads are scheduled.
        QSemaphore gate;
        worker->submit([&gate](db::Repositories &) {
            gate.acquire();
            return db::DbResult<bool>(true);
        });
        model->serverEvent(
            {{u"type"_s, u"response.created"_s}, {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}}}});
        model->serverEvent({{u"type"_s, u"response.function_call_arguments.done"_s},
                            {u"call_id"_s, u"c1"_s},
                            {u"name"_s, u"lookup_order"_s},
                            {u"arguments"_s, u"{\"order_id\":\"ABC123\"}"_s}});
        model->serverEvent({{u"type"_s, u"response.done"_s},
                            {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}, {u"status"_s, u"completed"_s}}}});
        // The caller hangs up while the lookup runs on the database thread (its result can only arrive
        // through this thread's event loop, so strictly after the hang-up). Were the session still alive, the
        // output would be sent then, since no response is active.
        Q_EMIT phone.stopped(u"stop"_s);
        QCOMPARE(finished.size(), 1);
        gate.release();
        QTest::qWait(200); // the lookup completes meanwhile; the session (and its model leg) is gone
        QCOMPARE(LoopModel::countOf(*log, u"conversation.item.create"_s), 0);
        QCOMPARE(finished.size(), 1);
    }

    void neverASecondResponseCreateWhileOneIsActive()
    {
        LoopModel *model;
        CallSession *s = make(&model);
        LoopTelephony phone;
        s->attachStream(&phone);
        model->becomeReady();
        QCOMPARE(model->count(u"response.create"_s), 1); // the greeting
        model->serverEvent(
            {{u"type"_s, u"response.created"_s}, {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}}}});
        Q_EMIT phone.dtmf(u"1"_s); // wants a response, but one is active
        Q_EMIT phone.dtmf(u"2"_s);
        QCOMPARE(model->count(u"response.create"_s), 1);
        model->serverEvent({{u"type"_s, u"response.done"_s},
                            {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}, {u"status"_s, u"completed"_s}}}});
        QCOMPARE(model->count(u"response.create"_s), 2); // one queued create, after response.done
        Q_EMIT phone.stopped(u"stop"_s);
    }

    void prewarmedModelFailureEndsTheCallAtOnce()
    {
        LoopModel *model;
        CallSession *s = make(&model, u"CAwarm1"_s);
        QSignalSpy finished(s, &CallSession::finished);
        QVERIFY(registry->addPrewarmed(u"CAwarm1"_s, s));
        Q_EMIT model->failed(u"401"_s);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(1).toString(), u"failed"_s);
        QVERIFY(!registry->hasPrewarmed(u"CAwarm1"_s));
    }

    void claimedSessionWaitsForItsStreamBeforeEnding()
    {
        LoopModel *model;
        CallSession *s = make(&model, u"CAwarm2"_s);
        QSignalSpy finished(s, &CallSession::finished);
        QVERIFY(registry->addPrewarmed(u"CAwarm2"_s, s));
        QCOMPARE(registry->takePrewarmed(u"CAwarm2"_s), s); // a stream claimed it on another worker …
        Q_EMIT model->failed(u"401"_s);                     // … and the model fails before it attaches
        QCOMPARE(finished.size(), 0);                       // still alive: the claimant holds a pointer
        LoopTelephony phone;
        s->attachStream(&phone);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(1).toString(), u"failed"_s);
        QCOMPARE(phone.closes, 1); // the stream goes back to Twilio's fallback TwiML
    }

    void marksEveryHundredMillisecondsAndInterpolatedBargeIn()
    {
        ctx.settings.backchannelMs = 0; // the model's own barge-in: every speech_started interrupts
        LoopModel *model;
        LoopTelephony phone;
        const auto delta = speaking(&model, &phone, 20);
        for (int i = 0; i < 12; ++i)
            delta();
        // One mark per 100 ms of audio, carried with the media frame that completes it.
        QCOMPARE(phone.sent.count(u"media"_s), 12);
        QCOMPARE(phone.sent.count(u"mark:a1"_s), 1);
        QCOMPARE(phone.sent.count(u"mark:a2"_s), 1);
        QCOMPARE(phone.sent.indexOf(u"mark:a1"_s), 5); // after the fifth frame
        QCOMPARE(phone.sent.size(), 14);
        // The end of the item's audio marks the rest (40 ms).
        model->serverEvent({{u"type"_s, u"response.output_audio.done"_s},
                            {u"response_id"_s, u"r1"_s},
                            {u"item_id"_s, u"it1"_s}});
        QCOMPARE(phone.sent.last(), u"mark:a3"_s);
        // Twilio played the first 100 ms, then 60 ms or more went by: that much more was heard.
        Q_EMIT phone.markPlayed(u"a1"_s);
        QTest::qWait(60);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s},
                            {u"audio_start_ms"_s, 900},
                            {u"item_id"_s, u"u1"_s}});
        QCOMPARE(phone.sent.last(), u"clear"_s);
        const auto t = std::find_if(model->sent.begin(), model->sent.end(), [](const QJsonObject &o) {
            return o.value(u"type"_s) == u"conversation.item.truncate"_s;
        });
        QVERIFY(t != model->sent.end());
        const int end = t->value(u"audio_end_ms"_s).toInt();
        // 100 ms confirmed + at least 60 ms − the 20 ms held back; never more than was sent (240 ms).
        QVERIFY2(end >= 140 && end <= 240, qPrintable(QString::number(end)));
        Q_EMIT phone.stopped(u"stop"_s);
    }

    // BACKCHANNEL_MS: the model is configured not to answer or cancel by itself; a "haan ji" over the agent
    // changes nothing, sustained speech interrupts after BACKCHANNEL_MS, short words that are not a
    // backchannel interrupt once transcribed, and speech over the agent's last moments is an answer.
    void sessionLeavesTurnTakingToTheBridge()
    {
        LoopModel *model;
        CallSession *s = make(&model);
        QTRY_VERIFY(!model->config.instructions.isEmpty()); // started (once its record was checked)
        QCOMPARE(model->config.vad.createResponse, false);
        QCOMPARE(model->config.vad.interruptResponse, false);
        LoopTelephony phone;
        s->attachStream(&phone);
        Q_EMIT phone.stopped(u"stop"_s);
        ctx.settings.backchannelMs = 0; // the model's own turn-taking, as before
        LoopModel *legacy;
        make(&legacy, u"CAlegacy"_s);
        QTRY_VERIFY(!legacy->config.instructions.isEmpty());
        QCOMPARE(legacy->config.vad.createResponse, true);
        QCOMPARE(legacy->config.vad.interruptResponse, true);
    }

    void backchannelKeepsTheAgentTalking()
    {
        LoopModel *model;
        LoopTelephony phone;
        answerPlaying(&model, &phone, 30); // 3 s of answer at Twilio, BACKCHANNEL_MS 150
        const int creates = model->count(u"response.create"_s);
        callerFrames(phone, 5, true); // 100 ms of "haan ji"…
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s}, {u"item_id"_s, u"u1"_s}});
        callerFrames(phone, 2, true);   // …140 ms in all (BACKCHANNEL_MS 150)…
        callerFrames(phone, 20, false); // …then quiet
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_stopped"_s}, {u"item_id"_s, u"u1"_s}});
        model->serverEvent({{u"type"_s, u"input_audio_buffer.committed"_s}, {u"item_id"_s, u"u1"_s}});
        model->serverEvent({{u"type"_s, u"conversation.item.input_audio_transcription.completed"_s},
                            {u"item_id"_s, u"u1"_s},
                            {u"transcript"_s, u"Haan ji."_s}});
        QVERIFY(!phone.sent.contains(u"clear"_s));
        QCOMPARE(model->count(u"response.cancel"_s), 0);
        QCOMPARE(model->count(u"conversation.item.truncate"_s), 0);
        QCOMPARE(model->count(u"response.create"_s), creates); // not answered: the agent carries on
        QCOMPARE(metrics->backchannels.load(), quint64(1));
        QCOMPARE(metrics->bargeIns.load(), quint64(0));
        Q_EMIT phone.stopped(u"stop"_s);
    }

    void sustainedSpeechInterruptsAfterBackchannelMs()
    {
        LoopModel *model;
        LoopTelephony phone;
        answerPlaying(&model, &phone, 30); // 3 s of answer at Twilio, BACKCHANNEL_MS 150
        const int creates = model->count(u"response.create"_s);
        callerFrames(phone, 3, true);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s}, {u"item_id"_s, u"u1"_s}});
        QVERIFY(!phone.sent.contains(u"clear"_s)); // not yet: it may be a "haan"
        callerFrames(phone, 3, true);
        QVERIFY(!phone.sent.contains(u"clear"_s)); // 120 ms
        callerFrames(phone, 2, true);              // 160 ms of voice: past BACKCHANNEL_MS
        QVERIFY(phone.sent.contains(u"clear"_s));
        QCOMPARE(model->count(u"response.cancel"_s), 1); // the model does not cancel by itself here
        QCOMPARE(model->sent.last().value(u"type"_s).toString(), u"conversation.item.truncate"_s);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_stopped"_s}, {u"item_id"_s, u"u1"_s}});
        model->serverEvent({{u"type"_s, u"input_audio_buffer.committed"_s}, {u"item_id"_s, u"u1"_s}});
        QCOMPARE(model->count(u"response.create"_s), creates); // waits for the cancelled answer to end
        model->serverEvent({{u"type"_s, u"response.done"_s},
                            {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}, {u"status"_s, u"cancelled"_s}}}});
        QCOMPARE(model->count(u"response.create"_s), creates + 1); // then the caller is answered
        QCOMPARE(metrics->bargeIns.load(), quint64(1));
        Q_EMIT phone.stopped(u"stop"_s);
    }

    void shortWordsThatAreNotABackchannelInterrupt()
    {
        LoopModel *model;
        LoopTelephony phone;
        answerPlaying(&model, &phone, 30); // 3 s of answer at Twilio, BACKCHANNEL_MS 150
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s}, {u"item_id"_s, u"u1"_s}});
        callerFrames(phone, 4, true);
        callerFrames(phone, 15, false);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_stopped"_s}, {u"item_id"_s, u"u1"_s}});
        model->serverEvent({{u"type"_s, u"input_audio_buffer.committed"_s}, {u"item_id"_s, u"u1"_s}});
        QVERIFY(!phone.sent.contains(u"clear"_s)); // short: its words decide
        model->serverEvent({{u"type"_s, u"conversation.item.input_audio_transcription.completed"_s},
                            {u"item_id"_s, u"u1"_s},
                            {u"transcript"_s, u"Ruko!"_s}});
        QVERIFY(phone.sent.contains(u"clear"_s));
        QCOMPARE(model->count(u"response.cancel"_s), 1);
        Q_EMIT phone.stopped(u"stop"_s);
    }

    void speechAtTheEndOfTheAgentsTurnIsAnAnswer()
    {
        LoopModel *model;
        LoopTelephony phone;
        answerPlaying(&model, &phone, 5); // "…ticket bana doon?" — 500 ms left to play, nothing more coming
        model->serverEvent({{u"type"_s, u"response.done"_s},
                            {u"response"_s, QJsonObject{{u"id"_s, u"r1"_s}, {u"status"_s, u"completed"_s}}}});
        const int creates = model->count(u"response.create"_s);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s}, {u"item_id"_s, u"u1"_s}});
        callerFrames(phone, 10, true);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_stopped"_s}, {u"item_id"_s, u"u1"_s}});
        model->serverEvent({{u"type"_s, u"input_audio_buffer.committed"_s}, {u"item_id"_s, u"u1"_s}});
        QCOMPARE(model->count(u"response.create"_s), creates + 1); // "haan" here is the answer
        QCOMPARE(metrics->backchannels.load(), quint64(0));
        Q_EMIT phone.stopped(u"stop"_s);
    }

    void bargeInTruncatesAtWhatWasHeard()
    {
        ctx.settings.backchannelMs = 0;
        LoopModel *model;
        LoopTelephony phone;
        const auto delta = speaking(&model, &phone, 100);
        for (int i = 0; i < 5; ++i)
            delta();
        QCOMPARE(phone.sent.count(u"media"_s), 5);
        // Twilio played the first two chunks.
        Q_EMIT phone.markPlayed(u"a1"_s);
        Q_EMIT phone.markPlayed(u"a2"_s);
        model->serverEvent({{u"type"_s, u"input_audio_buffer.speech_started"_s},
                            {u"audio_start_ms"_s, 900},
                            {u"item_id"_s, u"u1"_s}});
        QCOMPARE(phone.sent.last(), u"clear"_s);
        // Echoes caused by the clear do not count as heard.
        for (int i = 3; i <= 5; ++i)
            Q_EMIT phone.markPlayed(u"a%1"_s.arg(i));
        const auto truncates =
            std::count_if(model->sent.begin(), model->sent.end(), [](const QJsonObject &o) {
                return o.value(u"type"_s) == u"conversation.item.truncate"_s;
            });
        QCOMPARE(truncates, 1);
        const QJsonObject t = *std::find_if(model->sent.begin(), model->sent.end(), [](const QJsonObject &o) {
            return o.value(u"type"_s) == u"conversation.item.truncate"_s;
        });
        QCOMPARE(t.value(u"audio_end_ms"_s).toInt(), 200);
        QCOMPARE(t.value(u"item_id"_s).toString(), u"it1"_s);
        // Late audio of the interrupted response is dropped.
        delta();
        QCOMPARE(phone.sent.count(u"media"_s), 5);
        Q_EMIT phone.stopped(u"stop"_s);
    }
};

QTEST_GUILESS_MAIN(TestCallSession)
#include "tst_callsession.moc"
