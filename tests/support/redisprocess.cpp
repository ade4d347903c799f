#include "redisprocess.h"

#include "testenv.h"

#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTcpServer>

#include <csignal>

using namespace Qt::StringLiterals;

namespace vaani::test {

RedisProcess::RedisProcess(const QString &dir, const QString &password)
    : m_dir(dir)
    , m_password(password)
{
    QDir().mkpath(m_dir);
}

RedisProcess::~RedisProcess()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        resume();
        m_process->kill();
        m_process->waitForFinished(5000);
    }
}

bool RedisProcess::start(QString *error)
{
    const QString program = QStandardPaths::findExecutable(u"redis-server"_s);
    if (program.isEmpty()) {
        if (error)
            *error = u"redis-server is not installed (scripts/vaani setup installs it)"_s;
        return false;
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (m_port == 0 || attempt > 0) {
            if (attempt > 0 && m_process) // the port we kept was taken meanwhile
                m_port = 0;
            m_port = m_port ? m_port : freePort();
        }
        QStringList args{u"--port"_s,
                         QString::number(m_port),
                         u"--bind"_s,
                         u"127.0.0.1"_s,
                         u"--dir"_s,
                         m_dir,
                         u"--save"_s,
                         u""_s,
                         u"--appendonly"_s,
                         u"no"_s,
                         u"--daemonize"_s,
                         u"no"_s,
                         u"--protected-mode"_s,
                         u"no"_s};
        if (!m_password.isEmpty())
            args << u"--requirepass"_s << m_password;
        m_process = std::make_unique<QProcess>();
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->start(program, args);
        if (!m_process->waitForStarted(5000))
            continue;
        // Ready when its log says so.
        QByteArray log;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 10000 && m_process->waitForReadyRead(int(10000 - clock.elapsed()))) {
            log += m_process->readAll();
            if (log.contains("Ready to accept connections"))
                return true;
        }
        m_lastLog = QString::fromUtf8(log.right(2000));
        m_process->kill();
        m_process->waitForFinished(2000);
    }
    if (error)
        *error = u"redis-server did not start: "_s + m_lastLog;
    return false;
}

void RedisProcess::stop()
{
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return;
    resume();
    m_process->terminate();
    if (!m_process->waitForFinished(5000)) {
        m_process->kill();
        m_process->waitForFinished(2000);
    }
}

void RedisProcess::pause()
{
    if (running())
        ::kill(pid_t(m_process->processId()), SIGSTOP);
}

void RedisProcess::resume()
{
    if (running())
        ::kill(pid_t(m_process->processId()), SIGCONT);
}

bool RedisProcess::running() const
{
    return m_process && m_process->state() == QProcess::Running;
}

QString RedisProcess::url(int db) const
{
    const QString auth = m_password.isEmpty() ? QString() : u":"_s + m_password + u"@"_s;
    return u"redis://"_s + auth + u"127.0.0.1:%1/%2"_s.arg(m_port).arg(db);
}

QString RedisProcess::cli(const QStringList &args) const
{
    QProcess p;
    QStringList all{u"-p"_s, QString::number(m_port), u"--no-auth-warning"_s};
    if (!m_password.isEmpty())
        all << u"-a"_s << m_password;
    p.start(u"redis-cli"_s, all + args);
    if (!p.waitForFinished(10000))
        return u"ERROR: redis-cli did not finish"_s;
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

} // namespace vaani::test
