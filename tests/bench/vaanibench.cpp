// vaani-bench: how many calls one vaani-server carries, at what latency and cost. Starts vaani-server (or
// targets a running one), runs the fake Realtime API in echo mode on its own thread, and N simulated Twilio
// calls with real-time pacing spread over load threads. Prints a table and JSON. See docs/performance.md.
#include "benchcall.h"
#include "db/dbworker.h"
#include "echorealtime.h"
#include "epolldispatcher.h"
#include "espeakvoice.h"
#include "fakerealtime.h"
#include "mulaw.h"
#include "nginxsite.h"
#include "procstats.h"
#include "twiliosimulator.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QSslCertificate>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cstdio>

using namespace Qt::StringLiterals;
using namespace vaani;
using namespace vaani::bench;

namespace {
constexpr const char *kToken = "bench-auth-token";

// Owns the calls of one thread and paces them from one precise timer.
class LoadThread : public QObject
{
public:
    QList<BenchCall *> calls;
    QNetworkAccessManager *nam = nullptr;
    QTimer *timer = nullptr;
    std::atomic<int> active{0};
    std::atomic<int> finished{0};

    void begin(const QUrl &server, const QList<QPair<int, qint64>> &schedule, int durationMs, qint64 t0,
               const QSslConfiguration &tls)
    {
        nam = new QNetworkAccessManager(this);
        timer = new QTimer(this);
        timer->setTimerType(Qt::PreciseTimer);
        timer->setInterval(2);
        for (const auto &[index, startOffsetNs] : schedule) {
            auto *c = new BenchCall(index, server, QString::fromLatin1(kToken), durationMs, nam, this);
            if (!tls.isNull())
                c->setTls(tls);
            calls << c;
            const qint64 delayMs = std::max<qint64>(0, (t0 + startOffsetNs - BenchCall::nowNs()) / 1'000'000);
            QTimer::singleShot(int(delayMs), this, [this, c] {
                ++active;
                c->start();
            });
            connect(c, &BenchCall::done, this, [this] {
                --active;
                ++finished;
            });
        }
        connect(timer, &QTimer::timeout, this, [this] {
            const qint64 now = BenchCall::nowNs();
            for (BenchCall *c : std::as_const(calls))
                c->pump(now);
        });
        timer->start();
    }
};

double percentile(std::vector<qint64> &v, double p)
{
    if (v.empty())
        return 0;
    const size_t k = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + qsizetype(k), v.end());
    return double(v[k]) / 1e6;
}

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

bool waitHealthy(const QUrl &base, int timeoutMs, const QSslConfiguration &tls = {})
{
    QNetworkAccessManager nam;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        QEventLoop loop;
        QNetworkRequest request(QUrl(base.toString() + u"/healthz"_s));
        if (!tls.isNull())
            request.setSslConfiguration(tls);
        QNetworkReply *r = nam.get(request);
        QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        const bool ok = r->error() == QNetworkReply::NoError;
        r->deleteLater();
        if (ok)
            return true;
        QThread::msleep(100);
    }
    return false;
}
struct SpawnedServer
{
    QProcess process;
    QUrl base;
    QString dataDir;
    quint16 metricsPort = 0;
    // `publicUrl` (TLS mode): nginx in front, whose address is trusted; `caFile`: the model leg's CA.
    bool start(const QString &realtimeUrl, const QString &threads, int warmSessions = -1, quint16 port = 0,
               const QString &publicUrl = {}, const QString &caFile = {})
    {
        if (!port)
            port = freePort();
        base = QUrl(u"http://127.0.0.1:%1"_s.arg(port));
        dataDir = QDir::tempPath() + u"/vaani-bench-%1"_s.arg(QCoreApplication::applicationPid());
        QDir().mkpath(dataDir);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(u"PORT"_s, QString::number(port));
        env.insert(u"HOST"_s, u"127.0.0.1"_s);
        env.insert(u"PUBLIC_URL"_s, publicUrl.isEmpty() ? base.toString() : publicUrl);
        env.insert(u"VAANI_INSTANCE"_s, u"vaani-a"_s);
        if (!publicUrl.isEmpty())
            env.insert(u"TRUSTED_PROXIES"_s, u"127.0.0.1"_s);
        if (!caFile.isEmpty())
            env.insert(u"OPENAI_CA_FILE"_s, caFile);
        env.insert(u"VAANI_DATA_DIR"_s, dataDir);
        env.insert(u"OPENAI_REALTIME_URL"_s, realtimeUrl);
        env.insert(u"OPENAI_API_KEY"_s, u"sk-test-key"_s);
        env.insert(u"TWILIO_AUTH_TOKEN"_s, QString::fromLatin1(kToken));
        env.insert(u"MAX_CALLS"_s, u"100000"_s);
        metricsPort = freePort();
        env.insert(u"METRICS_PORT"_s, QString::number(metricsPort));
        env.insert(u"RATE_LIMIT_PER_MINUTE"_s, u"0"_s);
        env.insert(u"LOG_LEVEL"_s, u"warning"_s);
        env.insert(u"WORKER_THREADS"_s, threads);
        if (warmSessions >= 0)
            env.insert(u"OPENAI_WARM_SESSIONS"_s, QString::number(warmSessions));
        process.setProcessEnvironment(env);
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start(QCoreApplication::applicationDirPath() + u"/vaani-server"_s, {});
        return process.waitForStarted(5000);
    }
    void stop()
    {
        if (process.state() != QProcess::NotRunning) {
            process.terminate();
            process.waitForFinished(5000);
        }
    }
    ~SpawnedServer()
    {
        stop();
        if (!dataDir.isEmpty())
            QDir(dataDir).removeRecursively();
    }
};

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
} // namespace

