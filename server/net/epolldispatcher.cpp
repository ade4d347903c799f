#include "epolldispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QVarLengthArray>

#include <chrono>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace vaani {

namespace {
qint64 nowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
{
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = m_wake;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    ::close(m_wake);
    ::close(m_epoll);
}

void EpollEventDispatcher::updateWatch(int fd)
{
    const auto it = m_watches.constFind(fd);
    const Watch w = it == m_watches.cend() ? Watch{} : *it;
    epoll_event ev{};
    ev.data.fd = fd;
    if (w.read)
        ev.events |= EPOLLIN;
    if (w.write)
        ev.events |= EPOLLOUT;
    if (w.exception)
        ev.events |= EPOLLPRI;
    ev.events |= w.handlerEvents;
    if (!ev.events) {
        m_watches.remove(fd);
        epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
        return;
    }
    if (epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &ev) != 0)
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
}

EpollEventDispatcher *EpollEventDispatcher::currentThread()
{
    return dynamic_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
}

void EpollEventDispatcher::setHandler(int fd, EpollHandler *handler, quint32 events)
{
    const quint32 wanted = events & (EPOLLIN | EPOLLOUT);
    Watch &w = m_watches[fd];
    if (w.handler == handler && w.handlerEvents == wanted)
        return; // unchanged: no system call
    if (w.handler != handler)
        w.handlerGeneration = ++m_generation;
    w.handler = handler;
    w.handlerEvents = wanted;
    updateWatch(fd);
}

void EpollEventDispatcher::removeHandler(int fd)
{
    auto it = m_watches.find(fd);
    if (it == m_watches.end() || !it->handler)
        return;
    it->handler = nullptr;
    it->handlerEvents = 0;
    it->handlerGeneration = 0;
    updateWatch(fd);
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    Watch &w = m_watches[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read:
        w.read = notifier;
        break;
    case QSocketNotifier::Write:
        w.write = notifier;
        break;
    case QSocketNotifier::Exception:
        w.exception = notifier;
        break;
    }
    updateWatch(fd);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = int(notifier->socket());
    auto it = m_watches.find(fd);
    if (it == m_watches.end())
        return;
    if (it->read == notifier)
        it->read = nullptr;
    if (it->write == notifier)
        it->write = nullptr;
    if (it->exception == notifier)
        it->exception = nullptr;
    updateWatch(fd);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    m_timers.append({timerId, interval, timerType, object, nowMs() + interval});
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    for (qsizetype i = 0; i < m_timers.size(); ++i) {
        if (m_timers.at(i).id == timerId) {
            m_timers.removeAt(i);
            return true;
        }
    }
    return false;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    return m_timers.removeIf([object](const Timer &t) { return t.object == object; }) > 0;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> out;
    for (const Timer &t : m_timers) {
        if (t.object == object)
            out.append(TimerInfo(t.id, int(t.intervalMs), t.type));
    }
    return out;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    for (const Timer &t : std::as_const(m_timers)) {
        if (t.id == timerId)
            return int(std::max<qint64>(0, t.deadlineMs - nowMs()));
    }
    return -1;
}

void EpollEventDispatcher::wakeUp()
{
    if (m_wakePending.exchange(true))
        return;
    const quint64 one = 1;
    [[maybe_unused]] const auto n = ::write(m_wake, &one, sizeof one);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted = true;
    wakeUp();
}

int EpollEventDispatcher::firesDueTimers()
{
    // Timers may be added or removed by the handlers: collect the due ids first, look each up again.
    const qint64 now = nowMs();
    QList<int> due;
    for (Timer &t : m_timers) {
        if (t.deadlineMs <= now) {
            due.append(t.id);
            // Catch up without bursts: the next expiry is one interval from now if we fell behind.
            t.deadlineMs = std::max(t.deadlineMs + t.intervalMs, now + (t.intervalMs > 0 ? 0 : 1));
            if (t.deadlineMs <= now)
                t.deadlineMs = now + t.intervalMs;
        }
    }
    for (int id : std::as_const(due)) {
        QObject *object = nullptr;
        for (const Timer &t : std::as_const(m_timers)) {
            if (t.id == id)
                object = t.object;
        }
        if (!object)
            continue;
        QTimerEvent e(id);
        QCoreApplication::sendEvent(object, &e);
    }
    return int(due.size());
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted = false;
    Q_EMIT awake();
    m_wakePending = false; // events posted from here on wake the next wait
    QCoreApplication::sendPostedEvents();
    if (m_interrupted)
        return false;

    int timeout = 0;
    if (flags & QEventLoop::WaitForMoreEvents) {
        timeout = -1;
        const qint64 now = nowMs();
        for (const Timer &t : std::as_const(m_timers))
            timeout = int(timeout < 0 ? std::max<qint64>(0, t.deadlineMs - now)
                                      : std::min<qint64>(timeout, std::max<qint64>(0, t.deadlineMs - now)));
        Q_EMIT aboutToBlock();
    }
    epoll_event events[256];
    const int n = epoll_wait(m_epoll, events, 256, timeout);
    if (flags & QEventLoop::WaitForMoreEvents)
        Q_EMIT awake();

    // Collect first, then deliver: handlers may (un)register notifiers for other descriptors.
    struct Ready
    {
        int fd;
        QSocketNotifier::Type type;
    };
    struct Direct
    {
        int fd;
        quint64 generation;
        quint32 events;
    };
    QVarLengthArray<Ready, 64> ready;
    QVarLengthArray<Direct, 256> direct;
    for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wake) {
            quint64 value;
            [[maybe_unused]] const auto r = ::read(m_wake, &value, sizeof value);
            continue;
        }
        const uint32_t e = events[i].events;
        const auto it = m_watches.constFind(fd);
        if (it == m_watches.cend())
            continue;
        if (it->handler)
            direct.append({fd, it->handlerGeneration, e});
        if (it->read && (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            ready.append({fd, QSocketNotifier::Read});
        if (it->write && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
            ready.append({fd, QSocketNotifier::Write});
        if (it->exception && (e & EPOLLPRI))
            ready.append({fd, QSocketNotifier::Exception});
    }
    int handled = 0;
    for (const Direct &d : std::as_const(direct)) {
        // Looked up again: an earlier handler may have removed or replaced this one.
        const auto it = m_watches.constFind(d.fd);
        if (it == m_watches.cend() || !it->handler || it->handlerGeneration != d.generation)
            continue;
        it->handler->epollEvent(d.events);
        ++handled;
    }
    for (const Ready &r : std::as_const(ready)) {
        const auto it = m_watches.constFind(r.fd);
        if (it == m_watches.cend())
            continue;
        QSocketNotifier *notifier = r.type == QSocketNotifier::Read    ? it->read
                                    : r.type == QSocketNotifier::Write ? it->write
                                                                       : it->exception;
        if (!notifier || !notifier->isEnabled())
            continue;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++handled;
    }
    if (!(flags & QEventLoop::X11ExcludeTimers))
        handled += firesDueTimers();
    return handled > 0 || n > 0;
}

} // namespace vaani
