// ws::WebSocket, client side: resolving, a non-blocking connect, TLS for wss:// (tlsstream.*), the opening
// handshake and checking the server's answer.
#include "tlsstream.h"
#include "websocket.h"
#include "websocket_p.h"

#include <QHostInfo>
#include <QSocketNotifier>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani::ws {

namespace {
constexpr qsizetype kMaxHeadBytes = 16 * 1024; // of the server's handshake answer
} // namespace

void WebSocket::open(const QUrl &url, const QList<QPair<QByteArray, QByteArray>> &headers)
{
    if (m_state != State::Idle)
        return;
    setRole(true);
    m_url = url;
    m_requestHeaders = headers;
    m_state = State::Connecting;
    const bool tls = url.scheme() == u"wss"_s;
    if (!tls && url.scheme() != u"ws"_s) {
        QMetaObject::invokeMethod(
            this, [this] { failConnect(u"unsupported scheme: "_s + m_url.scheme()); }, Qt::QueuedConnection);
        return;
    }
    m_port = url.port(tls ? 443 : 80);
    QByteArray nonce(16, Qt::Uninitialized);
    detail::maskRng().fillRange(reinterpret_cast<quint32 *>(nonce.data()), 4);
    m_key = nonce.toBase64();
    if (tls) {
        QString why;
        m_tlsContext = net::TlsClientContext::get(m_extraCaPem, &why);
        if (!m_tlsContext) {
            QMetaObject::invokeMethod(
                this, [this, why] { failConnect(why); }, Qt::QueuedConnection);
            return;
        }
    }
    QHostAddress literal;
    if (literal.setAddress(url.host())) {
        m_addresses = {literal};
        QMetaObject::invokeMethod(this, &WebSocket::connectNext, Qt::QueuedConnection);
        return;
    }
    QHostInfo::lookupHost(url.host(), this, &WebSocket::onLookedUp);
}

void WebSocket::onLookedUp(const QHostInfo &info)
{
    if (m_state != State::Connecting)
        return;
    if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
        failConnect(u"cannot resolve %1: %2"_s.arg(m_url.host(), info.errorString()));
        return;
    }
    m_addresses = info.addresses();
    connectNext();
}

void WebSocket::connectNext()
{
    if (m_state != State::Connecting)
        return;
    while (!m_addresses.isEmpty()) {
        const QHostAddress a = m_addresses.takeFirst();
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (a.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&ss);
            in->sin_family = AF_INET;
            in->sin_port = htons(quint16(m_port));
            in->sin_addr.s_addr = htonl(a.toIPv4Address());
            len = sizeof(sockaddr_in);
        } else if (a.protocol() == QAbstractSocket::IPv6Protocol) {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&ss);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(quint16(m_port));
            const Q_IPV6ADDR ip = a.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &ip, sizeof ip);
            len = sizeof(sockaddr_in6);
        } else {
            continue;
        }
        const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            m_error = QString::fromLocal8Bit(std::strerror(errno));
            continue;
        }
        detail::setNoDelay(fd);
        if (::connect(fd, reinterpret_cast<sockaddr *>(&ss), len) == 0 || errno == EINPROGRESS) {
            m_fd = fd;
            // The write notifier reports the connect's outcome first, then serves as the write-back notifier.
            m_writeNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Write, this);
            connect(m_writeNotifier, &QSocketNotifier::activated, this, &WebSocket::onWritable);
            return;
        }
        m_error = QString::fromLocal8Bit(std::strerror(errno));
        ::close(fd);
    }
    failConnect(u"cannot connect to %1:%2: %3"_s.arg(m_url.host()).arg(m_port).arg(m_error));
}

void WebSocket::onConnectWritable()
{
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len);
    m_writeNotifier->setEnabled(false);
    if (err != 0) {
        m_error = QString::fromLocal8Bit(std::strerror(err));
        dropNotifiers();
        ::close(m_fd);
        m_fd = -1;
        connectNext();
        return;
    }
    dropNotifiers(); // the connect's write notifier
    watchFd();
    if (!m_tlsContext) {
        onTransportOpen();
        return;
    }
    m_tls = std::make_unique<net::TlsStream>(m_tlsContext);
    // The name as it is on the certificate and in SNI: ASCII (IDNA "xn--" labels), an IPv6 literal
    // unbracketed.
    if (!m_tls->attach(m_fd, m_url.host(QUrl::FullyEncoded))) {
        failConnect(m_tls->errorString());
        return;
    }
    m_tlsHandshaking = true;
    continueTlsHandshake();
}

void WebSocket::continueTlsHandshake()
{
    switch (m_tls->handshake()) {
    case net::TlsStream::Result::Done:
        m_tlsHandshaking = false;
        setWriteInterest(false);
        onTransportOpen();
        return;
    case net::TlsStream::Result::WantRead:
        setWriteInterest(false);
        return;
    case net::TlsStream::Result::WantWrite:
        setWriteInterest(true);
        return;
    case net::TlsStream::Result::Closed:
        m_error = u"TLS handshake with %1: the connection was closed"_s.arg(m_url.host());
        break;
    case net::TlsStream::Result::Failed:
        m_error = u"TLS handshake with %1: %2"_s.arg(m_url.host(), m_tls->errorString());
        break;
    }
    // Called from readiness handlers that must not end the connection themselves: reported on the next pass.
    m_tlsHandshaking = false;
    finishLater();
}

void WebSocket::onTransportOpen()
{
    QByteArray target = m_url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (m_url.hasQuery())
        target += '?' + m_url.query(QUrl::FullyEncoded).toLatin1();
    const bool defaultPort = m_port == (m_tlsContext ? 443 : 80);
    QByteArray host = m_url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (!defaultPort)
        host += ':' + QByteArray::number(m_port);
    m_out += "GET " + target + " HTTP/1.1\r\nHost: " + host +
             "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + m_key +
             "\r\nSec-WebSocket-Version: 13\r\n";
    for (const auto &[name, value] : std::as_const(m_requestHeaders))
        m_out += name + ": " + value + "\r\n";
    m_out += "\r\n";
    m_handshaking = true;
    flush();
}

bool WebSocket::readHandshake(QByteArrayView data, qsizetype *consumed)
{
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        if (data.size() > kMaxHeadBytes)
            failConnect(u"oversized handshake response"_s);
        *consumed = 0;
        return false;
    }
    *consumed = end + 4;
    HttpHead head;
    if (!parseHead(data.first(end + 4), &head)) {
        failConnect(u"malformed handshake response"_s);
        return false;
    }
    const QList<QByteArray> status = head.startLine.split(' ');
    m_httpStatus = status.size() >= 2 ? status[1].toInt() : 0;
    if (!head.startLine.startsWith("HTTP/1.1 ") || m_httpStatus != 101) {
        failConnect(u"server refused the WebSocket upgrade: %1"_s.arg(QString::fromLatin1(head.startLine)));
        return false;
    }
    if (!head.hasToken("Upgrade", "websocket") || !head.hasToken("Connection", "upgrade") ||
        head.value("Sec-WebSocket-Accept") != acceptKey(m_key)) {
        failConnect(u"invalid WebSocket handshake response"_s);
        return false;
    }
    m_handshaking = false;
    m_state = State::Open;
    m_requestHeaders.clear(); // credentials are not kept longer than needed
    return true;
}

} // namespace vaani::ws
