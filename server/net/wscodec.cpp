#include "wscodec.h"

#include <cstring>

namespace vaani::ws {

namespace {
// XORs the 4-byte masking key over n bytes (§5.3), eight at a time: masking is most of a small frame's cost.
void applyMask(char *p, qsizetype n, const char *key)
{
    quint64 wide;
    char k8[8];
    std::memcpy(k8, key, 4);
    std::memcpy(k8 + 4, key, 4);
    std::memcpy(&wide, k8, 8);
    qsizetype i = 0;
    for (; i + 8 <= n; i += 8) {
        quint64 w;
        std::memcpy(&w, p + i, 8);
        w ^= wide;
        std::memcpy(p + i, &w, 8);
    }
    for (; i < n; ++i)
        p[i] = char(p[i] ^ key[i & 3]);
}
} // namespace

bool isValidCloseCode(quint16 c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);
}

bool Utf8Validator::feed(QByteArrayView bytes)
{
    if (m_bad)
        return false;
    const auto *p = reinterpret_cast<const uchar *>(bytes.data());
    const qsizetype n = bytes.size();
    qsizetype i = 0;
    while (i < n) {
        if (m_need == 0) {
            // The usual case is ASCII (JSON with base64 audio): eight bytes at a time.
            while (i + 8 <= n) {
                quint64 word;
                std::memcpy(&word, p + i, 8);
                if (word & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            if (i == n)
                break;
            const uchar c = p[i++];
            if (c < 0x80)
                continue;
            m_lo = 0x80;
            m_hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                m_need = 1;
            } else if (c >= 0xE0 && c <= 0xEF) {
                m_need = 2;
                if (c == 0xE0)
                    m_lo = 0xA0; // shorter forms are overlong
                else if (c == 0xED)
                    m_hi = 0x9F; // U+D800…U+DFFF are surrogates
            } else if (c >= 0xF0 && c <= 0xF4) {
                m_need = 3;
                if (c == 0xF0)
                    m_lo = 0x90; // overlong
                else if (c == 0xF4)
                    m_hi = 0x8F; // above U+10FFFF
            } else {
                m_bad = true; // a continuation byte without a lead, C0/C1 (overlong ASCII), F5–FF
                return false;
            }
            continue;
        }
        const uchar c = p[i++];
        if (c < m_lo || c > m_hi) {
            m_bad = true;
            return false;
        }
        m_lo = 0x80;
        m_hi = 0xBF;
        --m_need;
    }
    return true;
}

bool isValidUtf8(QByteArrayView bytes)
{
    Utf8Validator v;
    return v.feed(bytes) && v.complete();
}

HeaderStatus decodeFrameHeader(const uchar *p, qsizetype avail, bool expectMasked, FrameHeader *h)
{
    if (avail < 1)
        return HeaderStatus::Incomplete;
    h->fin = p[0] & 0x80;
    h->opcode = p[0] & 0x0F;
    if (p[0] & 0x70) {
        h->error = "reserved bits set without an extension";
        return HeaderStatus::Invalid;
    }
    const quint8 op = h->opcode;
    const bool control = op >= 8;
    if (!(op <= 2 || (op >= 8 && op <= 10))) {
        h->error = "unknown opcode";
        return HeaderStatus::Invalid;
    }
    if (control && !h->fin) {
        h->error = "fragmented control frame";
        return HeaderStatus::Invalid;
    }
    if (avail < 2)
        return HeaderStatus::Incomplete;
    h->masked = p[1] & 0x80;
    if (h->masked != expectMasked) {
        h->error = expectMasked ? "client frames must be masked" : "server frames must not be masked";
        return HeaderStatus::Invalid;
    }
    quint64 len = p[1] & 0x7F;
    if (control && len > 125) {
        h->error = "control frame longer than 125 bytes";
        return HeaderStatus::Invalid;
    }
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
        if (avail < 3)
            return HeaderStatus::Incomplete;
        if (p[2] & 0x80) {
            h->error = "64-bit length with the most significant bit set";
            return HeaderStatus::Invalid;
        }
        if (avail < 10)
            return HeaderStatus::Incomplete;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | p[2 + i];
        header = 10;
        if (len <= 0xFFFF) {
            h->error = "length not in its shortest form";
            return HeaderStatus::Invalid;
        }
    }
    if (h->masked)
        header += 4;
    h->length = len;
    h->headerBytes = header;
    return HeaderStatus::Ok;
}

Decoded FrameDecoder::fail(quint16 code, const char *why)
{
    m_errorCode = code;
    m_error = why;
    Decoded d;
    d.kind = Decoded::Kind::Error;
    d.closeCode = code;
    d.error = why;
    return d;
}

