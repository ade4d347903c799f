#pragma once
// The WebSocket connections of a call's audio path (RFC 6455): Twilio's Media Stream (server side) and the
// OpenAI Realtime API (client side). Each call moves ~220 small messages a second; QWebSocket costs, per
// message, a UTF-8 → QString → UTF-8 round trip, a buffered QTcpSocket write that arms and disarms a write
// notifier (two epoll_ctl calls and an extra wake-up), an FIONREAD ioctl per read and several signal hops
// (docs/performance.md). This class keeps the protocol and drops that overhead:
// - plain TCP (ws://, and the server side behind the TLS-terminating proxy): the non-blocking descriptor is
//   written directly (a write notifier only while the kernel buffer is full) and read into a per-thread
//   scratch buffer, so an idle connection holds no buffers; frames are unmasked in place and handed out as
//   views, without copies;
// - TLS (wss://, the OpenAI API): the same, with OpenSSL driven directly on the descriptor (tlsstream.*):
//   what the plain path sends is given to SSL_write, records are read into the same scratch buffer.
// websocket.cpp: framing, reading and writing, closing; websocket_connect.cpp: the client's connect and
// opening handshake; wshandshake.*: the HTTP side of the handshake shared with the server (StreamUpgrade).
// The protocol's rules (masking by role, reserved bits, opcodes, control frames, fragment order, message size
// checked from the header before anything is buffered, UTF-8 across fragments, close codes) are the pure
// codec's (wscodec.*); this class adds the I/O: reading, assembling fragments, answering pings, the closing
// handshake with its grace period. Lives on one thread; moveToThread() is allowed before or after connecting
// (notifiers follow). Ownership: the owner creates it and gives it up with dispose().

#include "epolldispatcher.h"
#include "wscodec.h"
#include "wshandshake.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>

class QSocketNotifier;
class QHostInfo;

namespace vaani::net {
class TlsClientContext;
class TlsStream;
} // namespace vaani::net

namespace vaani::ws {

class WebSocket : public QObject, private EpollHandler
{
    Q_OBJECT
public:
    enum class State { Idle, Connecting, Open, Closing, Closed };

    explicit WebSocket(QObject *parent = nullptr);
    ~WebSocket() override;

    // Server side: an accepted non-blocking descriptor whose upgrade has been answered with 101. Takes
    // ownership of the descriptor. `alreadyRead`: bytes the client sent after its request that the HTTP side
    // read (frames); they are processed on the next pass of the event loop, after the owner has connected.
    void adoptServerSide(int fd, const QByteArray &alreadyRead = {});
    // Client side: ws:// or wss://. Emits connected() after a valid 101, or disconnected() with
    // errorString()/httpStatus() on failure.
    void open(const QUrl &url, const QList<QPair<QByteArray, QByteArray>> &headers);

    void setMaxMessageBytes(qsizetype bytes)
    {
        m_maxMessage = bytes;
        m_decoder.setMaxMessageBytes(bytes);
    }
    // Complete messages are handed to these callbacks inside the read that completed them: the view points
    // into the connection's read buffer and is valid only during the call (copy what you keep). Callbacks,
    // not signals, so that no one can queue a view past the buffer's reuse. A callback may delete this
    // object. Unset: such messages are ignored.
    using MessageHandler = std::function<void(QByteArrayView)>;
    void setTextHandler(MessageHandler handler) { m_onText = std::move(handler); }
    void setBinaryHandler(MessageHandler handler) { m_onBinary = std::move(handler); }

    // Tests and fuzzers: an open connection without a descriptor (what it sends is kept, unsent) that is
    // given received bytes by feed(), exactly as if read from the socket. feed() returns false when a slot
    // deleted this object.
    void openForTesting(bool client);
    bool feed(QByteArrayView bytes);
    // wss://: certificates (PEM) trusted besides the system's, e.g. a private CA in front of the model.
    // Before open().
    void setExtraCaCertificates(const QByteArray &pem) { m_extraCaPem = pem; }

