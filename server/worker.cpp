#include "worker.h"

#include "callregistry.h"
#include "callsession.h"
#include "db/dbworker.h"
#include "logging.h"
#include "mediastream.h"
#include "metrics.h"
#include "ratelimiter.h"
#include "realtimepool.h"
#include "streamtokens.h"
#include "streamupgrade.h"
#include "twiliosignature.h"
#include "twiml.h"

#include <QDateTime>
#include <QHttpServerRouterRule>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
QHttpServerResponse text(const QByteArray &body, QHttpServerResponder::StatusCode status,
                         const QByteArray &mime = "text/plain; charset=utf-8")
{
    return QHttpServerResponse(mime, body, status);
}

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

void DescriptorAcceptor::take(qintptr descriptor)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        qCWarning(lcHttp) << "cannot adopt socket:" << socket->errorString();
        delete socket;
        return;
    }
    addPendingConnection(socket); // emits pendingConnectionAvailable, which QHttpServer listens to
}

Worker::Worker(ServerContext *context, int index)
    : m_ctx(context)
    , m_index(index)
{}

Worker::~Worker() = default;

void Worker::init()
{
    m_acceptor = new DescriptorAcceptor(this);
    m_streamRoute = {
        "GET /media-stream",
        [this](const ws::HttpHead &r, const QString &peer) { return checkStreamSignature(r, peer); },
        [this](int fd) { startStream(fd); }, [this](int fd) { passToHttp(fd); }};
    m_http = std::make_unique<QHttpServer>();
    using Method = QHttpServerRequest::Method;
    m_http->route(u"/incoming-call"_s, Method::Post,
                  [this](const QHttpServerRequest &r) { return incomingCall(r); });
    m_http->route(u"/call-status"_s, Method::Post,
                  [this](const QHttpServerRequest &r) { return callStatus(r); });
    m_http->route(u"/healthz"_s, Method::Get, [this] {
        m_ctx->metrics->webhookRequest(u"/healthz"_s, 200);
        return text("ok\n", QHttpServerResponder::StatusCode::Ok);
    });
    m_http->route(u"/readyz"_s, Method::Get, [this] { return readyz(); });
    m_http->route(u"/metrics"_s, Method::Get, [this] {
        return text(m_ctx->metrics->render(), QHttpServerResponder::StatusCode::Ok,
                    "text/plain; version=0.0.4; charset=utf-8");
    });
    // A connection that opens with GET /media-stream is StreamUpgrade's (see takeSocket()); here it only
    // arrives later on a kept-alive connection, where it cannot become a stream: 426, upgrade or not.
    m_http->setMissingHandler([this](const QHttpServerRequest &r, QHttpServerResponder &&responder) {
        if (r.url().path() == u"/media-stream"_s) {
            responder.write("WebSocket upgrade required (on a new connection)\n", "text/plain",
                            QHttpServerResponder::StatusCode::UpgradeRequired);
            return;
        }
        m_ctx->metrics->webhookRequest(u"other"_s, 404);
        responder.write("Not found\n", "text/plain", QHttpServerResponder::StatusCode::NotFound);
    });
    m_http->bind(m_acceptor);
    const int warm = m_ctx->settings.warmSessions / m_ctx->workerCount +
                     (m_index < m_ctx->settings.warmSessions % m_ctx->workerCount ? 1 : 0);
    if (warm > 0 && !m_ctx->settings.realtime.apiKey.isEmpty())
        m_pool = new RealtimePool(m_ctx->settings.realtime, m_ctx->metrics, warm, this);
}

void Worker::takeSocket(qintptr descriptor)
{
    // Every connection starts here: a Media Streams upgrade is answered by StreamUpgrade and served by our
    // WebSocket; anything else is QHttpServer's.
    new StreamUpgrade(int(descriptor), &m_streamRoute, this);
}

void Worker::passToHttp(int fd)
{
    m_acceptor->take(qintptr(fd));
}

