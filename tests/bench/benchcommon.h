#pragma once
// What vaani-bench's scenarios share: spawning the server under test, free ports, waiting for /healthz,
// percentiles. The load scenario is vaanibench.cpp (with main), the latency and backchannel scenarios are
// benchscenarios.cpp.

#include <QCommandLineParser>
#include <QProcess>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>

#include <vector>

namespace vaani::bench {

inline constexpr const char *kToken = "bench-auth-token"; // TWILIO_AUTH_TOKEN of the spawned server

double percentile(std::vector<qint64> &v, double p); // in ms, from ns samples; reorders v
quint16 freePort();
bool waitHealthy(const QUrl &base, int timeoutMs, const QSslConfiguration &tls = {});

// vaani-server started with the bench's settings, stopped and its data directory removed when destroyed.
struct SpawnedServer
{
    QProcess process;
    QUrl base;
    QString dataDir;
    quint16 metricsPort = 0;
    // `publicUrl` (TLS mode): nginx in front, whose address is trusted; `caFile`: the model leg's CA.
    bool start(const QString &realtimeUrl, const QString &threads, int warmSessions = -1, quint16 port = 0,
               const QString &publicUrl = {}, const QString &caFile = {});
    void stop();
    ~SpawnedServer();
};

int runLatency(const QCommandLineParser &p);
int runBackchannel(const QCommandLineParser &p);

} // namespace vaani::bench
