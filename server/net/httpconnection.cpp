#include "httpconnection.h"

#include "logging.h"
#include "sendqueue.h"

#include <QPointer>
#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vaani::http {

namespace {
constexpr qsizetype kReadBytes = 16 * 1024;
constexpr int kMaxReadsPerWakeup = 8;
} // namespace

QByteArrayView reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

Response Response::text(int status, const QByteArray &body, const QByteArray &contentType)
{
    Response r;
    r.status = status;
    r.body = body;
    if (!contentType.isEmpty())
        r.contentType = contentType;
    return r;
}

QByteArray Response::serialize(bool keepAlive) const
{
    QByteArray out;
    out.reserve(160 + body.size());
    out += "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status).toByteArray() + "\r\n";
    const bool hasBody = status != 204 && status != 304 && status >= 200;
    if (hasBody) {
        out += "Content-Type: " + contentType + "\r\n";
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    for (const auto &[name, value] : headers)
        out += name + ": " + value + "\r\n";
    if (!keepAlive)
        out += "Connection: close\r\n";
    out += "\r\n";
    if (hasBody)
        out += body;
    return out;
}

HttpConnection::HttpConnection(int fd, const Handler *handler, const RefusalObserver *refused, Limits limits,
                               Timeouts timeouts, std::atomic<int> *openConnections, QObject *parent)
    : QObject(parent)
    , m_fd(fd)
    , m_handler(handler)
    , m_refused(refused)
    , m_timeouts(timeouts)
    , m_open(openConnections)
    , m_parser(limits)
{
    m_open->fetch_add(1, std::memory_order_relaxed);
    ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(m_fd, reinterpret_cast<sockaddr *>(&ss), &len) == 0)
        m_peer = QHostAddress(reinterpret_cast<const sockaddr *>(&ss));
    m_readNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &HttpConnection::onReadable);
    m_writeNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &HttpConnection::onWritable);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &HttpConnection::onDeadline);
    m_headDeadline.setSingleShot(true);
    connect(&m_headDeadline, &QTimer::timeout, this, &HttpConnection::onDeadline);
    armDeadline();
}

HttpConnection::~HttpConnection()
{
    if (m_fd >= 0)
        ::close(m_fd);
    if (m_phase != Phase::Done)
        m_open->fetch_sub(1, std::memory_order_relaxed);
}

void HttpConnection::armDeadline()
{
    switch (m_phase) {
    case Phase::Reading:
        if (!m_parser.inRequest()) {
            m_headDeadline.stop();
            m_deadline.start(m_servedOne ? m_timeouts.keepAliveMs : m_timeouts.firstRequestMs);
        }
        return;
    case Phase::Answering:
        m_headDeadline.stop();
        m_deadline.start(m_timeouts.answerMs);
        return;
    case Phase::Writing:
        m_headDeadline.stop();
        m_deadline.start(m_timeouts.writeMs);
        return;
    case Phase::Lingering:
        m_headDeadline.stop();
        m_deadline.start(m_timeouts.lingerMs);
        return;
    case Phase::Done:
        m_headDeadline.stop();
        m_deadline.stop();
        return;
    }
}

void HttpConnection::onDeadline()
{
    switch (m_phase) {
    case Phase::Reading:
        if (m_parser.inRequest()) {
            qCDebug(lcHttp) << "request from" << m_peer.toString() << "not complete in time";
            refuse(408, "request not complete in time");
        } else {
            finish(); // idle
        }
        return;
    case Phase::Answering: {
        qCWarning(lcHttp) << "no answer for" << m_peer.toString() << "within" << m_timeouts.answerMs << "ms";
        ++m_answerId;
        Response r = Response::text(503, "Service unavailable: no answer in time\n");
        r.close = true;
        respond(r, false);
        return;
    }
    case Phase::Writing:
        qCDebug(lcHttp) << "client" << m_peer.toString() << "did not take the response in time";
        finish();
        return;
    case Phase::Lingering:
    case Phase::Done:
        finish();
        return;
    }
}

void HttpConnection::onReadable()
{
    char buffer[kReadBytes];
    for (int reads = 0;
         reads < kMaxReadsPerWakeup && (m_phase == Phase::Reading || m_phase == Phase::Lingering); ++reads) {
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            finish(); // the client closed (or the connection failed)
            return;
        }
        if (m_phase == Phase::Lingering)
            continue; // discarded: our answer is out, only the close remains
        // processPending() reads m_pending; move the fresh bytes there only when something is left over.
        m_pending = QByteArray(buffer, n);
        processPending();
        if (m_phase == Phase::Done)
            return;
    }
}

