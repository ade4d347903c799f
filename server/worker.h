#pragma once
// A call worker: one thread with its own QHttpServer (webhooks, probes and the Media Streams WebSocket on
// the shared port) and the call sessions whose streams it accepted. The listener on the main thread hands
// it accepted socket descriptors (Qt 6.4 cannot move server-side sockets between threads afterwards).
// Construct on any thread, moveToThread(), then call init() there.

#include "servercontext.h"
#include "streamupgrade.h"
#include "twiliosignature.h"
#include "websocket.h"

#include <QHttpServer>
#include <QObject>
#include <QTcpServer>

#include <memory>

namespace vaani {

class CallSession;
class MediaStream;
class RealtimePool;

// Non-listening QTcpServer that QHttpServer binds to; sockets arrive as descriptors from the listener.
class DescriptorAcceptor : public QTcpServer
{
    Q_OBJECT
public:
    using QTcpServer::QTcpServer;
    // Qt warns that this server is "not listening" (harmless by design; the log handler drops the line).
    void take(qintptr descriptor);
};

class Worker : public QObject
{
    Q_OBJECT
public:
    explicit Worker(ServerContext *context, int index);
    ~Worker() override;

    void init(); // on the worker thread
    void takeSocket(qintptr descriptor);
    int index() const { return m_index; }

    // URL Twilio signs for a webhook path, and the stream URL put into TwiML (both from PUBLIC_URL).
    QString webhookUrl(const QHttpServerRequest &request, const QString &path) const;
    QString webhookUrl(const QUrl &requestUrl, const QByteArray &forwardedProto, const QString &path) const;
    QString streamUrl(const QHttpServerRequest &request) const;
    QString streamUrl(const QUrl &requestUrl, const QByteArray &forwardedProto) const;
    bool checkStreamSignature(const ws::HttpHead &request, const QString &peer) const;
    // From StreamUpgrade: a connection that is not a Media Streams upgrade, and an accepted upgrade.
    void passToHttp(int fd);
    void startStream(int fd);

private:
    QHttpServerResponse incomingCall(const QHttpServerRequest &request);
    QHttpServerResponse callStatus(const QHttpServerRequest &request);
    QHttpServerResponse readyz();
    void onStreamStarted(MediaStream *stream, const twilio::StartInfo &start);
    CallSession *createSession(const QString &callSid, const QString &caller, const QString &called);
    // Common checks for Twilio's POSTs: rate limit, size, signature. Returns a response when rejected.
    std::optional<QHttpServerResponse> guard(const QHttpServerRequest &request, const QString &route,
                                             twilio::FormParams *params);

    ServerContext *m_ctx;
    const int m_index;
    DescriptorAcceptor *m_acceptor = nullptr;
    std::unique_ptr<QHttpServer> m_http;
    UpgradeRoute m_streamRoute;
    RealtimePool *m_pool = nullptr; // OPENAI_WARM_SESSIONS: this worker's share
};

} // namespace vaani
