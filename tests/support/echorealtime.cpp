#include "echorealtime.h"

#include "fakerealtime.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace vaani::test {

namespace {
constexpr QByteArrayView kAppendPrefix = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";
constexpr QByteArrayView kDeltaPrefix =
    "{\"type\":\"response.output_audio.delta\",\"event_id\":\"e\",\"response_id\":\"resp_echo\","
    "\"item_id\":\"item_echo\",\"output_index\":0,\"content_index\":0,\"delta\":\"";

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
} // namespace

EchoRealtimeServer::EchoRealtimeServer(QObject *parent)
    : QTcpServer(parent)
{
    // The server's own HTTP connection class answers the opening handshake.
    m_handler = [this](const http::Request &r, const QHostAddress &) {
        QByteArray accept, why;
        int status = 0;
        if (r.method != "GET" || r.path != "/v1/realtime")
            return http::Response::text(404, "not found\n");
        if (!ws::acceptUpgrade(r.head, &accept, &status, &why))
            return http::Response::text(status, why);
        http::Response ok;
        ok.status = 101;
        ok.raw = accept;
        ok.upgradeTo = [this](int fd, const QByteArray &) { adopt(fd); };
        return ok;
    };
}

bool EchoRealtimeServer::listenOn(quint16 port)
{
    return listen(QHostAddress::LocalHost, port);
}

QUrl EchoRealtimeServer::url() const
{
    return QUrl(u"ws://127.0.0.1:%1/v1/realtime"_s.arg(serverPort()));
}

void EchoRealtimeServer::incomingConnection(qintptr fd)
{
    new http::HttpConnection(int(fd), &m_handler, nullptr, {}, {}, &m_open, this);
}

void EchoRealtimeServer::adopt(int fd)
{
    ++m_connections;
    auto *socket = new ws::WebSocket(this);
    socket->adoptServerSide(fd);
    socket->setProperty("session", initialSession(u"sess_%1"_s.arg(++m_ids)));
    socket->setTextHandler([this, socket](QByteArrayView text) { onText(socket, text); });
    connect(socket, &ws::WebSocket::disconnected, socket, &QObject::deleteLater);
    socket->sendText(compact({{u"type"_s, u"session.created"_s},
                              {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                              {u"session"_s, socket->property("session").toJsonObject()}}));
}

void EchoRealtimeServer::onText(ws::WebSocket *socket, QByteArrayView text)
{
    if (text.startsWith(kAppendPrefix) && text.endsWith("\"}")) {
        const QByteArrayView audio =
            text.sliced(kAppendPrefix.size(), text.size() - kAppendPrefix.size() - 2);
        m_delta.resize(0);
        m_delta.append(kDeltaPrefix).append(audio).append("\"}");
        socket->sendText(m_delta);
        return;
    }
    const QJsonObject e = QJsonDocument::fromJson(text.toByteArray()).object();
    if (e.value(u"type"_s).toString() == u"session.update"_s) {
        const QJsonObject session =
            mergeSession(socket->property("session").toJsonObject(), e.value(u"session"_s).toObject());
        socket->setProperty("session", session);
        socket->sendText(compact({{u"type"_s, u"session.updated"_s},
                                  {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                                  {u"session"_s, session}}));
    }
    // Everything else (response.create for the greeting, truncates) is not part of the echo.
}

} // namespace vaani::test