void HttpConnection::processPending()
{
    QByteArray data = std::exchange(m_pending, QByteArray());
    QByteArrayView rest(data);
    while (!rest.isEmpty() && m_phase == Phase::Reading) {
        const bool wasInRequest = m_parser.inRequest();
        const bool hadHead = m_parser.headComplete();
        const qsizetype used = m_parser.feed(rest);
        rest = rest.sliced(used);
        if (!wasInRequest && m_parser.inRequest()) {
            // The deadlines run from a request's first byte; later bytes never extend them.
            m_headDeadline.start(m_timeouts.headMs);
            m_deadline.start(m_timeouts.requestMs);
        }
        if (!hadHead && m_parser.headComplete())
            m_headDeadline.stop();
        if (m_parser.status() == RequestParser::Status::Error) {
            refuse(m_parser.errorStatus(), m_parser.errorReason());
            return;
        }
        if (m_parser.status() == RequestParser::Status::NeedMore) {
            if (m_parser.expectsContinue() && !m_sentContinue) {
                m_sentContinue = true;
                m_out += "HTTP/1.1 100 Continue\r\n\r\n";
                if (!writeOut())
                    return;
                if (!m_out.isEmpty()) {
                    // The client is not reading even this: wait for it before reading the body.
                    m_phase = Phase::Writing;
                    m_closeAfterWrite = false;
                    m_pending = rest.toByteArray();
                    armDeadline();
                    return;
                }
            }
            continue;
        }
        // A complete request.
        m_sentContinue = false;
        m_headDeadline.stop();
        m_deadline.stop();
        const Request request = m_parser.take();
        Response response = (*m_handler)(request, m_peer);
        if (response.upgradeTo) {
            m_pending = rest.toByteArray();
            m_upgrade = std::move(response);
            m_out += m_upgrade.raw;
            m_phase = Phase::Writing;
            if (!writeOut())
                return;
            if (m_outPos == 0 && m_out.isEmpty())
                onWritable(); // written at once: hand over now
            else
                armDeadline();
            return;
        }
        if (response.defer) {
            m_pending = rest.toByteArray();
            answerLater(std::move(response), request.keepAlive());
            return;
        }
        respond(response, request.keepAlive());
    }
    if (!rest.isEmpty() && m_phase == Phase::Writing)
        m_pending = rest.toByteArray(); // the next request, after the current response is out
}

void HttpConnection::respond(const Response &response, bool keepAlive)
{
    const bool keep = keepAlive && !response.close;
    m_out += response.serialize(keep);
    m_closeAfterWrite = !keep;
    m_servedOne = true;
    m_phase = Phase::Writing;
    if (!writeOut())
        return;
    if (m_out.isEmpty())
        onWritable(); // all out: continue at once
    else
        armDeadline();
}

void HttpConnection::answerLater(Response deferred, bool keepAlive)
{
    m_phase = Phase::Answering;
    m_readNotifier->setEnabled(false); // pipelined requests wait in the socket until this one is answered
    armDeadline();
    const quint64 id = ++m_answerId;
    QPointer<HttpConnection> self(this);
    deferred.defer([self, id, keepAlive](Response response) {
        if (!self || self->m_phase != Phase::Answering || self->m_answerId != id)
            return; // too late: answered 503, or the connection is gone
        self->respond(response, keepAlive);
    });
}

void HttpConnection::refuse(int status, const QByteArray &reason)
{
    if (m_refused && *m_refused)
        (*m_refused)(status, reason, m_peer);
    m_pending.clear();
    Response r = Response::text(status, reason + '\n');
    r.close = true;
    respond(r, false);
}

bool HttpConnection::writeOut()
{
    switch (net::sendPending(m_fd, m_out, &m_outPos)) {
    case net::SendStatus::AllSent:
        break;
    case net::SendStatus::WouldBlock:
        m_readNotifier->setEnabled(false); // nothing more is read until the client takes this
        m_writeNotifier->setEnabled(true);
        return true;
    case net::SendStatus::Failed:
        finish();
        return false;
    }
    m_out.clear();
    m_outPos = 0;
    return true;
}

void HttpConnection::onWritable()
{
    if (m_phase != Phase::Writing)
        return;
    if (!writeOut())
        return;
    if (!m_out.isEmpty())
        return; // still waiting for the client
    m_writeNotifier->setEnabled(false);
    if (m_upgrade.upgradeTo) {
        // The 101 is out: the descriptor is the WebSocket's from here on.
        m_readNotifier->setEnabled(false);
        m_phase = Phase::Done;
        m_deadline.stop();
        m_headDeadline.stop();
        m_open->fetch_sub(1, std::memory_order_relaxed);
        const int fd = std::exchange(m_fd, -1);
        const auto takeOver = std::move(m_upgrade.upgradeTo);
        m_upgrade = Response();
        takeOver(fd, std::exchange(m_pending, QByteArray()));
        deleteLater();
        return;
    }
    if (m_closeAfterWrite) {
        startLinger();
        return;
    }
    m_phase = Phase::Reading;
    m_readNotifier->setEnabled(true);
    armDeadline();
    if (!m_pending.isEmpty())
        processPending();
}

void HttpConnection::startLinger()
{
    // Our answer is complete: tell the client we are done, then read and discard what it still sends (up to
    // lingerMs), so unread data does not turn the close into a reset that destroys the answer.
    ::shutdown(m_fd, SHUT_WR);
    m_phase = Phase::Lingering;
    m_pending.clear();
    m_writeNotifier->setEnabled(false);
    m_readNotifier->setEnabled(true);
    armDeadline();
}

void HttpConnection::finish()
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    m_open->fetch_sub(1, std::memory_order_relaxed);
    m_deadline.stop();
    m_headDeadline.stop();
    m_readNotifier->setEnabled(false);
    m_writeNotifier->setEnabled(false);
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    deleteLater();
}

} // namespace vaani::http
