// The Twilio webhooks of a Worker: the common checks (size, content type, signature), the rate limit (this
// server's, or the deployment's through Redis as a deferred answer), the voice webhook's admission (draining,
// spend cap, per-caller and call limits) and the status callback. The routes and streams are in worker.cpp.
#include "worker.h"

#include "callregistry.h"
#include "callsession.h"
#include "db/dbworker.h"
#include "deployment.h"
#include "logging.h"
#include "metrics.h"
#include "pii.h"
#include "ratelimiter.h"
#include "recordjournal.h"
#include "secrets.h"
#include "streamtokens.h"
#include "twiml.h"

#include <QDateTime>
#include <QJsonObject>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
#include <QRegularExpression>

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
    IncomingCall call{param(params, u"CallSid"_s), param(params, u"From"_s),
                      param(params, u"To"_s),      request.value("I-Twilio-Idempotency-Token"),
                      streamUrl(request, peer),    webhookUrl(request, peer, u"/fallback-menu"_s)};
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
            200, twiml::connectStream(call.streamUrl, {{u"streamToken"_s, token}}, human, call.menuUrl),
            "text/xml"));
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
        // A record of this call that exists already is never overwritten (see RecordJournal).
        m_ctx->journal->append({{u"t"_s, u"reject"_s},
                                {u"sid"_s, call.callSid},
                                {u"caller"_s, call.caller.left(32)},
                                {u"called"_s, call.called.left(32)},
                                {u"inst"_s, m_ctx->settings.instance},
                                {u"reason"_s, reason},
                                {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}});
        respond(http::Response::text(200, twiml::fallback(human, call.menuUrl), "text/xml"));
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
    // The numbers Twilio puts in From for anonymous, restricted, blocked and unknown callers.
    static const QStringList withheld = {u"+266696687"_s, u"+7378742833"_s, u"+2562533"_s, u"+8656696"_s};
    if (m_ctx->settings.maxCallsPerCaller <= 0 || !pii::isE164(caller) || withheld.contains(caller))
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

http::Response Worker::fallbackMenu(const http::Request &request, const QHostAddress &peer)
{
    const QString route = u"/fallback-menu"_s;
    twilio::FormParams params;
    if (auto rejected = guard(request, peer, route, &params))
        return std::move(*rejected);
    const QString callSid = param(params, u"CallSid"_s);
    if (!plausibleSid(callSid)) {
        m_ctx->metrics->webhookRequest(route, 400);
        m_ctx->metrics->webhookError(u"bad_request"_s);
        return http::Response::text(400, "Missing CallSid\n");
    }
    const QString digits = param(params, u"Digits"_s).left(8);
    const QString caller = param(params, u"From"_s).left(32);
    const QString human = m_ctx->settings.humanAgentNumber;
    // A callback needs a number to call: E.164 (a withheld caller arrives as "anonymous" or the like).
    const bool callbackPossible = pii::isE164(caller);
    const QString choice = digits == u"2"_s && !human.isEmpty()                         ? u"transfer"_s
                           : (digits == u"1"_s || digits == u"2"_s) && callbackPossible ? u"callback"_s
                                                                                        : QString();
    if (!choice.isEmpty()) {
        // The record says what the caller chose; a callback becomes a ticket (once per call, even when Twilio
        // repeats the request or the database is away for a while: see RecordJournal).
        m_ctx->journal->append({{u"t"_s, u"menu"_s},
                                {u"sid"_s, callSid},
                                {u"choice"_s, choice},
                                {u"caller"_s, caller},
                                {u"inst"_s, m_ctx->settings.instance},
                                {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}});
        m_ctx->metrics->fallbackMenu(choice);
        qCInfo(lcHttp) << "fallback menu: call" << callSid << "chose" << choice;
    }
    m_ctx->metrics->webhookRequest(route, 200);
    return http::Response::text(
        200, twiml::fallbackMenuAnswer(digits, human, webhookUrl(request, peer, route), callbackPossible),
        "text/xml");
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
    QJsonObject op{{u"t"_s, u"status"_s},
                   {u"sid"_s, callSid},
                   {u"status"_s, status},
                   {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}};
    if (durationS)
        op.insert(u"dur"_s, *durationS);
    m_ctx->journal->append(std::move(op));
    m_ctx->metrics->webhookRequest(route, 204);
    return http::Response::text(204, {});
}

} // namespace vaani
