#include "echorealtime.h"

#include "fakerealtime.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>
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
    socket->setProperty("index", m_connections);
    socket->setTextHandler([this, socket](QByteArrayView text) { onText(socket, text); });
    connect(socket, &ws::WebSocket::disconnected, socket, &QObject::deleteLater);
    sendLater(socket, compact({{u"type"_s, u"session.created"_s},
                               {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                               {u"session"_s, socket->property("session").toJsonObject()}}));
}

void EchoRealtimeServer::sendLater(ws::WebSocket *socket, const QByteArray &text)
{
    if (m_handshakeDelayMs <= 0) {
        socket->sendText(text);
        return;
    }
    QTimer::singleShot(m_handshakeDelayMs, socket, [socket, text] { socket->sendText(text); });
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
        sendLater(socket, compact({{u"type"_s, u"session.updated"_s},
                                   {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                                   {u"session"_s, session}}));
        if (m_dropAfterMs > 0) {
            // Odd sessions: the caller "speaks" a second before the drop and the model answers on its own
            // (server VAD's automatic response), so the drop comes in the middle of that response.
            if (socket->property("index").toInt() % 2 && m_dropAfterMs > 1000)
                QTimer::singleShot(m_dropAfterMs - 1000, socket, [this, socket] { respond(socket); });
            QTimer::singleShot(m_dropAfterMs, socket, [this, socket] {
                ++(socket->property("responding").toBool() ? dropsMidResponse : dropsInSilence);
                socket->abort(); // a reset: whatever the server sends now is lost
            });
        }
        return;
    }
    if (m_dropAfterMs > 0 && e.value(u"type"_s).toString() == u"response.create"_s)
        respond(socket);
    // Everything else (response.create for the greeting, truncates) is not part of the echo.
}

void EchoRealtimeServer::respond(ws::WebSocket *socket)
{
    if (socket->property("responding").toBool()) {
        socket->sendText(compact(
            {{u"type"_s, u"error"_s},
             {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
             {u"error"_s,
              QJsonObject{{u"type"_s, u"invalid_request_error"_s},
                          {u"code"_s, u"conversation_already_has_active_response"_s},
                          {u"message"_s, u"Conversation already has an active response in progress."_s}}}}));
        return;
    }
    const QString id = u"resp_%1"_s.arg(++m_ids);
    socket->setProperty("responding", true);
    socket->sendText(compact({{u"type"_s, u"response.created"_s},
                              {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                              {u"response"_s, QJsonObject{{u"id"_s, id},
                                                          {u"object"_s, u"realtime.response"_s},
                                                          {u"status"_s, u"in_progress"_s},
                                                          {u"output"_s, QJsonArray()}}}}));
    const int ms = socket->property("index").toInt() % 2 ? 3000 : 500;
    QTimer::singleShot(ms, socket, [this, socket, id] {
        socket->setProperty("responding", false);
        socket->sendText(compact({{u"type"_s, u"response.done"_s},
                                  {u"event_id"_s, u"event_%1"_s.arg(++m_ids)},
                                  {u"response"_s, QJsonObject{{u"id"_s, id},
                                                              {u"object"_s, u"realtime.response"_s},
                                                              {u"status"_s, u"completed"_s},
                                                              {u"output"_s, QJsonArray()}}}}));
    });
}

} // namespace vaani::test
