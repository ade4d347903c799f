// The audio path's WebSocket (server/websocket.*) against independent peers over loopback: Qt's
// QWebSocketServer for the client side (TLS: tst_websocket_tls), and hand-written frames from a raw TCP
// client for the server side's protocol checks. The pure frame-header decoder and handshake checks are
// tst_wscodec.
#include "epolldispatcher.h"
#include "websocket.h"

#include <QMutex>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QWebSocket>
#include <QWebSocketServer>

#include <atomic>
#include <memory>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {

// Hands each accepted descriptor to a server-side ws::WebSocket (the handshake is StreamUpgrade's and is
// covered by tst_twilioedge; here frames start at once).
class RawWsServer : public QTcpServer
{
public:
    std::unique_ptr<ws::WebSocket> socket;
    QList<QByteArray> texts;

protected:
    void incomingConnection(qintptr fd) override
    {
        socket = std::make_unique<ws::WebSocket>();
        socket->adoptServerSide(int(fd));
        socket->setTextHandler([this](QByteArrayView t) { texts << t.toByteArray(); });
    }
};

QByteArray clientFrame(quint8 firstByte, QByteArrayView payload, bool mask = true, quint64 claimedLength = 0)
{
    QByteArray f;
    f += char(firstByte);
    const quint64 n = claimedLength ? claimedLength : quint64(payload.size());
    const char m = mask ? char(0x80) : char(0);
    if (n < 126) {
        f += char(m | char(n));
    } else if (n <= 0xFFFF) {
        f += char(m | 126);
        f += char(n >> 8);
        f += char(n);
    } else {
        f += char(m | 127);
        for (int i = 7; i >= 0; --i)
            f += char(n >> (8 * i));
    }
    const char key[4] = {0x12, 0x34, 0x56, 0x78};
    if (mask)
        f.append(key, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f += mask ? char(payload[i] ^ key[i & 3]) : payload[i];
    return f;
}

// Reads one unmasked server frame from a raw client: opcode and payload.
bool readServerFrame(QTcpSocket &s, QByteArray &buffer, int *opcode, QByteArray *payload)
{
    for (int rounds = 0; rounds < 200; ++rounds) {
        if (buffer.size() >= 2) {
            const auto *p = reinterpret_cast<const uchar *>(buffer.constData());
            qsizetype len = p[1] & 0x7F, header = 2;
            if (len == 126 && buffer.size() >= 4) {
                len = (p[2] << 8) | p[3];
                header = 4;
            }
            if (len < 126 && buffer.size() >= header + len) {
                *opcode = p[0] & 0x0F;
                *payload = buffer.mid(header, len);
                buffer.remove(0, header + len);
                return true;
            }
        }
        if (!QTest::qWaitFor(
                [&] { return s.bytesAvailable() > 0 || s.state() != QAbstractSocket::ConnectedState; }, 50))
            continue;
        buffer += s.readAll();
        if (s.state() != QAbstractSocket::ConnectedState && s.bytesAvailable() == 0 && buffer.size() < 2)
            return false;
    }
    return false;
}

quint16 closeCodeOf(const QByteArray &payload)
{
    return payload.size() >= 2 ? quint16((quint8(payload[0]) << 8) | quint8(payload[1])) : 0;
}

} // namespace