QString Worker::webhookUrl(const QHttpServerRequest &request, const QString &path) const
{
    return webhookUrl(request.url(), request.value("X-Forwarded-Proto"), path);
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

QString Worker::streamUrl(const QHttpServerRequest &request) const
{
    return streamUrl(request.url(), request.value("X-Forwarded-Proto"));
}

QString Worker::streamUrl(const QUrl &requestUrl, const QByteArray &forwardedProto) const
{
    QString url = webhookUrl(requestUrl, forwardedProto, u"/media-stream"_s);
    if (const qsizetype q = url.indexOf(u'?'); q >= 0)
        url.truncate(q); // Twilio drops query strings on stream URLs; data travels as <Parameter>s
    if (url.startsWith(u"https://"_s))
        url.replace(0, 5, u"wss"_s);
    else if (url.startsWith(u"http://"_s))
        url.replace(0, 4, u"ws"_s);
    return url;
}

bool Worker::checkStreamSignature(const ws::HttpHead &request, const QString &peer) const
{
    if (m_ctx->settings.twilioAuthToken.isEmpty())
        return true;
    const QByteArray signature = request.value("X-Twilio-Signature");
    const QList<QByteArray> parts = request.startLine.split(' ');
    const QUrl url(u"http://"_s + QString::fromLatin1(request.value("Host")) +
                   QString::fromLatin1(parts.value(1)));
    const bool ok = twilio::validateSignature(
        m_ctx->settings.twilioAuthToken, streamUrl(url, request.value("X-Forwarded-Proto")), {}, signature);
    if (!ok) {
        m_ctx->metrics->signatureRejected(signature.isEmpty() ? u"media_stream_missing"_s
                                                              : u"media_stream"_s);
        qCWarning(lcHttp) << "rejected Media Stream upgrade from" << peer
                          << (signature.isEmpty() ? "(no signature)" : "(bad signature)");
    }
    return ok;
}

std::optional<QHttpServerResponse> Worker::guard(const QHttpServerRequest &request, const QString &route,
                                                 twilio::FormParams *params)
{
    auto reject = [&](const QByteArray &body, QHttpServerResponder::StatusCode status, const QString &kind) {
        m_ctx->metrics->webhookRequest(route, int(status));
        m_ctx->metrics->webhookError(kind);
        return std::optional<QHttpServerResponse>(text(body, status));
    };
    if (const int wait =
            m_ctx->rateLimiter->check(request.remoteAddress(), QDateTime::currentMSecsSinceEpoch())) {
        auto r = reject("Too many requests\n", QHttpServerResponder::StatusCode::TooManyRequests,
                        u"rate_limited"_s);
        r->setHeader("Retry-After", QByteArray::number(wait));
        return r;
    }
    if (request.body().size() > m_ctx->settings.maxBodyBytes)
        return reject("Request body too large\n", QHttpServerResponder::StatusCode::PayloadTooLarge,
                      u"body_too_large"_s);
    const QByteArray contentType = request.value("Content-Type");
    if (!contentType.startsWith("application/x-www-form-urlencoded"))
        return reject("Expected application/x-www-form-urlencoded\n",
                      QHttpServerResponder::StatusCode::UnsupportedMediaType, u"content_type"_s);
    *params = twilio::parseForm(request.body());
    if (!m_ctx->settings.twilioAuthToken.isEmpty()) {
        const QByteArray signature = request.value("X-Twilio-Signature");
        if (!twilio::validateSignature(m_ctx->settings.twilioAuthToken, webhookUrl(request, route), *params,
                                       signature)) {
            m_ctx->metrics->signatureRejected(route);
            qCWarning(lcHttp) << "rejected" << route << "from" << request.remoteAddress().toString()
                              << (signature.isEmpty() ? "(no signature)" : "(bad signature)");
            return reject("Forbidden: invalid Twilio signature\n",
                          QHttpServerResponder::StatusCode::Forbidden, u"signature"_s);
        }
    }
    return std::nullopt;
}

QHttpServerResponse Worker::incomingCall(const QHttpServerRequest &request)
{
    const QString route = u"/incoming-call"_s;
    twilio::FormParams params;
    if (auto rejected = guard(request, route, &params))
        return std::move(*rejected);
    const QString callSid = param(params, u"CallSid"_s);
    if (!plausibleSid(callSid)) {
        m_ctx->metrics->webhookRequest(route, 400);
        m_ctx->metrics->webhookError(u"bad_request"_s);
        return text("Missing or malformed CallSid\n", QHttpServerResponder::StatusCode::BadRequest);
    }
    const QString caller = param(params, u"From"_s);
    const QString called = param(params, u"To"_s);
    const QString human = m_ctx->settings.humanAgentNumber;

    // Twilio may retry a webhook: the same CallSid keeps its pre-warmed session.
    if (!m_ctx->registry->hasPrewarmed(callSid)) {
        if (!m_ctx->registry->tryReserve()) {
            qCWarning(lcHttp) << "at the call limit (" << m_ctx->registry->limit()
                              << "): answering with the fallback";
            m_ctx->metrics->webhookRequest(route, 200);
            m_ctx->metrics->webhookError(u"call_limit"_s);
            m_ctx->metrics->callEnded(u"rejected"_s);
            db::CallStart s{callSid, caller, called, m_ctx->settings.instance, {}, {}, {}};
            m_ctx->db->submit([s](db::Repositories &r) -> db::DbResult<bool> {
                auto c = r.calls.start(s);
                return c.ok() ? r.calls.end(c.value.id, {u"rejected"_s, u"call limit reached"_s, {}, {}, {}})
                              : db::DbResult<bool>(c.error);
            });
            return text(twiml::fallback(human), QHttpServerResponder::StatusCode::Ok, "text/xml");
        }
        CallSession *session = createSession(callSid, caller, called);
        if (!m_ctx->registry->addPrewarmed(callSid, session)) {
            // Lost a race with a concurrent retry of the same webhook on another worker.
            session->streamLost(u"duplicate webhook"_s);
        } else {
            session->armPrewarmExpiry(m_ctx->settings.prewarmTimeoutMs);
        }
    }
    qCInfo(lcHttp) << "incoming call" << callSid << "from" << Redactor::maskPhone(caller);
    const QString token = m_ctx->tokens->mint(callSid, {caller, called}, QDateTime::currentMSecsSinceEpoch());
    m_ctx->metrics->webhookRequest(route, 200);
    return text(twiml::connectStream(streamUrl(request), {{u"streamToken"_s, token}}, human),
                QHttpServerResponder::StatusCode::Ok, "text/xml");
}

CallSession *Worker::createSession(const QString &callSid, const QString &caller, const QString &called)
{
    ModelLeg *model = m_pool ? m_pool->take() : nullptr;
    if (!model)
        model = m_ctx->modelFactory(nullptr);
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

QHttpServerResponse Worker::callStatus(const QHttpServerRequest &request)
{
    const QString route = u"/call-status"_s;
    twilio::FormParams params;
    if (auto rejected = guard(request, route, &params))
        return std::move(*rejected);
    const QString callSid = param(params, u"CallSid"_s);
    const QString status = param(params, u"CallStatus"_s);
    static const QStringList known = {u"queued"_s,      u"initiated"_s, u"ringing"_s,
                                      u"in-progress"_s, u"completed"_s, u"busy"_s,
                                      u"failed"_s,      u"no-answer"_s, u"canceled"_s};
    if (!plausibleSid(callSid) || !known.contains(status)) {
        m_ctx->metrics->webhookRequest(route, 400);
        m_ctx->metrics->webhookError(u"bad_request"_s);
        return text("Missing CallSid or unknown CallStatus\n", QHttpServerResponder::StatusCode::BadRequest);
    }
    bool ok = false;
    const int duration = param(params, u"CallDuration"_s).toInt(&ok);
    const std::optional<int> durationS = ok ? std::optional<int>(duration) : std::nullopt;
    m_ctx->db->submit([callSid, status, durationS](db::Repositories &r) {
        auto res = r.calls.updateTwilioStatus(callSid, status, durationS);
        if (!res.ok() && res.error.kind != db::DbError::Kind::NotFound)
            qCWarning(lcDb) << "status callback not recorded:" << res.error.message;
        return res;
    });
    m_ctx->metrics->webhookRequest(route, 204);
    return QHttpServerResponse(QHttpServerResponder::StatusCode::NoContent);
}

QHttpServerResponse Worker::readyz()
{
    const bool db = m_ctx->databaseHealthy.load();
    const bool capacity = !m_ctx->registry->atLimit();
    const QJsonObject body{{u"database"_s, db ? u"ok"_s : u"unreachable"_s},
                           {u"accepting_calls"_s, capacity},
                           {u"active_calls"_s, m_ctx->registry->active()},
                           {u"max_calls"_s, m_ctx->registry->limit()}};
    const auto status = db && capacity ? QHttpServerResponder::StatusCode::Ok
                                       : QHttpServerResponder::StatusCode::ServiceUnavailable;
    m_ctx->metrics->webhookRequest(u"/readyz"_s, int(status));
    return text(QJsonDocument(body).toJson(QJsonDocument::Compact) + '\n', status, "application/json");
}

void Worker::startStream(int fd)
{
    auto socket = std::make_unique<ws::WebSocket>();
    socket->adoptServerSide(fd);
    // The stream owns itself (deleteLater after close); it lives on this worker thread for good.
    auto *stream =
        new MediaStream(std::move(socket), m_ctx->tokens, m_ctx->metrics, m_ctx->settings.streamLimits, this);
    connect(stream, &MediaStream::started, this,
            [this, stream](const twilio::StartInfo &start) { onStreamStarted(stream, start); });
}

void Worker::onStreamStarted(MediaStream *stream, const twilio::StartInfo &start)
{
    CallSession *session = m_ctx->registry->takePrewarmed(start.callSid);
    if (!session) {
        // No pre-warmed session (webhook handled elsewhere or expired): start one now.
        if (!m_ctx->registry->tryReserve()) {
            stream->close(u"call limit reached"_s);
            return;
        }
        // The numbers come from the signed webhook through the verified token, never from `start`.
        const StreamTokens::Bound &numbers = stream->verifiedNumbers();
        CallSession *fresh = createSession(start.callSid, numbers.caller, numbers.called);
        fresh->attachStream(stream);
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
