// The pure parts of the audio path's WebSocket, from bytes: the frame codec (RFC 6455 §5 and §7, every rule,
// from byte fixtures fed at once and one byte at a time; exact-size buffers so a read past the end is caught
// under ASan), the encoder, the UTF-8 validator and the server's opening-handshake checks (§4.2.1). The
// connection class over real sockets is tst_websocket.
#include "wscodec.h"
#include "wshandshake.h"

#include <QRandomGenerator>
#include <QTest>

#include <vector>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {

// A frame as a peer would send it: `masked` with the fixed key 37 fa 21 3d (RFC 6455 §5.7's), lengths in
// their shortest form.
QByteArray frame(quint8 firstByte, QByteArrayView payload, bool masked)
{
    QByteArray out;
    const char key[4] = {char(0x37), char(0xfa), char(0x21), char(0x3d)};
    ws::appendFrame(out, ws::Opcode(firstByte & 0x0F), payload, firstByte & 0x80, masked ? key : nullptr);
    out[0] = char(firstByte); // reserved bits as given
    return out;
}
QByteArray c2s(quint8 firstByte, QByteArrayView payload)
{
    return frame(firstByte, payload, true);
}
QByteArray s2c(quint8 firstByte, QByteArrayView payload)
{
    return frame(firstByte, payload, false);
}

QString printable(QByteArrayView b)
{
    for (char c : b) {
        if (quint8(c) < 0x20 || quint8(c) >= 0x7f)
            return u"0x"_s + QString::fromLatin1(b.toByteArray().toHex());
    }
    return QString::fromLatin1(b);
}

QString token(const ws::Decoded &d)
{
    using ws::Opcode;
    switch (d.kind) {
    case ws::Decoded::Kind::Incomplete:
        return u"MORE"_s;
    case ws::Decoded::Kind::Error:
        return u"ERR%1"_s.arg(d.closeCode);
    case ws::Decoded::Kind::Frame:
        break;
    }
    switch (d.opcode) {
    case Opcode::Text:
    case Opcode::Binary:
    case Opcode::Continuation: {
        const QString kind = d.opcode == Opcode::Continuation ? u"C"_s
                             : d.opcode == Opcode::Text       ? u"T"_s
                                                              : u"B"_s;
        return kind + (d.messageEnd ? u"!"_s : QString()) + u"="_s + printable(d.payload);
    }
    case Opcode::Ping:
        return u"PING="_s + printable(d.payload);
    case Opcode::Pong:
        return u"PONG="_s + printable(d.payload);
    case Opcode::Close:
        return u"CLOSE%1"_s.arg(d.closeCode) +
               (d.closeReason.isEmpty() ? QString() : u":"_s + printable(d.closeReason));
    }
    return u"?"_s;
}

// Decodes `input` fed all at once; trailing bytes that make no frame yet give "MORE".
QString decodeAtOnce(ws::Role role, qsizetype max, const QByteArray &input)
{
    ws::FrameDecoder decoder(role, max);
    std::vector<char> buffer(input.begin(), input.end()); // exact size: ASan sees a read past the end
    QStringList out;
    qsizetype pos = 0;
    while (pos < qsizetype(buffer.size())) {
        const ws::Decoded d = decoder.feed(buffer.data() + pos, qsizetype(buffer.size()) - pos);
        out << token(d);
        if (!d.isFrame())
            break;
        pos += d.consumed;
    }
    return out.join(u' ');
}

