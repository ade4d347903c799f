#pragma once
// A call worker: one thread serving HTTP connections (webhooks, probes and the Media Streams WebSocket on
// the shared port) and the call sessions whose streams it accepted. The listener on the main thread hands
// it accepted socket descriptors (Qt 6.4 cannot move server-side sockets between threads afterwards).
// Construct on any thread, moveToThread(), then call init() there.
//
// Threads and ownership: owned by Server, deleted on its own thread (Server's destructor); everything else is
// called on the worker thread only. The HTTP connections and Media Streams it creates own themselves (they
// delete themselves when closed); call sessions own themselves too (deleteLater after finished) and may move
// to another worker when their stream arrives there. Shares the ServerContext (read-only settings and
// thread-safe services) with the other workers.

#include "httpconnection.h"
#include "servercontext.h"
#include "twiliomessages.h"
#include "twiliosignature.h"
#include "websocket.h"

#include <QObject>

#include <memory>
#include <optional>

namespace vaani {

class CallSession;
class MediaStream;
class ModelProvider;
struct SecretSet;

class Worker : public QObject
{
    Q_OBJECT
public:
    explicit Worker(ServerContext *context, int index);
    ~Worker() override;

    void init(); // on the worker thread
    // An accepted descriptor from the listener: served by an http::HttpConnection on this thread (or closed
    // at once when the server holds its limit of open HTTP connections).
    // Public: what Twilio needs (/incoming-call, /call-status, /media-stream) and /healthz. Metrics:
    // /metrics, /readyz, /healthz, on METRICS_HOST:METRICS_PORT (loopback by default).
    enum class Listener { Public, Metrics };
    void takeSocket(qintptr descriptor, Listener listener = Listener::Public);
    // The client behind the connection: the peer, or — from a TRUSTED_PROXIES peer — what X-Forwarded-For
    // says (trustedproxies.h).
    QHostAddress clientOf(const http::Request &request, const QHostAddress &peer) const;
    // VAANI_INSTANCE as a path segment ("Vaani_01.prod" → "vaani-01-prod"); /media-stream/<that> is a stream
    // path on every server.
    static QString instanceSlug(const QString &instance);
    static bool isInstanceStreamPath(QByteArrayView path);
    int index() const { return m_index; }

    // URL Twilio signs for a webhook path, and the stream URL put into TwiML (both from PUBLIC_URL).
    // The URL Twilio signed: PUBLIC_URL's, else the request's Host with the scheme a trusted proxy reports.
    QString webhookUrl(const http::Request &request, const QHostAddress &peer, const QString &path) const;
    QString webhookUrl(const QUrl &requestUrl, const QByteArray &forwardedProto, const QString &path) const;
    QString streamUrl(const http::Request &request, const QHostAddress &peer) const;
    // path: the stream path as requested (signature checks); empty: this server's own
    // (/media-stream/<instance>).
    QString streamUrl(const QUrl &requestUrl, const QByteArray &forwardedProto,
                      const QString &path = {}) const;
    bool checkStreamSignature(const http::Request &request, const QHostAddress &peer) const;
    // Replaces this worker's warm model sessions (the API key changed). On the worker thread.
    void refreshModels();
    // The signature is Twilio's under TWILIO_AUTH_TOKEN or TWILIO_AUTH_TOKEN_SECONDARY.
    bool signedByTwilio(const QString &url, const twilio::FormParams &params,
                        const QByteArray &signature) const;

private:
    // Routes match the path exactly as sent (never percent-decoded): /%69ncoming-call is not /incoming-call.
    SecretSet secrets() const; // current (they may be rotated while the server runs)
    http::Response route(const http::Request &request, const QHostAddress &peer);
    http::Response routeMetrics(const http::Request &request);
    http::Response mediaStreamUpgrade(const http::Request &request, const QHostAddress &peer);
    void startStream(int fd, const QByteArray &alreadyRead);
    http::Response incomingCall(const http::Request &request, const QHostAddress &peer);
    http::Response callStatus(const http::Request &request, const QHostAddress &peer);
    // A key pressed in the fallback's menu (Twilio's <Gather> action): a callback ticket or a transfer.
    http::Response fallbackMenu(const http::Request &request, const QHostAddress &peer);
    // What the voice webhook needs once it passed its checks (answerCall may run after the request's
    // handler returned).
    struct IncomingCall
    {
        QString callSid;
        QString caller;
        QString called;
        QByteArray idempotencyKey;
        QString streamUrl;
        QString menuUrl; // the fallback's keypad menu (POST /fallback-menu)
    };
    // `mayWait`: the answer is deferred already, so asking Redis costs the caller nothing more.
    void answerCall(const IncomingCall &call, bool mayWait, http::Response::Responder respond);
    http::Response applyCallStatus(const twilio::FormParams &params, const QByteArray &idempotencyKey);
    // The webhook rate limit, then `answer`: this server's limiter (answer runs at once, mayWait false and
    // must respond at once), or with REDIS_URL and Redis up the deployment's (a deferred response; mayWait
    // true).
    using Answer = std::function<void(bool mayWait, http::Response::Responder respond)>;
    http::Response withinRateLimit(const QString &route, const QHostAddress &client, Answer answer);
    http::Response tooManyRequests(const QString &route, int waitS);
    http::Response readyz();
    void onStreamStarted(MediaStream *stream, const twilio::StartInfo &start);
    void acceptStream(MediaStream *stream, const twilio::StartInfo &start); // its token checked
    CallSession *createSession(const QString &callSid, const QString &caller, const QString &called);
    // MAX_CALLS_PER_CALLER: the key a caller's calls are counted under (empty: not limited).
    QByteArray callerKeyOf(const QString &caller) const;
    // Common checks for Twilio's POSTs: size, content type, signature (the rate limit comes after, in
    // withinRateLimit). Returns a response when rejected.
    std::optional<http::Response> guard(const http::Request &request, const QHostAddress &peer,
                                        const QString &route, twilio::FormParams *params);
    void onRefused(int status, const QByteArray &reason, const QHostAddress &peer);

    ServerContext *m_ctx;
    const int m_index;
    http::Handler m_handler;
    http::Handler m_metricsHandler;
    http::RefusalObserver m_refused;
    std::unique_ptr<ModelProvider> m_models; // this worker's share of OPENAI_WARM_SESSIONS, else on demand
};

} // namespace vaani
