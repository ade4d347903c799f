#include "worker.h"

#include "callregistry.h"
#include "callsession.h"
#include "db/dbworker.h"
#include "deployment.h"
#include "logging.h"
#include "mediastream.h"
#include "metrics.h"
#include "ratelimiter.h"
#include "recordjournal.h"
#include "secrets.h"
#include "streamtokens.h"
#include "twiliosignature.h"
#include "twiml.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani {

Worker::Worker(ServerContext *context, int index)
    : m_ctx(context)
    , m_index(index)
{}

Worker::~Worker()
{
    if (ModelProvider::forThisThread() == m_models.get())
        ModelProvider::setForThisThread(nullptr);
}

void Worker::init()
{
    m_handler = [this](const http::Request &r, const QHostAddress &peer) { return route(r, peer); };
    m_metricsHandler = [this](const http::Request &r, const QHostAddress &) { return routeMetrics(r); };
    m_refused = [this](int status, const QByteArray &reason, const QHostAddress &peer) {
        onRefused(status, reason, peer);
    };
    m_models = m_ctx->modelProvider(m_index);
    ModelProvider::setForThisThread(m_models.get()); // a session resuming after a model drop takes from it
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
    if (path == "/fallback-menu")
        return post ? fallbackMenu(request, peer) : methodNotAllowed("POST", u"/fallback-menu"_s);
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
    // Call records: a database that answers pings but refuses writes (a full disk, a read-only file), a
    // journal that cannot be written or is full — each makes this server not ready, with the backlog shown.
    bool records = true;
    if (RecordJournal *journal = m_ctx->journal) {
        const RecordJournal::Status j = journal->status();
        records = j.databaseTakesWrites && j.fileWritable && !j.full;
        QJsonObject jo{{u"backlog"_s, j.backlog},
                       {u"oldest_seconds"_s, double(j.oldestAgeMs / 100) / 10.0},
                       {u"database_writes"_s, j.databaseTakesWrites ? u"ok"_s : u"failing"_s},
                       {u"file"_s, j.fileWritable ? u"ok"_s : u"failing"_s}};
        if (j.full)
            jo.insert(u"full"_s, true);
        if (!j.lastError.isEmpty())
            jo.insert(u"last_error"_s, j.lastError.left(200));
        body.insert(u"journal"_s, jo);
    }
    const int status = db && capacity && records ? 200 : 503;
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
