#pragma once
// One accepted HTTP/1.1 connection on the server's port: webhooks, probes, metrics and the Media Streams
// upgrade. Reads requests with http::RequestParser (every cap enforced before memory is spent), answers them
// in order through the handler (pipelined requests wait in a buffer of at most one read), and hands the
// descriptor over when the handler accepts a WebSocket upgrade.
//
// Deadlines (Timeouts): the first request must arrive within `firstRequestMs`; a request's head must be
// complete `headMs` after its first byte and the whole request `requestMs` after it; a kept-alive connection
// may idle `keepAliveMs` between requests; a response must be taken by the client within `writeMs`. A
// connection that misses one is answered 408 when a request was under way, then closed. Closing shuts down
// the sending side and discards what the client still sends for a short while, so the answer is not lost to
// a reset. Readiness comes from socket notifiers: waiting costs nothing.
//
// Threads: lives on the worker thread that accepted it, never moves. Owns its descriptor until an upgrade
// hands it on; deletes itself when done.

#include "httpparser.h"
#include "httptimeouts.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <functional>

class QSocketNotifier;

namespace vaani::http {

struct Response
{
    int status = 200;
    QByteArray contentType = "text/plain; charset=utf-8";
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;
    bool close = false; // "Connection: close" and close after it
    // A WebSocket upgrade accepted: `raw` is the 101 response, written as is; then the descriptor (and any
    // bytes the client sent after the request) go to `upgradeTo`, and this connection ends.
    QByteArray raw;
    std::function<void(int fd, const QByteArray &pending)> upgradeTo;
    // The answer needs something asynchronous (Redis): the connection calls `defer` with a responder and
    // waits — reading nothing more — until the responder is called on the connection's thread with the real
    // answer, or Timeouts::answerMs passes (503, and a later answer is dropped). Calling the responder after
    // the connection ended is harmless.
    using Responder = std::function<void(Response)>;
    std::function<void(Responder)> defer;

    static Response text(int status, const QByteArray &body, const QByteArray &contentType = {});
    QByteArray serialize(bool keepAlive) const;
};

QByteArrayView reasonPhrase(int status);

// Called for every complete request, on the connection's thread.
using Handler = std::function<Response(const Request &request, const QHostAddress &peer)>;
// Called when a request is refused before it reaches the handler (status 400/408/413/431/501/505), for
// metrics and logs.
using RefusalObserver = std::function<void(int status, const QByteArray &reason, const QHostAddress &peer)>;

class HttpConnection : public QObject
{
    Q_OBJECT
public:
    // `handler` and `refused` must outlive the connection (the worker keeps them). `openConnections` is
    // incremented here and decremented when the connection ends.
    HttpConnection(int fd, const Handler *handler, const RefusalObserver *refused, Limits limits,
                   Timeouts timeouts, std::atomic<int> *openConnections, QObject *parent);
    ~HttpConnection() override;

private:
    enum class Phase { Reading, Answering, Writing, Lingering, Done };
    void onReadable();
    void onWritable();
    void processPending();
    void respond(const Response &response, bool keepAlive);
    void answerLater(Response deferred, bool keepAlive);
    void refuse(int status, const QByteArray &reason);
    bool writeOut(); // false when the connection failed
    void startLinger();
    void armDeadline();
    void onDeadline();
    void finish();

    int m_fd;
    const Handler *m_handler;
    const RefusalObserver *m_refused;
    Timeouts m_timeouts;
    std::atomic<int> *m_open;
    QHostAddress m_peer;
    RequestParser m_parser;
    QByteArray m_pending; // read but not yet parsed (only while a response is being written)
    QByteArray m_out;
    qsizetype m_outPos = 0;
    bool m_closeAfterWrite = false;
    bool m_sentContinue = false;
    bool m_servedOne = false;
    quint64 m_answerId = 0; // the deferred answer awaited (a late one from before carries another id)
    Response m_upgrade;     // set while a 101 is being written
    Phase m_phase = Phase::Reading;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QTimer m_deadline{this};
    QTimer m_headDeadline{this};
};

} // namespace vaani::http
