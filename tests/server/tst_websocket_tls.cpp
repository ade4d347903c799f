// The audio path's WebSocket as the OpenAI leg runs it in production: wss:// through QSslSocket against a TLS
// QWebSocketServer with a certificate made for the test, and against a TLS peer that stops reading (the
// back-pressure cap). Plain connections and the server side are tst_websocket; the codec is tst_wscodec.
#include "websocket.h"
#include "wshandshake.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>
#include <memory>

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
private Q_SLOTS:
    void clientOverTls()
    {
        // wss:// (the OpenAI API) goes through QSslSocket with the same framing.
        if (QSslSocket::supportsSsl() == false)
            QFAIL("Qt has no TLS backend here");
        QTemporaryDir dir;
        QProcess openssl;
        openssl.start(u"openssl"_s, {u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s,
                                     u"-days"_s, u"1"_s, u"-subj"_s, u"/CN=localhost"_s, u"-addext"_s,
                                     u"subjectAltName=DNS:localhost,IP:127.0.0.1"_s, u"-keyout"_s,
                                     dir.filePath(u"key.pem"_s), u"-out"_s, dir.filePath(u"cert.pem"_s)});
        QVERIFY(openssl.waitForFinished(60000));
        QCOMPARE(openssl.exitCode(), 0);
        QFile certFile(dir.filePath(u"cert.pem"_s)), keyFile(dir.filePath(u"key.pem"_s));
        QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
        const QSslCertificate cert(certFile.readAll(), QSsl::Pem);
        const QSslKey key(keyFile.readAll(), QSsl::Rsa, QSsl::Pem);
        QVERIFY(!cert.isNull() && !key.isNull());

        auto server = std::make_unique<QWebSocketServer>(u"tls"_s, QWebSocketServer::SecureMode);
        QSslConfiguration serverConfig = QSslConfiguration::defaultConfiguration();
        serverConfig.setLocalCertificate(cert);
        serverConfig.setPrivateKey(key);
        server->setSslConfiguration(serverConfig);
        QVERIFY(server->listen(QHostAddress::LocalHost));
        QWebSocket *peer = nullptr;
        connect(server.get(), &QWebSocketServer::newConnection, this, [&] {
            peer = server->nextPendingConnection();
            connect(peer, &QWebSocket::textMessageReceived, peer,
                    [&peer](const QString &t) { peer->sendTextMessage(t.toUpper()); });
        });

        {
            // An untrusted certificate is refused.
            ws::WebSocket untrusting;
            QSignalSpy closed(&untrusting, &ws::WebSocket::disconnected);
            untrusting.open(QUrl(u"wss://127.0.0.1:%1/"_s.arg(server->serverPort())), {});
            QTRY_COMPARE(closed.size(), 1);
            QVERIFY(!untrusting.errorString().isEmpty());
        }

        ws::WebSocket client;
        QSslConfiguration trust = QSslConfiguration::defaultConfiguration();
        trust.setCaCertificates({cert});
        client.setSslConfiguration(trust);
        QList<QByteArray> received;
        client.setTextHandler([&](QByteArrayView t) { received << t.toByteArray(); });
        client.open(QUrl(u"wss://127.0.0.1:%1/v1/realtime"_s.arg(server->serverPort())), {});
        QTRY_VERIFY_WITH_TIMEOUT(client.isOpen(), 10000);
        client.sendText("secure hello");
        client.sendText(QByteArray(5000, 'q'));
        QTRY_COMPARE(received.size(), 2);
        QCOMPARE(received[0], QByteArray("SECURE HELLO"));
        QCOMPARE(received[1], QByteArray(5000, 'Q'));
        QTRY_VERIFY(peer != nullptr);
        QSignalSpy peerGone(peer, &QWebSocket::disconnected);
        client.close(ws::Normal, "done");
        QTRY_COMPARE(peerGone.size(), 1); // closed before the secure server is deleted (Qt 6.4)

        // A TLS peer that stops reading: QSslSocket buffers without limit, so the same 4 MiB cap as on plain
        // TCP must hold there too (the OpenAI leg in production). The peer answers the upgrade by hand, then
        // reads nothing more.
        DescriptorServer tcp;
        QVERIFY(tcp.listen(QHostAddress::LocalHost));
        std::unique_ptr<QSslSocket> stuck;
        QByteArray request;
        tcp.onDescriptor = [&](qintptr fd) {
            stuck = std::make_unique<QSslSocket>();
            stuck->setSslConfiguration(serverConfig);
            stuck->setSocketDescriptor(fd);
            connect(stuck.get(), &QSslSocket::readyRead, this, [&] {
                request += stuck->readAll();
                if (!request.contains("\r\n\r\n"))
                    return;
                const qsizetype at = request.indexOf("Sec-WebSocket-Key: ") + 19;
                const QByteArray nonce = request.mid(at, request.indexOf("\r\n", at) - at);
                stuck->write(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    ws::acceptKey(nonce) + "\r\n\r\n");
                stuck->disconnect(this); // and never reads again
                stuck->setReadBufferSize(1);
            });
            stuck->startServerEncryption();
        };
        ws::WebSocket pushing;
        pushing.setSslConfiguration(trust);
        QSignalSpy pushingClosed(&pushing, &ws::WebSocket::disconnected);
        pushing.open(QUrl(u"wss://127.0.0.1:%1/v1/realtime"_s.arg(tcp.serverPort())), {});
        QTRY_VERIFY_WITH_TIMEOUT(pushing.isOpen(), 10000);
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
