#pragma once
// Calls this process knows about, shared by all worker threads (one mutex): the concurrent-call budget and
// the sessions pre-warmed by the voice webhook, keyed by CallSid, until their Media Stream arrives.
// Hand-over protocol: a session is deleted only after removePrewarmed() succeeded or after it was attached,
// so a pointer returned by takePrewarmed() stays valid until the taker attaches it.

#include <QHash>
#include <QMutex>
#include <QString>

namespace vaani {

class CallSession;

class CallRegistry
{
public:
    explicit CallRegistry(int maxCalls)
        : m_max(maxCalls)
    {}
    bool tryReserve(); // one more call, if under the limit
    void release();    // a reserved call ended
    int active() const;
    int limit() const { return m_max; }
    bool atLimit() const;

    bool addPrewarmed(const QString &callSid, CallSession *session); // false if one exists already
    CallSession *takePrewarmed(const QString &callSid);
    bool removePrewarmed(const QString &callSid, CallSession *session);
    bool hasPrewarmed(const QString &callSid) const;

private:
    const int m_max;
    mutable QMutex m_mutex;
    int m_active = 0;
    QHash<QString, CallSession *> m_prewarmed;
};

} // namespace vaani
