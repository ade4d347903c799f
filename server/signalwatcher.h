#pragma once
// SIGTERM, SIGINT and SIGHUP as a Qt signal. The signals are blocked in the process (block() must run in
// main() before any thread starts, so every thread inherits the mask) and read from a signalfd by a socket
// notifier on the main thread: nothing runs inside a signal handler, so any code may react to them. Main
// thread; one instance.

#include <QObject>

class QSocketNotifier;

namespace vaani {

class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    // Blocks SIGTERM, SIGINT and SIGHUP for this thread and the threads it starts later. False (with errno)
    // on failure.
    static bool block();
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;
    bool isValid() const { return m_fd >= 0; }

Q_SIGNALS:
    void received(int signalNumber);

private:
    void onReadable();
    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace vaani
