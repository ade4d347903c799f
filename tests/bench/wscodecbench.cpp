// vaani-wscodec-bench: the audio path's WebSocket receive side, in isolation (not a test; figures in
// docs/performance.md). Two streams as they arrive from the network, read in 64 KiB pieces like the
// connection's reads:
//   twilio  — Media Streams `media` messages as Twilio sends them to our server (masked text, ~300 bytes);
//   openai  — Realtime `response.output_audio.delta` events as the API sends them to our client (unmasked
//             text, ~4.3 KiB: 100 ms of audio).
// For each: ws::FrameDecoder (the codec alone, messages as views) and ws::WebSocket::feed (the connection,
// with its copy, fragments and callbacks); built with -DVAANI_WSLAY_ROOT=<dir> (scripts/bench-wslay fetches
// Debian's libwslay-dev into a temporary directory), also wslay's event API under the same reads.
#include "websocket.h"
#include "wscodec.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>

#include <cstdio>
#include <cstring>
#include <vector>

#ifdef VAANI_WITH_WSLAY
#include <wslay/wslay.h>
#endif

using namespace vaani;

namespace {
constexpr qsizetype kRead = 64 * 1024;

QByteArray stream(bool masked, qsizetype payloadBytes, int messages)
{
    QByteArray out;
    QRandomGenerator rng(6455);
    for (int i = 0; i < messages; ++i) {
        QByteArray audio(payloadBytes * 3 / 4, Qt::Uninitialized);
        for (char &c : audio)
            c = char(rng.bounded(256));
        QByteArray text;
        if (masked) {
            text = "{\"event\":\"media\",\"sequenceNumber\":\"" + QByteArray::number(i) +
                   "\",\"media\":{\"track\":\"inbound\",\"chunk\":\"" + QByteArray::number(i) +
                   "\",\"timestamp\":\"" + QByteArray::number(i * 20) + "\",\"payload\":\"" +
                   audio.toBase64() + "\"},\"streamSid\":\"MZ00000000000000000000000000000000\"}";
        } else {
            text = "{\"type\":\"response.output_audio.delta\",\"event_id\":\"event_" + QByteArray::number(i) +
                   "\",\"response_id\":\"resp_1\",\"item_id\":\"item_1\",\"output_index\":0,"
                   "\"content_index\":0,\"delta\":\"" +
                   audio.toBase64() + "\"}";
        }
        char key[4];
        const quint32 k = rng.generate();
        std::memcpy(key, &k, 4);
        ws::appendFrame(out, ws::Opcode::Text, text, true, masked ? key : nullptr);
    }
    return out;
}

struct Result
{
    double nsPerMessage;
    double mbPerSecond;
    qint64 bytesSeen;
};

// Feeds `input` to `consume(data, size) -> bytes consumed` in reads of kRead, carrying the tail like the
// connection does; `rounds` times.
template<typename Consume> Result run(const QByteArray &input, int messages, int rounds, Consume consume)
{
    std::vector<char> scratch(kRead);
    QByteArray carry;
    QElapsedTimer t;
    t.start();
    for (int r = 0; r < rounds; ++r) {
        for (qsizetype at = 0; at < input.size(); at += kRead) {
            const qsizetype n = std::min(kRead, input.size() - at);
            std::memcpy(scratch.data(), input.constData() + at, size_t(n)); // the socket's read
            if (carry.isEmpty()) {
                const qsizetype used = consume(scratch.data(), n);
                carry = QByteArray(scratch.data() + used, n - used);
            } else {
                carry.append(scratch.data(), n);
                const qsizetype used = consume(carry.data(), carry.size());
                carry.remove(0, used);
            }
        }
    }
    const double ns = double(t.nsecsElapsed());
    return {ns / (double(messages) * rounds), double(input.size()) * rounds / (ns / 1e9) / 1e6, 0};
}

Result codec(const QByteArray &input, bool server, int messages, int rounds, qint64 *seen)
{
    ws::FrameDecoder decoder(server ? ws::Role::Server : ws::Role::Client, 1 << 20);
    return run(input, messages, rounds, [&](char *data, qsizetype size) {
        qsizetype pos = 0;
        for (;;) {
            const ws::Decoded d = decoder.feed(data + pos, size - pos);
            if (!d.isFrame())
                return pos;
            *seen += d.payload.size();
            pos += d.consumed;
        }
    });
}

Result connection(const QByteArray &input, bool server, int messages, int rounds, qint64 *seen)
{
    ws::WebSocket socket;
    socket.openForTesting(!server);
    socket.setTextHandler([seen](QByteArrayView text) { *seen += text.size(); });
    return run(input, messages, rounds, [&](char *data, qsizetype size) {
        socket.feed(QByteArrayView(data, size)); // the connection keeps its own tail
        return size;
    });
}

#ifdef VAANI_WITH_WSLAY
struct WslayFeed
{
    const char *data = nullptr;
    qsizetype size = 0;
    qsizetype pos = 0;
    qint64 *seen = nullptr;
};

Result wslay(const QByteArray &input, bool server, int messages, int rounds, qint64 *seen)
{
    WslayFeed feed;
    feed.seen = seen;
    wslay_event_callbacks callbacks{};
    callbacks.recv_callback = [](wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int,
                                 void *user) -> ssize_t {
        auto *f = static_cast<WslayFeed *>(user);
        const qsizetype n = std::min<qsizetype>(qsizetype(len), f->size - f->pos);
        if (n == 0) {
            wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
            return -1;
        }
        std::memcpy(buf, f->data + f->pos, size_t(n));
        f->pos += n;
        return n;
    };
    callbacks.send_callback = [](wslay_event_context_ptr, const uint8_t *, size_t len, int,
                                 void *) -> ssize_t { return ssize_t(len); };
    callbacks.genmask_callback = [](wslay_event_context_ptr, uint8_t *buf, size_t len, void *) {
        std::memset(buf, 0x5a, len);
        return 0;
    };
    callbacks.on_msg_recv_callback = [](wslay_event_context_ptr, const wslay_event_on_msg_recv_arg *arg,
                                        void *user) {
        *static_cast<WslayFeed *>(user)->seen += qint64(arg->msg_length);
    };
    wslay_event_context_ptr ctx = nullptr;
    if (server)
        wslay_event_context_server_init(&ctx, &callbacks, &feed);
    else
        wslay_event_context_client_init(&ctx, &callbacks, &feed);
    wslay_event_config_set_max_recv_msg_length(ctx, 1 << 20);
    const Result r = run(input, messages, rounds, [&](char *data, qsizetype size) {
        feed.data = data;
        feed.size = size;
        feed.pos = 0;
        wslay_event_recv(ctx); // wslay keeps its own tail
        return size;
    });
    wslay_event_context_free(ctx);
    return r;
}
#endif

void report(const char *stream, const char *impl, const Result &r, qint64 seen, qint64 expected)
{
    std::printf("%-7s %-22s %8.1f ns/message %8.0f MB/s%s\n", stream, impl, r.nsPerMessage, r.mbPerSecond,
                seen == expected ? "" : "  (MESSAGES LOST)");
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int rounds = argc > 1 ? std::max(1, atoi(argv[1])) : 200;
    struct Stream
    {
        const char *name;
        bool server;
        qsizetype audioBase64;
        int messages;
    };
    for (const Stream &s : {Stream{"twilio", true, 216, 5000}, Stream{"openai", false, 4268, 1000}}) {
        const QByteArray input = stream(s.server, s.audioBase64, s.messages);
        // The expected payload bytes: every message once per round.
        qint64 expected = 0;
        {
            ws::FrameDecoder d(s.server ? ws::Role::Server : ws::Role::Client, 1 << 20);
            QByteArray copy = input;
            for (qsizetype pos = 0; pos < copy.size();) {
                const ws::Decoded f = d.feed(copy.data() + pos, copy.size() - pos);
                expected += f.payload.size();
                pos += f.consumed;
            }
        }
        expected *= rounds;
        for (int pass = 0; pass < 2; ++pass) { // the first pass warms caches and the allocator
            qint64 seen = 0;
            const Result a = codec(input, s.server, s.messages, rounds, &seen);
            if (pass)
                report(s.name, "vaani FrameDecoder", a, seen, expected);
            seen = 0;
            const Result b = connection(input, s.server, s.messages, rounds, &seen);
            if (pass)
                report(s.name, "vaani WebSocket::feed", b, seen, expected);
#ifdef VAANI_WITH_WSLAY
            seen = 0;
            const Result c = wslay(input, s.server, s.messages, rounds, &seen);
            if (pass)
                report(s.name, "wslay event API", c, seen, expected);
#endif
        }
    }
    return 0;
}
