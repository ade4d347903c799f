#pragma once
// Warm Realtime sessions for one worker thread (OPENAI_WARM_SESSIONS). Connecting to the Realtime API and
// waiting for session.created takes a few hundred milliseconds; a call that takes a warm session only sends
// its session.update, so the greeting can be ready when Twilio's stream starts. Sessions that fail are
// replaced with a back-off (5 s doubling to 60 s, one warning per failure streak); idle ones are replaced
// after kMaxIdleMs, well inside the API's session lifetime (60 minutes), and a session that old is never
// handed to a call (take() replaces it first), so every call has at least 50 minutes of session. Size 0:
// every call connects on demand. Lives on the worker's thread; owned by the worker (as its ModelProvider).

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include "realtimeclient.h"

namespace vaani {

class RealtimePool : public QObject, public ModelProvider
{
    Q_OBJECT
public:
    static constexpr int kMaxIdleMs = 10 * 60 * 1000;

    RealtimePool(RealtimeEndpoint endpoint, Metrics *metrics, int size, QObject *parent = nullptr);
    ~RealtimePool() override;

    // A warm session (or one still connecting), or nullptr when none is left; a replacement is started.
    RealtimeClient *take();
    // ModelProvider: a warm session, else a new client that connects on demand.
    ModelLeg *takeModel() override;
    // The API key changed: warm sessions are closed and replaced (connecting with the new key).
    void refresh() override;
    void setMaxAgeMs(int ms) { m_maxAgeMs = ms; } // tests; default kMaxIdleMs

private:
    struct Entry
    {
        RealtimeClient *client;
        QElapsedTimer age;
    };
    void fill();
    void onFailed(RealtimeClient *client, const QString &reason);
    void recycle();

    RealtimeEndpoint m_endpoint;
    Metrics *m_metrics;
    int m_size;
    QList<Entry> m_entries;
    QTimer m_refill{this};
    QTimer m_recycle{this};
    int m_backoffMs = 0;
    bool m_warned = false;
    int m_maxAgeMs = kMaxIdleMs;
};

} // namespace vaani
