#include "worker.h"

#include "callregistry.h"
#include "callsession.h"
#include "db/dbworker.h"
#include "deployment.h"
#include "logging.h"
#include "mediastream.h"
#include "metrics.h"
#include "ratelimiter.h"
#include "secrets.h"
#include "streamtokens.h"
#include "twiliosignature.h"
#include "twiml.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
bool plausibleSid(const QString &sid)
{
    static const QRegularExpression re(u"^[A-Za-z0-9_-]{2,64}$"_s);
    return re.match(sid).hasMatch();
}

QString param(const twilio::FormParams &p, const QString &name)
{
    for (const auto &[k, v] : p) {
        if (k == name)
            return v;
    }
    return {};
}
} // namespace

Worker::Worker(ServerContext *context, int index)
    : m_ctx(context)
    , m_index(index)
{}

Worker::~Worker() = default;

void Worker::init()
{
    m_handler = [this](const http::Request &r, const QHostAddress &peer) { return route(r, peer); };
    m_metricsHandler = [this](const http::Request &r, const QHostAddress &) { return routeMetrics(r); };
    m_refused = [this](int status, const QByteArray &reason, const QHostAddress &peer) {
        onRefused(status, reason, peer);
    };
    m_models = m_ctx->modelProvider(m_index);
}

void Worker::refreshModels()
{
    if (m_models)
        m_models->refresh();
}

void Worker::takeSocket(qintptr descriptor, Listener listener)
{
    if (m_ctx->httpConnections.load(std::memory_order_relaxed) >= m_ctx->settings.maxHttpConnections) {
        // Every connection has a cost: past the limit, new ones are closed at once (calls in progress are not
        // affected; their streams are not counted here).
        m_ctx->metrics->webhookError(u"connection_limit"_s);
        ::close(int(descriptor));
        return;
    }
    http::Limits limits;
    limits.maxBodyBytes = m_ctx->settings.maxBodyBytes;
    new http::HttpConnection(int(descriptor), listener == Listener::Metrics ? &m_metricsHandler : &m_handler,
                             &m_refused, limits, m_ctx->settings.httpTimeouts, &m_ctx->httpConnections, this);
}

void Worker::onRefused(int status, const QByteArray &reason, const QHostAddress &peer)
{
    QString kind;
    switch (status) {
    case 408:
        kind = u"request_timeout"_s;
        break;
    case 413:
        kind = u"body_too_large"_s;
        break;
    case 431:
        kind = u"head_too_large"_s;
        break;
    default:
        kind = u"malformed_request"_s;
        break;
    }
    m_ctx->metrics->webhookRequest(u"refused"_s, status);
    m_ctx->metrics->webhookError(kind);
    qCDebug(lcHttp) << "refused a request from" << peer.toString() << status << reason;
}

