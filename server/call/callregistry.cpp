#include "callregistry.h"

namespace vaani {

CallRegistry::Reservation CallRegistry::reserve(const QString &callSid, const QByteArray &callerKey,
                                                int perCaller)
{
    QMutexLocker lock(&m_mutex);
    if (m_active >= m_max)
        return Reservation::AtLimit;
    const bool limited = perCaller > 0 && !callerKey.isEmpty() && !m_callerOf.contains(callSid);
    if (limited && m_callsOfCaller.value(callerKey) >= perCaller)
        return Reservation::CallerBusy;
    ++m_active;
    ++m_reserved[callSid];
    if (limited) {
        m_callerOf.insert(callSid, callerKey);
        ++m_callsOfCaller[callerKey];
    }
    return Reservation::Ok;
}

void CallRegistry::release(const QString &callSid)
{
    bool idle = false;
    bool released = false;
    {
        QMutexLocker lock(&m_mutex);
        auto it = m_reserved.find(callSid);
        if (it != m_reserved.end() && m_active > 0) {
            --m_active;
            idle = m_active == 0;
            if (--it.value() == 0) {
                m_reserved.erase(it);
                released = true;
                if (const QByteArray caller = m_callerOf.take(callSid); !caller.isEmpty()) {
                    if (--m_callsOfCaller[caller] <= 0)
                        m_callsOfCaller.remove(caller);
                }
            }
        }
    }
    if (released && m_onRelease)
        m_onRelease(callSid);
    if (idle && m_onIdle)
        m_onIdle();
}

QStringList CallRegistry::liveCallSids() const
{
    QMutexLocker lock(&m_mutex);
    return m_reserved.keys();
}

void CallRegistry::setLimit(int maxCalls)
{
    QMutexLocker lock(&m_mutex);
    m_max = maxCalls;
}

int CallRegistry::limit() const
{
    QMutexLocker lock(&m_mutex);
    return m_max;
}

int CallRegistry::active() const
{
    QMutexLocker lock(&m_mutex);
    return m_active;
}

bool CallRegistry::atLimit() const
{
    QMutexLocker lock(&m_mutex);
    return m_active >= m_max;
}

bool CallRegistry::addPrewarmed(const QString &callSid, CallSession *session)
{
    QMutexLocker lock(&m_mutex);
    if (m_prewarmed.contains(callSid))
        return false;
    m_prewarmed.insert(callSid, session);
    return true;
}

CallSession *CallRegistry::takePrewarmed(const QString &callSid)
{
    QMutexLocker lock(&m_mutex);
    return m_prewarmed.take(callSid);
}

bool CallRegistry::removePrewarmed(const QString &callSid, CallSession *session)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_prewarmed.find(callSid);
    if (it == m_prewarmed.end() || it.value() != session)
        return false;
    m_prewarmed.erase(it);
    return true;
}

CallRegistry::StreamState CallRegistry::streamState(const QString &callSid) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_streams.constFind(callSid);
    return it == m_streams.cend() ? StreamState::None : it->state;
}

bool CallRegistry::beginStream(const QString &callSid, qint64 nowMs)
{
    QMutexLocker lock(&m_mutex);
    prune(nowMs);
    if (m_streams.contains(callSid))
        return false;
    m_streams.insert(callSid, {StreamState::Live, nowMs});
    return true;
}

void CallRegistry::streamEnded(const QString &callSid, qint64 nowMs)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_streams.find(callSid);
    if (it != m_streams.end())
        *it = {StreamState::Ended, nowMs};
}

bool CallRegistry::firstDelivery(const QByteArray &idempotencyKey, qint64 nowMs)
{
    if (idempotencyKey.isEmpty())
        return true;
    QMutexLocker lock(&m_mutex);
    prune(nowMs);
    const QByteArray key = idempotencyKey.left(128);
    if (m_idempotency.contains(key))
        return false;
    m_idempotency.insert(key, nowMs);
    return true;
}

void CallRegistry::prune(qint64 nowMs)
{
    // Called with the mutex held. A full pass at most once a minute, or when a table is over its size.
    if (nowMs - m_lastPruneMs < 60000 && m_streams.size() <= kMaxRemembered &&
        m_idempotency.size() <= kMaxRemembered)
        return;
    m_lastPruneMs = nowMs;
    qint64 horizon = kRememberEndedMs;
    while (true) {
        for (auto it = m_streams.begin(); it != m_streams.end();) {
            if (it->state == StreamState::Ended && nowMs - it->sinceMs > horizon)
                it = m_streams.erase(it);
            else
                ++it;
        }
        if (m_streams.size() <= kMaxRemembered || horizon == 0)
            break;
        horizon /= 2; // over the size cap: forget older ended calls first
    }
    for (auto it = m_idempotency.begin(); it != m_idempotency.end();) {
        if (nowMs - it.value() > kIdempotencyMs || m_idempotency.size() > kMaxRemembered)
            it = m_idempotency.erase(it);
        else
            ++it;
    }
}

bool CallRegistry::hasPrewarmed(const QString &callSid) const
{
    QMutexLocker lock(&m_mutex);
    return m_prewarmed.contains(callSid);
}

} // namespace vaani
