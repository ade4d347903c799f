#pragma once
// The WebSocket frame codec (RFC 6455 §5 and §7), pure: bytes in, decisions out, no I/O, no Qt objects. The
// connection class (websocket.*) reads sockets and feeds what it read here; tests and fuzzers feed byte
// fixtures directly. Every rule a receiver must check lives here, so that one implementation enforces them
// for both roles:
// - frame header: reserved bits, known opcodes, masking by role (a client's frames are masked, a server's
//   are not), control frames final and at most 125 bytes, lengths in their shortest form and below 2^63;
// - messages: no continuation without a message, no new data message inside a fragmented one (control
//   frames may interleave), the message size limit checked from the header before the payload is held,
//   text valid UTF-8 across fragment boundaries (failing at the first invalid byte, §8.1);
// - close frames: no one-byte body, a code allowed on the wire (§7.4), a reason in UTF-8.
// Thread-safe in the sense of a value type: one decoder per connection, used from one thread.

#include <QByteArray>
#include <QByteArrayView>

namespace vaani::ws {

enum CloseCode : quint16 {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003,
    NoStatus = 1005, // never sent: a close frame without a code
    Abnormal = 1006, // never sent: the connection ended without a close frame
    InvalidPayload = 1007,
    PolicyViolated = 1008,
    TooBig = 1009,
    InternalError = 1011,
};

enum class Opcode : quint8 { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 };
enum class Role { Server, Client }; // the side that decodes (a server expects masked frames)

// A code a peer may put into a close frame (§7.4.1–2: 1000–1003, 1007–1011, 3000–4999).
bool isValidCloseCode(quint16 code);

// Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) over
// pieces split anywhere, even inside a character.
class Utf8Validator
{
public:
    // False from the first invalid byte on (and for every later call until reset()).
    bool feed(QByteArrayView bytes);
    // True when everything fed so far is valid and no character is left unfinished.
    bool complete() const { return !m_bad && m_need == 0; }
    void reset() { *this = Utf8Validator(); }

private:
    quint8 m_need = 0;               // continuation bytes still expected
    quint8 m_lo = 0x80, m_hi = 0xBF; // the range the next continuation byte must fall in
    bool m_bad = false;
};
bool isValidUtf8(QByteArrayView bytes);

// One frame header (§5.2), decoded from the bytes at hand without reading past `avail`. Invalid: reserved
// bits, unknown opcode, masking against the role, fragmented or long control frames, a 64-bit length with
// its top bit set, a length not in its shortest form (`error` says which). Errors are found as early as
// the bytes allow (a bad first byte fails with one byte at hand). `length` is the peer's claim (< 2^63);
// compare it, never add to it. Ok as soon as the length is known: `headerBytes` (with the masking key) may
// still exceed `avail`.
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

// What FrameDecoder::feed found at the front of the bytes it was given.
struct Decoded
{
    enum class Kind { Incomplete, Frame, Error };
    Kind kind = Kind::Incomplete;
    qsizetype consumed = 0; // Frame: the bytes the frame took (header, key and payload)
    Opcode opcode = Opcode::Continuation;
    bool fin = false;
    // Data frames: the message's type (a continuation carries its first frame's) and whether this frame
    // completes it.
    Opcode messageType = Opcode::Continuation;
    bool messageEnd = false;
    QByteArrayView payload; // unmasked, inside the fed bytes: valid while they are
    // Error: the code to close the connection with (1002, 1007, 1009). Close frame: the peer's code
    // (NoStatus when it sent none) and its reason (checked UTF-8).
    quint16 closeCode = 0;
    QByteArrayView closeReason;
    const char *error = ""; // Error: which rule was broken

    bool isFrame() const { return kind == Kind::Frame; }
};

// Decodes one connection's incoming frames. feed() looks at the front of `data`: Incomplete (nothing
// consumed; call again with the same bytes and more), Frame (the first `consumed` bytes, payload unmasked in
// place), or Error (the connection must close with `closeCode`; every later call repeats the error). Errors
// that the header shows (size, order, masking) are reported before the payload has arrived, so a receiver
// never holds more than one header plus the message limit. After a Close frame nothing more is accepted.
class FrameDecoder
{
public:
    explicit FrameDecoder(Role role, qsizetype maxMessageBytes = 1 << 20)
        : m_expectMasked(role == Role::Server)
        , m_maxMessage(quint64(maxMessageBytes))
    {}
    void setMaxMessageBytes(qsizetype bytes) { m_maxMessage = quint64(bytes); }
    Decoded feed(char *data, qsizetype size);
    bool inFragmentedMessage() const { return m_messageType != Opcode::Continuation; }

private:
    Decoded fail(quint16 code, const char *why);

    bool m_expectMasked;
    quint64 m_maxMessage;
    Opcode m_messageType = Opcode::Continuation; // of a fragmented message under way
    quint64 m_messageBytes = 0;                  // its bytes so far (≤ m_maxMessage)
    Utf8Validator m_utf8;                        // its text so far
    bool m_closed = false;                       // a close frame was decoded
    quint16 m_errorCode = 0;
    const char *m_error = "";
};

// The encoder: appends one frame to `out`. `maskKey`: a client's masking key (§5.3; unpredictable, a new one
// per frame), nullptr for a server's unmasked frames.
void appendFrame(QByteArray &out, Opcode op, QByteArrayView payload, bool fin = true,
                 const char *maskKey = nullptr);
// A close frame's body: the code, then the reason cut to fit a control frame (123 bytes) at a character
// boundary. NoStatus gives an empty body.
QByteArray closePayload(quint16 code, QByteArrayView reason);

} // namespace vaani::ws
