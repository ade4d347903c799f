// The audio path's WebSocket as the OpenAI leg runs it in production: wss:// with OpenSSL on the descriptor
// (server/net/tlsstream.*) against TLS QWebSocketServers with a certificate made for the test — framing
// across records, bursts, TLS 1.2, certificate and host-name checks, peers that do not speak TLS, and a TLS
// peer that stops reading (the back-pressure cap). Plain connections and the server side are tst_websocket;
// the codec is tst_wscodec.
#include "websocket.h"
#include "wshandshake.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>
#include <memory>
#include <vector>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
// Hands each accepted descriptor to a callback (which wraps it in a socket of its choice).
class DescriptorServer : public QTcpServer
{
public:
    std::function<void(qintptr)> onDescriptor;

protected:
    void incomingConnection(qintptr fd) override { onDescriptor(fd); }
};
} // namespace

class TestWebSocketTls : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QSslCertificate m_cert;
    QSslKey m_key;

    QSslConfiguration serverConfig() const
    {
        QSslConfiguration c = QSslConfiguration::defaultConfiguration();
        c.setLocalCertificate(m_cert);
        c.setPrivateKey(m_key);
        return c;
    }

    // A TLS WebSocket server that answers each text message with it in capitals, `repeat` times.
    std::unique_ptr<QWebSocketServer> echoServer(const QHostAddress &on, int repeat = 1,
                                                 QSsl::SslProtocol protocol = QSsl::SecureProtocols)
    {
        auto server = std::make_unique<QWebSocketServer>(u"tls"_s, QWebSocketServer::SecureMode);
        QSslConfiguration c = serverConfig();
        c.setProtocol(protocol);
        server->setSslConfiguration(c);
        if (!server->listen(on))
            return nullptr;
        QWebSocketServer *raw = server.get();
        connect(raw, &QWebSocketServer::newConnection, raw, [raw, repeat] {
            QWebSocket *peer = raw->nextPendingConnection();
            connect(peer, &QWebSocket::textMessageReceived, peer, [peer, repeat](const QString &t) {
                for (int i = 0; i < repeat; ++i)
                    peer->sendTextMessage(t.toUpper());
            });
            connect(peer, &QWebSocket::disconnected, peer, &QObject::deleteLater);
        });
        return server;
    }

    // Opens `url` trusting the test certificate (or not); true once open, false with the error when refused.
    static bool openClient(ws::WebSocket &client, const QUrl &url, QString *error)
    {
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        client.open(url, {});
        if (!QTest::qWaitFor([&] { return client.isOpen() || !closed.isEmpty(); }, 10000)) {
            *error = u"timed out"_s;
            return false;
        }
        *error = client.errorString();
        return client.isOpen();
    }

    // Makes the next connection to `tcp` a TLS peer that answers the WebSocket upgrade by hand, stops
    // listening to its socket and hands it to `then`, which decides what the peer does next.
    void answerUpgradeByHand(DescriptorServer &tcp, std::unique_ptr<QSslSocket> &peer,
                             std::function<void(QSslSocket *)> then)
    {
        tcp.onDescriptor = [this, &peer, then](qintptr fd) {
            peer = std::make_unique<QSslSocket>();
            QSslSocket *socket = peer.get();
            socket->setSslConfiguration(serverConfig());
            socket->setSocketDescriptor(fd);
            auto request = std::make_shared<QByteArray>();
            connect(socket, &QSslSocket::readyRead, this, [socket, request, then] {
                *request += socket->readAll();
                const qsizetype end = request->indexOf("\r\n\r\n");
                ws::HttpHead head;
                if (end < 0 || !ws::parseHead(QByteArrayView(*request).first(end + 4), &head))
                    return;
                socket->write(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    ws::acceptKey(head.value("Sec-WebSocket-Key")) + "\r\n\r\n");
                QObject::disconnect(socket, &QSslSocket::readyRead, nullptr, nullptr);
                then(socket);
            });
            socket->startServerEncryption();
        };
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QProcess openssl;
        openssl.start(u"openssl"_s, {u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s,
                                     u"-days"_s, u"1"_s, u"-subj"_s, u"/CN=localhost"_s, u"-addext"_s,
                                     u"subjectAltName=DNS:localhost,IP:127.0.0.1"_s, u"-keyout"_s,
                                     m_dir.filePath(u"key.pem"_s), u"-out"_s, m_dir.filePath(u"cert.pem"_s)});
        QVERIFY(openssl.waitForFinished(60000));
        QCOMPARE(openssl.exitCode(), 0);
        QFile certFile(m_dir.filePath(u"cert.pem"_s)), keyFile(m_dir.filePath(u"key.pem"_s));
        QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
        m_cert = QSslCertificate(certFile.readAll(), QSsl::Pem);
        m_key = QSslKey(keyFile.readAll(), QSsl::Rsa, QSsl::Pem);
        QVERIFY(!m_cert.isNull() && !m_key.isNull());
        QVERIFY(QSslSocket::supportsSsl()); // for the test's own servers
    }

    void clientOverTls()
    {
        // wss:// (the OpenAI API): OpenSSL on the descriptor, the same framing as plain TCP.
        auto server = echoServer(QHostAddress::LocalHost);
        QVERIFY(server);
        ws::WebSocket client;
        client.setExtraCaCertificates(m_cert.toPem());
        QList<QByteArray> received;
        client.setTextHandler([&](QByteArrayView t) { received << t.toByteArray(); });
        QString error;
        QVERIFY2(
            openClient(client, QUrl(u"wss://127.0.0.1:%1/v1/realtime"_s.arg(server->serverPort())), &error),
            qPrintable(error));
        client.sendText("secure hello");
        client.sendText(QByteArray(5000, 'q'));
        // Larger than a TLS record (16 KiB) both ways: written in several records, read back in several.
        client.sendText(QByteArray(200000, 'r'));
        QTRY_COMPARE(received.size(), 3);
        QCOMPARE(received[0], QByteArray("SECURE HELLO"));
        QCOMPARE(received[1], QByteArray(5000, 'Q'));
        QCOMPARE(received[2], QByteArray(200000, 'R'));

        // Many small messages queued at once each way (as audio deltas arrive): none lost, in order, also
        // those OpenSSL read ahead into its own buffer.
        received.clear();
        for (int i = 0; i < 500; ++i)
            client.queueText(QByteArray("m" + QByteArray::number(i)));
        client.flush();
        QTRY_COMPARE(received.size(), 500);
        for (int i = 0; i < 500; ++i)
            QCOMPARE(received[i], QByteArray("M" + QByteArray::number(i)));

        QSignalSpy clientClosed(&client, &ws::WebSocket::disconnected);
        client.close(ws::Normal, "done");
        QTRY_COMPARE(clientClosed.size(), 1);
        QCOMPARE(client.closeCode(), quint16(ws::Normal)); // the server's close frame came back through TLS
    }

    void serverSendsBursts()
    {
        // Each message answered 300 times at once: the server's records arrive back to back and are read in
        // the dispatcher's shares without waiting for more bytes on the socket.
        auto server = echoServer(QHostAddress::LocalHost, 300);
        QVERIFY(server);
        ws::WebSocket client;
        client.setExtraCaCertificates(m_cert.toPem());
        int received = 0;
        qsizetype bytes = 0;
        client.setTextHandler([&](QByteArrayView t) {
            ++received;
            bytes += t.size();
        });
        QString error;
        QVERIFY2(openClient(client, QUrl(u"wss://127.0.0.1:%1/"_s.arg(server->serverPort())), &error),
                 qPrintable(error));
        client.sendText(QByteArray(3000, 'b'));
        QTRY_COMPARE(received, 300);
        QCOMPARE(bytes, qsizetype(300 * 3000));
        client.close(ws::Normal, "done");
    }

    void tls12Server()
    {
        // A server that offers only TLS 1.2 is accepted (the floor), and works the same.
        auto server = echoServer(QHostAddress::LocalHost, 1, QSsl::TlsV1_2);
        QVERIFY(server);
        ws::WebSocket client;
        client.setExtraCaCertificates(m_cert.toPem());
        QByteArray got;
        client.setTextHandler([&](QByteArrayView t) { got = t.toByteArray(); });
        QString error;
        QVERIFY2(openClient(client, QUrl(u"wss://127.0.0.1:%1/"_s.arg(server->serverPort())), &error),
                 qPrintable(error));
        client.sendText("twelve");
        QTRY_COMPARE(got, QByteArray("TWELVE"));
        client.close(ws::Normal, "done");
    }

    void certificateChecks()
    {
        auto server = echoServer(QHostAddress::Any);
        QVERIFY(server);
        const int port = server->serverPort();
        QString error;
        {
            // Not trusted: refused, saying why.
            ws::WebSocket untrusting;
            QVERIFY(!openClient(untrusting, QUrl(u"wss://127.0.0.1:%1/"_s.arg(port)), &error));
            QVERIFY2(error.contains(u"certificate"_s) && error.contains(u"self-signed"_s), qPrintable(error));
        }
        {
            // Trusted, but for other names: 127.0.0.2 is not among the certificate's addresses.
            ws::WebSocket wrongName;
            wrongName.setExtraCaCertificates(m_cert.toPem());
            QVERIFY(!openClient(wrongName, QUrl(u"wss://127.0.0.2:%1/"_s.arg(port)), &error));
            QVERIFY2(error.contains(u"certificate"_s) && error.contains(u"mismatch"_s), qPrintable(error));
        }
        {
            // By its DNS name (resolved, sent as SNI, matched against the certificate's DNS name).
            ws::WebSocket byName;
            byName.setExtraCaCertificates(m_cert.toPem());
            QByteArray got;
            byName.setTextHandler([&](QByteArrayView t) { got = t.toByteArray(); });
            QVERIFY2(openClient(byName, QUrl(u"wss://localhost:%1/"_s.arg(port)), &error), qPrintable(error));
            byName.sendText("named");
            QTRY_COMPARE(got, QByteArray("NAMED"));
            byName.close(ws::Normal, "done");
        }
        {
            // Extra certificates that are not PEM: a clear error, no connection attempted.
            ws::WebSocket garbage;
            garbage.setExtraCaCertificates("not a certificate");
            QVERIFY(!openClient(garbage, QUrl(u"wss://127.0.0.1:%1/"_s.arg(port)), &error));
            QVERIFY2(error.contains(u"PEM"_s), qPrintable(error));
        }
    }

    void peersThatAreNotTls()
    {
        // A plain HTTP server where TLS was expected, and one that hangs up during the handshake: each ends
        // the connection with an error (no hang, no crash).
        DescriptorServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost));
        std::vector<std::unique_ptr<QTcpSocket>> peers;
        bool hangUp = false;
        tcp.onDescriptor = [&](qintptr fd) {
            auto peer = std::make_unique<QTcpSocket>();
            peer->setSocketDescriptor(fd);
            QTcpSocket *raw = peer.get();
            connect(raw, &QTcpSocket::readyRead, raw, [raw, &hangUp] {
                raw->readAll();
                if (hangUp)
                    raw->close();
                else
                    raw->write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            });
            peers.push_back(std::move(peer));
        };
        for (const bool hang : {false, true}) {
            hangUp = hang;
            ws::WebSocket client;
            client.setExtraCaCertificates(m_cert.toPem());
            QString error;
            QVERIFY(!openClient(client, QUrl(u"wss://127.0.0.1:%1/"_s.arg(tcp.serverPort())), &error));
            QVERIFY2(error.startsWith(u"TLS handshake with 127.0.0.1: "_s), qPrintable(error));
        }
    }

    void peerThatVanishes()
    {
        // A TLS peer that answers the upgrade and then resets the connection while the client keeps writing:
        // the connection ends once, saying why (the reset read, or the write that failed), and the process
        // goes on (OpenSSL writes with write(); SIGPIPE is ignored, see TlsClientContext::get).
        DescriptorServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost));
        std::unique_ptr<QSslSocket> peer;
        answerUpgradeByHand(tcp, peer, [](QSslSocket *socket) {
            socket->flush();
            QTimer::singleShot(50, socket, [socket] { socket->abort(); });
        });
        ws::WebSocket client;
        client.setExtraCaCertificates(m_cert.toPem());
        QSignalSpy closed(&client, &ws::WebSocket::disconnected);
        QString error;
        QVERIFY2(openClient(client, QUrl(u"wss://127.0.0.1:%1/"_s.arg(tcp.serverPort())), &error),
                 qPrintable(error));
        const QByteArray chunk(20000, 'v');
        for (int i = 0; i < 500 && closed.isEmpty(); ++i) {
            client.sendText(chunk);
            QTest::qWait(2);
        }
        QTRY_COMPARE(closed.size(), 1);
        QVERIFY2(client.errorString().contains(u"without ending TLS"_s) ||
                     client.errorString().contains(u"reset"_s) || client.errorString().contains(u"pipe"_s),
                 qPrintable(client.errorString()));
    }

    void peerThatStopsReading()
    {
        // A TLS peer that stops reading: the same 4 MiB cap as on plain TCP must hold (the OpenAI leg in
        // production). The peer answers the upgrade by hand, then reads nothing more.
        DescriptorServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost));
        std::unique_ptr<QSslSocket> stuck;
        answerUpgradeByHand(tcp, stuck, [](QSslSocket *socket) {
            socket->setReadBufferSize(1); // and never reads again
        });
        ws::WebSocket pushing;
        pushing.setExtraCaCertificates(m_cert.toPem());
        QSignalSpy pushingClosed(&pushing, &ws::WebSocket::disconnected);
        QString error;
        QVERIFY2(openClient(pushing, QUrl(u"wss://127.0.0.1:%1/v1/realtime"_s.arg(tcp.serverPort())), &error),
                 qPrintable(error));
        const QByteArray chunk(60000, 'x');
        qint64 pushed = 0;
        for (int i = 0; i < 3000 && pushingClosed.isEmpty(); ++i) {
            pushing.sendText(chunk);
            pushed += chunk.size();
            QCoreApplication::processEvents();
        }
        QTRY_COMPARE(pushingClosed.size(), 1);
        QVERIFY2(pushing.errorString().contains(u"not reading"_s), qPrintable(pushing.errorString()));
        QVERIFY2(pushed < 64 * 1024 * 1024, qPrintable(QString::number(pushed)));
    }
};

QTEST_GUILESS_MAIN(TestWebSocketTls)
#include "tst_websocket_tls.moc"
