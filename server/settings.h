#pragma once
// The server's settings as plain structs, resolved once at start-up from the configuration (shared/config.h)
// and read-only afterwards, so any thread may read them. No behaviour here, and no classes: code that only
// needs a setting includes this header, not the class that uses it.

#include "httptimeouts.h"
#include "realtimemessages.h"
#include "trustedproxies.h"

#include <QList>
#include <QString>
#include <QUrl>

#include <functional>

namespace vaani {

// Twilio's Media Stream (edge/mediastream.h).
struct StreamLimits
{
    int startDeadlineMs = 10000;
    int idleTimeoutMs = 30000;
    qint64 maxMessageBytes = 64 * 1024;
    int malformedBudget = 20;
    int preAttachFrames = 1500; // 30 s of caller audio held until a session attaches
};

// The Realtime API endpoint (model/realtimeclient.h).
struct RealtimeEndpoint
{
    QUrl url;      // OPENAI_REALTIME_URL
    QString model; // OPENAI_MODEL (Azure: deployment)
    QString apiKey;
    bool azure = false; // api-key header instead of Authorization: Bearer
    int handshakeTimeoutMs =
        4000; // MODEL_CONNECT_TIMEOUT_MS: socket open + session.created + session.updated
    // When set, asked at each connect instead of apiKey (the key may be rotated while the server runs).
    std::function<QString()> currentApiKey;
    QByteArray extraCaPem; // OPENAI_CA_FILE's certificates (PEM): trusted besides the system's
    // Liveness of an open session: a tick with no frame received sends a ping; kSilentTicksDead ticks in a
    // row without any frame (pongs included) and the connection is taken as lost (a silent network
    // failure raises no error for many minutes).
    int livenessTickMs = 2000;
    static constexpr int kSilentTicksDead = 3;
};

// Twilio's REST API (edge/twiliorest.h).
struct TwilioAccount
{
    QUrl apiBase; // TWILIO_API_BASE
    QString accountSid;
    QString authToken;
    bool usable() const { return !accountSid.isEmpty() && !authToken.isEmpty() && apiBase.isValid(); }
};

// Model prices (USD per million tokens) for the cost of a call.
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
    QUrl publicUrl;         // empty: derive from the request's Host header (development only)
    int retentionDays = 90; // 0: conversations kept forever
    QString twilioAuthToken;
    QString twilioAuthTokenSecondary; // accepted too, during Twilio's token rotation
    QString streamTokenKey;           // empty: derived from twilioAuthToken (or random per process)
    QString streamTokenKeyPrevious;   // still accepted after a rotation
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
    int shutdownGraceMs = 30000;    // SHUTDOWN_GRACE: live calls go on this long after SIGTERM
    int maxCallMs = 30 * 60 * 1000; // MAX_CALL_MINUTES (0: no limit)
    int modelReconnectAttempts = 3; // MODEL_RECONNECT_ATTEMPTS: per drop, before the fallback (0: none)
    int backchannelMs = 500;        // BACKCHANNEL_MS: shorter caller speech over the agent is not a barge-in
    int silencePromptMs = 8000;     // SILENCE_PROMPT_S: the caller's silence before the agent checks (0: off)
    // A call's model session is replaced at a quiet moment once it is this old (the API ends sessions at
    // 60 minutes); 0: never.
    qint64 modelRolloverMs = 50LL * 60 * 1000;
    double dailySpendCapUsd = 0; // DAILY_SPEND_CAP_USD (0: none)
    int maxCallsPerCaller = 3;   // MAX_CALLS_PER_CALLER (0: no limit)
    int spendRefreshMs = 30000;  // how often today's spend is read from the database
    StreamLimits streamLimits;
    http::Timeouts httpTimeouts;
    int maxHttpConnections = 4096; // open HTTP connections (streams not counted once upgraded)
    TrustedProxies trustedProxies; // TRUSTED_PROXIES: whose X-Forwarded-For/-Proto are believed
    int heartbeatMs = 5000;        // this server's row in server_heartbeats is written this often
    int serverStaleMs = 20000;     // a server not seen this long is dead: its calls are marked 'interrupted'
};

} // namespace vaani