Decoded FrameDecoder::feed(char *data, qsizetype size)
{
    if (m_errorCode)
        return fail(m_errorCode, m_error);
    Decoded d;
    if (size <= 0)
        return d;
    if (m_closed)
        return fail(ProtocolError, "data after the close frame");
    const auto *p = reinterpret_cast<const uchar *>(data);
    FrameHeader h;
    const HeaderStatus status = decodeFrameHeader(p, size, m_expectMasked, &h);
    if (status == HeaderStatus::Invalid)
        return fail(ProtocolError, h.error);
    // The order rules need only the opcode, which a valid first byte already gave.
    const auto op = Opcode(p[0] & 0x0F);
    const bool control = quint8(op) >= 8;
    if (op == Opcode::Continuation && !inFragmentedMessage())
        return fail(ProtocolError, "continuation frame without a message");
    if ((op == Opcode::Text || op == Opcode::Binary) && inFragmentedMessage())
        return fail(ProtocolError, "new message inside a fragmented one");
    if (status == HeaderStatus::Incomplete)
        return d;
    // Lengths come from the peer (up to 2^63 - 1): compare, never add them to anything. m_messageBytes is at
    // most m_maxMessage, so the subtraction cannot wrap.
    if (!control && (h.length > m_maxMessage || m_messageBytes > m_maxMessage - h.length))
        return fail(TooBig, "message too big");
    if (size < h.headerBytes)
        return d; // the masking key is still on its way
    // size >= h.headerBytes here, so the subtraction cannot wrap.
    if (h.length > quint64(size - h.headerBytes))
        return d; // the payload is still on its way (at most the message limit is ever held)
    const auto len = qsizetype(h.length);
    char *payload = data + h.headerBytes;
    if (h.masked)
        applyMask(payload, len, payload - 4);
    d.kind = Decoded::Kind::Frame;
    d.consumed = h.headerBytes + len;
    d.opcode = op;
    d.fin = h.fin;
    d.payload = QByteArrayView(payload, len);

    switch (op) {
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Continuation: {
        const Opcode type = op == Opcode::Continuation ? m_messageType : op;
        if (type == Opcode::Text && !m_utf8.feed(d.payload))
            return fail(InvalidPayload, "text message is not UTF-8");
        if (h.fin && type == Opcode::Text && !m_utf8.complete())
            return fail(InvalidPayload, "text message ends inside a UTF-8 character");
        d.messageType = type;
        d.messageEnd = h.fin;
        if (h.fin) {
            m_messageType = Opcode::Continuation;
            m_messageBytes = 0;
            m_utf8.reset();
        } else {
            m_messageType = type;
            m_messageBytes += h.length;
        }
        return d;
    }
    case Opcode::Close: {
        if (len == 1)
            return fail(ProtocolError, "close frame with a one-byte body");
        d.closeCode = NoStatus;
        if (len >= 2) {
            d.closeCode = quint16((quint8(payload[0]) << 8) | quint8(payload[1]));
            if (!isValidCloseCode(d.closeCode))
                return fail(ProtocolError, "invalid close code");
            d.closeReason = d.payload.sliced(2);
            if (!isValidUtf8(d.closeReason))
                return fail(InvalidPayload, "close reason is not UTF-8");
        }
        m_closed = true;
        return d;
    }
    case Opcode::Ping:
    case Opcode::Pong:
        return d;
    }
    return fail(ProtocolError, "unknown opcode"); // not reached: the header decoder checked the opcode
}

void appendFrame(QByteArray &out, Opcode op, QByteArrayView payload, bool fin, const char *maskKey)
{
    const qsizetype n = payload.size();
    char header[14];
    qsizetype h = 0;
    header[h++] = char((fin ? 0x80 : 0) | quint8(op));
    const char maskBit = maskKey ? char(0x80) : char(0);
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
    if (!maskKey) {
        out.append(header, h);
        out.append(payload);
        return;
    }
    std::memcpy(header + h, maskKey, 4);
    h += 4;
    out.append(header, h);
    const qsizetype at = out.size();
    out.append(payload);
    applyMask(out.data() + at, n, maskKey);
}

QByteArray closePayload(quint16 code, QByteArrayView reason)
{
    if (code == NoStatus)
        return {};
    QByteArray body(2, Qt::Uninitialized);
    body[0] = char(code >> 8);
    body[1] = char(code);
    qsizetype n = std::min<qsizetype>(reason.size(), 123);
    // Never cut inside a character: step back over continuation bytes to the lead of the cut one.
    if (n < reason.size()) {
        while (n > 0 && (quint8(reason[n]) & 0xC0) == 0x80)
            --n;
    }
    body += reason.first(n);
    return body;
}

} // namespace vaani::ws
