#include "websocket.h"

#include "epolldispatcher.h"
#include "logging.h"
#include "sendqueue.h"
#include "websocket_p.h"

#include <QCoreApplication>
#include <QEvent>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QSslSocket>
#include <QStringDecoder>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using namespace Qt::StringLiterals;

namespace vaani::ws {

namespace {
constexpr qsizetype kMaxBacklogBytes = 4 * 1024 * 1024; // unsent bytes before the peer counts as stuck
constexpr int kCloseGraceMs = 1000;
constexpr qsizetype kScratchBytes = 64 * 1024;
constexpr qsizetype kCompactBytes = 64 * 1024;       // sent bytes dropped from the queue's front past this
constexpr qsizetype kKeepCapacityBytes = 256 * 1024; // an emptied queue keeps at most this much capacity
constexpr int kMaxReadsPerWakeup = 16; // then other connections get their turn (readiness is level-triggered)

// One read buffer per thread: connections keep nothing between reads except an incomplete frame.
char *scratch()
{
    thread_local std::vector<char> buffer(kScratchBytes);
    return buffer.data();
}

bool validCloseCode(quint16 c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);
}

bool isUtf8(QByteArrayView s)
{
    const auto *p = reinterpret_cast<const uchar *>(s.data());
    qsizetype i = 0;
    for (; i < s.size(); ++i) {
        if (p[i] >= 0x80)
            break;
    }
    if (i == s.size())
        return true; // the usual case: JSON with base64 audio is ASCII
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder(s);
    Q_UNUSED(decoded);
    return !decoder.hasError();
}

} // namespace

HeaderStatus decodeFrameHeader(const uchar *p, qsizetype avail, bool expectMasked, FrameHeader *h)
{
    if (avail < 2)
        return HeaderStatus::Incomplete;
    h->fin = p[0] & 0x80;
    h->opcode = p[0] & 0x0F;
    h->masked = p[1] & 0x80;
    quint64 len = p[1] & 0x7F;
    qsizetype header = 2;
    if (len == 126) {
        if (avail < 4)
            return HeaderStatus::Incomplete;
        len = (quint64(p[2]) << 8) | p[3];
        header = 4;
        if (len < 126) {
            h->error = "length not in its shortest form";
            return HeaderStatus::Invalid;
        }
    } else if (len == 127) {
        if (avail < 10)
            return HeaderStatus::Incomplete;
        if (p[2] & 0x80) {
            h->error = "64-bit length with the most significant bit set";
            return HeaderStatus::Invalid;
        }
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | p[2 + i];
        header = 10;
        if (len <= 0xFFFF) {
            h->error = "length not in its shortest form";
            return HeaderStatus::Invalid;
        }
    }
    if (p[0] & 0x70) {
        h->error = "reserved bits set without an extension";
        return HeaderStatus::Invalid;
    }
    const quint8 op = h->opcode;
    if (!(op <= 2 || (op >= 8 && op <= 10))) {
        h->error = "unknown opcode";
        return HeaderStatus::Invalid;
    }
    if (h->masked != expectMasked) {
        h->error = expectMasked ? "client frames must be masked" : "server frames must not be masked";
        return HeaderStatus::Invalid;
    }
    if (op >= 8 && (!h->fin || len > 125)) {
        h->error = "fragmented or oversized control frame";
        return HeaderStatus::Invalid;
    }
    if (h->masked)
        header += 4;
    h->length = len;
    h->headerBytes = header;
    return HeaderStatus::Ok;
}