QString Worker::instanceSlug(const QString &instance)
{
    // Lower-case letters, digits and '-' (what a URL path segment and an nginx upstream name both take).
    QString out;
    for (const QChar c : instance.toLower()) {
        if ((c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-')
            out += c;
        else if (c == u'.' || c == u'_')
            out += u'-';
        if (out.size() >= 63)
            break;
    }
    return out;
}

bool Worker::isInstanceStreamPath(QByteArrayView path)
{
    static constexpr QByteArrayView prefix = "/media-stream/";
    if (!path.startsWith(prefix) || path.size() == prefix.size() || path.size() > prefix.size() + 63)
        return false;
    for (const char c : path.sliced(prefix.size())) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

QHostAddress Worker::clientOf(const http::Request &request, const QHostAddress &peer) const
{
    return m_ctx->settings.trustedProxies.client(peer, request.head.values("X-Forwarded-For"));
}

http::Response Worker::routeMetrics(const http::Request &request)
{
    const QByteArray &path = request.path;
    const bool get = request.method == "GET";
    if (!get && (path == "/healthz" || path == "/readyz" || path == "/metrics")) {
        http::Response r = http::Response::text(405, "Method not allowed\n");
        r.headers.append({QByteArray("Allow"), QByteArray("GET")});
        return r;
    }
    if (path == "/healthz")
        return http::Response::text(200, "ok\n");
    if (path == "/readyz")
        return readyz();
    if (path == "/metrics")
        return http::Response::text(200, m_ctx->metrics->render(),
                                    "text/plain; version=0.0.4; charset=utf-8");
    return http::Response::text(404, "Not found (this listener serves /metrics, /readyz and /healthz)\n");
}

http::Response Worker::route(const http::Request &request, const QHostAddress &peer)
{
    const QByteArray &path = request.path;
    const bool get = request.method == "GET", post = request.method == "POST";
    auto methodNotAllowed = [&](const QByteArray &allow, const QString &route) {
        m_ctx->metrics->webhookRequest(route, 405);
        http::Response r = http::Response::text(405, "Method not allowed\n");
        r.headers.append({"Allow", allow});
        return r;
    };
    // "/media-stream/<instance>": the TwiML names the server that took the webhook, so that the balancer can
    // send the stream there (to its pre-warmed session); any server accepts any instance's stream.
    if (path == "/media-stream" || isInstanceStreamPath(path))
        return get ? mediaStreamUpgrade(request, peer) : methodNotAllowed("GET", u"/media-stream"_s);
    if (path == "/incoming-call")
        return post ? incomingCall(request, peer) : methodNotAllowed("POST", u"/incoming-call"_s);
    if (path == "/call-status")
        return post ? callStatus(request, peer) : methodNotAllowed("POST", u"/call-status"_s);
    if (path == "/healthz") {
        if (!get)
            return methodNotAllowed("GET", u"/healthz"_s);
        m_ctx->metrics->webhookRequest(u"/healthz"_s, 200);
        return http::Response::text(200, "ok\n");
    }
    // /metrics and /readyz are on the metrics listener only: the public port tells the internet nothing.
    m_ctx->metrics->webhookRequest(u"other"_s, 404);
    return http::Response::text(404, "Not found\n");
}

http::Response Worker::mediaStreamUpgrade(const http::Request &request, const QHostAddress &peer)
{
    auto refuse = [&](int status, const QByteArray &why) {
        m_ctx->metrics->webhookRequest(u"/media-stream"_s, status);
        http::Response r = http::Response::text(status, why + '\n');
        if (status == 426)
            r.headers = {{"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}};
        r.close = true;
        return r;
    };
    if (!request.isUpgrade())
        return refuse(426, "WebSocket upgrade required");
    if (!checkStreamSignature(request, peer))
        return refuse(403, "invalid or missing signature");
    QByteArray accept;
    int status = 0;
    QByteArray why;
    if (!ws::acceptUpgrade(request.head, &accept, &status, &why))
        return refuse(status, why);
    m_ctx->metrics->webhookRequest(u"/media-stream"_s, 101);
    http::Response r;
    r.status = 101;
    r.raw = accept;
    r.upgradeTo = [this](int fd, const QByteArray &alreadyRead) { startStream(fd, alreadyRead); };
    return r;
}

QString Worker::webhookUrl(const http::Request &request, const QHostAddress &peer, const QString &path) const
{
    return webhookUrl(request.url(),
                      m_ctx->settings.trustedProxies.scheme(peer, request.value("X-Forwarded-Proto")), path);
}

QString Worker::webhookUrl(const QUrl &requestUrl, const QByteArray &forwardedProto,
                           const QString &path) const
{
    const QString query = requestUrl.query(QUrl::FullyEncoded);
    QString base;
    const QUrl pub = m_ctx->settings.publicUrl;
    if (pub.isValid() && !pub.isEmpty()) {
        base = pub.toString(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment |
                            QUrl::StripTrailingSlash);
        QString prefix = pub.path();
        while (prefix.endsWith(u'/'))
            prefix.chop(1);
        base += prefix;
    } else {
        // Development without PUBLIC_URL: trust the Host header (never behind a proxy in production).
        QUrl u = requestUrl;
        if (!forwardedProto.isEmpty())
            u.setScheme(QString::fromLatin1(forwardedProto.split(',').first().trimmed()));
        base = u.toString(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment |
                          QUrl::StripTrailingSlash);
    }
    return base + path + (query.isEmpty() ? QString() : u'?' + query);
}

QString Worker::streamUrl(const http::Request &request, const QHostAddress &peer) const
{
    return streamUrl(request.url(),
                     m_ctx->settings.trustedProxies.scheme(peer, request.value("X-Forwarded-Proto")));
}

QString Worker::streamUrl(const QUrl &requestUrl, const QByteArray &forwardedProto, const QString &path) const
{
    const QString slug = instanceSlug(m_ctx->settings.instance);
    QString url = webhookUrl(requestUrl, forwardedProto,
                             !path.isEmpty()  ? path
                             : slug.isEmpty() ? u"/media-stream"_s
                                              : u"/media-stream/"_s + slug);
    if (const qsizetype q = url.indexOf(u'?'); q >= 0)
        url.truncate(q); // Twilio drops query strings on stream URLs; data travels as <Parameter>s
    if (url.startsWith(u"https://"_s))
        url.replace(0, 5, u"wss"_s);
    else if (url.startsWith(u"http://"_s))
        url.replace(0, 4, u"ws"_s);
    return url;
}

SecretSet Worker::secrets() const
{
    return m_ctx->secrets ? m_ctx->secrets->get() : secretsOf(m_ctx->settings);
}

bool Worker::signedByTwilio(const QString &url, const twilio::FormParams &params,
                            const QByteArray &signature) const
{
    // During Twilio's token rotation both the primary and the secondary token are valid signers.
    const SecretSet s = secrets();
    return twilio::validateSignature(s.twilioAuthToken, url, params, signature) ||
           (!s.twilioAuthTokenSecondary.isEmpty() &&
            twilio::validateSignature(s.twilioAuthTokenSecondary, url, params, signature));
}

bool Worker::checkStreamSignature(const http::Request &request, const QHostAddress &peer) const
{
    if (secrets().twilioAuthToken.isEmpty())
        return true;
    const QByteArray signature = request.value("X-Twilio-Signature");
    // Twilio signs the URL it connected to: the path as requested (with the instance segment, if any).
    const QString url = streamUrl(
        request.url(), m_ctx->settings.trustedProxies.scheme(peer, request.value("X-Forwarded-Proto")),
        QString::fromLatin1(request.path));
    const bool ok = signedByTwilio(url, {}, signature);
    if (!ok) {
        m_ctx->metrics->signatureRejected(signature.isEmpty() ? u"media_stream_missing"_s
                                                              : u"media_stream"_s);
        qCWarning(lcHttp) << "rejected Media Stream upgrade from" << clientOf(request, peer).toString()
                          << (signature.isEmpty() ? "(no signature)" : "(bad signature)");
    }
    return ok;
}

std::optional<http::Response> Worker::guard(const http::Request &request, const QHostAddress &peer,
                                            const QString &route, twilio::FormParams *params)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // Limits and logs are per client: behind a trusted proxy, the one it forwards for.
    const QHostAddress client = clientOf(request, peer);
    // The cheap checks come first, and what fails them is counted against the sender's failure budget only:
    // junk (even from behind a proxy that every client shares) never spends the budget of signed webhooks.
    auto refused = [&](const QByteArray &body, int status, const QString &kind) {
        if (const int wait = m_ctx->failureLimiter->check(client, now))
            return std::optional<http::Response>(tooManyRequests(route, wait));
        m_ctx->metrics->webhookRequest(route, status);
        m_ctx->metrics->webhookError(kind);
        return std::optional<http::Response>(http::Response::text(status, body));
    };
    if (request.body.size() > m_ctx->settings.maxBodyBytes) // the parser refuses these already (413)
        return refused("Request body too large\n", 413, u"body_too_large"_s);
    if (!request.value("Content-Type").startsWith("application/x-www-form-urlencoded"))
        return refused("Expected application/x-www-form-urlencoded\n", 415, u"content_type"_s);
    *params = twilio::parseForm(request.body);
    if (!secrets().twilioAuthToken.isEmpty()) {
        const QByteArray signature = request.value("X-Twilio-Signature");
        if (!signedByTwilio(webhookUrl(request, peer, route), *params, signature)) {
            m_ctx->metrics->signatureRejected(route);
            qCWarning(lcHttp) << "rejected" << route << "from" << client.toString()
                              << (signature.isEmpty() ? "(no signature)" : "(bad signature)");
            return refused("Forbidden: invalid Twilio signature\n", 403, u"signature"_s);
        }
    }
    return std::nullopt;
}

http::Response Worker::tooManyRequests(const QString &route, int waitS)
{
    m_ctx->metrics->webhookRequest(route, 429);
    m_ctx->metrics->webhookError(u"rate_limited"_s);
    auto r = http::Response::text(429, "Too many requests\n");
    r.headers.append({QByteArray("Retry-After"), QByteArray::number(waitS)});
    return r;
}

http::Response Worker::withinRateLimit(const QString &route, const QHostAddress &client, Answer answer)
{
    cluster::Deployment *deployment = m_ctx->deployment;
    auto local = [this, route, client]() -> std::optional<http::Response> {
        if (const int wait = m_ctx->rateLimiter->check(client, QDateTime::currentMSecsSinceEpoch()))
            return tooManyRequests(route, wait);
        return std::nullopt;
    };
    if (!deployment || !deployment->isUp()) {
        if (deployment)
            m_ctx->metrics->redisFallback(u"rate_limit"_s);
        if (auto limited = local())
            return std::move(*limited);
        http::Response out;
        answer(false, [&out](http::Response r) { out = std::move(r); });
        return out;
    }
    // The deployment's limit, counted in Redis: the answer waits for it (never longer than
    // REDIS_TIMEOUT_MS; then this server's own limiter decides).
    http::Response deferred;
    deferred.defer = [this, deployment, route, client, local, answer](http::Response::Responder respond) {
        deployment->allowRequest(
            client.toString(), this,
            [this, route, local, answer, respond](cluster::Deployment::Verdict v, int wait) {
                if (v == cluster::Deployment::Verdict::No)
                    return respond(tooManyRequests(route, wait));
                if (v == cluster::Deployment::Verdict::Unknown) {
                    if (auto limited = local())
                        return respond(std::move(*limited));
                }
                answer(true, respond);
            });
    };
    return deferred;
}

http::Response Worker::incomingCall(const http::Request &request, const QHostAddress &peer)
{
    const QString route = u"/incoming-call"_s;
    twilio::FormParams params;
    if (auto rejected = guard(request, peer, route, &params))
        return std::move(*rejected);
    IncomingCall call{param(params, u"CallSid"_s), param(params, u"From"_s), param(params, u"To"_s),
                      request.value("I-Twilio-Idempotency-Token"), streamUrl(request, peer)};
    return withinRateLimit(route, clientOf(request, peer),
                           [this, call](bool mayWait, http::Response::Responder respond) {
                               answerCall(call, mayWait, std::move(respond));
                           });
}

void Worker::answerCall(const IncomingCall &call, bool mayWait, http::Response::Responder respond)
{
    const QString route = u"/incoming-call"_s;
    const QString &callSid = call.callSid;
    if (!plausibleSid(callSid)) {
        m_ctx->metrics->webhookRequest(route, 400);
        m_ctx->metrics->webhookError(u"bad_request"_s);
        return respond(http::Response::text(400, "Missing or malformed CallSid\n"));
    }
    const QString human = m_ctx->settings.humanAgentNumber;
    const auto answerWithStream = [this, call, human, route, respond] {
        qCInfo(lcHttp) << "incoming call" << call.callSid << "from" << Redactor::maskPhone(call.caller);
        const QString token = m_ctx->tokens->mint(call.callSid, {call.caller, call.called},
                                                  QDateTime::currentMSecsSinceEpoch());
        m_ctx->metrics->webhookRequest(route, 200);
        respond(http::Response::text(
            200, twiml::connectStream(call.streamUrl, {{u"streamToken"_s, token}}, human), "text/xml"));
    };

    // One CallSid, one call. A repeat (Twilio's retry, or a replay of a captured request) opens nothing new
    // and writes nothing: while the call waits for its stream it keeps its session; once a stream started
    // (or ended), the answer's token cannot start another one (onStreamStarted refuses it).
    const bool repeat =
        m_ctx->registry->hasPrewarmed(callSid) ||
        m_ctx->registry->streamState(callSid) != CallRegistry::StreamState::None ||
        !m_ctx->registry->firstDelivery(call.idempotencyKey, QDateTime::currentMSecsSinceEpoch());
    if (repeat) {
        qCInfo(lcHttp) << "repeated webhook for call" << callSid << "- answered without a new session";
        m_ctx->metrics->webhookError(u"repeat"_s);
        return answerWithStream();
    }
    enum class Refusal { Draining, CallLimit, SpendCap, CallerBusy };
    const auto refuse = [this, call, human, route, respond](Refusal why) {
        QString kind, reason;
        switch (why) {
        case Refusal::Draining:
            qCInfo(lcHttp) << "shutting down: answering call" << call.callSid << "with the fallback";
            kind = u"shutting_down"_s;
            reason = u"server shutting down"_s;
            break;
        case Refusal::CallLimit:
            qCWarning(lcHttp) << "at the call limit (" << m_ctx->registry->limit()
                              << (m_ctx->deployment ? "for the deployment" : "")
                              << "): answering with the fallback";
            kind = u"call_limit"_s;
            reason = u"call limit reached"_s;
            break;
        case Refusal::CallerBusy:
            qCWarning(lcHttp) << "caller" << Redactor::maskPhone(call.caller) << "already has"
                              << m_ctx->settings.maxCallsPerCaller << "calls in progress: answering call"
                              << call.callSid << "with the fallback";
            kind = u"caller_busy"_s;
            reason = u"caller already has the most calls allowed in progress"_s;
            break;
        case Refusal::SpendCap:
            qCWarning(lcHttp) << "over DAILY_SPEND_CAP_USD: answering call" << call.callSid
                              << "with the fallback";
            kind = u"spend_cap"_s;
            reason = u"daily spend cap reached"_s;
            break;
        }
        m_ctx->metrics->webhookRequest(route, 200);
        m_ctx->metrics->webhookError(kind);
        m_ctx->metrics->callEnded(u"rejected"_s);
        db::CallStart s{call.callSid, call.caller, call.called, m_ctx->settings.instance, {}, {}, {}};
        m_ctx->db->submit([s, reason](db::Repositories &r) -> db::DbResult<bool> {
            auto c = r.calls.start(s);
            if (!c.ok())
                return c.error;
            if (c.value.outcome != u"in_progress"_s)
                return true; // a record of this call exists already: never overwritten
            return r.calls.end(c.value.id, {u"rejected"_s, reason, {}, {}, {}});
        });
        respond(http::Response::text(200, twiml::fallback(human), "text/xml"));
    };
    if (m_ctx->draining.load()) {
        // Behind a balancer with other live servers: 503, so the balancer hands this webhook to one of them
        // (the shipped nginx site retries webhooks on 503); alone, the caller gets the fallback.
        cluster::Deployment *deployment = m_ctx->deployment;
        if (deployment && deployment->isUp() && deployment->liveServers() > 1) {
            qCInfo(lcHttp) << "shutting down: call" << callSid << "left to the other servers (503)";
            m_ctx->metrics->webhookRequest(route, 503);
            m_ctx->metrics->webhookError(u"shutting_down"_s);
            auto r = http::Response::text(503, "Shutting down: try another server\n");
            r.headers.append({QByteArray("Retry-After"), QByteArray("1")});
            r.close = true;
            return respond(r);
        }
        return refuse(Refusal::Draining);
    }
    if (m_ctx->overSpendCap())
        return refuse(Refusal::SpendCap);
    const QByteArray callerKey = callerKeyOf(call.caller);
    const int perCaller = m_ctx->settings.maxCallsPerCaller;
    const auto open = [this, call, refuse, answerWithStream, callerKey, perCaller] {
        const auto reserved = m_ctx->registry->reserve(call.callSid, callerKey, perCaller);
        if (reserved != CallRegistry::Reservation::Ok) {
            if (m_ctx->deployment) // granted by the deployment, but over this server's own limit
                m_ctx->deployment->releaseCall(call.callSid);
            return refuse(reserved == CallRegistry::Reservation::CallerBusy ? Refusal::CallerBusy
                                                                            : Refusal::CallLimit);
        }
        CallSession *session = createSession(call.callSid, call.caller, call.called);
        if (!m_ctx->registry->addPrewarmed(call.callSid, session)) {
            // Lost a race with a concurrent retry of the same webhook on another worker.
            session->streamLost(u"duplicate webhook"_s);
        } else {
            session->armPrewarmExpiry(m_ctx->settings.prewarmTimeoutMs);
        }
        answerWithStream();
    };
    if (!mayWait || !m_ctx->deployment || !m_ctx->deployment->isUp()) {
        if (m_ctx->deployment)
            m_ctx->metrics->redisFallback(u"call_limit"_s);
        return open();
    }
    m_ctx->deployment->reserveCall(
        callSid, this,
        [open, refuse](cluster::Deployment::Verdict v) {
            if (v == cluster::Deployment::Verdict::No)
                return refuse(Refusal::CallLimit);
            if (v == cluster::Deployment::Verdict::CallerBusy)
                return refuse(Refusal::CallerBusy);
            open(); // Yes, or Unknown: this server's own counts decide
        },
        callerKey, perCaller);
}

QByteArray Worker::callerKeyOf(const QString &caller) const
{
    // Only real numbers are limited: withheld callers ("anonymous", "Restricted", …) share one From value.
    static const QRegularExpression e164(u"^\\+[1-9][0-9]{6,14}$"_s);
    // The numbers Twilio puts in From for anonymous, restricted, blocked and unknown callers.
    static const QStringList withheld = {u"+266696687"_s, u"+7378742833"_s, u"+2562533"_s, u"+8656696"_s};
    if (m_ctx->settings.maxCallsPerCaller <= 0 || !e164.match(caller).hasMatch() || withheld.contains(caller))
        return {};
    // Never the number itself: a keyed hash, the same on every server (the stream-token secret is).
    QByteArray key = secrets().streamTokenSecret();
    if (key.isEmpty()) {
        static const QByteArray processKey = [] {
            QByteArray k(32, Qt::Uninitialized);
            QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(k.data()),
                                                 reinterpret_cast<quint32 *>(k.data() + k.size()));
            return k;
        }();
        key = processKey;
    }
    return QMessageAuthenticationCode::hash("caller|" + caller.toUtf8(), key, QCryptographicHash::Sha256)
        .toHex()
        .left(32);
}

CallSession *Worker::createSession(const QString &callSid, const QString &caller, const QString &called)
{
    ModelLeg *model = m_models->takeModel();
    auto *session = new CallSession({callSid, caller, called}, m_ctx, model);
    // The prompt is read per call, so an activated version applies to the next call without a restart.
    m_ctx->db->submit([](db::Repositories &r) { return r.prompts.active(); })
        .then(session, [session](db::DbResult<db::AgentPrompt> p) {
            if (!p.ok())
                qCWarning(lcSession) << "no active prompt from the database (" << p.error.message
                                     << "); using the built-in prompt";
            session->start(p.ok() ? p.value : CallSession::builtInPrompt());
        });
    return session;
}

http::Response Worker::callStatus(const http::Request &request, const QHostAddress &peer)
{
    const QString route = u"/call-status"_s;
    twilio::FormParams params;
    if (auto rejected = guard(request, peer, route, &params))
        return std::move(*rejected);
    const QByteArray idempotencyKey = request.value("I-Twilio-Idempotency-Token");
    return withinRateLimit(route, clientOf(request, peer),
                           [this, params, idempotencyKey](bool, http::Response::Responder respond) {
                               respond(applyCallStatus(params, idempotencyKey));
                           });
}

http::Response Worker::applyCallStatus(const twilio::FormParams &params, const QByteArray &idempotencyKey)
{
    const QString route = u"/call-status"_s;
    const QString callSid = param(params, u"CallSid"_s);
    const QString status = param(params, u"CallStatus"_s);
    static const QStringList known = {u"queued"_s,      u"initiated"_s, u"ringing"_s,
                                      u"in-progress"_s, u"completed"_s, u"busy"_s,
                                      u"failed"_s,      u"no-answer"_s, u"canceled"_s};
    if (!plausibleSid(callSid) || !known.contains(status)) {
        m_ctx->metrics->webhookRequest(route, 400);
        m_ctx->metrics->webhookError(u"bad_request"_s);
        return http::Response::text(400, "Missing CallSid or unknown CallStatus\n");
    }
    if (!m_ctx->registry->firstDelivery(idempotencyKey, QDateTime::currentMSecsSinceEpoch())) {
        m_ctx->metrics->webhookError(u"repeat"_s);
        m_ctx->metrics->webhookRequest(route, 204);
        return http::Response::text(204, {}); // applied already
    }
    bool ok = false;
    const int duration = param(params, u"CallDuration"_s).toInt(&ok);
    const std::optional<int> durationS = ok && duration >= 0 ? std::optional<int>(duration) : std::nullopt;
    m_ctx->db->submit([callSid, status, durationS](db::Repositories &r) {
        auto res = r.calls.updateTwilioStatus(callSid, status, durationS);
        if (!res.ok() && res.error.kind != db::DbError::Kind::NotFound)
            qCWarning(lcDb) << "status callback not recorded:" << res.error.message;
        return res;
    });
    m_ctx->metrics->webhookRequest(route, 204);
    return http::Response::text(204, {});
}

http::Response Worker::readyz()
{
    const bool db = m_ctx->databaseHealthy.load();
    const bool draining = m_ctx->draining.load();
    const bool capacity = !draining && !m_ctx->registry->atLimit();
    QJsonObject body{{u"database"_s, db ? u"ok"_s : u"unreachable"_s},
                     {u"accepting_calls"_s, capacity},
                     {u"active_calls"_s, m_ctx->registry->active()},
                     {u"max_calls"_s, m_ctx->registry->limit()}};
    if (draining)
        body.insert(u"shutting_down"_s, true);
    const int status = db && capacity ? 200 : 503;
    m_ctx->metrics->webhookRequest(u"/readyz"_s, status);
    return http::Response::text(status, QJsonDocument(body).toJson(QJsonDocument::Compact) + '\n',
                                "application/json");
}

void Worker::startStream(int fd, const QByteArray &alreadyRead)
{
    auto socket = std::make_unique<ws::WebSocket>();
    socket->adoptServerSide(fd, alreadyRead);
    // The stream owns itself (deleteLater after close); it lives on this worker thread for good.
    auto *stream =
        new MediaStream(std::move(socket), m_ctx->tokens, m_ctx->metrics, m_ctx->settings.streamLimits, this);
    if (SecretStore *store = m_ctx->secrets) // the token current when a transfer or hang-up happens
        stream->setRestAccount(m_ctx->settings.twilio, [store] { return store->get().twilioAuthToken; });
    else
        stream->setRestAccount(m_ctx->settings.twilio);
    connect(stream, &MediaStream::started, this,
            [this, stream](const twilio::StartInfo &start) { onStreamStarted(stream, start); });
}

void Worker::onStreamStarted(MediaStream *stream, const twilio::StartInfo &start)
{
    cluster::Deployment *deployment = m_ctx->deployment;
    if (!deployment || !deployment->isUp()) {
        if (deployment)
            m_ctx->metrics->redisFallback(u"stream_token"_s);
        acceptStream(stream, start);
        return;
    }
    // Single use across the deployment: the token's nonce is taken in Redis first (the caller's audio waits
    // in the stream's pre-attach buffer meanwhile). A token used on another server is a replay.
    QPointer<MediaStream> guarded(stream);
    const StreamTokens::Ticket ticket = stream->verifiedTicket();
    deployment->useStreamToken(ticket.nonce, ticket.expiresAtMs, this,
                               [this, guarded, start](cluster::Deployment::Verdict v) {
                                   if (!guarded)
                                       return;
                                   if (v == cluster::Deployment::Verdict::No) {
                                       qCWarning(lcStream) << "refused a stream for call" << start.callSid
                                                           << ": its token was used on another server";
                                       m_ctx->metrics->signatureRejected(u"stream_token_replayed"_s);
                                       guarded->refuse(u"stream token replayed"_s, u"stream_token"_s);
                                       return;
                                   }
                                   acceptStream(guarded.data(), start);
                               });
}

void Worker::acceptStream(MediaStream *stream, const twilio::StartInfo &start)
{
    // One CallSid, one stream: a second one (a replayed webhook's token) is refused, live or after the end.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!m_ctx->registry->beginStream(start.callSid, now)) {
        qCWarning(lcStream) << "refused a second stream for call" << start.callSid;
        stream->refuse(u"call already has a stream"_s, u"duplicate_stream"_s);
        return;
    }
    connect(stream, &TelephonyLeg::stopped, this, [registry = m_ctx->registry, sid = start.callSid] {
        registry->streamEnded(sid, QDateTime::currentMSecsSinceEpoch());
    });
    CallSession *session = m_ctx->registry->takePrewarmed(start.callSid);
    if (!session) {
        // No pre-warmed session (webhook handled elsewhere or expired): start one now, holding the call's
        // place in the deployment (taken over from the server that answered the webhook).
        QPointer<MediaStream> guarded(stream);
        auto open = [this, guarded, start] {
            if (!guarded)
                return;
            if (!m_ctx->registry->tryReserve(start.callSid)) {
                guarded->close(u"call limit reached"_s);
                return;
            }
            // The numbers come from the signed webhook through the verified token, never from `start`.
            const StreamTokens::Bound &numbers = guarded->verifiedNumbers();
            CallSession *fresh = createSession(start.callSid, numbers.caller, numbers.called);
            fresh->attachStream(guarded.data());
        };
        cluster::Deployment *deployment = m_ctx->deployment;
        if (!deployment || !deployment->isUp()) {
            open();
            return;
        }
        deployment->reserveCall(start.callSid, this, [guarded, open](cluster::Deployment::Verdict v) {
            if (v == cluster::Deployment::Verdict::No) {
                if (guarded)
                    guarded->close(u"call limit reached"_s);
                return;
            }
            open();
        });
        return;
    }
    if (session->thread() == thread()) {
        session->attachStream(stream);
        return;
    }
    // Pre-warmed on another worker: move it here (from its own thread), then attach on this thread.
    QPointer<MediaStream> guarded(stream);
    QThread *target = thread();
    QMetaObject::invokeMethod(
        session,
        [session, target, guarded] {
            session->moveToThread(target);
            QMetaObject::invokeMethod(
                session, [session, guarded] { session->attachStream(guarded.data()); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

} // namespace vaani
