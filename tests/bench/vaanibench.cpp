// vaani-bench: how many calls one vaani-server carries, at what latency and cost. Starts vaani-server (or
// targets a running one), runs the fake Realtime API in echo mode on its own thread, and N simulated Twilio
// calls with real-time pacing spread over load threads. Prints a table and JSON. See docs/performance.md.
#include "benchcall.h"
#include "benchcommon.h"
#include "db/dbworker.h"
#include "echorealtime.h"
#include "epolldispatcher.h"
#include "nginxsite.h"
#include "procstats.h"

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
