#include "serverharness.h"

#include "testenv.h"

#include <QEventLoop>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace vaani::test {

ServerHarness::ServerHarness()
{
    m_dbPath = tempDir(u"server"_s) + u"/vaani.db"_s;
    m_connection = u"harness-"_s + QUuid::createUuid().toString(QUuid::Id128);
}

ServerHarness::~ServerHarness()
{
    m_repos.reset();
    db::Database::close(m_connection);
    m_server.reset();
}

bool ServerHarness::start(const std::function<void(ServerOptions &)> &tweak)
{
    if (fake.url().port() <= 0 && !fake.listen()) // a test may have started it (to put something in front)
        return false;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        m_port = probe.serverPort();
    }
    ServerOptions &o = options;
    o.host = QHostAddress::LocalHost;
    o.port = m_port;
    o.metricsPort = 0; // any free port: tests run side by side
    o.workerThreads = 2;
    o.maxCalls = 50;
    o.rateLimitPerMinute = 10000;
    o.databaseUrl = u"sqlite://"_s + m_dbPath;
    o.dataDir = QFileInfo(m_dbPath).absolutePath(); // the journal's too: <dir>/journal/<instance>
    ServerSettings &s = o.settings;
    s.publicUrl = QUrl(baseUrl());
    s.twilioAuthToken = QString::fromLatin1(kAuthToken);
    s.twilio = {QUrl(), QString::fromLatin1(kAccountSid), s.twilioAuthToken};
    s.realtime = {fake.url(), u"gpt-realtime"_s, u"sk-test-key"_s, false, 5000, {}, {}};
    s.instance = u"test"_s;
    // Every simulated call comes from the same number unless a test says otherwise; the per-caller limit is
    // tested where it is meant (tst_callflow, tst_cluster, and tst_deployment runs with the default).
    s.maxCallsPerCaller = 0;
    s.streamLimits.startDeadlineMs = 2000;
    s.streamLimits.idleTimeoutMs = 10000;
    if (tweak)
        tweak(o);
    m_server = std::make_unique<Server>(o);
    QSignalSpy ready(m_server.get(), &Server::ready);
    QSignalSpy failed(m_server.get(), &Server::failed);
    m_server->start();
    if (!ready.wait(15000)) {
        qWarning() << "server did not start:" << failed;
        return false;
    }
    return true;
}

QString ServerHarness::baseUrl() const
{
    return u"http://127.0.0.1:%1"_s.arg(m_port);
}

QString ServerHarness::metricsUrl() const
{
    return u"http://127.0.0.1:%1"_s.arg(m_server ? m_server->metricsPort() : 0);
}

std::unique_ptr<TwilioSimulator> ServerHarness::newCall()
{
    auto sim = std::make_unique<TwilioSimulator>();
    sim->webhookUrl = QUrl(baseUrl() + u"/incoming-call"_s);
    sim->authToken = options.settings.twilioAuthToken;
    sim->accountSid = QString::fromLatin1(kAccountSid);
    return sim;
}

std::unique_ptr<TwilioSimulator> ServerHarness::connectCall()
{
    auto sim = newCall();
    QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
    sim->placeCall();
    if (!answered.wait(5000) || sim->webhookStatus != 200)
        return nullptr;
    QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
    sim->openStream();
    if (!connected.wait(5000))
        return nullptr;
    return sim;
}

HttpResult ServerHarness::wait(QNetworkReply *reply)
{
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    if (!reply->isFinished())
        loop.exec();
    HttpResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    for (const auto &[k, v] : reply->rawHeaderPairs())
        r.headers.insert(k.toLower(), v);
    reply->deleteLater();
    return r;
}

HttpResult ServerHarness::get(const QString &path, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    // Probes and metrics live on their own listener.
    const bool probe = path == u"/metrics"_s || path == u"/readyz"_s;
    QNetworkRequest req(QUrl(probe ? metricsUrl() + path : baseUrl() + path));
    for (const auto &[k, v] : headers)
        req.setRawHeader(k, v);
    return wait(m_nam.get(req));
}

HttpResult ServerHarness::post(const QString &path, const QByteArray &body,
                               const QList<QPair<QByteArray, QByteArray>> &headers)
{
    QNetworkRequest req(QUrl(baseUrl() + path));
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    for (const auto &[k, v] : headers)
        req.setRawHeader(k, v);
    return wait(m_nam.post(req, body));
}

HttpResult ServerHarness::postSigned(const QString &path, const twilio::FormParams &params)
{
    const QByteArray sig =
        twilio::computeSignature(options.settings.twilioAuthToken, baseUrl() + path, params);
    return post(path, twilio::encodeForm(params), {{"X-Twilio-Signature", sig}});
}

db::Repositories &ServerHarness::repos()
{
    if (!m_repos) {
        QString error;
        db::DbError e;
        QSqlDatabase conn = db::Database::open(
            db::DatabaseConfig::fromUrl(u"sqlite://"_s + m_dbPath, {}, &error), m_connection, &e);
        m_repos = std::make_unique<db::Repositories>(conn);
    }
    return *m_repos;
}

double ServerHarness::metric(const QString &sample)
{
    QHash<QString, double> samples;
    QHash<QString, QString> types;
    QString error;
    parsePrometheus(get(u"/metrics"_s).body, &samples, &types, &error);
    return samples.value(sample, 0);
}

bool parsePrometheus(const QByteArray &text, QHash<QString, double> *samples, QHash<QString, QString> *types,
                     QString *error)
{
    static const QRegularExpression sample(
        uR"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+\-]+|\+Inf|NaN)$)"_s);
    static const QRegularExpression typeLine(
        uR"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)"_s);
    for (const QByteArray &raw : text.split('\n')) {
        const QString line = QString::fromUtf8(raw);
        if (line.isEmpty())
            continue;
        if (line.startsWith(u"# HELP "_s))
            continue;
        if (line.startsWith(u"# TYPE "_s)) {
            const auto m = typeLine.match(line);
            if (!m.hasMatch()) {
                *error = u"bad TYPE line: "_s + line;
                return false;
            }
            types->insert(m.captured(1), m.captured(2));
            continue;
        }
        const auto m = sample.match(line);
        if (!m.hasMatch()) {
            *error = u"bad sample line: "_s + line;
            return false;
        }
        QString family = m.captured(1);
        for (const char *suffix : {"_bucket", "_sum", "_count"}) {
            if (!types->contains(family) && family.endsWith(QLatin1String(suffix)))
                family.chop(int(qstrlen(suffix)));
        }
        if (!types->contains(family)) {
            *error = u"sample without TYPE: "_s + line;
            return false;
        }
        samples->insert(m.captured(1) + m.captured(2), m.captured(3).toDouble());
    }
    return true;
}

} // namespace vaani::test
