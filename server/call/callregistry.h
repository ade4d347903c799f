#pragma once
// Calls this process knows about, shared by all worker threads (one mutex): the concurrent-call budget, the
// sessions pre-warmed by the voice webhook, keyed by CallSid, until their Media Stream arrives, and every
// CallSid that has had a stream (live or ended, remembered for a day) so that one CallSid maps to one call:
// a replayed webhook opens nothing new and a second stream for the same CallSid is refused. Also remembers
// Twilio's I-Twilio-Idempotency-Token values for a while, so a retried callback is applied once.
// Hand-over protocol: a session is deleted only after removePrewarmed() succeeded or after it was attached,
// so a pointer returned by takePrewarmed() stays valid until the taker attaches it.

#include <QHash>
#include <QMutex>
#include <QString>

#include <functional>

namespace vaani {

class CallSession;

class CallRegistry
{
public:
    explicit CallRegistry(int maxCalls)
        : m_max(maxCalls)
    {}
    // One more call, if under the limit; the CallSid is remembered until release().
    bool tryReserve(const QString &callSid) { return reserve(callSid, {}, 0) == Reservation::Ok; }
    // The same, and at most `perCaller` calls (0: any number) for the caller behind `callerKey` (a keyed hash
    // of the number; empty: not limited).
    enum class Reservation { Ok, AtLimit, CallerBusy };
    Reservation reserve(const QString &callSid, const QByteArray &callerKey, int perCaller);
    void release(const QString &callSid); // a reserved call ended
    int active() const;
    QStringList liveCallSids() const; // the calls reserved here now
    // REDIS_URL: the deployment decides the limit while Redis answers; this server's share when it does not.
    void setLimit(int maxCalls);
    // Called (on the releasing thread, outside the lock) with each released CallSid. Set before the workers
    // start.
    void setOnRelease(std::function<void(const QString &)> onRelease) { m_onRelease = std::move(onRelease); }
    // Called (on the releasing thread, outside the lock) whenever the last active call ends. Set before the
    // workers start.
    void setOnIdle(std::function<void()> onIdle) { m_onIdle = std::move(onIdle); }
    int limit() const;
    bool atLimit() const;

    bool addPrewarmed(const QString &callSid, CallSession *session); // false if one exists already
    CallSession *takePrewarmed(const QString &callSid);
    bool removePrewarmed(const QString &callSid, CallSession *session);
    bool hasPrewarmed(const QString &callSid) const;

    enum class StreamState { None, Live, Ended };
    StreamState streamState(const QString &callSid) const;
    // A stream starts for this CallSid: false when one already started (live or ended) — refuse it.
    bool beginStream(const QString &callSid, qint64 nowMs);
    void streamEnded(const QString &callSid, qint64 nowMs);
    // True the first time a key is seen within kIdempotencyMs; empty keys are always "first".
    bool firstDelivery(const QByteArray &idempotencyKey, qint64 nowMs);

    static constexpr qint64 kRememberEndedMs = 24LL * 3600 * 1000;
    static constexpr qint64 kIdempotencyMs = 3600LL * 1000;
    static constexpr qsizetype kMaxRemembered = 200000; // the oldest are forgotten first beyond this

private:
    void prune(qint64 nowMs);
    int m_max;
    mutable QMutex m_mutex;
    int m_active = 0;
    QHash<QString, int> m_reserved;         // CallSid -> reservations (one, unless a CallSid came twice)
    QHash<QString, QByteArray> m_callerOf;  // CallSid -> caller key (limited callers only)
    QHash<QByteArray, int> m_callsOfCaller; // caller key -> calls reserved
    std::function<void()> m_onIdle;
    std::function<void(const QString &)> m_onRelease;
    QHash<QString, CallSession *> m_prewarmed;
    struct Streamed
    {
        StreamState state;
        qint64 sinceMs;
    };
    QHash<QString, Streamed> m_streams;
    QHash<QByteArray, qint64> m_idempotency; // key -> first seen
    qint64 m_lastPruneMs = 0;
};

} // namespace vaani
