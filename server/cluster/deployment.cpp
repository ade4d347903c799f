#include "deployment.h"

#include "callregistry.h"
#include "logging.h"
#include "metrics.h"

#include <QDateTime>
#include <QThread>

#include <cmath>

using namespace Qt::StringLiterals;

namespace vaani::cluster {

namespace {

const QByteArray kCalls = "vaani:calls";
const QByteArray kOwners = "vaani:call-owners";
const QByteArray kServers = "vaani:servers";

// Redis's own clock, so that servers whose clocks differ agree on expiry.
#define VAANI_LUA_NOW                                                                                        \
    "local t = redis.call('TIME')\n"                                                                         \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

// Drops calls whose holder stopped refreshing them (a dead server's).
#define VAANI_LUA_PRUNE_CALLS                                                                                \
    "local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)\n"                                    \
    "for _, sid in ipairs(expired) do\n"                                                                     \
    "  redis.call('HDEL', KEYS[2], sid)\n"                                                                   \
    "  redis.call('HDEL', 'vaani:call-callers', sid)\n"                                                      \
    "end\n"                                                                                                  \
    "if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end\n"

// KEYS: calls, owners, call-callers, caller:<key> (any name when not limited). ARGV: CallSid, instance, max
// calls, ttl ms, caller key ('' = not limited), calls per caller. Returns {1 granted / 0 full / 2 caller
// busy, calls now}.
const QByteArray kReserveScript = VAANI_LUA_NOW VAANI_LUA_PRUNE_CALLS
    "local ttl = tonumber(ARGV[4])\n"
    "if redis.call('ZSCORE', KEYS[1], ARGV[1]) then\n"
    "  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"
    "  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    "  return {1, redis.call('ZCARD', KEYS[1])}\n"
    "end\n"
    "local n = redis.call('ZCARD', KEYS[1])\n"
    "if n >= tonumber(ARGV[3]) then return {0, n} end\n"
    "if ARGV[5] ~= '' and tonumber(ARGV[6]) > 0 then\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)\n"
    "  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[6]) then return {2, n} end\n"
    "  redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[4], ttl)\n"
    "  redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])\n"
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    "return {1, n + 1}\n";

// KEYS: calls, owners. ARGV: CallSid, instance. Removes the call only when this server holds it.
const QByteArray kReleaseScript = "if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then\n"
                                  "  redis.call('ZREM', KEYS[1], ARGV[1])\n"
                                  "  redis.call('HDEL', KEYS[2], ARGV[1])\n"
                                  "  local caller = redis.call('HGET', 'vaani:call-callers', ARGV[1])\n"
                                  "  if caller then\n"
                                  "    redis.call('ZREM', 'vaani:caller:' .. caller, ARGV[1])\n"
                                  "    redis.call('HDEL', 'vaani:call-callers', ARGV[1])\n"
                                  "  end\n"
                                  "  return 1\n"
                                  "end\n"
                                  "return 0\n";

// KEYS: rate key. ARGV: limit, window ms. Returns 0 when allowed, else the window's remaining ms.
const QByteArray kRateScript =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
    "if n > tonumber(ARGV[1]) then\n"
    "  local left = redis.call('PTTL', KEYS[1])\n"
    "  if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) left = tonumber(ARGV[2]) end\n"
    "  return left\n"
    "end\n"
    "return 0\n";

// KEYS: calls, owners, servers, this server's hash. ARGV: instance, ttl ms, started at, local calls, then
// the CallSids this server holds (re-asserted when Redis lost them, never taken from another server).
// Returns {live servers, deployment calls}.
const QByteArray kBeatScript = VAANI_LUA_NOW VAANI_LUA_PRUNE_CALLS
    "local ttl = tonumber(ARGV[2])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
    "redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])\n"
    "redis.call('HSET', KEYS[4], 'started', ARGV[3], 'calls', ARGV[4], 'seen', now)\n"
    "redis.call('PEXPIRE', KEYS[4], ttl)\n"
    "for i = 5, #ARGV do\n"
    "  local owner = redis.call('HGET', KEYS[2], ARGV[i])\n"
    "  if (not owner) or owner == ARGV[1] then\n"
    "    redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])\n"
    "    redis.call('HSET', KEYS[2], ARGV[i], ARGV[1])\n"
    "    local caller = redis.call('HGET', 'vaani:call-callers', ARGV[i])\n"
    "    if caller then\n"
    "      redis.call('ZADD', 'vaani:caller:' .. caller, now + ttl, ARGV[i])\n"
    "      redis.call('PEXPIRE', 'vaani:caller:' .. caller, ttl)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[1])}\n";

#undef VAANI_LUA_NOW
#undef VAANI_LUA_PRUNE_CALLS

} // namespace

Deployment::Deployment(RedisAddress address, DeploymentOptions options, Metrics *metrics,
                       CallRegistry *registry, QObject *parent)
    : QObject(parent)
    , m_redis(std::move(address), options.redis, this)
    , m_options(std::move(options))
    , m_metrics(metrics)
    , m_registry(registry)
    , m_startedAtMs(QDateTime::currentMSecsSinceEpoch())
{
    m_metrics->redisUp.store(0);
    connect(&m_redis, &RedisClient::up, this, &Deployment::onUp);
    connect(&m_redis, &RedisClient::down, this, &Deployment::onDown);
    m_beatTimer.setInterval(m_options.heartbeatMs);
    connect(&m_beatTimer, &QTimer::timeout, this, &Deployment::beat);
}

Deployment::~Deployment() = default;

void Deployment::start()
{
    // Until Redis answers, this server decides alone, with all of MAX_CALLS (it has seen no other server
    // yet).
    m_registry->setLimit(fallbackShare());
    m_redis.open();
    m_beatTimer.start();
}

int Deployment::fallbackShare() const
{
    const int servers = std::max(1, liveServers());
    return std::max(1, int(std::ceil(double(m_options.maxCalls) / servers)));
}

void Deployment::onUp()
{
    m_up.store(true);
    m_metrics->redisUp.store(1);
    beat();
}

void Deployment::onDown(const QString &reason)
{
    const bool wasUp = m_up.exchange(false);
    m_metrics->redisUp.store(0);
    m_registry->setLimit(fallbackShare());
    qCWarning(lcServer).noquote()
        << (wasUp ? "Redis lost" : "Redis unreachable") << u"(%1):"_s.arg(reason)
        << "deciding locally until it is back — rate limits by this server's own limiter, at most"
        << fallbackShare() << "calls here (MAX_CALLS" << m_options.maxCalls << "shared by" << liveServers()
        << "servers), stream tokens checked by this server only";
}

void Deployment::fellBack(const char *kind)
{
    m_metrics->redisFallback(QString::fromLatin1(kind));
}

void Deployment::run(std::function<void()> onMainThread)
{
    if (QThread::currentThread() == thread())
        onMainThread();
    else
        QMetaObject::invokeMethod(this, std::move(onMainThread), Qt::QueuedConnection);
}

void Deployment::answerOn(QObject *context, std::function<void()> fn)
{
    // Queued to the asker's thread; Qt drops it when the context is destroyed first.
    QMetaObject::invokeMethod(context, std::move(fn), Qt::QueuedConnection);
}

void Deployment::allowRequest(const QString &clientAddress, QObject *context,
                              std::function<void(Verdict, int)> answer)
{
    QPointer<QObject> guard(context);
    run([this, clientAddress, guard, answer = std::move(answer)]() mutable {
        if (!guard)
            return;
        if (m_options.ratePerMinute <= 0) {
            answerOn(guard, [answer] { answer(Verdict::Yes, 0); });
            return;
        }
        m_redis.command({"EVAL", kRateScript, "1", "vaani:rate:" + clientAddress.toUtf8(),
                         QByteArray::number(m_options.ratePerMinute), "60000"},
                        [this, guard, answer](const RedisReply &r) {
                            if (!guard)
                                return;
                            if (r.type != RedisReply::Type::Integer) {
                                fellBack("rate_limit");
                                answerOn(guard, [answer] { answer(Verdict::Unknown, 0); });
                                return;
                            }
                            const int wait = int(std::max<qint64>(1, (r.integer + 999) / 1000));
                            const Verdict v = r.integer == 0 ? Verdict::Yes : Verdict::No;
                            answerOn(guard, [answer, v, wait] { answer(v, v == Verdict::No ? wait : 0); });
                        });
    });
}

void Deployment::reserveCall(const QString &callSid, QObject *context, Answer answer,
                             const QByteArray &callerKey, int perCaller)
{
    QPointer<QObject> guard(context);
    run([this, callSid, guard, answer = std::move(answer), callerKey, perCaller]() mutable {
        if (!guard)
            return;
        const QByteArray ttl = QByteArray::number(qint64(m_options.heartbeatMs) * kExpiryBeats);
        m_redis.command({"EVAL", kReserveScript, "4", kCalls, kOwners, "vaani:call-callers",
                         "vaani:caller:" + (callerKey.isEmpty() ? QByteArray("-") : callerKey),
                         callSid.toUtf8(), m_options.instance.toUtf8(),
                         QByteArray::number(m_options.maxCalls), ttl, callerKey,
                         QByteArray::number(perCaller)},
                        [this, guard, answer](const RedisReply &r) {
                            if (!guard)
                                return;
                            if (r.type != RedisReply::Type::Array || r.elements.size() != 2) {
                                fellBack("call_limit");
                                answerOn(guard, [answer] { answer(Verdict::Unknown); });
                                return;
                            }
                            m_metrics->deploymentCalls.store(r.elements.at(1).integer);
                            const qint64 granted = r.elements.at(0).integer;
                            const Verdict v = granted == 1   ? Verdict::Yes
                                              : granted == 2 ? Verdict::CallerBusy
                                                             : Verdict::No;
                            answerOn(guard, [answer, v] { answer(v); });
                        });
    });
}

void Deployment::releaseCall(const QString &callSid)
{
    run([this, callSid] {
        // Not answered: when Redis misses it, the call expires with the missed heartbeats.
        m_redis.command(
            {"EVAL", kReleaseScript, "2", kCalls, kOwners, callSid.toUtf8(), m_options.instance.toUtf8()},
            {});
    });
}

void Deployment::useStreamToken(const QByteArray &nonce, qint64 expiresAtMs, QObject *context, Answer answer)
{
    QPointer<QObject> guard(context);
    run([this, nonce, expiresAtMs, guard, answer = std::move(answer)]() mutable {
        if (!guard)
            return;
        const qint64 life = std::max<qint64>(1000, expiresAtMs - QDateTime::currentMSecsSinceEpoch() + 60000);
        m_redis.command({"SET", "vaani:token:" + nonce, m_options.instance.toUtf8(), "NX", "PX",
                         QByteArray::number(life)},
                        [this, guard, answer](const RedisReply &r) {
                            if (!guard)
                                return;
                            Verdict v = Verdict::Unknown;
                            if (r.type == RedisReply::Type::Status)
                                v = Verdict::Yes; // OK: first use
                            else if (r.type == RedisReply::Type::Nil)
                                v = Verdict::No; // the key exists: used before
                            else
                                fellBack("stream_token");
                            answerOn(guard, [answer, v] { answer(v); });
                        });
    });
}

void Deployment::beat()
{
    if (!m_redis.isUp())
        return;
    const qint64 ttl = qint64(m_options.heartbeatMs) * kExpiryBeats;
    const QStringList held = m_registry->liveCallSids();
    QList<QByteArray> args{"EVAL",
                           kBeatScript,
                           "4",
                           kCalls,
                           kOwners,
                           kServers,
                           "vaani:server:" + m_options.instance.toUtf8(),
                           m_options.instance.toUtf8(),
                           QByteArray::number(ttl),
                           QByteArray::number(m_startedAtMs),
                           QByteArray::number(m_registry->active())};
    args.reserve(args.size() + held.size());
    for (const QString &sid : held)
        args.append(sid.toUtf8());
    m_redis.command(args, [this](const RedisReply &r) {
        if (r.type != RedisReply::Type::Array || r.elements.size() != 2) {
            if (r.answered())
                qCWarning(lcServer) << "Redis heartbeat failed:" << r.string;
            return;
        }
        const int servers = int(std::max<qint64>(1, r.elements.at(0).integer));
        m_liveServers.store(servers);
        m_metrics->deploymentServers.store(servers);
        m_metrics->deploymentCalls.store(r.elements.at(1).integer);
        if (m_redis.isUp()) // the deployment-wide limit decides; locally nothing below MAX_CALLS
            m_registry->setLimit(m_options.maxCalls);
        Q_EMIT beaten(servers, int(r.elements.at(1).integer));
    });
}

void Deployment::leave()
{
    m_beatTimer.stop();
    m_redis.command({"ZREM", kServers, m_options.instance.toUtf8()}, {});
    m_redis.command({"DEL", "vaani:server:" + m_options.instance.toUtf8()}, {});
}

} // namespace vaani::cluster
