#pragma once
// An event dispatcher for the server's worker threads built on Linux epoll. Qt's own dispatchers poll() every
// socket of the thread on each wake-up, which costs O(sockets) per event and dominated the server's CPU under
// load (docs/performance.md); epoll hands back only the ready ones. Socket notifiers and timers are delivered
// exactly as Qt's dispatchers deliver them (QEvent::SockAct, QTimerEvent); posted events are sent on every
// pass. Timers live in a min-heap by deadline (lazy deletion), so a wake-up costs O(log timers), not a scan
// of every timer. Created for a thread before it starts (QThread::setEventDispatcher); used only by that
// thread, except wakeUp() and interrupt(), which are thread-safe.

#include <QAbstractEventDispatcher>
#include <QHash>
#include <QList>

#include <atomic>
#include <vector>

namespace vaani {

// Receives a descriptor's readiness straight from the dispatcher, without a QSocketNotifier event and signal.
class EpollHandler
{
public:
    // `events`: EPOLLIN / EPOLLOUT / EPOLLHUP / EPOLLERR bits. The handler may remove itself or others.
    virtual void epollEvent(quint32 events) = 0;

protected:
    ~EpollHandler() = default;
};

class EpollEventDispatcher : public QAbstractEventDispatcher
{
public:
    // The current thread's dispatcher when it is one of these, else nullptr.
    static EpollEventDispatcher *currentThread();
    // Direct delivery for the audio path's sockets (at most one handler per descriptor, alongside any
    // notifiers): `events` is EPOLLIN and/or EPOLLOUT; calling again changes them. Same thread only.
    void setHandler(int fd, EpollHandler *handler, quint32 events);
    void removeHandler(int fd);

    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

private:
    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        EpollHandler *handler = nullptr;
        quint32 handlerEvents = 0;
        quint64 handlerGeneration = 0; // tells a re-registered descriptor from the one an event was for
    };
    struct Timer
    {
        qint64 intervalMs;
        Qt::TimerType type;
        QObject *object;
        qint64 deadlineUs;  // steady clock
        quint64 generation; // matches the heap entry that is current for this timer
    };
    struct HeapEntry
    {
        qint64 deadlineUs;
        quint64 generation;
        int id;
        bool operator>(const HeapEntry &o) const
        {
            return deadlineUs != o.deadlineUs ? deadlineUs > o.deadlineUs : generation > o.generation;
        }
    };
    void updateWatch(int fd);
    int firesDueTimers();
    void schedule(int id, Timer &t);
    // Drops heap entries of timers that were removed or rescheduled; the top is then a live timer (or none).
    void pruneHeapTop();
    int waitTimeoutMs();

    int m_epoll = -1;
    int m_wake = -1;
    QHash<int, Watch> m_watches;
    QHash<int, Timer> m_timers;
    std::vector<HeapEntry> m_heap; // std::push_heap/pop_heap with std::greater: earliest deadline on top
public:
    size_t heapSizeForTesting() const { return m_heap.size(); }

private:
    quint64 m_timerGeneration = 0;
    quint64 m_generation = 0;
    std::atomic<bool> m_interrupted{false};
    std::atomic<bool> m_wakePending{false}; // one eventfd write per wake-up, however many events are posted
};

} // namespace vaani
