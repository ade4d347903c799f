// The deployment files in deploy/ agree with the server: every Grafana query names metrics (and labels) the
// server exports, the example environment names only real settings, the systemd unit waits longer than the
// shutdown grace and passes secrets as credentials, and the nginx site routes streams by instance and exposes
// neither /metrics nor /readyz.
#include "config.h"
#include "metrics.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
QString read(const QString &relative)
{
    QFile f(QStringLiteral(VAANI_SOURCE_DIR) + u'/' + relative);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}
} // namespace

class TestDeploy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void dashboardQueriesNameExportedMetrics()
    {
        // What the server exports: families from # TYPE lines (histograms also as _bucket/_sum/_count), and
        // the label names each family carries once it has a sample.
        Metrics m;
        m.callEnded(u"resolved"_s);
        m.webhookRequest(u"/incoming-call"_s, 200);
        m.webhookError(u"signature"_s);
        m.streamError(u"bad_json"_s);
        m.signatureRejected(u"/incoming-call"_s);
        m.realtimeError(u"server_error"_s);
        m.turnLatencyMs.observe(800);
        m.redisUp.store(1); // a server with REDIS_URL exports the deployment's metrics too
        m.redisFallback(u"rate_limit"_s);
        m.modelResume(u"resumed"_s);
        m.spendTodayMicroUsd.store(0);                        // and with DAILY_SPEND_CAP_USD, today's spend
        m.journal = [] { return Metrics::JournalFigures{}; }; // every server has the call-record journal
        const QString text = QString::fromUtf8(m.render());
        QSet<QString> names;
        QHash<QString, QSet<QString>> labels;
        static const QRegularExpression type(u"^# TYPE (\\S+) (\\S+)$"_s,
                                             QRegularExpression::MultilineOption);
        for (auto it = type.globalMatch(text); it.hasNext();) {
            const auto t = it.next();
            names << t.captured(1);
            if (t.captured(2) == u"histogram"_s)
                names << t.captured(1) + u"_bucket"_s << t.captured(1) + u"_sum"_s
                      << t.captured(1) + u"_count"_s;
        }
        static const QRegularExpression sample(u"^(vaani_[a-z0-9_]+)\\{([^}]*)\\}"_s,
                                               QRegularExpression::MultilineOption);
        for (auto it = sample.globalMatch(text); it.hasNext();) {
            const auto s = it.next();
            for (const QString &pair : s.captured(2).split(u','))
                labels[s.captured(1)] << pair.section(u'=', 0, 0);
        }
        QVERIFY(names.size() > 15);

        QJsonParseError error;
        const QJsonDocument doc =
            QJsonDocument::fromJson(read(u"deploy/grafana/vaani-dashboard.json"_s).toUtf8(), &error);
        QVERIFY2(doc.isObject(), qPrintable(error.errorString()));
        const QJsonArray panels = doc.object().value(u"panels"_s).toArray();
        QVERIFY(panels.size() >= 10);
        int queries = 0;
        static const QRegularExpression metric(u"\\bvaani_[a-z0-9_]+"_s);
        static const QRegularExpression by(
            u"\\bby \\(([^)]*)\\)\\s*\\((?:rate|increase)?\\(?(vaani_[a-z0-9_]+)"_s);
        // Labels every scrape adds, and the histogram's bucket label.
        const QSet<QString> scrapeLabels = {u"instance"_s, u"job"_s, u"le"_s};
        for (const QJsonValue &p : panels) {
            const QJsonArray targets = p.toObject().value(u"targets"_s).toArray();
            QVERIFY2(!targets.isEmpty(), qPrintable(p.toObject().value(u"title"_s).toString()));
            for (const QJsonValue &t : targets) {
                const QString expr = t.toObject().value(u"expr"_s).toString();
                ++queries;
                bool any = false;
                for (auto it = metric.globalMatch(expr); it.hasNext();) {
                    const QString name = it.next().captured();
                    any = true;
                    QVERIFY2(names.contains(name),
                             qPrintable(u"%1 is not exported (in: %2)"_s.arg(name, expr)));
                }
                QVERIFY2(any, qPrintable(expr));
                for (auto it = by.globalMatch(expr); it.hasNext();) {
                    const auto b = it.next();
                    QString family = b.captured(2);
                    family.remove(QRegularExpression(u"_(bucket|sum|count)$"_s));
                    for (const QString &label : b.captured(1).split(u',')) {
                        const QString l = label.trimmed();
                        QVERIFY2(scrapeLabels.contains(l) || labels.value(family).contains(l) ||
                                     labels.value(b.captured(2)).contains(l),
                                 qPrintable(u"%1 has no label %2 (in: %3)"_s.arg(family, l, expr)));
                    }
                }
            }
        }
        QVERIFY(queries >= 15);
    }

    void exampleEnvironmentNamesRealSettings()
    {
        const QString env = read(u"deploy/vaani.env.example"_s);
        QVERIFY(!env.isEmpty());
        QStringList keys;
        for (const QString &line : env.split(u'\n')) {
            if (line.trimmed().isEmpty() || line.startsWith(u'#'))
                continue;
            keys << line.section(u'=', 0, 0);
        }
        QVERIFY(keys.contains(u"TRUSTED_PROXIES"_s) && keys.contains(u"VAANI_INSTANCE"_s));
        // The file as the server would read it: loading it must succeed (unknown keys and bad values fail).
        const QString path = QStringLiteral(VAANI_SOURCE_DIR) + u"/deploy/vaani.env.example"_s;
        Config c;
        QProcessEnvironment none;
        const auto loaded = c.load(App::Server, {}, none, path);
        QVERIFY2(loaded.status == Config::Status::Ok, qPrintable(loaded.error));
        for (const QString &k : keys)
            QVERIFY2(c.source(k) != u"default"_s, qPrintable(k));
    }

    void systemdUnit()
    {
        const QString unit = read(u"deploy/systemd/vaani-server.service"_s);
        static const QRegularExpression stop(u"^TimeoutStopSec=(\\d+)$"_s,
                                             QRegularExpression::MultilineOption);
        const auto m = stop.match(unit);
        QVERIFY(m.hasMatch());
        Config c;
        QCOMPARE(c.load(App::Server, {}, QProcessEnvironment()).status, Config::Status::Ok);
        QVERIFY2(m.captured(1).toInt() > c.integer(u"SHUTDOWN_GRACE"_s), "systemd must wait out the grace");
        for (const char *line :
             {"NoNewPrivileges=yes", "ProtectSystem=strict", "Restart=on-failure", "KillSignal=SIGTERM",
              "ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes"})
            QVERIFY2(unit.contains(QLatin1String(line)), line);
        // Every credential handed to the service is read through a *_FILE setting the server knows.
        static const QRegularExpression fileVar(u"^Environment=([A-Z_]+_FILE)=%d/"_s,
                                                QRegularExpression::MultilineOption);
        int files = 0;
        for (auto it = fileVar.globalMatch(unit); it.hasNext();) {
            const QString var = it.next().captured(1);
            ++files;
            if (Config::find(var))
                continue; // a setting of its own (VAANI_DATA_KEY_FILE: the server reads the file at start)
            QProcessEnvironment env;
            env.insert(var, u"/nonexistent/credential"_s);
            Config probe;
            const auto r = probe.load(App::Server, {}, env);
            // Known: the server tries the file (and fails to read it), rather than ignoring the variable.
            QVERIFY2(r.status == Config::Status::Error && r.error.contains(u"/nonexistent/credential"_s),
                     qPrintable(var + u": "_s + r.error));
        }
        QVERIFY(files >= 4);
    }

    void nginxSite()
    {
        const QString site = read(u"deploy/nginx/vaani.conf"_s);
        // (tests/integration/tst_deployment runs nginx -t and nginx itself on this file.) A regular
        // expression with braces must be quoted in nginx, or the brace opens a block.
        QVERIFY(site.contains(uR"(location ~ "^/media-stream/(?<vaani_instance>[a-z0-9-]{1,63})$" {)"_s));
        QVERIFY(site.contains(u"proxy_next_upstream error timeout http_502 http_503 non_idempotent;"_s));
        QVERIFY(site.contains(u"proxy_pass http://vaani_$vaani_instance;"_s));
        QVERIFY(site.contains(u"proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"_s));
        QVERIFY(site.contains(u"client_max_body_size"_s));
        QVERIFY(!site.contains(u"location /metrics"_s) && !site.contains(u"location = /metrics"_s));
        QVERIFY(!site.contains(u"location = /readyz"_s) && !site.contains(u"location /readyz"_s));
        QVERIFY(site.contains(u"return 404;"_s));
        // Every webhook Twilio calls reaches the servers (everything else is 404): the call, its status, and
        // the fallback's keypad menu.
        static const QRegularExpression webhooks(u"location ~ \\^/\\(([a-z|-]+)\\)\\$ \\{"_s);
        const QStringList routed = webhooks.match(site).captured(1).split(u'|');
        for (const QString &route : {u"incoming-call"_s, u"call-status"_s, u"fallback-menu"_s})
            QVERIFY2(routed.contains(route), qPrintable(route + u" is not routed by the nginx site"_s));
    }
};

QTEST_GUILESS_MAIN(TestDeploy)
#include "tst_deploy.moc"