namespace detail {
QRandomGenerator64 &maskRng()
{
    thread_local QRandomGenerator64 rng(QRandomGenerator::system()->generate64());
    return rng;
}

void setNoDelay(int fd)
{
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
} // namespace detail

using detail::maskRng;
using detail::setNoDelay;

WebSocket::WebSocket(QObject *parent)
    : QObject(parent)
{}

WebSocket::~WebSocket()
{
    if (m_deletedFlag)
        *m_deletedFlag = true;
    if (m_epoll && QAbstractEventDispatcher::instance(thread()) == m_epoll)
        m_epoll->removeHandler(m_fd);
    if (m_fd >= 0)
        ::close(m_fd);
}

void WebSocket::watchFd()
{
    // On the server's worker threads readiness comes straight from the epoll dispatcher; elsewhere (tests,
    // other threads) through socket notifiers.
    if (EpollEventDispatcher *epoll = EpollEventDispatcher::currentThread()) {
        m_epoll = epoll;
        m_epoll->setHandler(m_fd, this, EPOLLIN);
        return;
    }
    m_readNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &WebSocket::onReadable);
    m_writeNotifier = new QSocketNotifier(qintptr(m_fd), QSocketNotifier::Write, this);
    m_writeNotifier->setEnabled(false);
    connect(m_writeNotifier, &QSocketNotifier::activated, this, &WebSocket::onWritable);
}

void WebSocket::setWriteInterest(bool on)
{
    if (m_wantWrite == on)
        return;
    m_wantWrite = on;
    if (m_epoll)
        m_epoll->setHandler(m_fd, this, on ? quint32(EPOLLIN | EPOLLOUT) : quint32(EPOLLIN));
    else if (m_writeNotifier)
        m_writeNotifier->setEnabled(on);
}

void WebSocket::epollEvent(quint32 events)
{
    if ((events & EPOLLOUT) && m_wantWrite)
        onWritable(); // never deletes this (failures are reported on the next pass)
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        onReadable();
}

bool WebSocket::event(QEvent *e)
{
    if (e->type() == QEvent::ThreadChange && m_epoll) {
        // Moving with its session to another worker: leave this thread's dispatcher now, join the new one's
        // from there (the posted call moves with the object). Data that arrives meanwhile waits in the
        // kernel.
        m_epoll->removeHandler(m_fd);
        m_epoll = nullptr;
        const bool wantWrite = std::exchange(m_wantWrite, false);
        QMetaObject::invokeMethod(
            this,
            [this, wantWrite] {
                if (m_fd < 0 || m_state == State::Closed || m_epoll || m_readNotifier)
                    return;
                watchFd();
                if (wantWrite)
                    setWriteInterest(true);
            },
            Qt::QueuedConnection);
    }
    return QObject::event(e);
}

void WebSocket::adoptServerSide(int fd, const QByteArray &alreadyRead)
{
    m_client = false;
    m_fd = fd;
    setNoDelay(fd);
    watchFd();
    m_state = State::Open;
    if (!alreadyRead.isEmpty()) {
        QMetaObject::invokeMethod(
            this, [this, alreadyRead] { feed(alreadyRead); }, Qt::QueuedConnection);
    }
}

void WebSocket::onWritable()
{
    if (m_state == State::Connecting && !m_handshaking) {
        onConnectWritable();
        return;
    }
    flush();
}

void WebSocket::flush()
{
    if (m_tls) {
        if (!m_out.isEmpty())
            m_tls->write(m_out);
        m_out.clear();
        // QSslSocket buffers without limit: the same cap as the plain path.
        if (m_tls->bytesToWrite() > kMaxBacklogBytes && m_state != State::Closed) {
            m_error = u"peer is not reading (%1 bytes queued)"_s.arg(m_tls->bytesToWrite());
            finishLater();
        }
        return;
    }
    if (m_fd < 0)
        return;
    switch (net::sendPending(m_fd, m_out, &m_outPos)) {
    case net::SendStatus::AllSent:
        break;
    case net::SendStatus::WouldBlock:
        if (m_out.size() - m_outPos > kMaxBacklogBytes) {
            m_error = u"peer is not reading (%1 bytes queued)"_s.arg(m_out.size() - m_outPos);
            finishLater();
            return;
        }
        // A slow reader that never lets the queue empty: drop what was sent, so the buffer holds only unsent
        // bytes (at most the cap plus one message) instead of everything since it last emptied.
        if (m_outPos >= kCompactBytes) {
            m_out.remove(0, m_outPos);
            m_outPos = 0;
        }
        setWriteInterest(true);
        return;
    case net::SendStatus::Failed:
        m_error = QString::fromLocal8Bit(std::strerror(errno));
        finishLater(); // never from inside a caller's send: report on the next pass of the event loop
        return;
    }
    if (m_out.capacity() > kKeepCapacityBytes)
        m_out = QByteArray(); // a burst is over: do not hold its high-water mark for the rest of the call
    else
        m_out.resize(0); // keeps the capacity for the next frame
    m_outPos = 0;
    setWriteInterest(false);
}

