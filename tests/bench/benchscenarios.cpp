// vaani-bench's latency (--latency) and backchannel (--backchannel) scenarios. See docs/performance.md.
#include "benchcommon.h"

#include "benchcall.h"
#include "espeakvoice.h"
#include "fakerealtime.h"
#include "mulaw.h"
#include "twiliosimulator.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace Qt::StringLiterals;
using namespace vaani;

namespace vaani::bench {

// Calls one after another against a fake with realistic delays: Twilio's gap between webhook and stream,
// time from `start` to the first greeting frame, and the latency the bridge adds to each agent turn
// (the fake sends its first audio delta → that audio reaches "Twilio").
int runLatency(const QCommandLineParser &p)
{
    test::FakeRealtimeServer fake;
    fake.connectDelayMs = p.value(u"connect-delay"_s).toInt();
    fake.firstAudioDelayMs = p.value(u"first-audio-delay"_s).toInt();
    fake.greetingAudioMs = 1000;
    fake.deltaMs = 100;
    const int calls = std::max(1, p.value(u"calls"_s).toInt());
    for (int i = 0; i < calls; ++i)
        fake.turns << test::FakeTurn{u"Mera order kahan hai?"_s, {}, {}, u"Ji, dekhti hoon."_s, 600};
    if (!fake.listen())
        return 1;
    SpawnedServer server;
    const int warm =
        p.isSet(u"warm-sessions"_s) ? p.value(u"warm-sessions"_s).toInt() : -1; // -1: server default
    if (!server.start(fake.url().toString(), p.value(u"server-threads"_s), warm) ||
        !waitHealthy(server.base, 15000)) {
        std::fprintf(stderr, "vaani-bench: cannot start vaani-server\n");
        return 1;
    }
    if (warm != 0) {
        // Let the pool connect before the first call (later calls find the replacements warm).
        QEventLoop settle;
        QTimer::singleShot(fake.connectDelayMs + 500, &settle, &QEventLoop::quit);
        settle.exec();
    }
    const int gapMs = p.value(u"gap"_s).toInt();
    std::printf(
        "vaani-bench latency: %d calls, fake connect %d ms, first audio %d ms, webhook→stream gap %d ms, "
        "warm sessions %s\n",
        calls, fake.connectDelayMs, fake.firstAudioDelayMs, gapMs,
        warm < 0 ? "(server default)" : qPrintable(QString::number(warm)));
    std::vector<qint64> greeting, turn;
    int failed = 0;
    for (int i = 0; i < calls; ++i) {
        test::TwilioSimulator sim;
        sim.webhookUrl = QUrl(server.base.toString() + u"/incoming-call"_s);
        sim.authToken = QString::fromLatin1(kToken);
        QEventLoop loop;
        QTimer deadline;
        deadline.setSingleShot(true);
        QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
        deadline.start(15000);
        qint64 speechQueuedNs = 0, turnAudioNs = 0;
        int responsesBefore = 0;
        QObject::connect(&sim, &test::TwilioSimulator::webhookAnswered, &loop, [&](int status) {
            if (status != 200) {
                loop.quit();
                return;
            }
            QTimer::singleShot(gapMs, &sim, [&] { sim.openStream(); });
        });
        QObject::connect(&sim, &test::TwilioSimulator::agentAudio, &loop, [&] {
            if (speechQueuedNs > 0 && turnAudioNs == 0 && fake.firstDeltaSentNs.size() > responsesBefore) {
                turnAudioNs = BenchCall::nowNs();
                loop.quit();
            }
        });
        QTimer poll;
        poll.setInterval(10);
        QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
            // After the greeting has played, the caller speaks for 600 ms.
            if (speechQueuedNs == 0 && sim.agentBytesPlayed >= 8 * fake.greetingAudioMs) {
                responsesBefore = int(fake.firstDeltaSentNs.size());
                sim.queueCallerAudio(test::TwilioSimulator::loudSpeech(600));
                speechQueuedNs = BenchCall::nowNs();
            }
        });
        poll.start();
        sim.placeCall();
        loop.exec();
        if (sim.firstAudioAfterStartMs < 0 || turnAudioNs == 0) {
            ++failed;
            continue;
        }
        greeting.push_back(sim.firstAudioAfterStartMs * 1'000'000);
        // The newest response's first delta is the answer to this turn (calls run one at a time).
        qint64 newest = 0;
        for (qint64 t : std::as_const(fake.firstDeltaSentNs))
            newest = std::max(newest, t);
        turn.push_back(turnAudioNs - newest);
        sim.hangUp();
        QThread::msleep(50);
    }
    std::vector<qint64> g = greeting, t = turn;
    QJsonObject report{
        {u"scenario"_s, u"latency"_s},
        {u"calls"_s, calls},
        {u"failed"_s, failed},
        {u"start_to_first_greeting_ms"_s,
         QJsonObject{{u"p50"_s, percentile(g, 0.5)},
                     {u"p90"_s, percentile(g, 0.9)},
                     {u"max"_s, g.empty() ? 0.0 : double(*std::max_element(g.begin(), g.end())) / 1e6}}},
        {u"bridge_turn_latency_ms"_s,
         QJsonObject{{u"p50"_s, percentile(t, 0.5)},
                     {u"p90"_s, percentile(t, 0.9)},
                     {u"max"_s, t.empty() ? 0.0 : double(*std::max_element(t.begin(), t.end())) / 1e6}}}};
    const QJsonObject gr = report.value(u"start_to_first_greeting_ms"_s).toObject();
    const QJsonObject tr = report.value(u"bridge_turn_latency_ms"_s).toObject();
    std::printf("%-40s p50 %.1f  p90 %.1f  max %.1f ms\n", "start → first greeting frame",
                gr.value(u"p50"_s).toDouble(), gr.value(u"p90"_s).toDouble(), gr.value(u"max"_s).toDouble());
    std::printf("%-40s p50 %.2f  p90 %.2f  max %.2f ms\n", "turn: fake's first delta → Twilio frame",
                tr.value(u"p50"_s).toDouble(), tr.value(u"p90"_s).toDouble(), tr.value(u"max"_s).toDouble());
    std::printf("%-40s %d of %d\n", "failed calls", failed, calls);
    std::printf("\n%s\n", QJsonDocument(report).toJson(QJsonDocument::Compact).constData());
    if (p.isSet(u"json"_s)) {
        QFile f(p.value(u"json"_s));
        if (f.open(QIODevice::WriteOnly))
            f.write(QJsonDocument(report).toJson(QJsonDocument::Compact) + '\n');
    }
    return failed == 0 ? 0 : 1;
}
// #18: espeak-ng clips spoken by the caller over a long agent answer. 20 backchannels ("haan", "acha", …)
// must not stop the agent (each clear is a false interruption); then 20 real interruptions, each over a new
// long answer, are timed from the clip's first voiced frame leaving the caller to Twilio's `clear` arriving.
int runBackchannel(const QCommandLineParser &p)
{
    if (!EspeakVoice::available()) {
        std::fprintf(stderr, "vaani-bench: the backchannel scenario needs espeak-ng\n");
        return 2;
    }
    // The backchannels issue #18 names, twice each.
    QStringList backchannels = {u"haan"_s, u"haan ji"_s, u"ji"_s,        u"acha"_s,  u"accha"_s,
                                u"hmm"_s,  u"ok"_s,      u"theek hai"_s, u"right"_s, u"yes"_s};
    backchannels += backchannels;
    const QStringList interruptions = {u"ruko, mera order galat hai"_s, u"nahi nahi, suniye zara"_s,
                                       u"ek minute, mujhe kuch aur poochna hai"_s,
                                       u"wait, yeh mera order nahi hai"_s, u"mujhe refund chahiye"_s};
    // The clips, as the caller's μ-law, leading silence trimmed (timing starts at the first voiced frame).
    EspeakVoice voice;
    voice.wordsPerMinute = 200; // a caller's pace (espeak-ng's default 150 drags a "haan ji" to 600 ms)
    QHash<QString, QByteArray> clips;
    {
        QStringList all = backchannels + interruptions;
        all.removeDuplicates();
        QEventLoop loop;
        int pending = int(all.size());
        for (const QString &text : all) {
            voice.say(text, [&, text](const QList<std::int16_t> &pcm, const QString &error) {
                if (!error.isEmpty())
                    std::fprintf(stderr, "vaani-bench: espeak-ng: %s\n", qPrintable(error));
                qsizetype start = 0;
                while (start < pcm.size() && std::abs(int(pcm[start])) < 500)
                    ++start;
                clips.insert(text, mulaw::encode(pcm.mid(start)));
                if (--pending == 0)
                    loop.quit();
            });
        }
        if (pending > 0)
            loop.exec();
    }
    test::FakeRealtimeServer fake;
    fake.deltaMs = 20; // generated in real time: the answer stays in progress while it plays
    fake.greetingAudioMs = 120000;
    for (int i = 0; i < 25; ++i)
        fake.turns << test::FakeTurn{u"(interruption)"_s, {}, {}, u"Ji, main samjhati hoon…"_s, 60000};
    fake.utterances = backchannels;
    for (int i = 0; i < 20; ++i)
        fake.utterances << interruptions.at(i % interruptions.size());
    if (!fake.listen())
        return 1;
    SpawnedServer server;
    if (!server.start(fake.url().toString(), p.value(u"server-threads"_s), 0) ||
        !waitHealthy(server.base, 15000)) {
        std::fprintf(stderr, "vaani-bench: cannot start vaani-server\n");
        return 1;
    }
    test::TwilioSimulator sim;
    sim.webhookUrl = QUrl(server.base.toString() + u"/incoming-call"_s);
    sim.authToken = QString::fromLatin1(kToken);
    QObject::connect(&sim, &test::TwilioSimulator::webhookAnswered, &sim, [&](int) { sim.openStream(); });
    int falseInterruptions = 0, clearsSeen = 0;
    std::vector<qint64> toClear;
    qint64 clipQueuedNs = 0;
    enum class Phase { Greeting, Backchannels, Interruptions, Done } phase = Phase::Greeting;
    int index = 0;
    qint64 nextAtNs = 0, lastClearNs = 0;
    QEventLoop loop;
    QObject::connect(&sim, &test::TwilioSimulator::clearReceived, &loop, [&] {
        ++clearsSeen;
        lastClearNs = BenchCall::nowNs();
        if (phase == Phase::Backchannels)
            ++falseInterruptions;
        else if (phase == Phase::Interruptions && clipQueuedNs > 0) {
            toClear.push_back(BenchCall::nowNs() - clipQueuedNs);
            clipQueuedNs = 0;
        }
    });
    QTimer tick;
    tick.setInterval(20);
    QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
        const qint64 now = BenchCall::nowNs();
        switch (phase) {
        case Phase::Greeting:
            if (sim.agentBytesPlayed >= 8 * 1000) {
                phase = Phase::Backchannels;
                nextAtNs = now;
            }
            return;
        case Phase::Backchannels:
            if (now < nextAtNs)
                return;
            if (index == backchannels.size()) {
                phase = Phase::Interruptions;
                index = 0;
                nextAtNs = now + 1'000'000'000;
                return;
            }
            sim.queueCallerAudio(clips.value(backchannels.at(index++)));
            nextAtNs = now + 2'500'000'000;
            return;
        case Phase::Interruptions:
            // Each interruption over an answer that has been playing for a second and a half or more.
            if (now < nextAtNs || clipQueuedNs > 0 || !fake.responding() || now - lastClearNs < 1'500'000'000)
                return;
            if (index == 20) {
                phase = Phase::Done;
                loop.quit();
                return;
            }
            sim.queueCallerAudio(clips.value(fake.utterances.value(0, interruptions.at(index % 5))));
            clipQueuedNs = now;
            ++index;
            nextAtNs = now + 3'000'000'000;
            return;
        case Phase::Done:
            return;
        }
    });
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    deadline.start(300000);
    tick.start();
    sim.placeCall();
    loop.exec();
    sim.hangUp();
    std::vector<qint64> c = toClear;
    const QJsonObject report{
        {u"scenario"_s, u"backchannel"_s},
        {u"backchannel_clips"_s, int(backchannels.size())},
        {u"false_interruptions"_s, falseInterruptions},
        {u"interruptions"_s, index},
        {u"interruptions_cleared"_s, int(toClear.size())},
        {u"start_to_clear_ms"_s,
         QJsonObject{{u"p50"_s, percentile(c, 0.5)},
                     {u"p95"_s, percentile(c, 0.95)},
                     {u"max"_s, c.empty() ? 0.0 : double(*std::max_element(c.begin(), c.end())) / 1e6}}}};
    const QJsonObject t = report.value(u"start_to_clear_ms"_s).toObject();
    std::printf("%-44s %d of %d\n", "backchannel clips that stopped the agent", falseInterruptions,
                int(backchannels.size()));
    std::printf("%-44s %d of %d\n", "interruptions that stopped it", int(toClear.size()), index);
    std::printf("%-44s p50 %.0f  p95 %.0f  max %.0f ms\n", "interruption start → Twilio clear",
                t.value(u"p50"_s).toDouble(), t.value(u"p95"_s).toDouble(), t.value(u"max"_s).toDouble());
    std::printf("\n%s\n", QJsonDocument(report).toJson(QJsonDocument::Compact).constData());
    if (p.isSet(u"json"_s)) {
        QFile f(p.value(u"json"_s));
        if (f.open(QIODevice::WriteOnly))
            f.write(QJsonDocument(report).toJson(QJsonDocument::Compact) + '\n');
    }
    return falseInterruptions == 0 && int(toClear.size()) == index && index == 20 ? 0 : 1;
}

} // namespace vaani::bench