    // Messages are written at once when the kernel accepts them. queueText() collects frames that belong
    // together (a media frame and its mark) for one write; flush() sends them.
    void sendText(QByteArrayView utf8)
    {
        queueText(utf8);
        flush();
    }
    void queueText(QByteArrayView utf8);
    void flush();
    void close(quint16 code, QByteArrayView reason);
    void abort();
    // A ping (payload at most 125 bytes); the peer's pong counts in framesReceived() like any frame.
    void ping(QByteArrayView payload = {});
    // Frames received so far, of any kind: a connection whose count stops moving while pings go out is dead.
    quint64 framesReceived() const { return m_framesIn; }
    // The owner is done with this socket; call instead of deleting it. Callbacks and signal connections are
    // dropped at once; an open socket is closed with `code`; the closing handshake then runs to its end
    // without the owner (the peer's close frame, or the grace period) and the socket deletes itself. Until
    // then it is kept by a per-thread holder that deletes what is left when the thread finishes (or, on the
    // main thread, when the application object is destroyed).
    void dispose(quint16 code = GoingAway, QByteArrayView reason = "going away");

    State state() const { return m_state; }
    bool isOpen() const { return m_state == State::Open; }
    quint16 closeCode() const { return m_closeCode; }
    QString closeReason() const { return m_closeReason; }
    QString errorString() const { return m_error; }
    int httpStatus() const { return m_httpStatus; } // the server's answer when it refused the upgrade
    // Memory the connection's buffers hold now (bounded by the message size and the 4 MiB send backlog).
    qsizetype bufferedBytes() const { return m_in.capacity() + m_out.capacity() + m_fragments.capacity(); }
    qsizetype queuedBytes() const { return m_out.size() - m_outPos; } // written, not yet taken by the kernel

Q_SIGNALS:
    void connected();
    // Emitted once: closed by either side, lost, or failed to connect (then errorString() says why).
    void disconnected();

protected:
    bool event(QEvent *e) override;

private:
    void epollEvent(quint32 events) override;
    void setWriteInterest(bool on);
    void onLookedUp(const QHostInfo &info);
    void connectNext();
    void onConnectWritable();
    void onTransportOpen();
    void continueTlsHandshake();
    enum class Sent { All, WaitWritable, WaitReadable, Failed };
    Sent sendOut(); // m_out to the socket (through TLS for wss://); sets m_error when it fails
    bool readTls(const bool &deleted); // false when deleted
    void onReadable();
    void onWritable();
    qsizetype processInput(char *data, qsizetype size);                 // returns bytes consumed
    bool consumeInput(char *data, qsizetype size, const bool &deleted); // false when deleted
    bool readHandshake(QByteArrayView data, qsizetype *consumed);
    bool handleFrame(const Decoded &frame);
    void appendFrame(Opcode op, QByteArrayView payload);
    void setRole(bool client);
    void protocolFailure(quint16 code, const char *why);
    void failConnect(const QString &why);
    void finish();
    void finishLater();
    void dropNotifiers();
    void watchFd();
    bool emitMessage(Opcode op, QByteArrayView payload); // false when this object was deleted

    State m_state = State::Idle;
    quint64 m_framesIn = 0;
    bool m_client = false;
    bool m_handshaking = false;
    int m_fd = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    EpollEventDispatcher *m_epoll = nullptr; // direct delivery on the server's worker threads
    bool m_wantWrite = false;
    std::shared_ptr<net::TlsClientContext> m_tlsContext; // wss://
    std::unique_ptr<net::TlsStream> m_tls;               // once the TCP connection is up
    bool m_tlsHandshaking = false;
    bool m_tlsReadNeedsWrite = false; // a read waits for the socket to be writable (a key update's answer)
    bool m_tlsWriteNeedsRead = false; // a write waits for the socket to be readable
    QByteArray m_extraCaPem;
    QTimer *m_closeTimer = nullptr;
    QUrl m_url;
    QList<QPair<QByteArray, QByteArray>> m_requestHeaders;
    QByteArray m_key;
    QList<QHostAddress> m_addresses; // resolved, tried in order
    int m_port = 0;

    QByteArray m_in;  // bytes of an incomplete frame (or handshake) carried to the next read
    QByteArray m_out; // bytes the kernel has not taken yet
    qsizetype m_outPos = 0;
    QByteArray m_fragments; // a fragmented message being assembled
    qsizetype m_maxMessage = 1 << 20;
    FrameDecoder m_decoder{Role::Server, m_maxMessage};
    MessageHandler m_onText;
    MessageHandler m_onBinary;
    bool m_closeSent = false;
    quint16 m_closeCode = Abnormal;
    QString m_closeReason;
    QString m_error;
    int m_httpStatus = 0;
    bool *m_deletedFlag = nullptr;
};

} // namespace vaani::ws
