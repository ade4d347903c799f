#pragma once
// What every worker thread shares: settings resolved once at start-up and the thread-safe services.
// Owned by Server; outlives all workers. Non-owning pointers.

#include "httpconnection.h"
#include "mediastream.h"
#include "realtimeclient.h"
#include "realtimemessages.h"
#include "twiliorest.h"

#include <QString>
#include <QUrl>

#include <atomic>
#include <functional>

namespace vaani {

namespace db {
class DbWorker;
}
class Metrics;
class StreamTokens;
class RateLimiter;
class CallRegistry;
class ModelLeg;

struct Prices
{
    double audioInPerMTok = 32;
    double audioOutPerMTok = 64;
    double textInPerMTok = 4;
    double textOutPerMTok = 16;
    double cachedInPerMTok = 0.4;
    double cost(const realtime::Usage &u) const;
};

struct ServerSettings
{
    QUrl publicUrl; // empty: derive from the request's Host header (development only)
    QString twilioAuthToken;
    TwilioAccount twilio;
    QString humanAgentNumber;
    RealtimeEndpoint realtime;
    Prices prices;
    QString instance;
    int streamTokenTtlS = 60;
    int prewarmTimeoutMs = 60000;
    int warmSessions = 0; // OPENAI_WARM_SESSIONS, over all workers
    qint64 maxBodyBytes = 64 * 1024;
    int callerBufferFrames = 500;     // caller audio held until the model session is ready (10 s)
    qint64 agentBufferBytes = 240000; // agent audio held until the stream starts (30 s)
    int hangupDrainTimeoutMs = 10000;
    StreamLimits streamLimits;
    http::Timeouts httpTimeouts;
    int maxHttpConnections = 4096; // open HTTP connections (streams not counted once upgraded)
};

struct ServerContext
{
    ServerSettings settings;
    db::DbWorker *db = nullptr;
    Metrics *metrics = nullptr;
    StreamTokens *tokens = nullptr;
    RateLimiter *rateLimiter = nullptr; // signed (or, without a token, all) webhook requests per address
    RateLimiter *failureLimiter =
        nullptr; // refused webhook requests per address: junk never spends the above
    CallRegistry *registry = nullptr;
    std::atomic<bool> databaseHealthy{true};
    std::atomic<int> httpConnections{0};
    // Creates the model side of a call; tests and the benchmark may replace it.
    std::function<ModelLeg *(QObject *parent)> modelFactory;
    int workerCount = 1;
};

} // namespace vaani
