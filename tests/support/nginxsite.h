#pragma once
// nginx as a test or the benchmark runs it: the shipped deploy/nginx/vaani.conf with this machine's ports, a
// throw-away certificate and the upstream addresses filled in (every substitution must apply, so a change to
// the shipped file's shape fails the test instead of going untested), wrapped in a main configuration that
// keeps everything (pid, logs, temporary files) under one directory. `nginx -t` first, as an operator would.

#include <QProcess>
#include <QString>

#include <memory>

namespace vaani::test {

// A self-signed certificate for 127.0.0.1 (P-256): dir/cert.pem and dir/key.pem.
bool makeTestCertificate(const QString &dir, QString *why);

struct NginxSite
{
    QString dir;            // configuration, logs, pid and temporary files
    QString sourceDir;      // the repository (deploy/nginx/vaani.conf)
    quint16 listenPort = 0; // TLS, for Twilio
    quint16 serverA = 0;    // the port of instance vaani-a (the shipped file's first server)
    quint16 serverB = 0;    // vaani-b; 0: the same as vaani-a (one server)
    QString extraServers;   // more server blocks inside http { }
};

class NginxProcess
{
public:
    ~NginxProcess();
    bool start(const NginxSite &site, QString *why);
    void stop();
    qint64 pid() const { return m_process ? m_process->processId() : 0; }

private:
    std::unique_ptr<QProcess> m_process;
};

} // namespace vaani::test
