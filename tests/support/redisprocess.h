#pragma once
// A real redis-server for a test: started on a free loopback port under a temporary directory, nothing
// persisted, stopped with the object. Tests can pause it (SIGSTOP: a Redis that hangs), stop it and start it
// again on the same port (a Redis that goes away and comes back), and run redis-cli against it.

#include <QProcess>
#include <QString>
#include <QStringList>

#include <memory>

namespace vaani::test {

class RedisProcess
{
public:
    // `password`: requirepass (empty: none).
    explicit RedisProcess(const QString &dir, const QString &password = {});
    ~RedisProcess();
    bool start(QString *error = nullptr); // on the port chosen at the first start
    void stop();                          // SIGTERM, waits
    void pause();                         // SIGSTOP
    void resume();                        // SIGCONT
    bool running() const;
    quint16 port() const { return m_port; }
    QString url(int db = 0) const; // redis://[:password@]127.0.0.1:port/db
    // redis-cli's answer (trimmed stdout), or "ERROR: …".
    QString cli(const QStringList &args) const;

private:
    QString m_dir;
    QString m_password;
    quint16 m_port = 0;
    QString m_lastLog;
    std::unique_ptr<QProcess> m_process;
};

} // namespace vaani::test