// The same bytes arriving one at a time, as a slow socket delivers them: each call sees what has arrived and
// not been consumed (in an exact-size copy). Also records, for an error, how many bytes of the failing frame
// had arrived.
QString decodeBytewise(ws::Role role, qsizetype max, const QByteArray &input,
                       qsizetype *bytesAtError = nullptr)
{
    ws::FrameDecoder decoder(role, max);
    QStringList out;
    QByteArray pending;
    for (qsizetype i = 0; i < input.size(); ++i) {
        pending += input[i];
        for (;;) {
            std::vector<char> buffer(pending.begin(), pending.end());
            const ws::Decoded d = decoder.feed(buffer.data(), qsizetype(buffer.size()));
            if (d.kind == ws::Decoded::Kind::Incomplete)
                break;
            out << token(d);
            if (d.kind == ws::Decoded::Kind::Error) {
                if (bytesAtError)
                    *bytesAtError = pending.size();
                return out.join(u' ');
            }
            // Payload views point into `buffer`: tokens were taken above, so dropping it now is fine.
            pending.remove(0, d.consumed);
            if (pending.isEmpty())
                break;
        }
    }
    if (!pending.isEmpty())
        out << u"MORE"_s;
    return out.join(u' ');
}

} // namespace

class TestWsCodec : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void acceptKeyAndUpgradeChecks()
    {
        // RFC 6455 §1.3's example.
        QCOMPARE(ws::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        const QByteArray good =
            "GET /media-stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n";
        ws::HttpHead head;
        QVERIFY(ws::parseHead(good, &head));
        QByteArray response, why;
        int status = 0;
        QVERIFY(ws::acceptUpgrade(head, &response, &status, &why));
        QVERIFY(response.startsWith("HTTP/1.1 101 "));
        QVERIFY(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));

        struct Case
        {
            QByteArray from, to;
            int status;
        };
        const QList<Case> bad = {
            {"Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8", 426},
            {"Upgrade: websocket\r\n", "", 426},
            {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Key: c2hvcnQ=", 400},
            {"GET ", "POST ", 400},
        };
        for (const Case &c : bad) {
            QByteArray text = good;
            text.replace(c.from, c.to);
            QVERIFY(ws::parseHead(text, &head));
            QVERIFY2(!ws::acceptUpgrade(head, &response, &status, &why), c.to.constData());
            QCOMPARE(status, c.status);
        }
        QVERIFY(!ws::parseHead("GET / HTTP/1.1\r\n folded: x\r\n\r\n", &head));
        QVERIFY(!ws::parseHead("GET / HTTP/1.1\r\nno-colon\r\n\r\n", &head));
        QVERIFY(!ws::parseHead("GET / HTTP/1.1\r\nHost: x\r\n", &head)); // incomplete
    }

    void frameHeaderFromBytes_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("expectMasked");
        QTest::addColumn<int>("status"); // HeaderStatus
        QTest::addColumn<quint64>("length");
        QTest::addColumn<int>("headerBytes");
        QTest::addColumn<QString>("error");
        const int inc = int(ws::HeaderStatus::Incomplete), ok = int(ws::HeaderStatus::Ok),
                  bad = int(ws::HeaderStatus::Invalid);
        QTest::newRow("empty") << QByteArray() << true << inc << quint64(0) << 0 << QString();
        QTest::newRow("one byte") << QByteArray::fromHex("81") << true << inc << quint64(0) << 0 << QString();
        QTest::newRow("short masked")
            << QByteArray::fromHex("8185") << true << ok << quint64(5) << 6 << QString();
        QTest::newRow("short unmasked")
            << QByteArray::fromHex("8105") << false << ok << quint64(5) << 2 << QString();
        QTest::newRow("16-bit, length bytes missing")
            << QByteArray::fromHex("81fe00") << true << inc << quint64(0) << 0 << QString();
        QTest::newRow("16-bit") << QByteArray::fromHex("81fe0100") << true << ok << quint64(256) << 8
                                << QString();
        QTest::newRow("16-bit non-minimal")
            << QByteArray::fromHex("81fe007d") << true << bad << quint64(0) << 0 << u"shortest"_s;
        QTest::newRow("64-bit, length bytes missing")
            << QByteArray::fromHex("81ff00000000000100") << true << inc << quint64(0) << 0 << QString();
        QTest::newRow("64-bit") << QByteArray::fromHex("81ff0000000000010000") << true << ok << quint64(65536)
                                << 14 << QString();
        QTest::newRow("64-bit largest") << QByteArray::fromHex("827f7fffffffffffffff") << false << ok
                                        << quint64(0x7fffffffffffffffULL) << 10 << QString();
        QTest::newRow("64-bit top bit") << QByteArray::fromHex("81ff8000000000000000") << true << bad
                                        << quint64(0) << 0 << u"most significant"_s;
        QTest::newRow("64-bit all ones") << QByteArray::fromHex("81ffffffffffffffffff") << true << bad
                                         << quint64(0) << 0 << u"most significant"_s;
        QTest::newRow("64-bit non-minimal")
            << QByteArray::fromHex("81ff000000000000ffff") << true << bad << quint64(0) << 0 << u"shortest"_s;
        QTest::newRow("rsv1") << QByteArray::fromHex("c185") << true << bad << quint64(0) << 0
                              << u"reserved"_s;
        QTest::newRow("rsv3") << QByteArray::fromHex("9185") << true << bad << quint64(0) << 0
                              << u"reserved"_s;
        QTest::newRow("opcode 3") << QByteArray::fromHex("8385") << true << bad << quint64(0) << 0
                                  << u"opcode"_s;
        QTest::newRow("opcode 11") << QByteArray::fromHex("8b85") << true << bad << quint64(0) << 0
                                   << u"opcode"_s;
        QTest::newRow("unmasked to server")
            << QByteArray::fromHex("8105") << true << bad << quint64(0) << 0 << u"must be masked"_s;
        QTest::newRow("masked to client")
            << QByteArray::fromHex("8185") << false << bad << quint64(0) << 0 << u"must not be masked"_s;
        QTest::newRow("fragmented ping")
            << QByteArray::fromHex("0980") << true << bad << quint64(0) << 0 << u"control"_s;
        QTest::newRow("126-byte close")
            << QByteArray::fromHex("88fe007e") << true << bad << quint64(0) << 0 << u"control"_s;
        QTest::newRow("125-byte pong")
            << QByteArray::fromHex("8afd") << true << ok << quint64(125) << 6 << QString();
        QTest::newRow("continuation")
            << QByteArray::fromHex("0083") << true << ok << quint64(3) << 6 << QString();
    }

    void frameHeaderFromBytes()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, expectMasked);
        QFETCH(int, status);
        QFETCH(quint64, length);
        QFETCH(int, headerBytes);
        QFETCH(QString, error);
        // Decoded from a buffer exactly as long as the bytes (ASan would catch a read past it).
        std::vector<uchar> exact(bytes.begin(), bytes.end());
        ws::FrameHeader h;
        QCOMPARE(int(ws::decodeFrameHeader(exact.data(), qsizetype(exact.size()), expectMasked, &h)), status);
        if (status == int(ws::HeaderStatus::Ok)) {
            QCOMPARE(h.length, length);
            QCOMPARE(int(h.headerBytes), headerBytes);
            QCOMPARE(h.opcode, quint8(bytes[0] & 0x0F));
            QCOMPARE(h.fin, bool(bytes[0] & 0x80));
        }
        if (status == int(ws::HeaderStatus::Invalid))
            QVERIFY2(QString::fromLatin1(h.error).contains(error), h.error);
    }

    // Every receiver rule of RFC 6455 §5 and §7, as byte fixtures in both roles. Each row is decoded fed at
    // once and fed one byte at a time; both must give the expected trace (T/B/C = text, binary and
    // continuation frames, "!" = the frame completes its message; ERRnnnn = close the connection with that
    // code; MORE = bytes waiting for the rest of a frame).
    void decoderFixtures_data()
    {
        QTest::addColumn<bool>("client"); // the decoder is a client (server frames, unmasked)
        QTest::addColumn<int>("max");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("trace");
        const auto hex = [](const char *h) { return QByteArray::fromHex(h); };
        const int m = 1 << 20;
        const QByteArray hello = "Hello";
        const QByteArray namaste = "नमस्ते"; // 18 bytes of three-byte characters

        // RFC 6455 §5.7's examples.
        QTest::newRow("5.7 single unmasked text") << true << m << hex("810548656c6c6f") << u"T!=Hello"_s;
        QTest::newRow("5.7 single masked text")
            << false << m << hex("818537fa213d7f9f4d5158") << u"T!=Hello"_s;
        QTest::newRow("5.7 fragmented unmasked text")
            << true << m << hex("010348656c80026c6f") << u"T=Hel C!=lo"_s;
        QTest::newRow("5.7 unmasked ping") << true << m << hex("890548656c6c6f") << u"PING=Hello"_s;
        QTest::newRow("5.7 masked pong") << false << m << hex("8a8537fa213d7f9f4d5158") << u"PONG=Hello"_s;
        QTest::newRow("5.7 256-byte binary")
            << true << m << (hex("827e0100") + QByteArray(256, 'b')) << u"B!="_s + QString(256, u'b');
        QTest::newRow("5.7 64 KiB binary")
            << true << m << (hex("827f0000000000010000") + QByteArray(65536, 'x'))
            << u"B!="_s + QString(65536, u'x');
        QTest::newRow("empty text and binary")
            << false << m << (c2s(0x81, "") + c2s(0x82, "")) << u"T!= B!="_s;
        QTest::newRow("two frames, then a truncated tail")
            << false << m << (c2s(0x81, "one") + c2s(0x81, "two") + c2s(0x81, "three").left(7))
            << u"T!=one T!=two MORE"_s;
        QTest::newRow("truncated 16-bit length") << true << m << hex("817e01") << u"MORE"_s;
        QTest::newRow("truncated 64-bit length") << true << m << hex("827f00000000") << u"MORE"_s;
        QTest::newRow("truncated masking key") << false << m << hex("818537fa") << u"MORE"_s;

        // §5.1: masking by role.
        QTest::newRow("unmasked frame to a server") << false << m << s2c(0x81, hello) << u"ERR1002"_s;
        QTest::newRow("masked frame to a client") << true << m << c2s(0x81, hello) << u"ERR1002"_s;
        QTest::newRow("masked control frame to a client") << true << m << c2s(0x89, "") << u"ERR1002"_s;
        // §5.2: reserved bits and opcodes.
        for (quint8 rsv : {0x40, 0x20, 0x10})
            QTest::addRow("reserved bit %02x", rsv)
                << false << m << c2s(quint8(0x81 | rsv), hello) << u"ERR1002"_s;
        for (quint8 op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15})
            QTest::addRow("opcode %d", op) << false << m << c2s(quint8(0x80 | op), hello) << u"ERR1002"_s;
        // §5.2: lengths.
        QTest::newRow("16-bit length not minimal") << true << m << (hex("817e0005") + hello) << u"ERR1002"_s;
        QTest::newRow("64-bit length not minimal")
            << true << m << (hex("827f0000000000000100") + QByteArray(256, 'b')) << u"ERR1002"_s;
        QTest::newRow("64-bit length 2^63") << true << m << hex("827f8000000000000000") << u"ERR1002"_s;
        QTest::newRow("64-bit length all ones (ASan's overflow)")
            << false << m << hex("81ffffffffffffffffff12345678") << u"ERR1002"_s;
        QTest::newRow("64-bit length 2^63-1") << true << m << hex("827f7fffffffffffffff") << u"ERR1009"_s;
        // §5.5: control frames.
        QTest::newRow("fragmented ping") << false << m << c2s(0x09, "") << u"ERR1002"_s;
        QTest::newRow("fragmented close") << false << m << c2s(0x08, hex("03e8")) << u"ERR1002"_s;
        QTest::newRow("126-byte ping") << false << m << c2s(0x89, QByteArray(126, 'p')) << u"ERR1002"_s;
        QTest::newRow("125-byte ping")
            << false << m << c2s(0x89, QByteArray(125, 'p')) << u"PING="_s + QString(125, u'p');
        QTest::newRow("empty pong") << false << m << c2s(0x8a, "") << u"PONG="_s;
        // §5.4: fragmentation.
        QTest::newRow("continuation without a message") << false << m << c2s(0x80, "abc") << u"ERR1002"_s;
        QTest::newRow("non-final continuation without a message")
            << false << m << c2s(0x00, "abc") << u"ERR1002"_s;
        QTest::newRow("text inside a fragmented text")
            << false << m << (c2s(0x01, "a") + c2s(0x81, "b")) << u"T=a ERR1002"_s;
        QTest::newRow("binary inside a fragmented text")
            << false << m << (c2s(0x01, "a") + c2s(0x02, "b")) << u"T=a ERR1002"_s;
        QTest::newRow("control frames between fragments")
            << false << m
            << (c2s(0x01, "He") + c2s(0x89, "?") + c2s(0x00, "l") + c2s(0x8a, "") + c2s(0x80, "lo"))
            << u"T=He PING=? C=l PONG= C!=lo"_s;
        QTest::newRow("a message after a fragmented one")
            << false << m << (c2s(0x02, "ab") + c2s(0x80, "c") + c2s(0x81, "next")) << u"B=ab C!=c T!=next"_s;
        QTest::newRow("empty fragments")
            << false << m << (c2s(0x01, "") + c2s(0x00, "") + c2s(0x80, "")) << u"T= C= C!="_s;
        // Message size: the limit, checked from each header (tested for timing in errorsBeforeThePayload).
        QTest::newRow("message at the limit")
            << false << 16 << c2s(0x82, QByteArray(16, 'z')) << u"B!="_s + QString(16, u'z');
        QTest::newRow("message over the limit")
            << false << 16 << c2s(0x82, QByteArray(17, 'z')) << u"ERR1009"_s;
        QTest::newRow("fragments over the limit")
            << false << 16 << (c2s(0x01, QByteArray(10, 'a')) + c2s(0x80, QByteArray(7, 'b')))
            << u"T=aaaaaaaaaa ERR1009"_s;
        QTest::newRow("fragments at the limit, then a new message")
            << false << 16
            << (c2s(0x01, QByteArray(10, 'a')) + c2s(0x80, QByteArray(6, 'b')) +
                c2s(0x81, QByteArray(16, 'c')))
            << u"T=aaaaaaaaaa C!=bbbbbb T!="_s + QString(16, u'c');
        QTest::newRow("control frames do not count")
            << false << 4 << (c2s(0x01, "abcd") + c2s(0x89, "pingpong") + c2s(0x80, ""))
            << u"T=abcd PING=pingpong C!="_s;
        // §8.1: text is UTF-8, checked across fragments, failing at the first bad byte.
        QTest::newRow("UTF-8 text") << false << m << c2s(0x81, namaste)
                                    << u"T!=0x"_s + QString::fromLatin1(namaste.toHex());
        QTest::newRow("UTF-8 split inside a character")
            << false << m << (c2s(0x01, namaste.left(4)) + c2s(0x80, namaste.mid(4)))
            << u"T=0x"_s + QString::fromLatin1(namaste.left(4).toHex()) + u" C!=0x"_s +
                   QString::fromLatin1(namaste.mid(4).toHex());
        QTest::newRow("text ends inside a character")
            << false << m << c2s(0x81, namaste.left(4)) << u"ERR1007"_s;
        QTest::newRow("fragmented text ends inside a character")
            << false << m << (c2s(0x01, "ok") + c2s(0x80, hex("e0a4"))) << u"T=ok ERR1007"_s;
        QTest::newRow("bad UTF-8 fails its own fragment")
            << false << m << (c2s(0x01, hex("c0af")) + c2s(0x80, "never seen")) << u"ERR1007"_s;
        QTest::newRow("overlong two-byte /") << false << m << c2s(0x81, hex("c0af")) << u"ERR1007"_s;
        QTest::newRow("overlong three-byte /") << false << m << c2s(0x81, hex("e080af")) << u"ERR1007"_s;
        QTest::newRow("overlong four-byte /") << false << m << c2s(0x81, hex("f08080af")) << u"ERR1007"_s;
        QTest::newRow("surrogate U+D800") << false << m << c2s(0x81, hex("eda080")) << u"ERR1007"_s;
        QTest::newRow("surrogate U+DFFF") << false << m << c2s(0x81, hex("edbfbf")) << u"ERR1007"_s;
        QTest::newRow("above U+10FFFF") << false << m << c2s(0x81, hex("f4908080")) << u"ERR1007"_s;
        QTest::newRow("F5 lead byte") << false << m << c2s(0x81, hex("f5808080")) << u"ERR1007"_s;
        QTest::newRow("lone continuation byte") << false << m << c2s(0x81, hex("61806162")) << u"ERR1007"_s;
        QTest::newRow("largest code point") << true << m << s2c(0x81, hex("f48fbfbf")) << u"T!=0xf48fbfbf"_s;
        QTest::newRow("binary need not be UTF-8")
            << false << m << c2s(0x82, hex("c0afff")) << u"B!=0xc0afff"_s;
        // §5.5.1 and §7.4: close frames.
        QTest::newRow("close without a body") << false << m << c2s(0x88, "") << u"CLOSE1005"_s;
        QTest::newRow("close 1000 with a reason")
            << false << m << c2s(0x88, QByteArray(hex("03e8") + "bye")) << u"CLOSE1000:bye"_s;
        QTest::newRow("close with a UTF-8 reason")
            << true << m << s2c(0x88, QByteArray(hex("03e9") + namaste))
            << u"CLOSE1001:0x"_s + QString::fromLatin1(namaste.toHex());
        QTest::newRow("close with a one-byte body") << false << m << c2s(0x88, hex("03")) << u"ERR1002"_s;
        for (quint16 code : {0, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000, 65535}) {
            const QByteArray body = QByteArray(1, char(code >> 8)) + char(code & 0xff);
            QTest::addRow("close code %d is refused", code) << false << m << c2s(0x88, body) << u"ERR1002"_s;
        }
        for (quint16 code : {1000, 1003, 1007, 1011, 3000, 4999}) {
            const QByteArray body = QByteArray(1, char(code >> 8)) + char(code & 0xff);
            QTest::addRow("close code %d is accepted", code)
                << false << m << c2s(0x88, body) << u"CLOSE%1"_s.arg(code);
        }
        QTest::newRow("close reason not UTF-8") << false << m << c2s(0x88, hex("03e8c0af")) << u"ERR1007"_s;
        QTest::newRow("close in the middle of a fragmented message")
            << false << m << (c2s(0x01, "a") + c2s(0x88, hex("03e8"))) << u"T=a CLOSE1000"_s;
        QTest::newRow("frames after the close frame")
            << false << m << (c2s(0x88, hex("03e8")) + c2s(0x81, "late")) << u"CLOSE1000 ERR1002"_s;
    }

    void decoderFixtures()
    {
        QFETCH(bool, client);
        QFETCH(int, max);
        QFETCH(QByteArray, input);
        QFETCH(QString, trace);
        const ws::Role role = client ? ws::Role::Client : ws::Role::Server;
        QCOMPARE(decodeAtOnce(role, max, input), trace);
        QCOMPARE(decodeBytewise(role, max, input), trace);
    }

    // A receiver learns from a frame's header that it must fail, and does so before holding its payload: the
    // error comes with at most the header's bytes (and the masking key) at hand.
    void errorsBeforeThePayload_data()
    {
        QTest::addColumn<int>("max");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("headerBytes"); // of the failing frame that had arrived when it failed
        QTest::newRow("too big") << 1000 << c2s(0x82, QByteArray(1001, 'x')) << 4;
        QTest::newRow("too big, 64-bit") << 1000 << c2s(0x82, QByteArray(70000, 'x')) << 10;
        QTest::newRow("fragments too big")
            << 1000 << (c2s(0x02, QByteArray(600, 'x')) + c2s(0x80, QByteArray(401, 'y'))) << 4;
        QTest::newRow("unmasked") << 1000 << s2c(0x81, QByteArray(100, 'x')) << 2;
        QTest::newRow("reserved bit") << 1000 << c2s(0xc1, QByteArray(100, 'x')) << 1;
        QTest::newRow("unknown opcode") << 1000 << c2s(0x83, QByteArray(100, 'x')) << 1;
        QTest::newRow("fragmented ping") << 1000 << c2s(0x09, "x") << 1;
        QTest::newRow("continuation first") << 1000 << c2s(0x80, QByteArray(100, 'x')) << 1;
        QTest::newRow("message inside a message")
            << 1000 << (c2s(0x01, "a") + c2s(0x81, QByteArray(100, 'x'))) << 1;
        QTest::newRow("64-bit top bit") << 1000 << QByteArray::fromHex("82ff80") << 3;
    }

    void errorsBeforeThePayload()
    {
        QFETCH(int, max);
        QFETCH(QByteArray, input);
        QFETCH(int, headerBytes);
        qsizetype at = -1;
        const QString trace = decodeBytewise(ws::Role::Server, max, input, &at);
        QVERIFY2(trace.endsWith(u"ERR1002"_s) || trace.endsWith(u"ERR1009"_s), qPrintable(trace));
        QCOMPARE(int(at), headerBytes);
    }

    void errorsAreFinal()
    {
        ws::FrameDecoder decoder(ws::Role::Server);
        QByteArray bad = s2c(0x81, "unmasked");
        QCOMPARE(decoder.feed(bad.data(), bad.size()).closeCode, quint16(1002));
        QByteArray good = c2s(0x81, "masked");
        const ws::Decoded again = decoder.feed(good.data(), good.size());
        QCOMPARE(int(again.kind), int(ws::Decoded::Kind::Error));
        QCOMPARE(again.closeCode, quint16(1002));
        QCOMPARE(again.consumed, qsizetype(0));
    }

    void encoder()
    {
        // Lengths in their shortest form at each boundary.
        const QList<QPair<int, QByteArray>> heads = {{0, "8100"},
                                                     {125, "817d"},
                                                     {126, "817e007e"},
                                                     {65535, "817effff"},
                                                     {65536, "817f0000000000010000"}};
        for (const auto &[n, head] : heads) {
            QByteArray out;
            ws::appendFrame(out, ws::Opcode::Text, QByteArray(n, 'a'));
            QCOMPARE(out.left(head.size() / 2).toHex(), head);
            QCOMPARE(out.size(), head.size() / 2 + n);
        }
        // Masking: RFC 6455 §5.7's masked "Hello".
        QByteArray masked;
        const char key[4] = {char(0x37), char(0xfa), char(0x21), char(0x3d)};
        ws::appendFrame(masked, ws::Opcode::Text, "Hello", true, key);
        QCOMPARE(masked.toHex(), QByteArray("818537fa213d7f9f4d5158"));
        QByteArray fragment;
        ws::appendFrame(fragment, ws::Opcode::Text, "Hel", false);
        QCOMPARE(fragment.toHex(), QByteArray("010348656c"));

        // Round trip in both roles, every size class, random payloads and keys.
        QRandomGenerator rng(14);
        for (int n : {0, 1, 3, 4, 5, 125, 126, 1000, 65535, 65536, 100000}) {
            QByteArray payload(n, Qt::Uninitialized);
            for (char &c : payload)
                c = char(rng.bounded(256));
            for (bool client : {false, true}) {
                QByteArray wire;
                char k[4];
                for (char &c : k)
                    c = char(rng.bounded(256));
                ws::appendFrame(wire, ws::Opcode::Binary, payload, true, client ? k : nullptr);
                ws::FrameDecoder decoder(client ? ws::Role::Server : ws::Role::Client);
                const ws::Decoded d = decoder.feed(wire.data(), wire.size());
                QVERIFY(d.isFrame());
                QCOMPARE(d.consumed, wire.size());
                QCOMPARE(d.payload.toByteArray(), payload);
            }
        }

        // Close bodies: the code, and a reason cut to 123 bytes without splitting a character.
        QCOMPARE(ws::closePayload(1000, "bye").toHex(), QByteArray("03e8627965"));
        QCOMPARE(ws::closePayload(ws::NoStatus, "ignored"), QByteArray());
        const QByteArray longAscii(200, 'r');
        QCOMPARE(ws::closePayload(1011, longAscii).size(), 125);
        for (int offset = 0; offset < 3; ++offset) {
            const QByteArray reason = QByteArray(offset, 'x') + QString(60, u'न').toUtf8();
            const QByteArray body = ws::closePayload(1008, reason);
            QVERIFY(body.size() <= 125);
            QVERIFY(body.size() >= 123);
            QVERIFY(ws::isValidUtf8(body.sliced(2)));
            QVERIFY(reason.startsWith(body.sliced(2)));
        }
    }

    void utf8Validator_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("valid");
        const auto hex = [](const char *h) { return QByteArray::fromHex(h); };
        QTest::newRow("empty") << QByteArray() << true;
        QTest::newRow("ascii, long") << QByteArray(1000, 'a') << true;
        QTest::newRow("U+007F") << hex("7f") << true;
        QTest::newRow("U+0080") << hex("c280") << true;
        QTest::newRow("U+07FF") << hex("dfbf") << true;
        QTest::newRow("U+0800") << hex("e0a080") << true;
        QTest::newRow("U+D7FF") << hex("ed9fbf") << true;
        QTest::newRow("U+E000") << hex("ee8080") << true;
        QTest::newRow("U+FFFF") << hex("efbfbf") << true;
        QTest::newRow("U+10000") << hex("f0908080") << true;
        QTest::newRow("U+10FFFF") << hex("f48fbfbf") << true;
        QTest::newRow("Hinglish") << QByteArray("order ka status kya hai? मेरा ऑर्डर कहाँ है 🙏") << true;
        QTest::newRow("C0 80 (overlong NUL)") << hex("c080") << false;
        QTest::newRow("C1 BF (overlong)") << hex("c1bf") << false;
        QTest::newRow("E0 9F BF (overlong)") << hex("e09fbf") << false;
        QTest::newRow("F0 8F BF BF (overlong)") << hex("f08fbfbf") << false;
        QTest::newRow("ED A0 80 (surrogate)") << hex("eda080") << false;
        QTest::newRow("ED BF BF (surrogate)") << hex("edbfbf") << false;
        QTest::newRow("F4 90 80 80 (> U+10FFFF)") << hex("f4908080") << false;
        QTest::newRow("F8 (five-byte form)") << hex("f888808080") << false;
        QTest::newRow("FE") << hex("fe") << false;
        QTest::newRow("FF") << hex("ff") << false;
        QTest::newRow("continuation alone") << hex("bf") << false;
        QTest::newRow("lead then ASCII") << hex("c241") << false;
        QTest::newRow("truncated three-byte") << hex("e0a0") << false;
        QTest::newRow("truncated four-byte") << hex("f09080") << false;
        QTest::newRow("bad after 9 ASCII bytes") << (QByteArray(9, 'a') + hex("80")) << false;
    }

    void utf8Validator()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, valid);
        QCOMPARE(ws::isValidUtf8(bytes), valid);
        // Split at every point: the same answer (state carries across pieces).
        for (qsizetype cut = 0; cut <= bytes.size(); ++cut) {
            ws::Utf8Validator v;
            const bool ok = v.feed(bytes.first(cut)) && v.feed(bytes.sliced(cut)) && v.complete();
            QCOMPARE(ok, valid);
        }
        // And against Qt's decoder, which follows the same RFC 3629 rules.
        if (valid)
            QCOMPARE(QString::fromUtf8(bytes).toUtf8(), bytes);
    }
};

QTEST_GUILESS_MAIN(TestWsCodec)
#include "tst_wscodec.moc"