class TestWebSocket : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void clientTalksToQtServer()
    {
        QWebSocketServer server(u"t"_s, QWebSocketServer::NonSecureMode);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QWebSocket *peer = nullptr;
        QByteArray authorization;
        connect(&server, &QWebSocketServer::newConnection, this, [&] {
            peer = server.nextPendingConnection();
            authorization = peer->request().rawHeader("Authorization");
            peer->setOutgoingFrameSize(100); // long messages arrive fragmented
            connect(peer, &QWebSocket::textMessageReceived, peer,
                    [&peer](const QString &t) { peer->sendTextMessage(u"echo:"_s + t); });
        });
        ws::WebSocket client;
        QList<QByteArray> received;
        client.setTextHandler([&](QByteArrayView t) { received << t.toByteArray(); });
        QSignalSpy connectedSpy(&client, &ws::WebSocket::connected);
        client.open(QUrl(u"ws://127.0.0.1:%1/v1/realtime?model=m"_s.arg(server.serverPort())),
                    {{"Authorization", "Bearer sk-test"}});
        QTRY_COMPARE(connectedSpy.size(), 1);
        QVERIFY(client.isOpen());
        QTRY_VERIFY(peer != nullptr);
        QCOMPARE(authorization, QByteArray("Bearer sk-test"));
        QCOMPARE(peer->requestUrl().query(), u"model=m"_s);

        // 7-bit, 16-bit and 64-bit lengths; non-ASCII text; two frames queued into one write.
        const QByteArray medium(300, 'm');
        const QByteArray large(70000, 'L');
        client.sendText("hello");
        client.sendText(medium);
        client.sendText(large);
        client.sendText("namaste \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87");
        client.queueText("a");
        client.queueText("b");
        client.flush();
        QTRY_COMPARE(received.size(), 6);
        QCOMPARE(received[0], QByteArray("echo:hello"));
        QCOMPARE(received[1], "echo:" + medium); // fragmented by the peer (100-byte frames)
        QCOMPARE(received[2], "echo:" + large);
        QCOMPARE(received[3],
                 QByteArray("echo:namaste \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4"
                            "\xe0\xa5\x87"));
        QCOMPARE(received[4], QByteArray("echo:a"));
        QCOMPARE(received[5], QByteArray("echo:b"));

        // Pings are answered.
        QSignalSpy pong(peer, &QWebSocket::pong);
        peer->ping("are you there");
        QTRY_COMPARE(pong.size(), 1);
        QCOMPARE(pong.at(0).at(1).toByteArray(), QByteArray("are you there"));

        // The server closes with a code and reason; both reach us.
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        peer->close(QWebSocketProtocol::CloseCode(4001), u"session expired"_s);
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(client.closeCode(), quint16(4001));
        QCOMPARE(client.closeReason(), u"session expired"_s);
        QVERIFY(!client.isOpen());
    }

    void clientClosesCleanly()
    {
        QWebSocketServer server(u"t"_s, QWebSocketServer::NonSecureMode);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QWebSocket *peer = nullptr;
        connect(&server, &QWebSocketServer::newConnection, this,
                [&] { peer = server.nextPendingConnection(); });
        ws::WebSocket client;
        client.open(QUrl(u"ws://localhost:%1/"_s.arg(server.serverPort())), {}); // by name: resolved
        QTRY_VERIFY(client.isOpen());
        QTRY_VERIFY(peer != nullptr);
        QSignalSpy peerGone(peer, &QWebSocket::disconnected);
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        client.close(ws::Normal, "call ended");
        QTRY_COMPARE(peerGone.size(), 1);
        QCOMPARE(int(peer->closeCode()), 1000);
        QCOMPARE(peer->closeReason(), u"call ended"_s);
        QTRY_COMPARE(closed.size(), 1);
    }

    void clientReportsRefusalsAndBadHandshakes()
    {
        // An HTTP error instead of 101: the status is reported.
        QTcpServer http;
        QVERIFY(http.listen(QHostAddress::LocalHost));
        QByteArray answer = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
        connect(&http, &QTcpServer::newConnection, this, [&] {
            QTcpSocket *s = http.nextPendingConnection();
            connect(s, &QTcpSocket::readyRead, s, [s, &answer] {
                const QByteArray request = s->readAll();
                QByteArray reply = answer;
                if (reply.contains("{ACCEPT}")) // a 101 with a wrong accept key
                    reply.replace("{ACCEPT}", ws::acceptKey("not the key"));
                s->write(reply);
            });
        });
        {
            ws::WebSocket client;
            QSignalSpy closed(&client, &ws::WebSocket::disconnected);
            client.open(QUrl(u"ws://127.0.0.1:%1/"_s.arg(http.serverPort())), {});
            QTRY_COMPARE(closed.size(), 1);
            QCOMPARE(client.httpStatus(), 401);
            QVERIFY2(client.errorString().contains(u"401"_s), qPrintable(client.errorString()));
        }
        answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n";
        {
            ws::WebSocket client;
            QSignalSpy connectedSpy(&client, &ws::WebSocket::connected);
            QSignalSpy closed(&client, &ws::WebSocket::disconnected);
            client.open(QUrl(u"ws://127.0.0.1:%1/"_s.arg(http.serverPort())), {});
            QTRY_COMPARE(closed.size(), 1);
            QCOMPARE(connectedSpy.size(), 0);
            QVERIFY2(client.errorString().contains(u"invalid WebSocket handshake"_s),
                     qPrintable(client.errorString()));
        }
        // Nobody listening.
        const quint16 port = http.serverPort();
        http.close();
        ws::WebSocket client;
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        client.open(QUrl(u"ws://127.0.0.1:%1/"_s.arg(port)), {});
        QTRY_COMPARE(closed.size(), 1);
        QVERIFY2(client.errorString().contains(u"refused"_s), qPrintable(client.errorString()));
        // Not a WebSocket URL.
        ws::WebSocket other;
        QSignalSpy otherClosed(&other, &ws::WebSocket::disconnected);
        other.open(QUrl(u"http://127.0.0.1:1/"_s), {});
        QTRY_COMPARE(otherClosed.size(), 1);
        QVERIFY(other.errorString().contains(u"scheme"_s));
    }

    void serverEnforcesTheProtocol_data()
    {
        QTest::addColumn<QByteArray>("frames");
        QTest::addColumn<int>("closeCode");
        QTest::addColumn<int>("delivered");
        QTest::newRow("unmasked client frame") << clientFrame(0x81, "hi", false) << 1002 << 0;
        QTest::newRow("reserved bit") << clientFrame(0xC1, "hi") << 1002 << 0;
        QTest::newRow("unknown opcode") << clientFrame(0x83, "hi") << 1002 << 0;
        QTest::newRow("fragmented ping") << clientFrame(0x09, "p") << 1002 << 0;
        QTest::newRow("continuation first") << clientFrame(0x80, "x") << 1002 << 0;
        QTest::newRow("new message inside fragmented")
            << clientFrame(0x01, "part") + clientFrame(0x81, "other") << 1002 << 0;
        QTest::newRow("invalid utf-8") << clientFrame(0x81, "\xc3\x28") << 1007 << 0;
        // The size is refused from the header alone: the 1 MB body is never sent.
        QTest::newRow("too big") << clientFrame(0x81, {}, true, 1 << 20).left(10) << 1009 << 0;
        QTest::newRow("too big in fragments")
            << clientFrame(0x01, QByteArray(40000, 'a')) + clientFrame(0x80, QByteArray(30000, 'a')) << 1009
            << 0;
        QTest::newRow("bad close code") << clientFrame(0x88, QByteArray("\x03\xed", 2)) << 1002 << 0; // 1005
        QTest::newRow("one-byte close") << clientFrame(0x88, "x") << 1002 << 0;
        QTest::newRow("good then bad")
            << clientFrame(0x81, "ok") + clientFrame(0x81, "x", false) << 1002 << 1;
        // Issue 12's one-packet crash: a continuation whose 64-bit length wraps the size check. Refused from
        // the header; nothing is read past the bytes received.
        QTest::newRow("continuation with length 2^64-1")
            << clientFrame(0x01, "a") + QByteArray::fromHex("00ffffffffffffffffff") << 1002 << 0;
        QTest::newRow("continuation with length 2^63-1")
            << clientFrame(0x01, "a") + QByteArray::fromHex("00ff7fffffffffffffff") << 1009 << 0;
        QTest::newRow("masked text with length 2^64-1")
            << QByteArray::fromHex("81ffffffffffffffffff12345678") << 1002 << 0;
        QTest::newRow("non-minimal 16-bit length")
            << QByteArray::fromHex("81fe000512345678") + "abcde" << 1002 << 0;
        QTest::newRow("non-minimal 64-bit length")
            << QByteArray::fromHex("81ff000000000000000512345678") + "abcde" << 1002 << 0;
    }

    void clientRefusesHostileServerFrames_data()
    {
        QTest::addColumn<QByteArray>("frames");
        QTest::addColumn<int>("closeCode");
        QTest::newRow("length 2^64-1") << QByteArray::fromHex("817fffffffffffffffff") << 1002;
        QTest::newRow("fragment then length 2^64-1")
            << QByteArray::fromHex("010161007fffffffffffffffff") << 1002;
        QTest::newRow("fragment then length 2^63-1")
            << QByteArray::fromHex("010161007f7fffffffffffffff") << 1009;
        QTest::newRow("masked server frame")
            << QByteArray::fromHex("818112345678") + char(0x12 ^ 'a') << 1002;
    }

    void clientRefusesHostileServerFrames()
    {
        // The model side (client role) gets the same checks: a hostile or broken server cannot make it read
        // past its buffers.
        QFETCH(QByteArray, frames);
        QFETCH(int, closeCode);
        QTcpServer http;
        QVERIFY(http.listen(QHostAddress::LocalHost));
        QPointer<QTcpSocket> peer;
        connect(&http, &QTcpServer::newConnection, this, [&] {
            QTcpSocket *s = http.nextPendingConnection();
            peer = s;
            connect(s, &QTcpSocket::readyRead, s, [s, frames] {
                if (!s->peek(1024).contains("\r\n\r\n") || s->property("answered").toBool())
                    return; // the rest of the request, or the client's frames (read by the test)
                s->setProperty("answered", true);
                const QByteArray request = s->readAll();
                const qsizetype at = request.indexOf("Sec-WebSocket-Key: ");
                const QByteArray key = request.mid(at + 19, request.indexOf('\r', at) - at - 19);
                s->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: " +
                         ws::acceptKey(key) + "\r\n\r\n" + frames);
            });
        });
        ws::WebSocket client;
        client.setMaxMessageBytes(1 << 20);
        QSignalSpy connectedSpy(&client, &ws::WebSocket::connected);
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        client.open(QUrl(u"ws://127.0.0.1:%1/"_s.arg(http.serverPort())), {});
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(connectedSpy.size(), 1);
        QCOMPARE(int(client.closeCode()), closeCode);
        // The server is told why, in a masked close frame.
        QVERIFY(peer);
        QTRY_VERIFY(peer->bytesAvailable() >= 6 || peer->state() != QAbstractSocket::ConnectedState);
        const QByteArray reply = peer->readAll();
        QVERIFY(reply.size() >= 8);
        QCOMPARE(quint8(reply[0]), quint8(0x88));
        const char *key = reply.constData() + 2;
        const quint16 code = quint16((quint8(reply[6] ^ key[0]) << 8) | quint8(reply[7] ^ key[1]));
        QCOMPARE(int(code), closeCode);
    }

    void serverEnforcesTheProtocol()
    {
        QFETCH(QByteArray, frames);
        QFETCH(int, closeCode);
        QFETCH(int, delivered);
        RawWsServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.socket != nullptr);
        server.socket->setMaxMessageBytes(64 * 1024);
        QSignalSpy closed(server.socket.get(), &ws::WebSocket::disconnected);
        raw.write(frames);
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(int(server.socket->closeCode()), closeCode);
        QCOMPARE(server.texts.size(), delivered);
        // The peer is told why, with the close code, before the connection ends.
        QByteArray buffer, payload;
        int opcode = 0;
        QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
        QCOMPARE(opcode, 8);
        QCOMPARE(int(closeCodeOf(payload)), closeCode);
        QTRY_COMPARE(raw.state(), QAbstractSocket::UnconnectedState);
    }

    void serverReassemblesAnswersPingsAndEchoesClose()
    {
        RawWsServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.socket != nullptr);
        // A fragmented message with a ping between its fragments, split across TCP writes mid-header.
        const QByteArray stream = clientFrame(0x01, "{\"event\":") + clientFrame(0x89, "ping!") +
                                  clientFrame(0x00, "\"media\",") + clientFrame(0x80, "\"x\":1}") +
                                  clientFrame(0x81, QByteArray(200, 'z'));
        for (qsizetype i = 0; i < stream.size(); i += 7) {
            raw.write(stream.mid(i, 7));
            QVERIFY(raw.waitForBytesWritten(1000));
            QTest::qWait(1);
        }
        QTRY_COMPARE(server.texts.size(), 2);
        QCOMPARE(server.texts[0], QByteArray("{\"event\":\"media\",\"x\":1}"));
        QCOMPARE(server.texts[1], QByteArray(200, 'z'));
        QByteArray buffer, payload;
        int opcode = 0;
        QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
        QCOMPARE(opcode, 10); // pong
        QCOMPARE(payload, QByteArray("ping!"));

        // Server frames are unmasked text frames.
        server.socket->sendText("{\"event\":\"clear\"}");
        QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
        QCOMPARE(opcode, 1);
        QCOMPARE(payload, QByteArray("{\"event\":\"clear\"}"));

        // The client's close is echoed with its code, then the connection ends.
        QSignalSpy closed(server.socket.get(), &ws::WebSocket::disconnected);
        raw.write(clientFrame(0x88, QByteArray(QByteArray("\x0f\xa0", 2) + "bye"))); // 4000
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(server.socket->closeCode(), quint16(4000));
        QCOMPARE(server.socket->closeReason(), u"bye"_s);
        QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
        QCOMPARE(opcode, 8);
        QCOMPARE(closeCodeOf(payload), quint16(4000));
    }

    void unansweredCloseAndStuckPeerEndTheConnection()
    {
        {
            // A peer that never answers our close frame: the connection ends after the grace period anyway.
            RawWsServer server;
            QVERIFY(server.listen(QHostAddress::LocalHost));
            QTcpSocket raw;
            raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
            QTRY_VERIFY(server.socket != nullptr);
            QSignalSpy closed(server.socket.get(), &ws::WebSocket::disconnected);
            server.socket->close(ws::GoingAway, "idle");
            QCOMPARE(server.socket->state(), ws::WebSocket::State::Closing);
            server.socket->sendText("after close"); // ignored: nothing follows a close frame
            QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, 5000);
            QByteArray buffer, payload;
            int opcode = 0;
            QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
            QCOMPARE(opcode, 8);
            QCOMPARE(closeCodeOf(payload), quint16(ws::GoingAway));
            QVERIFY(!readServerFrame(raw, buffer, &opcode, &payload) || opcode != 1);
        }
        // A peer that stops reading: once more than 4 MiB wait for it, the connection is dropped instead of
        // growing without bound.
        RawWsServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket raw;
        raw.setReadBufferSize(1); // Qt reads (almost) nothing on our side of the test
        raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.socket != nullptr);
        QSignalSpy closed(server.socket.get(), &ws::WebSocket::disconnected);
        const QByteArray chunk(60000, 'x');
        for (int i = 0; i < 400 && closed.isEmpty(); ++i) {
            server.socket->sendText(chunk);
            QCoreApplication::processEvents();
        }
        QTRY_COMPARE(closed.size(), 1);
        QVERIFY2(server.socket->errorString().contains(u"not reading"_s),
                 qPrintable(server.socket->errorString()));
    }

    // Owners used to deleteLater() their socket right after close(), so the closing handshake's grace period
    // never ran in production: the peer saw the TCP connection end before it could answer the close frame
    // (and unread bytes turned the close into a reset). dispose() lets the handshake finish without the
    // owner: the connection stays up until the peer's close frame, then ends, and the socket deletes itself.
    void disposedSocketFinishesTheClosingHandshake()
    {
        RawWsServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.socket != nullptr);
        QPointer<ws::WebSocket> disposed = server.socket.get();
        server.socket.release()->dispose(ws::Normal, "call over");
        QByteArray buffer, payload;
        int opcode = 0;
        QVERIFY(readServerFrame(raw, buffer, &opcode, &payload));
        QCOMPARE(opcode, 8);
        QCOMPARE(closeCodeOf(payload), quint16(ws::Normal));
        QCOMPARE(payload.mid(2), QByteArray("call over"));
        // The server waits for our answer: the connection is still up, the socket still there.
        QTest::qWait(300);
        QCOMPARE(raw.state(), QAbstractSocket::ConnectedState);
        QVERIFY(disposed != nullptr);
        raw.write(clientFrame(0x88, QByteArray::fromHex("03e8")));
        QTRY_COMPARE(raw.state(), QAbstractSocket::UnconnectedState);
        QTRY_VERIFY(disposed == nullptr);

        // A peer that never answers: the grace period ends the connection, and the socket is gone.
        RawWsServer quiet;
        QVERIFY(quiet.listen(QHostAddress::LocalHost));
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, quiet.serverPort());
        QTRY_VERIFY(quiet.socket != nullptr);
        QPointer<ws::WebSocket> quietSocket = quiet.socket.get();
        quiet.socket.release()->dispose();
        QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, 5000);
        QTRY_VERIFY(quietSocket == nullptr);
        QCOMPARE(silent.readAll(), QByteArray(QByteArray::fromHex("880c03e9") + "going away"));

        // Disposing a socket that has already closed deletes it.
        RawWsServer done;
        QVERIFY(done.listen(QHostAddress::LocalHost));
        QTcpSocket peer;
        peer.connectToHost(QHostAddress::LocalHost, done.serverPort());
        QTRY_VERIFY(done.socket != nullptr);
        done.socket->abort();
        QPointer<ws::WebSocket> closedSocket = done.socket.get();
        done.socket.release()->dispose();
        QTRY_VERIFY(closedSocket == nullptr);
    }

    // Message views point into the connection's read buffer, reused by the next read. They are handed to a
    // callback inside the read that completed them (a signal could be queued, and the view would dangle);
    // several messages in one read each arrive intact, and a callback may delete the socket.
    void messagesAreHandedOverInsideTheRead()
    {
        auto socket = std::make_unique<ws::WebSocket>();
        socket->openForTesting(false);
        QList<QByteArray> seen;
        bool inFeed = false;
        socket->setTextHandler([&](QByteArrayView t) {
            QVERIFY(inFeed);
            seen << t.toByteArray();
        });
        socket->setBinaryHandler([&](QByteArrayView b) { seen << "bin:" + b.toByteArray(); });
        inFeed = true;
        QVERIFY(socket->feed(QByteArray(clientFrame(0x81, "one") + clientFrame(0x82, "two") +
                                        clientFrame(0x01, "thr") + clientFrame(0x80, "ee"))));
        inFeed = false;
        QCOMPARE(seen, (QList<QByteArray>{"one", "bin:two", "three"}));

        ws::WebSocket *raw = socket.release();
        raw->setTextHandler([&](QByteArrayView) { delete raw; });
        QVERIFY(!raw->feed(QByteArray(clientFrame(0x81, "last") + clientFrame(0x81, "never"))));
    }

    void slowReaderCannotGrowTheSendBuffer()
    {
        // A peer that keeps reading, slowly, so the queue never empties: sent bytes must not pile up in front
        // of the unsent ones (issue 12: ~204 MiB during one call).
        RawWsServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket raw;
        raw.setReadBufferSize(64 * 1024);
        raw.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.socket != nullptr);
        QSignalSpy closed(server.socket.get(), &ws::WebSocket::disconnected);
        const QByteArray chunk(60000, 'x');
        qsizetype peak = 0;
        qint64 drained = 0;
        int sends = 0;
        for (int i = 0; i < 20000 && closed.isEmpty() && drained < 40 * 1024 * 1024; ++i) {
            // Keep 1–2 MiB waiting at all times: below the cap, never empty.
            while (server.socket->queuedBytes() < 2 * 1024 * 1024 && sends < 2000) {
                server.socket->sendText(chunk);
                ++sends;
            }
            QCoreApplication::processEvents();
            drained += raw.read(64 * 1024).size();
            peak = std::max(peak, server.socket->bufferedBytes());
        }
        QVERIFY(closed.isEmpty());            // a reader that keeps up is never cut off
        QVERIFY(drained >= 40 * 1024 * 1024); // and really did read, all along
        QVERIFY2(peak <= 4 * 1024 * 1024 + 256 * 1024, qPrintable(QString::number(peak)));
    }

    void movesBetweenEpollWorkerThreads()
    {
        // As a pre-warmed session's model leg does when its stream lands on another worker: the socket leaves
        // one epoll dispatcher and joins the other's without losing a message.
        QWebSocketServer server(u"t"_s, QWebSocketServer::NonSecureMode);
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QList<QWebSocket *> peers;
        connect(&server, &QWebSocketServer::newConnection, this, [&] {
            QWebSocket *peer = server.nextPendingConnection();
            peers << peer;
            connect(peer, &QWebSocket::textMessageReceived, peer,
                    [peer](const QString &t) { peer->sendTextMessage(u"echo:"_s + t); });
        });
        QThread a, b;
        a.setEventDispatcher(new EpollEventDispatcher);
        b.setEventDispatcher(new EpollEventDispatcher);
        a.start();
        b.start();
        auto *client = new ws::WebSocket;
        client->moveToThread(&a);
        std::atomic<int> received{0};
        std::atomic<bool> open{false};
        QByteArray last;
        QThread *lastThread = nullptr; // where the message was delivered: always the socket's own thread
        QMutex lastLock;
        connect(
            client, &ws::WebSocket::connected, client, [&] { open = true; }, Qt::DirectConnection);
        client->setTextHandler([&](QByteArrayView t) {
            QMutexLocker lock(&lastLock);
            last = t.toByteArray();
            lastThread = QThread::currentThread();
            ++received;
        });
        const QUrl url(u"ws://127.0.0.1:%1/"_s.arg(server.serverPort()));
        QMetaObject::invokeMethod(client, [client, url] { client->open(url, {}); });
        QTRY_VERIFY(open.load());
        QMetaObject::invokeMethod(client, [client] { client->sendText("on a"); });
        QTRY_COMPARE(received.load(), 1);
        // Move from thread a to thread b (from a, where it lives), then talk from b.
        QMetaObject::invokeMethod(
            client, [client, &b] { client->moveToThread(&b); }, Qt::BlockingQueuedConnection);
        QCOMPARE(client->thread(), &b);
        QMetaObject::invokeMethod(client, [client] { client->sendText("on b"); });
        QTRY_COMPARE(received.load(), 2);
        {
            QMutexLocker lock(&lastLock);
            QCOMPARE(last, QByteArray("echo:on b"));
            QCOMPARE(lastThread, &b);
        }
        // A message the server sends while nobody is watching the socket still arrives after the move back.
        QMetaObject::invokeMethod(
            client, [client, &a] { client->moveToThread(&a); }, Qt::BlockingQueuedConnection);
        QTRY_COMPARE(peers.size(), 1);
        peers.first()->sendTextMessage(u"pushed"_s);
        QTRY_COMPARE(received.load(), 3);
        {
            QMutexLocker lock(&lastLock);
            QCOMPARE(last, QByteArray("pushed"));
            QCOMPARE(lastThread, &a);
        }
        QMetaObject::invokeMethod(
            client, [client] { delete client; }, Qt::BlockingQueuedConnection);
        a.quit();
        b.quit();
        a.wait();
        b.wait();
    }
};

QTEST_GUILESS_MAIN(TestWebSocket)
#include "tst_websocket.moc"