void WebSocket::appendFrame(Opcode op, QByteArrayView payload)
{
    const qsizetype n = payload.size();
    char header[14];
    qsizetype h = 0;
    header[h++] = char(0x80 | quint8(op));
    const char maskBit = m_client ? char(0x80) : char(0);
    if (n < 126) {
        header[h++] = char(maskBit | char(n));
    } else if (n <= 0xFFFF) {
        header[h++] = char(maskBit | 126);
        header[h++] = char(n >> 8);
        header[h++] = char(n);
    } else {
        header[h++] = char(maskBit | 127);
        for (int i = 7; i >= 0; --i)
            header[h++] = char(quint64(n) >> (8 * i));
    }
    if (!m_client) {
        m_out.append(header, h);
        m_out.append(payload);
        return;
    }
    const quint32 key = quint32(maskRng().generate());
    std::memcpy(header + h, &key, 4);
    const char *k = header + h;
    h += 4;
    m_out.append(header, h);
    const qsizetype at = m_out.size();
    m_out.resize(at + n);
    char *dst = m_out.data() + at;
    const char *src = payload.data();
    for (qsizetype i = 0; i < n; ++i)
        dst[i] = char(src[i] ^ k[i & 3]);
}

void WebSocket::queueText(QByteArrayView utf8)
{
    if (m_state != State::Open)
        return;
    // The cap holds before memory is spent, also for messages queued faster than flush() runs.
    if (m_out.size() - m_outPos + utf8.size() > kMaxBacklogBytes + kCompactBytes) {
        m_error = u"peer is not reading (%1 bytes queued)"_s.arg(m_out.size() - m_outPos);
        finishLater();
        m_state = State::Closing; // nothing more is queued; finish() reports it on the next pass
        return;
    }
    appendFrame(Opcode::Text, utf8);
}

void WebSocket::close(quint16 code, QByteArrayView reason)
{
    if (m_state != State::Open) {
        if (m_state != State::Closing)
            abort();
        return;
    }
    QByteArray payload(2, Qt::Uninitialized);
    payload[0] = char(code >> 8);
    payload[1] = char(code);
    payload += reason.first(std::min<qsizetype>(reason.size(), 123));
    appendFrame(Opcode::Close, payload);
    m_closeSent = true;
    m_state = State::Closing;
    flush();
    if (!m_closeTimer) {
        m_closeTimer = new QTimer(this);
        m_closeTimer->setSingleShot(true);
        connect(m_closeTimer, &QTimer::timeout, this, &WebSocket::finish);
    }
    m_closeTimer->start(kCloseGraceMs);
}

void WebSocket::abort()
{
    finish();
}

void WebSocket::failConnect(const QString &why)
{
    if (m_state == State::Closed)
        return;
    m_error = why;
    finish();
}

void WebSocket::dropNotifiers()
{
    if (m_epoll) {
        if (QAbstractEventDispatcher::instance(thread()) == m_epoll)
            m_epoll->removeHandler(m_fd);
        m_epoll = nullptr;
    }
    m_wantWrite = false;
    // Possibly called from a notifier's own activation: disable now (unregisters it), delete later.
    for (QSocketNotifier **n : {&m_readNotifier, &m_writeNotifier}) {
        if (*n) {
            (*n)->setEnabled(false);
            (*n)->deleteLater();
            *n = nullptr;
        }
    }
}

void WebSocket::finishLater()
{
    dropNotifiers(); // nothing more is read or written
    QMetaObject::invokeMethod(this, &WebSocket::finish, Qt::QueuedConnection);
}

void WebSocket::finish()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_handshaking = false;
    dropNotifiers();
    if (m_closeTimer)
        m_closeTimer->stop();
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    if (m_tls) {
        m_tls->disconnect(this);
        m_tls->abort();
        m_tls->deleteLater();
        m_tls = nullptr;
    }
    m_in.clear();
    m_out.clear();
    m_outPos = 0;
    m_fragments.clear();
    Q_EMIT disconnected();
}

