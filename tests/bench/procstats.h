#pragma once
// CPU time and resident memory of a process, from /proc (all threads).

#include <QDir>
#include <QFile>
#include <QString>

#include <unistd.h>

namespace vaani::bench {

struct ProcStats
{
    double cpuSeconds = 0; // user + system
    qint64 rssKb = 0;
    int openFds = 0; // descriptors the process has open
    bool ok = false;

    static ProcStats read(qint64 pid)
    {
        ProcStats s;
        const QString base = pid > 0 ? QStringLiteral("/proc/%1").arg(pid) : QStringLiteral("/proc/self");
        QFile stat(base + QStringLiteral("/stat"));
        if (!stat.open(QIODevice::ReadOnly))
            return s;
        const QByteArray line = stat.readAll();
        // Fields after the command name (which may contain spaces) start after the last ')'.
        const QList<QByteArray> f = line.mid(line.lastIndexOf(')') + 2).split(' ');
        if (f.size() < 13)
            return s;
        const double tick = double(sysconf(_SC_CLK_TCK));
        s.cpuSeconds = (f.at(11).toDouble() + f.at(12).toDouble()) / tick; // utime, stime
        QFile status(base + QStringLiteral("/status"));
        if (status.open(QIODevice::ReadOnly)) {
            for (const QByteArray &l : status.readAll().split('\n')) {
                if (l.startsWith("VmRSS:"))
                    s.rssKb = l.mid(6).trimmed().split(' ').first().toLongLong();
            }
        }
        s.openFds =
            int(QDir(base + QStringLiteral("/fd")).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).size());
        s.ok = true;
        return s;
    }
};

} // namespace vaani::bench
