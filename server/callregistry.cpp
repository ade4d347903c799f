#include "callregistry.h"

namespace vaani {

bool CallRegistry::tryReserve()
{
    QMutexLocker lock(&m_mutex);
    if (m_active >= m_max)
        return false;
    ++m_active;
    return true;
}

void CallRegistry::release()
{
    QMutexLocker lock(&m_mutex);
    if (m_active > 0)
        --m_active;
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

bool CallRegistry::hasPrewarmed(const QString &callSid) const
{
    QMutexLocker lock(&m_mutex);
    return m_prewarmed.contains(callSid);
}

} // namespace vaani
