#pragma once
// REDIS_URL: what several vaani-server instances behind one load balancer must agree on, kept in Redis.
//
// - Single-use stream tokens across servers: the token's nonce is SET NX with the token's remaining life.
// - The deployment-wide call limit (MAX_CALLS): a sorted set of live calls (score: expiry), reserved
//   atomically by a Lua script at the webhook (or at the stream when the webhook was answered elsewhere);
//   the server that holds a call refreshes it on every heartbeat and removes it when the call ends, so the
//   calls of a server that died expire within 3 heartbeats.
// - Webhook rate limits per client address across servers: a fixed one-minute window (INCR + PEXPIRE in
//   one script).
// - A registry of live servers (sorted set, score: expiry, plus a hash per server with its start time and
//   call count) and of live calls (a hash CallSid → server instance).
//
// When Redis cannot answer (not connected, or no answer within the command deadline) every question is
// answered `Unknown` at once and the caller decides locally (the documented fall-back: rate limits by this
// server's own limiter, the call limit by this server's share — MAX_CALLS divided by the live servers last
// seen — and stream tokens by this server's own memory); each such decision is counted in
// vaani_redis_fallbacks_total. Nothing on the audio path ever waits for Redis.
//
// Threads: lives on the main thread (the Redis connection is there); the public asks may be called from any
// thread and answer on `context`'s thread (not at all when `context` is gone by then).
//
// Keys (all under "vaani:"): token:<nonce>, rate:<address>, calls (zset), call-owners (hash), call-callers
// (hash CallSid → caller key), caller:<key> (zset of that caller's calls), servers (zset), server:<instance>
// (hash). Standalone Redis (the scripts name some keys themselves, so not Redis Cluster).

#include "redisclient.h"

#include <QObject>
#include <QPointer>

#include <atomic>
#include <functional>

namespace vaani {
class Metrics;
class CallRegistry;
} // namespace vaani

namespace vaani::cluster {

struct DeploymentOptions
{
    QString instance;
    int maxCalls = 1000;
    int ratePerMinute = 120;
    int heartbeatMs = 5000;
    RedisClient::Options redis;
};

class Deployment : public QObject
{
    Q_OBJECT
public:
    // Unknown: Redis could not say — decide locally. CallerBusy (reserveCall only): this caller holds
    // MAX_CALLS_PER_CALLER calls already.
    enum class Verdict { Yes, No, Unknown, CallerBusy };
    Deployment(RedisAddress address, DeploymentOptions options, Metrics *metrics, CallRegistry *registry,
               QObject *parent = nullptr);
    ~Deployment() override;

    void start();
    bool isUp() const { return m_up.load(std::memory_order_relaxed); }
    int liveServers() const { return m_liveServers.load(std::memory_order_relaxed); }
    // This server's share of MAX_CALLS while Redis is unreachable.
    int fallbackShare() const;

    using Answer = std::function<void(Verdict)>;
    // May this client send one more webhook? No: *retryAfterS holds the wait.
    void allowRequest(const QString &clientAddress, QObject *context,
                      std::function<void(Verdict, int retryAfterS)> answer);
    // One more call for the deployment (idempotent per CallSid: the same call reserved again by the server
    // its stream reached moves the call there), and at most `perCaller` calls (0: any) for the caller behind
    // `callerKey` (a keyed hash of the number, never the number; empty: not limited).
    void reserveCall(const QString &callSid, QObject *context, Answer answer,
                     const QByteArray &callerKey = {}, int perCaller = 0);
    // The call ended here (only the holder's reservation is removed).
    void releaseCall(const QString &callSid);
    // Yes: first use of this stream token in the deployment; No: used before (a replay).
    void useStreamToken(const QByteArray &nonce, qint64 expiresAtMs, QObject *context, Answer answer);
    // Registers this server and refreshes its calls (every heartbeatMs; public for tests).
    void beat();
    // A clean stop: leaves the registry at once.
    void leave();

    static constexpr int kExpiryBeats = 3; // a server or call not refreshed for this many heartbeats is gone

Q_SIGNALS:
    void beaten(int liveServers, int deploymentCalls); // after each answered heartbeat (tests)

private:
    void onUp();
    void onDown(const QString &reason);
    void run(std::function<void()> onMainThread);
    static void answerOn(QObject *context, std::function<void()> fn);
    void fellBack(const char *kind);

    RedisClient m_redis;
    const DeploymentOptions m_options;
    Metrics *m_metrics;
    CallRegistry *m_registry;
    QTimer m_beatTimer;
    const qint64 m_startedAtMs;
    std::atomic<bool> m_up{false};
    std::atomic<int> m_liveServers{1};
};

} // namespace vaani::cluster
