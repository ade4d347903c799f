#include "benchcommon.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTcpServer>
#include <QThread>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::bench {

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

bool waitHealthy(const QUrl &base, int timeoutMs, const QSslConfiguration &tls)
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

bool SpawnedServer::start(const QString &realtimeUrl, const QString &threads, int warmSessions, quint16 port,
                          const QString &publicUrl, const QString &caFile)
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

void SpawnedServer::stop()
{
    if (process.state() != QProcess::NotRunning) {
        process.terminate();
        process.waitForFinished(5000);
    }
}

SpawnedServer::~SpawnedServer()
{
    stop();
    if (!dataDir.isEmpty())
        QDir(dataDir).removeRecursively();
}

} // namespace vaani::bench
