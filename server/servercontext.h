#pragma once
// What every worker thread shares: settings resolved once at start-up and the thread-safe services.
// Owned by Server; outlives all workers. Non-owning pointers.

#include "settings.h"

#include <QObject>

#include <QString>
#include <QUrl>

#include <atomic>
#include <functional>
#include <memory>

namespace vaani {

namespace db {
class DbWorker;
}
class Metrics;
class StreamTokens;
class RateLimiter;
class CallRegistry;
class ModelLeg;
class SecretStore;
class ModelProvider;
class RecordJournal;
class RecordingStore;
namespace cluster {
class Deployment;
}

// Server-wide announcements to every call, wherever it lives: sessions connect to these at construction and
// Qt queues each emission to the session's current thread (sessions move between workers).
class Lifecycle : public QObject
{
    Q_OBJECT
Q_SIGNALS:
    void endCalls(const QString &reason); // shutdown: the grace period is over
};

struct ServerContext
{
    ServerSettings settings;
    db::DbWorker *db = nullptr;
    RecordJournal *journal = nullptr;     // every call-record write goes through it (then to db)
    RecordingStore *recordings = nullptr; // RECORD_CALLS on: where calls are recorded (null: off)
    Metrics *metrics = nullptr;
    StreamTokens *tokens = nullptr;
    RateLimiter *rateLimiter = nullptr; // signed (or, without a token, all) webhook requests per address
    RateLimiter *failureLimiter =
        nullptr; // refused webhook requests per address: junk never spends the above
    CallRegistry *registry = nullptr;
    cluster::Deployment *deployment = nullptr; // REDIS_URL set: what the servers share (null: one server)
    std::atomic<bool> databaseHealthy{true};
    // Today's model spend (all servers on the database), in millionths of a dollar, read every
    // spendRefreshMs; -1 until first read.
    std::atomic<qint64> spentTodayMicroUsd{-1};
    bool overSpendCap() const
    {
        const qint64 spent = spentTodayMicroUsd.load(std::memory_order_relaxed);
        return settings.dailySpendCapUsd > 0 && spent >= 0 &&
               double(spent) >= settings.dailySpendCapUsd * 1e6;
    }
    std::atomic<bool> draining{false};    // shutting down: /readyz 503, new calls get the fallback
    std::atomic<bool> endingCalls{false}; // the grace is over: a stream that attaches now is ended at once
    Lifecycle *lifecycle = nullptr;
    SecretStore *secrets = nullptr; // the current secrets (SIGHUP replaces them); null: settings' own
    std::atomic<int> httpConnections{0};
    // Makes a worker's source of model legs (called on that worker's thread, with its index); tests and the
    // benchmark may replace it.
    std::function<std::unique_ptr<ModelProvider>(int workerIndex)> modelProvider;
    int workerCount = 1;
};

} // namespace vaani
