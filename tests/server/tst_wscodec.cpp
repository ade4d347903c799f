// The pure parts of the audio path's WebSocket, from bytes: the frame-header decoder (RFC 6455 §5.2, every
// rule, exact-size buffers so a read past the end is caught under ASan) and the server's opening-handshake
// checks (§4.2.1). The connection class over real sockets is tst_websocket.
#include "websocket.h"
#include "wshandshake.h"

#include <QTest>

#include <vector>

using namespace vaani;
using namespace Qt::StringLiterals;

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
};

QTEST_GUILESS_MAIN(TestWsCodec)
#include "tst_wscodec.moc"
