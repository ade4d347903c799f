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
// - TLS (wss://, the OpenAI API): the same framing over a QSslSocket.
// websocket.cpp: framing, reading and writing, closing; websocket_connect.cpp: the client's connect and
// opening handshake; wshandshake.*: the HTTP side of the handshake shared with the server (StreamUpgrade).
// Checks: masking by role, reserved bits, opcodes, control-frame rules, fragment order, message size (1009,
// checked from the frame header before anything is buffered), UTF-8 of text (1007), close codes; pings are
// answered. Lives on one thread; moveToThread() is allowed before or after connecting (notifiers follow).

#include "epolldispatcher.h"
#include "wshandshake.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPair>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>

#include <memory>

class QSocketNotifier;
class QSslSocket;
class QHostInfo;

namespace vaani::ws {

enum CloseCode : quint16 {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    NoStatus = 1005,
    Abnormal = 1006,
    InvalidPayload = 1007,
    PolicyViolated = 1008,
    TooBig = 1009,
    InternalError = 1011,
};

// One frame header (RFC 6455 §5.2), decoded from the bytes at hand without reading past `avail`. Invalid:
// reserved bits, unknown opcode, masking against the role, fragmented or long control frames, a 64-bit length
// with its top bit set, a length not in its shortest form (`error` says which). `length` is the peer's claim
// (< 2^63); the caller compares it against its limits and what it holds, never adds to it. Ok as soon as the
// length is known: `headerBytes` (with the masking key) may still exceed `avail`.
struct FrameHeader
{
    bool fin = false;
    quint8 opcode = 0;
    bool masked = false;
    quint64 length = 0;
    qsizetype headerBytes = 0; // including the masking key
    const char *error = "";
};
enum class HeaderStatus { Incomplete, Ok, Invalid };
HeaderStatus decodeFrameHeader(const uchar *p, qsizetype avail, bool expectMasked, FrameHeader *h);

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

    void setMaxMessageBytes(qsizetype bytes) { m_maxMessage = bytes; }

    // Tests and fuzzers: an open connection without a descriptor (what it sends is kept, unsent) that is
    // given received bytes by feed(), exactly as if read from the socket. feed() returns false when a slot
    // deleted this object.
    void openForTesting(bool client);
    bool feed(QByteArrayView bytes);
    void setSslConfiguration(const QSslConfiguration &c) { m_ssl = c; } // before open()

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
    // A complete message. The view is valid only during the call; copy what you keep.
    void textMessage(QByteArrayView utf8);
    void binaryMessage(QByteArrayView data);
    // Emitted once: closed by either side, lost, or failed to connect (then errorString() says why).
    void disconnected();

protected:
    bool event(QEvent *e) override;

private:
    void epollEvent(quint32 events) override;
    void setWriteInterest(bool on);
    enum class Opcode : quint8 { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };
    void onLookedUp(const QHostInfo &info);
    void connectNext();
    void onConnectWritable();
    void onTransportOpen();
    void onReadable();
    void onWritable();
    qsizetype processInput(char *data, qsizetype size);                 // returns bytes consumed
    bool consumeInput(char *data, qsizetype size, const bool &deleted); // false when deleted
    bool readHandshake(QByteArrayView data, qsizetype *consumed);
    bool handleFrame(Opcode op, bool fin, char *payload, qsizetype size);
    void appendFrame(Opcode op, QByteArrayView payload);
    void protocolFailure(quint16 code, const char *why);
    void failConnect(const QString &why);
    void finish();
    void finishLater();
    void dropNotifiers();
    void watchFd();
    bool emitMessage(Opcode op, QByteArrayView payload); // false when this object was deleted

    State m_state = State::Idle;
    bool m_client = false;
    bool m_handshaking = false;
    int m_fd = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    EpollEventDispatcher *m_epoll = nullptr; // direct delivery on the server's worker threads
    bool m_wantWrite = false;
    QSslSocket *m_tls = nullptr;
    QSslConfiguration m_ssl = QSslConfiguration::defaultConfiguration();
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
    Opcode m_fragmentOp = Opcode::Continuation;
    qsizetype m_maxMessage = 1 << 20;
    bool m_closeSent = false;
    quint16 m_closeCode = Abnormal;
    QString m_closeReason;
    QString m_error;
    int m_httpStatus = 0;
    bool *m_deletedFlag = nullptr;
};

} // namespace vaani::ws
