#include "realtimepool.h"

#include "logging.h"

using namespace Qt::StringLiterals;

namespace vaani {

RealtimePool::RealtimePool(RealtimeEndpoint endpoint, Metrics *metrics, int size, QObject *parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , m_metrics(metrics)
    , m_size(size)
{
    m_refill.setSingleShot(true);
    connect(&m_refill, &QTimer::timeout, this, &RealtimePool::fill);
    connect(&m_recycle, &QTimer::timeout, this, &RealtimePool::recycle);
    m_recycle.start(std::min(kMaxIdleMs / 4, 60000));
    QMetaObject::invokeMethod(this, &RealtimePool::fill, Qt::QueuedConnection);
}

RealtimePool::~RealtimePool()
{
    for (const Entry &e : std::as_const(m_entries)) {
        e.client->disconnect(this);
        e.client->close();
        delete e.client;
    }
}

RealtimeClient *RealtimePool::take()
{
    recycle(); // never hand out a session older than m_maxAgeMs (the recycle timer may not have run yet)
    if (m_entries.isEmpty())
        return nullptr;
    // The warm one first; otherwise the one that started connecting earliest.
    qsizetype pick = 0;
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].client->isWarm()) {
            pick = i;
            break;
        }
    }
    RealtimeClient *client = m_entries.takeAt(pick).client;
    client->disconnect(this);
    client->setParent(nullptr);
    if (!m_refill.isActive())
        m_refill.start(0);
    return client;
}

void RealtimePool::refresh()
{
    for (const Entry &e : std::as_const(m_entries)) {
        e.client->disconnect(this);
        e.client->close();
        e.client->deleteLater();
    }
    m_entries.clear();
    m_backoffMs = 0;
    fill();
}

ModelLeg *RealtimePool::takeModel()
{
    if (RealtimeClient *warm = take())
        return warm;
    return new RealtimeClient(m_endpoint, m_metrics);
}

void RealtimePool::fill()
{
    while (m_entries.size() < m_size) {
        auto *client = new RealtimeClient(m_endpoint, m_metrics, this);
        connect(client, &RealtimeClient::failed, this,
                [this, client](const QString &reason) { onFailed(client, reason); });
        connect(client, &RealtimeClient::warmed, this, [this] {
            if (m_warned)
                qCInfo(lcRealtime) << "warm Realtime sessions available again";
            m_backoffMs = 0;
            m_warned = false;
        });
        Entry entry{client, QElapsedTimer()};
        entry.age.start();
        m_entries.append(entry);
        client->warmUp();
    }
}

void RealtimePool::onFailed(RealtimeClient *client, const QString &reason)
{
    m_entries.removeIf([client](const Entry &e) { return e.client == client; });
    client->deleteLater();
    m_backoffMs = m_backoffMs == 0 ? 5000 : std::min(m_backoffMs * 2, 60000);
    if (!m_warned) {
        qCWarning(lcRealtime) << "warm Realtime session failed:" << reason << "- retrying in" << m_backoffMs
                              << "ms; calls connect on demand meanwhile";
        m_warned = true;
    }
    if (!m_refill.isActive())
        m_refill.start(m_backoffMs);
}

void RealtimePool::recycle()
{
    bool replaced = false;
    for (qsizetype i = m_entries.size() - 1; i >= 0; --i) {
        if (m_entries[i].client->isWarm() && m_entries[i].age.elapsed() >= m_maxAgeMs) {
            RealtimeClient *old = m_entries.takeAt(i).client;
            old->disconnect(this);
            old->close();
            old->deleteLater();
            replaced = true;
        }
    }
    if (replaced)
        fill();
}

} // namespace vaani
