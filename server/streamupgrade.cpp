#include "streamupgrade.h"

#include "logging.h"

#include <QHostAddress>
#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
QByteArrayView statusText(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Error";
    }
}
} // namespace

StreamUpgrade::StreamUpgrade(int fd, const UpgradeRoute *route, QObject *parent)
    : QObject(parent)
    , m_fd(fd)
    , m_route(route)
{
    ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
    m_notifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &StreamUpgrade::onReadable);
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        qCDebug(lcHttp) << "connection sent no request in time; closing";
        done();
    });
    m_deadline.start(kHeadDeadlineMs);
    // Data that is only peeked stays readable: wait a little instead of spinning on a partial request.
    m_retry.setSingleShot(true);
    m_retry.setInterval(5);
    connect(&m_retry, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
    });
}

StreamUpgrade::~StreamUpgrade()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void StreamUpgrade::retryLater()
{
    m_notifier->setEnabled(false);
    m_retry.start();
}

void StreamUpgrade::onReadable()
{
    char head[kMaxHeadBytes];
    const ssize_t n = ::recv(m_fd, head, sizeof head, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        done(); // closed before a request, or an error
        return;
    }
    const QByteArrayView peeked(head, n);
    const QByteArrayView prefix = m_route->requestPrefix;
    const qsizetype common = std::min(peeked.size(), prefix.size());
    const bool mayBeOurs = peeked.first(common) == prefix.first(common);
    if (!mayBeOurs ||
        (peeked.size() > prefix.size() && peeked[prefix.size()] != ' ' && peeked[prefix.size()] != '?')) {
        if (!m_route->other) {
            answer(404, "not found");
            return;
        }
        // Not ours: the other server reads the request from the first byte.
        m_notifier->setEnabled(false);
        const int fd = std::exchange(m_fd, -1);
        m_route->other(fd);
        deleteLater();
        return;
    }
    const qsizetype end = peeked.indexOf("\r\n\r\n");
    if (end < 0) {
        if (peeked.size() >= kMaxHeadBytes) {
            answer(431, "request head too large");
            return;
        }
        retryLater(); // the rest of the head is on its way
        return;
    }
    // Consume exactly the head; what follows (nothing, for a conforming client) stays for the WebSocket.
    const qsizetype headBytes = end + 4;
    if (::recv(m_fd, head, size_t(headBytes), 0) != headBytes) {
        done();
        return;
    }
    ws::HttpHead request;
    if (!ws::parseHead(QByteArrayView(head, headBytes), &request)) {
        answer(400, "malformed request head");
        return;
    }
    const bool upgrade = request.hasToken("Upgrade", "websocket");
    if (upgrade && m_route->authorize && !m_route->authorize(request, peerAddress())) {
        answer(403, "invalid or missing signature");
        return;
    }
    QByteArray response;
    int status = 0;
    QByteArray why;
    if (!ws::acceptUpgrade(request, &response, &status, &why)) {
        answer(status, why);
        return;
    }
    if (::send(m_fd, response.constData(), size_t(response.size()), MSG_NOSIGNAL) != response.size()) {
        done();
        return;
    }
    m_notifier->setEnabled(false);
    const int fd = std::exchange(m_fd, -1);
    m_route->upgraded(fd);
    deleteLater();
}

QString StreamUpgrade::peerAddress() const
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(m_fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
        return u"unknown"_s;
    QHostAddress a(reinterpret_cast<const sockaddr *>(&ss));
    return a.toString();
}

void StreamUpgrade::answer(int status, const QByteArray &reason)
{
    const QByteArray body = reason + '\n';
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText(status).toByteArray() +
                     "\r\nContent-Type: text/plain\r\nContent-Length: " + QByteArray::number(body.size()) +
                     "\r\nConnection: close\r\n";
    if (status == 426)
        out += "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
    out += "\r\n" + body;
    [[maybe_unused]] const ssize_t sent = ::send(m_fd, out.constData(), size_t(out.size()), MSG_NOSIGNAL);
    ::shutdown(m_fd, SHUT_WR);
    // Unread request bytes would turn the close into a reset that can destroy the answer: discard them.
    char sink[4096];
    for (int i = 0; i < 64 && ::recv(m_fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    done();
}

void StreamUpgrade::done()
{
    if (m_notifier)
        m_notifier->setEnabled(false);
    m_deadline.stop();
    m_retry.stop();
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    deleteLater();
}

} // namespace vaani
