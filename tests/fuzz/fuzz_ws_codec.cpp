// The pure WebSocket frame codec (server/net/wscodec.*): the input after its first byte is a byte stream from
// a peer; the first byte picks the decoder's role (bit 0) and the size of the pieces the stream arrives in
// (the other bits). Checks: no memory error (ASan, exact-size buffers), decoding in pieces gives exactly what
// decoding at once gives (frames, payloads, errors and codes), consumed bytes stay inside the input, every
// message within the size limit, every text message and close reason valid UTF-8 (Qt's decoder as the
// second opinion), and nothing after an error.
#include "fuzzsupport.h"
#include "wscodec.h"

#include <vector>

using namespace vaani;

namespace {
constexpr qsizetype kMaxMessage = 4096;

struct Step
{
    ws::Decoded::Kind kind;
    ws::Opcode opcode;
    bool fin;
    quint16 code;
    QByteArray payload;
    bool operator==(const Step &o) const
    {
        return kind == o.kind && opcode == o.opcode && fin == o.fin && code == o.code && payload == o.payload;
    }
};

// Checks what a decoder says about one frame and the message it belongs to.
class Checker
{
public:
    void frame(const ws::Decoded &d)
    {
        if (d.kind != ws::Decoded::Kind::Frame)
            return;
        VAANI_FUZZ_CHECK(!m_closed);
        switch (d.opcode) {
        case ws::Opcode::Text:
        case ws::Opcode::Binary:
        case ws::Opcode::Continuation:
            VAANI_FUZZ_CHECK(d.messageType == ws::Opcode::Text || d.messageType == ws::Opcode::Binary);
            m_message += d.payload.toByteArray();
            VAANI_FUZZ_CHECK(m_message.size() <= kMaxMessage);
            if (d.messageEnd) {
                if (d.messageType == ws::Opcode::Text)
                    VAANI_FUZZ_CHECK(fuzz::isUtf8(m_message));
                m_message.clear();
            }
            break;
        case ws::Opcode::Close:
            VAANI_FUZZ_CHECK(d.closeCode == ws::NoStatus || ws::isValidCloseCode(d.closeCode));
            VAANI_FUZZ_CHECK(fuzz::isUtf8(d.closeReason));
            m_closed = true;
            break;
        case ws::Opcode::Ping:
        case ws::Opcode::Pong:
            VAANI_FUZZ_CHECK(d.payload.size() <= 125);
            break;
        }
    }

private:
    QByteArray m_message;
    bool m_closed = false;
};

Step stepOf(const ws::Decoded &d)
{
    return {d.kind, d.opcode, d.fin, d.closeCode, d.payload.toByteArray()};
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initApp();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const ws::Role role = (data[0] & 1) ? ws::Role::Client : ws::Role::Server;
    const qsizetype piece = 1 + (data[0] >> 1);
    const std::vector<char> input(reinterpret_cast<const char *>(data) + 1,
                                  reinterpret_cast<const char *>(data) + size);

    // At once.
    std::vector<Step> whole;
    {
        ws::FrameDecoder decoder(role, kMaxMessage);
        Checker checker;
        std::vector<char> buffer = input;
        qsizetype pos = 0;
        while (pos < qsizetype(buffer.size())) {
            const qsizetype avail = qsizetype(buffer.size()) - pos;
            const ws::Decoded d = decoder.feed(buffer.data() + pos, avail);
            if (d.kind == ws::Decoded::Kind::Incomplete)
                break;
            whole.push_back(stepOf(d));
            if (d.kind == ws::Decoded::Kind::Error) {
                VAANI_FUZZ_CHECK(d.closeCode == ws::ProtocolError || d.closeCode == ws::InvalidPayload ||
                                 d.closeCode == ws::TooBig);
                break;
            }
            VAANI_FUZZ_CHECK(d.consumed > 0 && d.consumed <= avail);
            VAANI_FUZZ_CHECK(d.payload.data() >= buffer.data() + pos &&
                             d.payload.data() + d.payload.size() <= buffer.data() + pos + d.consumed);
            checker.frame(d);
            pos += d.consumed;
        }
    }

    // In pieces, each call seeing an exact-size copy of what has arrived and is not consumed yet.
    std::vector<Step> pieces;
    {
        ws::FrameDecoder decoder(role, kMaxMessage);
        QByteArray pending;
        bool stop = false;
        for (qsizetype at = 0; at < qsizetype(input.size()) && !stop; at += piece) {
            pending.append(input.data() + at, std::min(piece, qsizetype(input.size()) - at));
            while (!pending.isEmpty()) {
                std::vector<char> buffer(pending.begin(), pending.end());
                const ws::Decoded d = decoder.feed(buffer.data(), qsizetype(buffer.size()));
                if (d.kind == ws::Decoded::Kind::Incomplete)
                    break;
                pieces.push_back(stepOf(d));
                if (d.kind == ws::Decoded::Kind::Error) {
                    stop = true;
                    break;
                }
                pending.remove(0, d.consumed);
            }
        }
    }
    VAANI_FUZZ_CHECK(whole == pieces);
    return 0;
}
