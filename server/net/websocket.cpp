#include "websocket.h"

#include "epolldispatcher.h"
#include "logging.h"
#include "sendqueue.h"
#include "tlsstream.h"
#include "websocket_p.h"

#include <QCoreApplication>
#include <QEvent>
#include <QPointer>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QThread>

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

} // namespace

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
    m_tls.reset(); // before its descriptor goes
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
    setRole(false);
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
    if (m_tlsHandshaking) {
        continueTlsHandshake();
        return;
    }
    if (m_state == State::Connecting && !m_handshaking) {
        onConnectWritable();
        return;
    }
    if (m_tlsReadNeedsWrite) {
        // The read that waited for this runs on the next pass (it may end the connection, which a write
        // readiness handler must not do).
        m_tlsReadNeedsWrite = false;
        QMetaObject::invokeMethod(this, &WebSocket::onReadable, Qt::QueuedConnection);
    }
    flush();
}

WebSocket::Sent WebSocket::sendOut()
{
    if (!m_tls) {
        switch (net::sendPending(m_fd, m_out, &m_outPos)) {
        case net::SendStatus::AllSent:
            return Sent::All;
        case net::SendStatus::WouldBlock:
            return Sent::WaitWritable;
        case net::SendStatus::Failed:
            m_error = QString::fromLocal8Bit(std::strerror(errno));
            return Sent::Failed;
        }
    }
    m_tlsWriteNeedsRead = false;
    while (m_outPos < m_out.size()) {
        qsizetype n = 0;
        // After WantWrite/WantRead the same bytes are offered again (more may follow them): OpenSSL may
        // already hold their record.
        switch (m_tls->write(m_out.constData() + m_outPos, m_out.size() - m_outPos, &n)) {
        case net::TlsStream::Result::Done:
            m_outPos += n;
            continue;
        case net::TlsStream::Result::WantWrite:
            return Sent::WaitWritable;
        case net::TlsStream::Result::WantRead:
            m_tlsWriteNeedsRead = true;
            return Sent::WaitReadable;
        case net::TlsStream::Result::Closed:
            m_error = u"the peer ended the TLS session"_s;
            return Sent::Failed;
        case net::TlsStream::Result::Failed:
            m_error = m_tls->errorString();
            return Sent::Failed;
        }
    }
    return Sent::All;
}

void WebSocket::flush()
{
    if (m_fd < 0 || m_tlsHandshaking)
        return; // the opening handshake's request goes out once TLS is up
    const Sent sent = sendOut();
    switch (sent) {
    case Sent::All:
        break;
    case Sent::WaitWritable:
    case Sent::WaitReadable:
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
        // Waiting for readability needs no write interest (a writable socket would wake us in a loop).
        setWriteInterest(sent == Sent::WaitWritable || m_tlsReadNeedsWrite);
        return;
    case Sent::Failed:
        finishLater(); // never from inside a caller's send: report on the next pass of the event loop
        return;
    }
    if (m_out.capacity() > kKeepCapacityBytes)
        m_out = QByteArray(); // a burst is over: do not hold its high-water mark for the rest of the call
    else
        m_out.resize(0); // keeps the capacity for the next frame
    m_outPos = 0;
    setWriteInterest(m_tlsReadNeedsWrite);
}

