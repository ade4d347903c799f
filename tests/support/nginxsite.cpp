#include "nginxsite.h"

#include "testenv.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

namespace vaani::test {

namespace {

bool run(const QString &program, const QStringList &args, QString *output)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    const bool ok = p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    *output = QString::fromUtf8(p.readAll());
    return ok;
}

bool render(const NginxSite &site, QString *why)
{
    QFile shipped(site.sourceDir + u"/deploy/nginx/vaani.conf"_s);
    if (!shipped.open(QIODevice::ReadOnly)) {
        *why = u"cannot read deploy/nginx/vaani.conf"_s;
        return false;
    }
    QString text = QString::fromUtf8(shipped.readAll());
    const quint16 b = site.serverB ? site.serverB : site.serverA;
    const QList<std::pair<QString, QString>> replace = {
        {u"10.0.0.11:8080"_s, u"127.0.0.1:%1"_s.arg(site.serverA)},
        {u"10.0.0.12:8080"_s, u"127.0.0.1:%1"_s.arg(b)},
        {u"listen 443 ssl http2;"_s, u"listen 127.0.0.1:%1 ssl http2;"_s.arg(site.listenPort)},
        {u"listen [::]:443 ssl http2;"_s, QString()},
        {u"listen 80;"_s, u"listen 127.0.0.1:%1;"_s.arg(freePort())},
        {u"listen [::]:80;"_s, QString()},
        {u"/etc/letsencrypt/live/vaani.example.in/fullchain.pem"_s, site.dir + u"/cert.pem"_s},
        {u"/etc/letsencrypt/live/vaani.example.in/privkey.pem"_s, site.dir + u"/key.pem"_s},
    };
    for (const auto &[from, to] : replace) {
        if (!text.contains(from)) {
            *why = u"deploy/nginx/vaani.conf no longer contains "_s + from;
            return false;
        }
        text.replace(from, to);
    }
    QFile siteFile(site.dir + u"/vaani.conf"_s);
    QFile main(site.dir + u"/nginx.conf"_s);
    if (!siteFile.open(QIODevice::WriteOnly) || !main.open(QIODevice::WriteOnly)) {
        *why = u"cannot write the nginx configuration"_s;
        return false;
    }
    siteFile.write(text.toUtf8());
    const QString t = site.dir + u"/nginx-tmp"_s;
    QDir().mkpath(t);
    main.write(u"daemon off;\nworker_processes 1;\npid %1/nginx.pid;\nerror_log %1/nginx-error.log warn;\n"
               "events { worker_connections 4096; }\n"
               "http {\n  access_log off;\n  client_body_temp_path %2/body;\n  proxy_temp_path %2/proxy;\n"
               "  fastcgi_temp_path %2/fastcgi;\n  uwsgi_temp_path %2/uwsgi;\n  scgi_temp_path %2/scgi;\n"
               "  include %1/vaani.conf;\n%3\n}\n"_s.arg(site.dir, t, site.extraServers)
                   .toUtf8());
    return true;
}

} // namespace

bool makeTestCertificate(const QString &dir, QString *why)
{
    QDir().mkpath(dir);
    return run(u"openssl"_s,
               {u"req"_s, u"-new"_s, u"-x509"_s, u"-days"_s, u"2"_s, u"-nodes"_s, u"-subj"_s,
                u"/CN=127.0.0.1"_s, u"-addext"_s, u"subjectAltName=IP:127.0.0.1"_s, u"-newkey"_s, u"ec"_s,
                u"-pkeyopt"_s, u"ec_paramgen_curve:prime256v1"_s, u"-keyout"_s, dir + u"/key.pem"_s,
                u"-out"_s, dir + u"/cert.pem"_s},
               why);
}

NginxProcess::~NginxProcess()
{
    stop();
}

bool NginxProcess::start(const NginxSite &site, QString *why)
{
    const QString nginx = QStandardPaths::findExecutable(u"nginx"_s, {u"/usr/sbin"_s, u"/usr/local/sbin"_s});
    if (nginx.isEmpty()) {
        *why = u"nginx is not installed (scripts/vaani setup installs it)"_s;
        return false;
    }
    if (!render(site, why))
        return false;
    const QStringList args{u"-p"_s, site.dir, u"-c"_s, site.dir + u"/nginx.conf"_s};
    QString out;
    if (!run(nginx, QStringList{u"-t"_s} + args, &out)) { // what an operator runs first
        *why = u"nginx -t: "_s + out;
        return false;
    }
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::ForwardedChannels);
    m_process->start(nginx, args);
    if (!m_process->waitForStarted(5000)) {
        *why = u"nginx did not start"_s;
        return false;
    }
    // Ready when it accepts connections on its port (the master binds before it forks the worker).
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 10000 && m_process->state() == QProcess::Running) {
        QTcpSocket s;
        s.connectToHost(QHostAddress::LocalHost, site.listenPort);
        if (s.waitForConnected(500))
            return true;
        m_process->waitForFinished(50); // returns at once while nginx runs; wait for its bind, not a sleep
    }
    *why = u"nginx is not listening on %1 (see %2/nginx-error.log)"_s.arg(site.listenPort).arg(site.dir);
    return false;
}

void NginxProcess::stop()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(5000))
            m_process->kill();
        m_process->waitForFinished(2000);
    }
}

} // namespace vaani::test
