#include "epolldispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QVarLengthArray>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace vaani {

namespace {
// Timers keep microseconds so that rounding never fires one early: epoll_wait's millisecond timeout is
// rounded up, and a deadline is "interval after registration" to the microsecond.
qint64 nowUs()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(
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

void EpollEventDispatcher::schedule(int id, Timer &t)
{
    t.generation = ++m_timerGeneration;
    // Restarted timers (an idle deadline pushed back on every message) leave stale entries behind: rebuild
    // from the live timers when they outnumber them, so the heap stays O(timers) in size (amortised O(1)).
    if (m_heap.size() >= 64 && m_heap.size() > 2 * size_t(m_timers.size())) {
        m_heap.clear();
        for (auto it = m_timers.cbegin(); it != m_timers.cend(); ++it) {
            if (it.key() != id)
                m_heap.push_back({it->deadlineUs, it->generation, it.key()});
        }
        std::make_heap(m_heap.begin(), m_heap.end(), std::greater<>());
    }
    m_heap.push_back({t.deadlineUs, t.generation, id});
    std::push_heap(m_heap.begin(), m_heap.end(), std::greater<>());
}

void EpollEventDispatcher::pruneHeapTop()
{
    while (!m_heap.empty()) {
        const HeapEntry &top = m_heap.front();
        const auto it = m_timers.constFind(top.id);
        if (it != m_timers.cend() && it->generation == top.generation)
            return;
        std::pop_heap(m_heap.begin(), m_heap.end(), std::greater<>());
        m_heap.pop_back();
    }
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    Timer &t = m_timers[timerId];
    t = {interval, timerType, object, nowUs() + interval * 1000, 0};
    schedule(timerId, t);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    // Its heap entries become stale and are dropped when they reach the top.
    const bool removed = m_timers.remove(timerId);
    if (m_timers.isEmpty())
        m_heap.clear();
    return removed;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    const bool removed =
        m_timers.removeIf([object](const auto &it) { return it.value().object == object; }) > 0;
    if (m_timers.isEmpty())
        m_heap.clear();
    return removed;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> out;
    for (auto it = m_timers.cbegin(); it != m_timers.cend(); ++it) {
        if (it->object == object)
            out.append(TimerInfo(it.key(), int(it->intervalMs), it->type));
    }
    return out;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.constFind(timerId);
    return it == m_timers.cend() ? -1 : int(std::max<qint64>(0, (it->deadlineUs - nowUs() + 999) / 1000));
}

int EpollEventDispatcher::waitTimeoutMs()
{
    pruneHeapTop();
    if (m_heap.empty())
        return -1;
    const qint64 us = m_heap.front().deadlineUs - nowUs();
    return int(std::clamp<qint64>((us + 999) / 1000, 0, std::numeric_limits<int>::max()));
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
    // Take every due timer off the heap and reschedule it, then deliver: handlers may add or remove timers
    // (a removed one is not delivered), and a timer rescheduled here cannot come due again in this pass.
    const qint64 now = nowUs();
    QVarLengthArray<int, 64> due;
    for (pruneHeapTop(); !m_heap.empty() && m_heap.front().deadlineUs <= now; pruneHeapTop()) {
        const int id = m_heap.front().id;
        std::pop_heap(m_heap.begin(), m_heap.end(), std::greater<>());
        m_heap.pop_back();
        Timer &t = m_timers[id];
        // Catch up without bursts: the next expiry is one interval on, or one interval from now if we fell
        // behind; zero-interval timers fire on the next pass.
        const qint64 interval = t.intervalMs * 1000;
        t.deadlineUs = interval > 0 ? t.deadlineUs + interval : now + 1;
        if (t.deadlineUs <= now)
            t.deadlineUs = now + interval;
        due.append(id);
    }
    for (int id : std::as_const(due)) {
        const auto it = m_timers.find(id);
        if (it == m_timers.end())
            continue;
        schedule(id, *it);
    }
    int fired = 0;
    for (int id : std::as_const(due)) {
        const auto it = m_timers.constFind(id);
        if (it == m_timers.cend())
            continue; // removed by an earlier timer's handler
        QTimerEvent e(id);
        QCoreApplication::sendEvent(it->object, &e);
        ++fired;
    }
    return fired;
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
        timeout = waitTimeoutMs();
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
