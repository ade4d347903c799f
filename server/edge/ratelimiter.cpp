#include "ratelimiter.h"

#include <cmath>

namespace vaani {

int RateLimiter::check(const QHostAddress &address, qint64 nowMs)
{
    if (m_perMinute <= 0)
        return 0;
    const double ratePerMs = double(m_perMinute) / 60000.0;
    QMutexLocker lock(&m_mutex);
    if (nowMs - m_lastPruneMs > 60000) {
        // Forget clients whose bucket has refilled completely.
        for (auto it = m_buckets.begin(); it != m_buckets.end();) {
            if ((nowMs - it->lastMs) * ratePerMs + it->tokens >= m_perMinute)
                it = m_buckets.erase(it);
            else
                ++it;
        }
        m_lastPruneMs = nowMs;
    }
    const QString key = address.toString();
    auto it = m_buckets.find(key);
    if (it == m_buckets.end())
        it = m_buckets.insert(key, {double(m_perMinute), nowMs});
    Bucket &b = *it;
    b.tokens = std::min(double(m_perMinute), b.tokens + double(nowMs - b.lastMs) * ratePerMs);
    b.lastMs = nowMs;
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max(1, int(std::ceil((1.0 - b.tokens) / ratePerMs / 1000.0)));
}

} // namespace vaani