void WebSocket::openForTesting(bool client)
{
    m_client = client;
    m_state = State::Open;
}

bool WebSocket::feed(QByteArrayView bytes)
{
    if (m_state != State::Open && m_state != State::Closing)
        return true;
    bool deleted = false;
    m_deletedFlag = &deleted;
    QByteArray copy = bytes.toByteArray(); // unmasked in place, like the read buffer
    const bool alive = consumeInput(copy.data(), copy.size(), deleted);
    if (alive)
        m_deletedFlag = nullptr;
    return alive;
}

bool WebSocket::consumeInput(char *data, qsizetype size, const bool &deleted)
{
    if (m_in.isEmpty()) {
        const qsizetype used = processInput(data, size);
        if (deleted)
            return false;
        if (used < size && m_state != State::Closed)
            m_in = QByteArray(data + used, size - used);
        return true;
    }
    m_in.append(data, size);
    const qsizetype used = processInput(m_in.data(), m_in.size());
    if (deleted)
        return false;
    if (m_state != State::Closed)
        m_in.remove(0, used);
    return true;
}

void WebSocket::onReadable()
{
    bool deleted = false;
    m_deletedFlag = &deleted;
    auto consume = [&](char *data, qsizetype size) { return consumeInput(data, size, deleted); };
    if (m_tls) {
        QByteArray chunk = m_tls->readAll();
        if (!chunk.isEmpty() && !consume(chunk.data(), chunk.size()))
            return;
        m_deletedFlag = nullptr;
        return;
    }
    for (int reads = 0; reads < kMaxReadsPerWakeup && m_fd >= 0 && m_state != State::Closed; ++reads) {
        char *buffer = scratch();
        const ssize_t n = ::recv(m_fd, buffer, kScratchBytes, 0);
        if (n > 0) {
            if (!consume(buffer, n))
                return;
            if (n < kScratchBytes)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            m_error = QString::fromLocal8Bit(std::strerror(errno));
        else if (m_state == State::Connecting)
            m_error = u"connection closed during the handshake"_s;
        finish(); // end of stream or error
        if (!deleted)
            m_deletedFlag = nullptr;
        return;
    }
    m_deletedFlag = nullptr;
}

qsizetype WebSocket::processInput(char *data, qsizetype size)
{
    qsizetype pos = 0;
    if (m_handshaking) {
        if (!readHandshake(QByteArrayView(data, size), &pos))
            return pos;
        bool *deleted = m_deletedFlag; // a slot may delete this: only the caller's flag is safe to read
        Q_EMIT connected();
        if (deleted == nullptr || *deleted || m_state != State::Open)
            return pos;
    }
    while (m_state == State::Open || m_state == State::Closing) {
        const qsizetype avail = size - pos;
        if (avail < 2)
            break;
        const auto *p = reinterpret_cast<const uchar *>(data + pos);
        FrameHeader h;
        const HeaderStatus status = decodeFrameHeader(p, avail, !m_client, &h);
        if (status == HeaderStatus::Incomplete)
            break;
        if (status == HeaderStatus::Invalid) {
            protocolFailure(ProtocolError, h.error);
            break;
        }
        const Opcode op = Opcode(h.opcode);
        const bool control = h.opcode >= 8;
        // Lengths come from the peer (up to 2^63 - 1): compare, never add them to anything.
        const quint64 fragments = op == Opcode::Continuation ? quint64(m_fragments.size()) : 0;
        if (!control && (h.length > quint64(m_maxMessage) || fragments > quint64(m_maxMessage) - h.length)) {
            protocolFailure(TooBig, "message too big");
            break;
        }
        if (avail < h.headerBytes)
            break; // the masking key is still on its way
        // avail >= h.headerBytes here, so the subtraction cannot wrap.
        if (h.length > quint64(avail - h.headerBytes))
            break; // the payload is still on its way (at most m_maxMessage bytes are ever held)
        const qsizetype len = qsizetype(h.length);
        char *payload = data + pos + h.headerBytes;
        if (h.masked) {
            const char *key = payload - 4;
            for (qsizetype i = 0; i < len; ++i)
                payload[i] = char(payload[i] ^ key[i & 3]);
        }
        pos += h.headerBytes + len;
        if (!handleFrame(op, h.fin, payload, len))
            break;
    }
    return pos;
}

bool WebSocket::emitMessage(Opcode op, QByteArrayView payload)
{
    bool *deleted = m_deletedFlag; // read before the signal: a slot may delete this object
    if (op == Opcode::Text) {
        if (!isUtf8(payload)) {
            protocolFailure(InvalidPayload, "text message is not UTF-8");
            return false;
        }
        Q_EMIT textMessage(payload);
    } else {
        Q_EMIT binaryMessage(payload);
    }
    return !(deleted && *deleted) && m_state != State::Closed;
}

bool WebSocket::handleFrame(Opcode op, bool fin, char *payload, qsizetype size)
{
    const QByteArrayView data(payload, size);
    switch (op) {
    case Opcode::Text:
    case Opcode::Binary:
        if (m_fragmentOp != Opcode::Continuation) {
            protocolFailure(ProtocolError, "new message inside a fragmented one");
            return false;
        }
        if (m_state == State::Closing)
            return true; // data after our close frame is discarded
        if (fin)
            return emitMessage(op, data);
        m_fragmentOp = op;
        m_fragments = data.toByteArray();
        return true;
    case Opcode::Continuation: {
        if (m_fragmentOp == Opcode::Continuation) {
            protocolFailure(ProtocolError, "continuation frame without a message");
            return false;
        }
        m_fragments.append(data);
        if (!fin)
            return true;
        const Opcode whole = std::exchange(m_fragmentOp, Opcode::Continuation);
        const QByteArray message = std::exchange(m_fragments, QByteArray());
        return m_state == State::Closing || emitMessage(whole, message);
    }
    case Opcode::Ping:
        if (m_state == State::Open) {
            appendFrame(Opcode::Pong, data);
            flush();
        }
        return true;
    case Opcode::Pong:
        return true;
    case Opcode::Close: {
        if (size == 1) {
            protocolFailure(ProtocolError, "close frame with a one-byte body");
            return false;
        }
        quint16 code = NoStatus;
        if (size >= 2) {
            code = quint16((quint8(payload[0]) << 8) | quint8(payload[1]));
            if (!validCloseCode(code)) {
                protocolFailure(ProtocolError, "invalid close code");
                return false;
            }
            if (!isUtf8(data.sliced(2))) {
                protocolFailure(InvalidPayload, "close reason is not UTF-8");
                return false;
            }
        }
        m_closeCode = code;
        m_closeReason = size > 2 ? QString::fromUtf8(data.sliced(2)) : QString();
        if (!m_closeSent && m_state == State::Open) {
            QByteArray echo;
            if (code != NoStatus) {
                echo.resize(2);
                echo[0] = char(code >> 8);
                echo[1] = char(code);
            }
            appendFrame(Opcode::Close, echo);
            m_closeSent = true;
            flush();
        }
        finish();
        return false;
    }
    }
    return false;
}

void WebSocket::protocolFailure(quint16 code, const char *why)
{
    qCDebug(lcStream) << "WebSocket protocol failure:" << why;
    m_error = QString::fromLatin1(why);
    if (m_state == State::Open) {
        QByteArray payload(2, Qt::Uninitialized);
        payload[0] = char(code >> 8);
        payload[1] = char(code);
        payload += why;
        appendFrame(Opcode::Close, payload.left(125));
        m_closeSent = true;
        flush();
        if (m_fd >= 0) {
            ::shutdown(m_fd, SHUT_WR);
            // Unread bytes would turn the close into a reset that can destroy the close frame before the
            // peer reads it: discard what has arrived (bounded; a peer that keeps sending gets the reset).
            char *sink = scratch();
            for (int i = 0; i < 16 && ::recv(m_fd, sink, kScratchBytes, MSG_DONTWAIT) > 0; ++i) {
            }
        }
    }
    m_closeCode = code;
    m_closeReason = m_error;
    finish();
}

} // namespace vaani::ws