void WebSocket::appendFrame(Opcode op, QByteArrayView payload)
{
    if (!m_client) {
        ws::appendFrame(m_out, op, payload);
        return;
    }
    const quint32 key = quint32(maskRng().generate());
    char k[4];
    std::memcpy(k, &key, 4);
    ws::appendFrame(m_out, op, payload, true, k);
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
    appendFrame(Opcode::Close, closePayload(code, reason));
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

void WebSocket::setRole(bool client)
{
    m_client = client;
    m_decoder = FrameDecoder(client ? Role::Client : Role::Server, m_maxMessage);
}

namespace {
// Keeps disposed sockets until their closing handshake ends; one per thread, deleted with what it still holds
// when the thread finishes (before its event dispatcher goes) or, on the main thread, by a post routine of
// the application object (also before the dispatcher goes).
QObject *mainThreadHolder = nullptr;

QObject *lingerHolder()
{
    thread_local QPointer<QObject> holder;
    if (holder)
        return holder;
    auto *h = new QObject;
    holder = h;
    QThread *thread = QThread::currentThread();
    if (QCoreApplication::instance() && thread == QCoreApplication::instance()->thread()) {
        mainThreadHolder = h;
        qAddPostRoutine([] {
            delete mainThreadHolder;
            mainThreadHolder = nullptr;
        });
    } else {
        QObject::connect(thread, &QThread::finished, h, &QObject::deleteLater);
    }
    return h;
}
} // namespace

void WebSocket::dispose(quint16 code, QByteArrayView reason)
{
    m_onText = nullptr;
    m_onBinary = nullptr;
    QObject::disconnect(this, nullptr, nullptr, nullptr);
    setParent(lingerHolder());
    if (m_state == State::Closed) {
        deleteLater();
        return;
    }
    connect(this, &WebSocket::disconnected, this, &QObject::deleteLater);
    if (m_state == State::Open)
        close(code, reason);
    else if (m_state != State::Closing)
        abort();
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
    if (m_tls) {
        m_tls->shutdown(); // close_notify, if the socket takes it now
        m_tls.reset();
    }
    m_tlsHandshaking = m_tlsReadNeedsWrite = m_tlsWriteNeedsRead = false;
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
    m_in.clear();
    m_out.clear();
    m_outPos = 0;
    m_fragments.clear();
    Q_EMIT disconnected();
}

void WebSocket::openForTesting(bool client)
{
    setRole(client);
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
        if (readTls(deleted))
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

bool WebSocket::readTls(const bool &deleted)
{
    if (m_tlsHandshaking) {
        continueTlsHandshake();
        return true;
    }
    m_tlsReadNeedsWrite = false;
    // Records (at most 16 KiB each) until the socket has no more; OpenSSL reads ahead, so bytes it holds
    // would not wake the dispatcher again: after the per-wakeup share, the rest is read on the next pass.
    for (int reads = 0; m_tls && m_state != State::Closed; ++reads) {
        if (reads == kMaxReadsPerWakeup * 4) {
            if (m_tls->hasBuffered())
                QMetaObject::invokeMethod(this, &WebSocket::onReadable, Qt::QueuedConnection);
            break;
        }
        char *buffer = scratch();
        qsizetype n = 0;
        switch (m_tls->read(buffer, kScratchBytes, &n)) {
        case net::TlsStream::Result::Done:
            if (!consumeInput(buffer, n, deleted))
                return false;
            continue;
        case net::TlsStream::Result::WantRead:
            break;
        case net::TlsStream::Result::WantWrite:
            m_tlsReadNeedsWrite = true;
            setWriteInterest(true);
            break;
        case net::TlsStream::Result::Closed:
            if (m_state == State::Connecting)
                m_error = u"connection closed during the handshake"_s;
            finish();
            return !deleted;
        case net::TlsStream::Result::Failed:
            m_error = m_tls->errorString();
            finish();
            return !deleted;
        }
        break;
    }
    if (m_tlsWriteNeedsRead && m_tls && m_state != State::Closed)
        flush(); // a write that waited for this read
    return true;
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
    while ((m_state == State::Open || m_state == State::Closing) && pos < size) {
        const Decoded frame = m_decoder.feed(data + pos, size - pos);
        if (frame.kind == Decoded::Kind::Incomplete)
            break;
        if (frame.kind == Decoded::Kind::Error) {
            protocolFailure(frame.closeCode, frame.error);
            break;
        }
        pos += frame.consumed;
        if (!handleFrame(frame))
            break;
    }
    return pos;
}

bool WebSocket::emitMessage(Opcode op, QByteArrayView payload)
{
    const MessageHandler &handler = op == Opcode::Text ? m_onText : m_onBinary;
    if (!handler)
        return true;
    bool *deleted = m_deletedFlag; // read before the call: the handler may delete this object
    handler(payload);
    return !(deleted && *deleted) && m_state != State::Closed;
}

void WebSocket::ping(QByteArrayView payload)
{
    if (m_state != State::Open)
        return;
    appendFrame(Opcode::Ping, payload.first(std::min<qsizetype>(payload.size(), 125)));
    flush();
}

bool WebSocket::handleFrame(const Decoded &frame)
{
    ++m_framesIn;
    switch (frame.opcode) {
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Continuation:
        if (m_state == State::Closing) {
            m_fragments.clear();
            return true; // data after our close frame is discarded (the codec still checks it)
        }
        if (frame.opcode != Opcode::Continuation && frame.messageEnd)
            return emitMessage(frame.messageType, frame.payload); // whole in one frame: no copy
        m_fragments.append(frame.payload);
        if (!frame.messageEnd)
            return true;
        return emitMessage(frame.messageType, std::exchange(m_fragments, QByteArray()));
    case Opcode::Ping:
        if (m_state == State::Open) {
            appendFrame(Opcode::Pong, frame.payload);
            flush();
        }
        return true;
    case Opcode::Pong:
        return true;
    case Opcode::Close:
        m_closeCode = frame.closeCode;
        m_closeReason = QString::fromUtf8(frame.closeReason);
        if (!m_closeSent && m_state == State::Open) {
            appendFrame(Opcode::Close, closePayload(frame.closeCode, {}));
            m_closeSent = true;
            flush();
        }
        finish();
        return false;
    }
    return false;
}

void WebSocket::protocolFailure(quint16 code, const char *why)
{
    qCDebug(lcStream) << "WebSocket protocol failure:" << why;
    m_error = QString::fromLatin1(why);
    if (m_state == State::Open) {
        appendFrame(Opcode::Close, closePayload(code, why));
        m_closeSent = true;
        flush();
        if (m_tls)
            m_tls->shutdown();
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
