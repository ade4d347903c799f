#pragma once
// Per-source-IP token bucket for the webhooks. Thread-safe (one mutex; webhook rates are low).

#include <QHash>
#include <QHostAddress>
#include <QMutex>

namespace vaani {

class RateLimiter
{
public:
    explicit RateLimiter(int perMinute)
        : m_perMinute(perMinute)
    {}
    // Returns 0 when allowed, else the seconds the client should wait (Retry-After).
    int check(const QHostAddress &address, qint64 nowMs);

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 lastMs = 0;
    };
    const int m_perMinute;
    QMutex m_mutex;
    QHash<QString, Bucket> m_buckets;
    qint64 m_lastPruneMs = 0;
};

} // namespace vaani
