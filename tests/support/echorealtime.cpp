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
    m_route.requestPrefix = "GET /v1/realtime";
    m_route.upgraded = [this](int fd) { adopt(fd); };
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
    new StreamUpgrade(int(fd), &m_route, this);
}

void EchoRealtimeServer::adopt(int fd)
{
    ++m_connections;
    auto *socket = new ws::WebSocket(this);
    socket->adoptServerSide(fd);
    socket->setProperty("session", initialSession(u"sess_%1"_s.arg(++m_ids)));
    connect(socket, &ws::WebSocket::textMessage, this,
            [this, socket](QByteArrayView text) { onText(socket, text); });
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