int main(int argc, char **argv)
{
    // The same event dispatcher as vaani-server (GLib's costs the harness latency under many sockets).
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(u"Load benchmark for vaani-server (echo mode fake Realtime API)."_s);
    p.addHelpOption();
    p.addOption({u"calls"_s, u"Concurrent calls."_s, u"n"_s, u"100"_s});
    p.addOption({u"duration"_s, u"Seconds each call streams."_s, u"s"_s, u"30"_s});
    p.addOption({u"ramp"_s, u"Seconds over which calls start."_s, u"s"_s, u"5"_s});
    p.addOption({u"load-threads"_s, u"Threads generating calls."_s, u"n"_s, u"2"_s});
    p.addOption(
        {u"server-threads"_s, u"WORKER_THREADS for the spawned server (0 = cores)."_s, u"n"_s, u"0"_s});
    p.addOption({u"target"_s,
                 u"Use a running server at this URL instead of spawning one (it must use this bench's fake: "
                 "OPENAI_REALTIME_URL printed at start)."_s,
                 u"url"_s});
    p.addOption({u"server-pid"_s, u"PID of the --target server, for CPU and memory figures."_s, u"pid"_s});
    p.addOption({u"fake-port"_s, u"Port for the fake Realtime API (0 = any)."_s, u"port"_s, u"0"_s});
    p.addOption({u"json"_s, u"Also write the JSON report to this file."_s, u"file"_s});
    p.addOption({u"scenario"_s,
                 u"load (echo mode, N concurrent calls), latency (greeting and turn latency, calls one after "
                 "another) or backchannel (espeak-ng clips over the agent: backchannels that must not stop "
                 "it, interruptions timed to Twilio's clear)."_s,
                 u"name"_s, u"load"_s});
    p.addOption(
        {u"connect-delay"_s, u"latency: the fake's delay before session.created (ms)."_s, u"ms"_s, u"200"_s});
    p.addOption({u"first-audio-delay"_s,
                 u"latency: the fake's delay from response.create to the first delta (ms)."_s, u"ms"_s,
                 u"300"_s});
    p.addOption(
        {u"gap"_s, u"latency: time between the webhook and the stream's start (ms)."_s, u"ms"_s, u"800"_s});
    p.addOption(
        {u"tls"_s,
         u"Production shape: Twilio's side through nginx with the shipped site over TLS (https, wss), "
         "and the model leg over wss:// (nginx terminating TLS in front of the echo fake)."_s});
    p.addOption({u"warm-sessions"_s, u"OPENAI_WARM_SESSIONS for the spawned server (default: its default)."_s,
                 u"n"_s});
    p.addOption({u"model-drops"_s,
                 u"load: the fake resets every model connection this long after its session is configured "
                 "(in a response or in silence); the server resumes each call on a new session. Reports the "
                 "caller's gaps in the echo."_s,
                 u"ms"_s, u"0"_s});
    p.addOption(
        {u"model-rtt"_s,
         u"load: the echo fake sends session.created and session.updated this late (the network's round "
         "trip to the model)."_s,
         u"ms"_s, u"0"_s});
    p.process(app);
    if (p.value(u"scenario"_s) == u"latency"_s)
        return runLatency(p);
    if (p.value(u"scenario"_s) == u"backchannel"_s)
        return runBackchannel(p);
    const int calls = p.value(u"calls"_s).toInt();
    const int durationS = p.value(u"duration"_s).toInt();
    const int rampS = p.value(u"ramp"_s).toInt();
    const int loadThreads = std::max(1, p.value(u"load-threads"_s).toInt());
    if (calls < 1 || durationS < rampS + 5) {
        std::fprintf(stderr, "vaani-bench: need --calls >= 1 and --duration >= --ramp + 5\n");
        return 2;
    }

    // The fake Realtime API in echo mode, on its own thread.
    // The harness threads run on the server's epoll dispatcher too: poll() over hundreds of sockets would
    // make the load generator, not the server, the bottleneck.
    QThread fakeThread;
    fakeThread.setObjectName(u"fake-realtime"_s);
    fakeThread.setEventDispatcher(new EpollEventDispatcher);
    fakeThread.start();
    test::EchoRealtimeServer *fake = nullptr;
    QObject fakeHome;
    fakeHome.moveToThread(&fakeThread);
    quint16 fakePort = 0;
    QMetaObject::invokeMethod(
        &fakeHome,
        [&] {
            fake = new test::EchoRealtimeServer;
            fake->setDropAfterMs(p.value(u"model-drops"_s).toInt());
            fake->setHandshakeDelayMs(p.value(u"model-rtt"_s).toInt());
            fake->listenOn(quint16(p.value(u"fake-port"_s).toUInt()));
            fakePort = quint16(fake->url().port());
        },
        Qt::BlockingQueuedConnection);
    QString realtimeUrl = u"ws://127.0.0.1:%1/v1/realtime"_s.arg(fakePort);

    // TLS mode: one nginx with the shipped site for Twilio's side and a TLS front for the fake (as the real
    // model is reached: wss:// with certificate verification).
    const bool tls = p.isSet(u"tls"_s);
    QTemporaryDir tlsDir;
    test::NginxProcess nginx;
    QSslConfiguration trust;
    quint16 serverPort = 0;
    QString publicUrl;
    if (tls) {
        QString why;
        if (p.isSet(u"target"_s) || !test::makeTestCertificate(tlsDir.path(), &why)) {
            std::fprintf(stderr, "vaani-bench: --tls needs a spawned server and openssl: %s\n",
                         qPrintable(why));
            return 2;
        }
        trust = QSslConfiguration::defaultConfiguration();
        trust.setCaCertificates(QSslCertificate::fromPath(tlsDir.filePath(u"cert.pem"_s)));
        serverPort = freePort();
        const quint16 nginxPort = freePort(), modelPort = freePort();
        test::NginxSite site;
        site.dir = tlsDir.path();
        site.sourceDir = QStringLiteral(VAANI_SOURCE_DIR);
        site.listenPort = nginxPort;
        site.serverA = serverPort;
        site.extraServers = uR"(  server {
    listen 127.0.0.1:%1 ssl;
    ssl_certificate %2/cert.pem;
    ssl_certificate_key %2/key.pem;
    location / {
      proxy_pass http://127.0.0.1:%3;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 3600s;
      proxy_buffering off;
    }
  })"_s.arg(modelPort)
                                .arg(tlsDir.path())
                                .arg(fakePort);
        if (!nginx.start(site, &why)) {
            std::fprintf(stderr, "vaani-bench: %s\n", qPrintable(why));
            return 1;
        }
        realtimeUrl = u"wss://127.0.0.1:%1/v1/realtime"_s.arg(modelPort);
        publicUrl = u"https://127.0.0.1:%1"_s.arg(nginxPort);
    }

    // The server.
    SpawnedServer server;
    qint64 serverPid = p.value(u"server-pid"_s).toLongLong();
    QUrl base;
    if (p.isSet(u"target"_s)) {
        base = QUrl(p.value(u"target"_s));
    } else {
        const int warm = p.isSet(u"warm-sessions"_s) ? p.value(u"warm-sessions"_s).toInt() : -1;
        if (!server.start(realtimeUrl, p.value(u"server-threads"_s), warm, serverPort, publicUrl,
                          tls ? tlsDir.filePath(u"cert.pem"_s) : QString())) {
            std::fprintf(stderr, "vaani-bench: cannot start vaani-server\n");
            return 1;
        }
        base = tls ? QUrl(publicUrl) : server.base;
        serverPid = server.process.processId();
    }
    std::printf("vaani-bench: %d calls × %d s (ramp %d s), server %s (pid %lld), fake Realtime %s%s\n", calls,
                durationS, rampS, qPrintable(base.toString()), serverPid, qPrintable(realtimeUrl),
                tls ? " (TLS on both legs through nginx)" : "");
    std::fflush(stdout);
    if (!waitHealthy(base, 15000, trust)) {
        std::fprintf(stderr, "vaani-bench: server not healthy\n");
        return 1;
    }
    QThread::msleep(1000);
    const ProcStats before = ProcStats::read(serverPid);
    const ProcStats selfBefore = ProcStats::read(0);

    // Load threads.
    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<LoadThread *> loads;
    const qint64 t0 = BenchCall::nowNs() + 200'000'000;
    for (int t = 0; t < loadThreads; ++t) {
        auto th = std::make_unique<QThread>();
        th->setEventDispatcher(new EpollEventDispatcher);
        th->start();
        auto *l = new LoadThread;
        l->moveToThread(th.get());
        QList<QPair<int, qint64>> schedule;
        // Real calls start at any point of the 20 ms frame clock: a seeded random phase per call keeps
        // evenly spaced starts (e.g. 400 calls over 8 s = one per 20 ms) from sending every frame in
        // lockstep.
        QRandomGenerator phase(quint32(4242 + t));
        for (int i = t; i < calls; i += loadThreads)
            schedule.append({i, qint64(i) * rampS * 1'000'000'000LL / calls + phase.bounded(20'000'000)});
        QMetaObject::invokeMethod(l, [l, base, schedule, durationS, t0, trust] {
            l->begin(base, schedule, durationS * 1000, t0, trust);
        });
        loads.push_back(l);
        threads.push_back(std::move(th));
    }

    // Sample the server while the calls run.
    ProcStats peak = before;
    ProcStats steadyStart, steadyEnd;
    const qint64 steadyFromNs = t0 + qint64(rampS + 1) * 1'000'000'000LL;
    const qint64 steadyToNs = t0 + qint64(durationS) * 1'000'000'000LL;
    int maxActive = 0;
    // The soak's figures: the server's memory and descriptors once a minute (printed as they come).
    struct MinuteSample
    {
        int minute;
        qint64 rssKb;
        int fds;
        int active;
    };
    QList<MinuteSample> minutes;
    qint64 nextMinuteNs = t0 + 60'000'000'000LL;
    QTimer sampler;
    QEventLoop runLoop;
    sampler.setInterval(250);
    QObject::connect(&sampler, &QTimer::timeout, &app, [&] {
        const qint64 now = BenchCall::nowNs();
        const ProcStats s = ProcStats::read(serverPid);
        if (s.rssKb > peak.rssKb)
            peak = s;
        int active = 0, done = 0;
        for (LoadThread *l : loads) {
            active += l->active;
            done += l->finished;
        }
        maxActive = std::max(maxActive, active);
        if (now >= nextMinuteNs) {
            nextMinuteNs += 60'000'000'000LL;
            minutes.append({int(minutes.size()) + 1, s.rssKb, s.openFds, active});
            std::printf("minute %3d: server RSS %lld KB, %d descriptors open, %d calls active\n",
                        int(minutes.size()), s.rssKb, s.openFds, active);
            std::fflush(stdout);
        }
        if (!steadyStart.ok && now >= steadyFromNs)
            steadyStart = s;
        if (!steadyEnd.ok && now >= steadyToNs)
            steadyEnd = s;
        if (done >= calls)
            runLoop.quit();
    });
    sampler.start();
    runLoop.exec();
    sampler.stop();
    const ProcStats selfAfter = ProcStats::read(0);
    QThread::msleep(6500); // the server trims freed memory within 5 s of its last call ending
    const ProcStats after = ProcStats::read(serverPid);

    // Results.
    int ok = 0;
    qint64 sent = 0, echoed = 0, lostStart = 0, lostMid = 0;
    std::vector<qint64> rtt, lag, gaps;
    QStringList errors;
    for (LoadThread *l : loads) {
        for (BenchCall *c : std::as_const(l->calls)) {
            CallResult &r = c->result();
            ok += r.ok ? 1 : 0;
            if (!r.ok && errors.size() < 5)
                errors << r.error;
            sent += r.framesSent;
            echoed += r.framesEchoed;
            lostStart += r.lostAtStart;
            lostMid += r.lostMidStream;
            rtt.insert(rtt.end(), r.rttNs.begin(), r.rttNs.end());
            lag.insert(lag.end(), r.sendLagNs.begin(), r.sendLagNs.end());
            gaps.insert(gaps.end(), r.echoGapsNs.begin(), r.echoGapsNs.end());
        }
    }
    const double steadySeconds = double(steadyToNs - steadyFromNs) / 1e9;
    const double steadyCpu = steadyEnd.cpuSeconds - steadyStart.cpuSeconds;
    const double cpuPerCallMinute = steadyCpu / (double(calls) * steadySeconds / 60.0);
    const double rssPerCallKb = double(peak.rssKb - before.rssKb) / calls;
    QJsonObject report{
        {u"calls"_s, calls},
        {u"tls"_s, tls},
        {u"duration_s"_s, durationS},
        {u"calls_ok"_s, ok},
        {u"calls_failed"_s, calls - ok},
        {u"max_active"_s, maxActive},
        {u"frames_sent"_s, sent},
        {u"frames_echoed"_s, echoed},
        {u"frames_lost_at_start"_s, lostStart},
        {u"frames_lost_mid_stream"_s, lostMid},
        {u"rtt_ms"_s,
         QJsonObject{
             {u"p50"_s, percentile(rtt, 0.50)},
             {u"p90"_s, percentile(rtt, 0.90)},
             {u"p99"_s, percentile(rtt, 0.99)},
             {u"max"_s, rtt.empty() ? 0.0 : double(*std::max_element(rtt.begin(), rtt.end())) / 1e6}}},
        {u"server_cpu_s_per_call_minute"_s, cpuPerCallMinute},
        {u"server_cpu_cores_steady"_s, steadyCpu / steadySeconds},
        {u"server_rss_kb"_s, QJsonObject{{u"before"_s, before.rssKb},
                                         {u"peak"_s, peak.rssKb},
                                         {u"after"_s, after.rssKb},
                                         {u"per_call_at_peak"_s, rssPerCallKb}}},
        {u"harness_cpu_s"_s, selfAfter.cpuSeconds - selfBefore.cpuSeconds},
        {u"harness_send_lag_ms"_s,
         QJsonObject{
             {u"p50"_s, percentile(lag, 0.5)},
             {u"p99"_s, percentile(lag, 0.99)},
             {u"max"_s, lag.empty() ? 0.0 : double(*std::max_element(lag.begin(), lag.end())) / 1e6}}},
        {u"errors"_s, QJsonArray::fromStringList(errors)}};
    if (const int dropMs = p.value(u"model-drops"_s).toInt(); dropMs > 0) {
        int midResponse = 0, inSilence = 0;
        QMetaObject::invokeMethod(
            &fakeHome,
            [&] {
                midResponse = fake->dropsMidResponse.load();
                inSilence = fake->dropsInSilence.load();
            },
            Qt::BlockingQueuedConnection);
        const qsizetype gapCount = qsizetype(gaps.size());
        report.insert(
            u"model_drops"_s,
            QJsonObject{
                {u"drop_after_ms"_s, dropMs},
                {u"mid_response"_s, midResponse},
                {u"in_silence"_s, inSilence},
                {u"echo_gaps"_s, gapCount},
                {u"gap_ms"_s,
                 QJsonObject{{u"p50"_s, percentile(gaps, 0.50)},
                             {u"p99"_s, percentile(gaps, 0.99)},
                             {u"max"_s, gaps.empty()
                                            ? 0.0
                                            : double(*std::max_element(gaps.begin(), gaps.end())) / 1e6}}}});
        // The server's own measure of each resume: drop → new session ready with the conversation replayed.
        QHash<QString, double> m;
        if (server.metricsPort) {
            QNetworkAccessManager nam;
            QEventLoop loop;
            QNetworkReply *reply =
                nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1/metrics"_s.arg(server.metricsPort))));
            QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
            loop.exec();
            for (const QByteArray &line : reply->readAll().split('\n')) {
                const qsizetype space = line.lastIndexOf(' ');
                if (line.startsWith("vaani_model_resume") && space > 0)
                    m.insert(QString::fromUtf8(line.left(space)), line.mid(space + 1).toDouble());
            }
            reply->deleteLater();
        }
        const double count = m.value(u"vaani_model_resume_gap_ms_count"_s);
        // The histogram's buckets bound the quantiles: the smallest bucket holding 50 % / 99 % of resumes.
        const auto bucketFor = [&](double q) {
            double best = -1;
            for (auto it = m.cbegin(); it != m.cend(); ++it) {
                if (!it.key().startsWith(u"vaani_model_resume_gap_ms_bucket{le=\""_s) ||
                    it.key().contains(u"+Inf"_s))
                    continue;
                const double le = it.key().section(u'"', 1, 1).toDouble();
                if (it.value() >= q * count && (best < 0 || le < best))
                    best = le;
            }
            return best;
        };
        report.insert(u"server_resumes"_s,
                      QJsonObject{{u"resumed"_s, m.value(u"vaani_model_resumes_total{result=\"resumed\"}"_s)},
                                  {u"failed"_s, m.value(u"vaani_model_resumes_total{result=\"failed\"}"_s)},
                                  {u"gap_ms_mean"_s,
                                   count > 0 ? m.value(u"vaani_model_resume_gap_ms_sum"_s) / count : 0.0},
                                  {u"gap_ms_p50_at_most"_s, bucketFor(0.5)},
                                  {u"gap_ms_p99_at_most"_s, bucketFor(0.99)}});
        std::printf("%-34s %.0f resumed, %.0f failed; gap mean %.1f ms, p50 ≤ %.0f ms, p99 ≤ %.0f ms\n",
                    "server: model sessions resumed",
                    m.value(u"vaani_model_resumes_total{result=\"resumed\"}"_s),
                    m.value(u"vaani_model_resumes_total{result=\"failed\"}"_s),
                    count > 0 ? m.value(u"vaani_model_resume_gap_ms_sum"_s) / count : 0.0, bucketFor(0.5),
                    bucketFor(0.99));
        std::printf("%-34s %d (%d in a response, %d in silence); %lld gaps in the echo > 60 ms\n",
                    "model connections reset", midResponse + inSilence, midResponse, inSilence,
                    qint64(gapCount));
        const QJsonObject g = report.value(u"model_drops"_s).toObject().value(u"gap_ms"_s).toObject();
        std::printf("%-34s p50 %.1f  p99 %.1f  max %.1f\n", "caller's gap at a drop (ms)",
                    g.value(u"p50"_s).toDouble(), g.value(u"p99"_s).toDouble(), g.value(u"max"_s).toDouble());
    }
    // Soak (runs of 3 minutes or more): growth of RSS and descriptors from minute 2 (after warm-up) to the
    // last minute with every call still active, per call-hour.
    if (minutes.size() >= 3) {
        const MinuteSample &from = minutes.at(1);
        const MinuteSample *to = &from;
        for (const MinuteSample &m : std::as_const(minutes))
            if (m.active >= calls && m.minute > from.minute)
                to = &m;
        const double callHours = double(calls) * double(to->minute - from.minute) / 60.0;
        QJsonArray samples;
        for (const MinuteSample &m : std::as_const(minutes))
            samples.append(QJsonObject{
                {u"minute"_s, m.minute}, {u"rss_kb"_s, m.rssKb}, {u"fds"_s, m.fds}, {u"active"_s, m.active}});
        const double growth = callHours > 0 ? double(to->rssKb - from.rssKb) / callHours : 0;
        report.insert(u"soak"_s, QJsonObject{{u"minutes"_s, samples},
                                             {u"rss_growth_kb_per_call_hour"_s, growth},
                                             {u"fd_growth"_s, to->fds - from.fds},
                                             {u"from_minute"_s, from.minute},
                                             {u"to_minute"_s, to->minute}});
        std::printf("%-34s %.3f KB per call-hour (minute %d → %d), descriptors %+d\n", "soak: RSS growth",
                    growth, from.minute, to->minute, to->fds - from.fds);
    }
    // The records the spawned server wrote (its own SQLite file): one per call, none left in progress.
    if (!server.dataDir.isEmpty()) {
        QString dbError;
        db::DbWorker records(
            db::DatabaseConfig::fromUrl(u"sqlite://"_s + server.dataDir + u"/vaani.db"_s, {}, &dbError));
        auto counts =
            records
                .submit([](db::Repositories &r) -> db::DbResult<QPair<int, int>> {
                    QSqlQuery q(r.db);
                    if (!q.exec(
                            u"SELECT COUNT(*), SUM(CASE WHEN outcome = 'in_progress' OR ended_at "
                            "IS NULL THEN 1 ELSE 0 END) FROM calls WHERE server_instance = 'vaani-a'"_s) ||
                        !q.next())
                        return db::DbError::from(q.lastError());
                    return qMakePair(q.value(0).toInt(), q.value(1).toInt());
                })
                .result();
        if (counts.ok()) {
            report.insert(u"records"_s,
                          QJsonObject{{u"rows"_s, counts.value.first}, {u"open"_s, counts.value.second}});
            std::printf("%-34s %d rows (this run's), %d not ended\n", "call records", counts.value.first,
                        counts.value.second);
        }
    }
    const QJsonObject r = report;
    std::printf("\n%-34s %s\n", "calls ok / failed",
                qPrintable(u"%1 / %2 (max %3 active)"_s.arg(ok).arg(calls - ok).arg(maxActive)));
    std::printf("%-34s %lld / %lld\n", "frames sent / echoed", sent, echoed);
    std::printf("%-34s %lld / %lld\n", "frames lost at start / mid-stream", lostStart, lostMid);
    const QJsonObject rt = r.value(u"rtt_ms"_s).toObject();
    std::printf("%-34s p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", "round trip (ms)",
                rt.value(u"p50"_s).toDouble(), rt.value(u"p90"_s).toDouble(), rt.value(u"p99"_s).toDouble(),
                rt.value(u"max"_s).toDouble());
    std::printf("%-34s %.4f  (%.2f cores busy)\n", "server CPU s per call-minute", cpuPerCallMinute,
                steadyCpu / steadySeconds);
    std::printf("%-34s before %lld  peak %lld  after %lld  → %.1f KB per call\n", "server RSS (KB)",
                before.rssKb, peak.rssKb, after.rssKb, rssPerCallKb);
    const QJsonObject lg = r.value(u"harness_send_lag_ms"_s).toObject();
    std::printf("%-34s CPU %.1f s, send lag p50 %.2f  p99 %.2f  max %.2f ms\n", "load generator",
                r.value(u"harness_cpu_s"_s).toDouble(), lg.value(u"p50"_s).toDouble(),
                lg.value(u"p99"_s).toDouble(), lg.value(u"max"_s).toDouble());
    for (const QString &e : errors)
        std::printf("  error: %s\n", qPrintable(e));
    const QByteArray json = QJsonDocument(report).toJson(QJsonDocument::Compact);
    std::printf("\n%s\n", json.constData());
    if (p.isSet(u"json"_s)) {
        QFile f(p.value(u"json"_s));
        if (f.open(QIODevice::WriteOnly))
            f.write(json + '\n');
    }
    std::fflush(stdout);

    for (size_t i = 0; i < threads.size(); ++i) {
        LoadThread *l = loads[i];
        QMetaObject::invokeMethod(
            l, [l] { delete l; }, Qt::BlockingQueuedConnection);
        threads[i]->quit();
        threads[i]->wait();
    }
    server.stop(); // before the fake goes, so its warm sessions do not report a lost model
    QMetaObject::invokeMethod(
        &fakeHome, [&] { delete fake; }, Qt::BlockingQueuedConnection);
    fakeThread.quit();
    fakeThread.wait();
    return ok == calls && lostStart + lostMid == 0 ? 0 : 1;
}
