#include "fakerealtime.h"
#include "fakerealtime_p.h"

#include "mulaw.h"

#include <QFile>
#include <QHttpServerRouterRule>
#include <QJsonDocument>
#include <QtMath>

#include <chrono>
#include <utility>

using namespace Qt::StringLiterals;

namespace vaani::test {

namespace {
class AuthRule : public QHttpServerRouterRule
{
public:
    AuthRule(FakeRealtimeServer *fake, const QString &path, QHttpServerRequest::Methods m, RouterHandler h)
        : QHttpServerRouterRule(path, m, std::move(h))
        , m_fake(fake)
    {}

protected:
    bool matches(const QHttpServerRequest &r, QRegularExpressionMatch *match) const override
    {
        if (!QHttpServerRouterRule::matches(r, match))
            return false;
        const QByteArray header = m_fake->azure ? r.value("api-key") : r.value("Authorization");
        m_fake->handshakeAuthHeaders << header;
        const QByteArray expected =
            m_fake->azure ? m_fake->expectedKey.toUtf8() : "Bearer " + m_fake->expectedKey.toUtf8();
        if (header != expected) {
            ++m_fake->rejectedHandshakes;
            return false;
        }
        return true;
    }

private:
    FakeRealtimeServer *m_fake;
};

} // namespace

namespace {
const QSet<QString> kSessionKeys = {
    u"type"_s,   u"model"_s,       u"output_modalities"_s, u"instructions"_s, u"audio"_s,
    u"tools"_s,  u"tool_choice"_s, u"max_output_tokens"_s, u"tracing"_s,      u"truncation"_s,
    u"prompt"_s, u"include"_s};
const QSet<QString> kInputKeys = {u"format"_s, u"transcription"_s, u"noise_reduction"_s, u"turn_detection"_s};
const QSet<QString> kOutputKeys = {u"format"_s, u"voice"_s, u"speed"_s};
const QSet<QString> kVadKeys = {u"type"_s,
                                u"threshold"_s,
                                u"prefix_padding_ms"_s,
                                u"silence_duration_ms"_s,
                                u"create_response"_s,
                                u"interrupt_response"_s,
                                u"idle_timeout_ms"_s,
                                u"eagerness"_s};

} // namespace

QJsonObject initialSession(const QString &id)
{
    return QJsonObject{
        {u"type"_s, u"realtime"_s},
        {u"object"_s, u"realtime.session"_s},
        {u"id"_s, id},
        {u"model"_s, u"gpt-realtime"_s},
        {u"output_modalities"_s, QJsonArray{u"audio"_s}},
        {u"instructions"_s, QString()},
        {u"audio"_s,
         QJsonObject{{u"input"_s,
                      QJsonObject{{u"format"_s, QJsonObject{{u"type"_s, u"audio/pcm"_s}, {u"rate"_s, 24000}}},
                                  {u"transcription"_s, QJsonValue()},
                                  {u"noise_reduction"_s, QJsonValue()},
                                  {u"turn_detection"_s, QJsonObject{{u"type"_s, u"server_vad"_s},
                                                                    {u"threshold"_s, 0.5},
                                                                    {u"prefix_padding_ms"_s, 300},
                                                                    {u"silence_duration_ms"_s, 200},
                                                                    {u"idle_timeout_ms"_s, QJsonValue()},
                                                                    {u"create_response"_s, true},
                                                                    {u"interrupt_response"_s, true}}}}},
                     {u"output"_s,
                      QJsonObject{{u"format"_s, QJsonObject{{u"type"_s, u"audio/pcm"_s}, {u"rate"_s, 24000}}},
                                  {u"voice"_s, u"alloy"_s},
                                  {u"speed"_s, 1.0}}}}},
        {u"tools"_s, QJsonArray()},
        {u"tool_choice"_s, u"auto"_s},
        {u"max_output_tokens"_s, u"inf"_s},
        {u"expires_at"_s, QDateTime::currentSecsSinceEpoch() + 3600}};
}

QJsonObject mergeSession(QJsonObject base, const QJsonObject &update)
{
    for (auto it = update.begin(); it != update.end(); ++it) {
        if (it.value().isObject() && base.value(it.key()).isObject())
            base.insert(it.key(), mergeSession(base.value(it.key()).toObject(), it.value().toObject()));
        else
            base.insert(it.key(), it.value());
    }
    return base;
}

FakeRealtimeServer::FakeRealtimeServer(QObject *parent)
    : QObject(parent)
{
    m_http.route<AuthRule>(this, u"/v1/realtime"_s, QHttpServerRequest::Method::Get,
                           [](const QHttpServerRequest &, QHttpServerResponder &&) {});
    m_http.route<AuthRule>(this, u"/openai/v1/realtime"_s, QHttpServerRequest::Method::Get,
                           [](const QHttpServerRequest &, QHttpServerResponder &&) {});
    m_http.setMissingHandler([](const QHttpServerRequest &, QHttpServerResponder &&r) {
        r.write(
            R"({"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}})",
            "application/json", QHttpServerResponder::StatusCode::Unauthorized);
    });
    connect(&m_http, &QAbstractHttpServer::newWebSocketConnection, this, &FakeRealtimeServer::onConnection);
}

FakeRealtimeServer::~FakeRealtimeServer()
{
    closeAll();
}

void FakeRealtimeServer::sendRawToAll(const QString &text)
{
    for (Session *s : std::as_const(m_sessions))
        s->ws->sendTextMessage(text);
}

void FakeRealtimeServer::expire(Session *s)
{
    // As the API ends a session at its maximum duration: an error event, then the close (1001).
    ++sessionsExpired;
    sendError(s, u"invalid_request_error"_s, u"session_expired"_s,
              u"Your session hit the maximum duration of 60 minutes."_s, {}, {});
    s->audioTimer.stop();
    s->ws->close(QWebSocketProtocol::CloseCodeGoingAway, u"session expired"_s);
}

void FakeRealtimeServer::expireAll()
{
    for (Session *s : std::as_const(m_sessions))
        expire(s);
}

bool FakeRealtimeServer::responding() const
{
    for (const Session *s : m_sessions)
        if (s->active)
            return true;
    return false;
}

void FakeRealtimeServer::closeAll()
{
    for (Session *s : std::exchange(m_sessions, {})) {
        s->audioTimer.stop();
        s->ws->disconnect(this);
        s->ws->abort();
        delete s;
    }
}

bool FakeRealtimeServer::listen()
{
    return listenOn(0);
}

bool FakeRealtimeServer::listenOn(quint16 port)
{
    m_port = m_http.listen(QHostAddress::LocalHost, port);
    return m_port != 0;
}

QUrl FakeRealtimeServer::url() const
{
    return QUrl(
        u"ws://127.0.0.1:%1/%2"_s.arg(m_port).arg(azure ? u"openai/v1/realtime"_s : u"v1/realtime"_s));
}

bool FakeRealtimeServer::clientConnected() const
{
    return !m_sessions.isEmpty();
}

QList<QJsonObject> FakeRealtimeServer::receivedOfType(const QString &type) const
{
    QList<QJsonObject> out;
    for (const auto &r : received) {
        if (r.type == type)
            out << r.event;
    }
    return out;
}

bool FakeRealtimeServer::writeEvents(const QString &path) const
{
    QFile f(path);
    if (!f.open(QIODevice::Append))
        return false;
    for (const QByteArray &e : rawEvents)
        f.write(e + '\n');
    return true;
}

QString FakeRealtimeServer::nextId(const char *prefix)
{
    return QString::fromLatin1(prefix) + u'_' + QString::number(++m_ids);
}

void FakeRealtimeServer::onConnection()
{
    while (m_http.hasPendingWebSocketConnections()) {
        auto *s = new Session;
        s->ws = m_http.nextPendingWebSocketConnection();
        if (!s->ws) {
            delete s;
            continue;
        }
        ++connections;
        m_sessions << s;
        s->session = initialSession(nextId("sess"));
        s->audioTimer.setInterval(20);
        s->lifetime.setSingleShot(true);
        connect(&s->lifetime, &QTimer::timeout, this, [this, s] { expire(s); });
        connect(&s->audioTimer, &QTimer::timeout, this, [this, s] { streamAudio(s); });
        connect(s->ws.get(), &QWebSocket::textMessageReceived, this,
                [this, s](const QString &t) { onMessage(s, t); });
        connect(s->ws.get(), &QWebSocket::disconnected, this, [this, s] {
            s->audioTimer.stop();
            m_sessions.removeAll(s);
            s->ws.release()->deleteLater();
            delete s;
        });
        const bool beta = !s->ws->request().rawHeader("OpenAI-Beta").isEmpty();
        QTimer::singleShot(connectDelayMs, this, [this, s, beta] {
            if (!m_sessions.contains(s))
                return;
            if (beta) {
                sendError(
                    s, u"invalid_request_error"_s, u"beta_api_shape_disabled"_s,
                    u"The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."_s,
                    {}, {});
                s->ws->close(QWebSocketProtocol::CloseCode(4000), u"beta"_s);
                return;
            }
            s->lifetime.start(sessionLifetimeMs);
            send(s, {{u"type"_s, u"session.created"_s},
                     {u"event_id"_s, nextId("event")},
                     {u"session"_s, s->session}});
        });
    }
}

void FakeRealtimeServer::send(Session *s, const QJsonObject &event)
{
    QJsonObject e = event;
    if (!e.contains(u"event_id"_s))
        e.insert(u"event_id"_s, nextId("event"));
    s->ws->sendTextMessage(QString::fromUtf8(QJsonDocument(e).toJson(QJsonDocument::Compact)));
}

void FakeRealtimeServer::sendError(Session *s, const QString &type, const QString &code,
                                   const QString &message, const QString &param, const QString &eventId)
{
    errorsSent << (code.isEmpty() ? type : code);
    send(s, {{u"type"_s, u"error"_s},
             {u"error"_s,
              QJsonObject{{u"type"_s, type},
                          {u"code"_s, code},
                          {u"message"_s, message},
                          {u"param"_s, param.isEmpty() ? QJsonValue() : QJsonValue(param)},
                          {u"event_id"_s, eventId.isEmpty() ? QJsonValue() : QJsonValue(eventId)}}}});
}

void FakeRealtimeServer::onMessage(Session *s, const QString &text)
{
    const QByteArray raw = text.toUtf8();
    const QJsonObject e = QJsonDocument::fromJson(raw).object();
    const QString type = e.value(u"type"_s).toString();
    const QString eventId = e.value(u"event_id"_s).toString();
    rawEvents << raw;
    received << Received{type, e};
    if (type == u"input_audio_buffer.append"_s) {
        const QByteArray audio = QByteArray::fromBase64(e.value(u"audio"_s).toString().toLatin1());
        processAudio(s, audio);
    } else if (type == u"session.update"_s) {
        const QJsonObject upd = e.value(u"session"_s).toObject();
        if (rejectSessionUpdate) {
            sendError(s, u"invalid_request_error"_s, u"invalid_value"_s,
                      u"Session update rejected by test."_s, u"session"_s, eventId);
        } else if (upd.value(u"type"_s).toString() != u"realtime"_s) {
            sendError(s, u"invalid_request_error"_s, u"missing_required_parameter"_s,
                      u"Missing required parameter: 'session.type'."_s, u"session.type"_s, eventId);
        } else {
            QString unknown;
            for (const QString &k : upd.keys())
                if (!kSessionKeys.contains(k))
                    unknown = u"session."_s + k;
            const QJsonObject audio = upd.value(u"audio"_s).toObject();
            for (const QString &k : audio.keys())
                if (k != u"input"_s && k != u"output"_s)
                    unknown = u"session.audio."_s + k;
            for (const QString &k : audio.value(u"input"_s).toObject().keys())
                if (!kInputKeys.contains(k))
                    unknown = u"session.audio.input."_s + k;
            for (const QString &k : audio.value(u"output"_s).toObject().keys())
                if (!kOutputKeys.contains(k))
                    unknown = u"session.audio.output."_s + k;
            for (const QString &k :
                 audio.value(u"input"_s).toObject().value(u"turn_detection"_s).toObject().keys())
                if (!kVadKeys.contains(k))
                    unknown = u"session.audio.input.turn_detection."_s + k;
            const QJsonValue inFmt = audio.value(u"input"_s).toObject().value(u"format"_s);
            if (!unknown.isEmpty()) {
                sendError(s, u"invalid_request_error"_s, u"unknown_parameter"_s,
                          u"Unknown parameter: '%1'."_s.arg(unknown), unknown, eventId);
            } else if (!inFmt.isUndefined() && !inFmt.isObject()) {
                sendError(
                    s, u"invalid_request_error"_s, u"invalid_type"_s,
                    u"Invalid type for 'session.audio.input.format': expected an object, but got a string instead."_s,
                    u"session.audio.input.format"_s, eventId);
            } else {
                s->session = mergeSession(s->session, upd);
                send(s, {{u"type"_s, u"session.updated"_s}, {u"session"_s, s->session}});
            }
        }
    } else if (type == u"response.create"_s) {
        if (s->active) {
            sendError(s, u"invalid_request_error"_s, u"conversation_already_has_active_response"_s,
                      u"Conversation already has an active response in progress."_s, {}, eventId);
            return;
        }
        startResponse(s, e.value(u"response"_s).toObject());
    } else if (type == u"response.cancel"_s) {
        if (!s->active)
            sendError(s, u"invalid_request_error"_s, u"response_cancel_not_active"_s,
                      u"Cancellation failed: no active response found"_s, {}, eventId);
        else
            finishResponse(s, u"cancelled"_s, u"client_cancelled"_s);
    } else if (type == u"conversation.item.create"_s) {
        const QJsonObject item = e.value(u"item"_s).toObject();
        const QString itemType = item.value(u"type"_s).toString();
        if (itemType == u"function_call_output"_s) {
            if (!s->callIds.contains(item.value(u"call_id"_s).toString())) {
                sendError(s, u"invalid_request_error"_s, u"invalid_value"_s, u"Unknown call_id."_s,
                          u"item.call_id"_s, eventId);
                return;
            }
            s->lastOutput = item.value(u"output"_s).toString();
        } else if (itemType == u"function_call"_s) {
            // A client may add a call the model made earlier (a conversation carried to a new session).
            const QString callId = item.value(u"call_id"_s).toString();
            if (callId.isEmpty() || item.value(u"name"_s).toString().isEmpty() ||
                !item.value(u"arguments"_s).isString()) {
                sendError(s, u"invalid_request_error"_s, u"missing_required_parameter"_s,
                          u"Missing required parameter: 'item.call_id', 'item.name' or 'item.arguments'."_s,
                          u"item"_s, eventId);
                return;
            }
            s->callIds.insert(callId);
            s->awaitingOutput = true; // this fake's script: the call's turn is answered after its output
            s->replayPendingUser = false;
        } else if (itemType == u"message"_s) {
            const QString role = item.value(u"role"_s).toString();
            const QSet<QString> allowed = role == u"assistant"_s ? QSet<QString>{u"output_text"_s, u"text"_s}
                                          : role == u"user"_s
                                              ? QSet<QString>{u"input_text"_s, u"input_audio"_s}
                                          : role == u"system"_s ? QSet<QString>{u"input_text"_s}
                                                                : QSet<QString>{};
            if (allowed.isEmpty()) {
                sendError(
                    s, u"invalid_request_error"_s, u"invalid_value"_s,
                    u"Invalid value: '%1'. Supported values are: 'user', 'assistant', and 'system'."_s.arg(
                        role),
                    u"item.role"_s, eventId);
                return;
            }
            const QJsonArray content = item.value(u"content"_s).toArray();
            for (const QJsonValue &c : content) {
                const QString part = c.toObject().value(u"type"_s).toString();
                if (!allowed.contains(part)) {
                    sendError(s, u"invalid_request_error"_s, u"invalid_value"_s,
                              u"Invalid value: '%1' for a %2 message."_s.arg(part, role),
                              u"item.content[0].type"_s, eventId);
                    return;
                }
            }
            // This fake's script follows a replayed conversation: the greeting, then each answered turn.
            if (role == u"user"_s) {
                s->replayPendingUser = true;
            } else if (role == u"assistant"_s) {
                if (!s->greeted) {
                    s->greeted = true;
                } else if (s->replayPendingUser || (s->awaitingOutput && !s->lastOutput.isEmpty())) {
                    s->awaitingOutput = false;
                    ++s->turnIndex;
                }
                s->replayPendingUser = false;
            }
        }
        QJsonObject added = item;
        added.insert(u"id"_s, nextId("item"));
        send(s, {{u"type"_s, u"conversation.item.added"_s}, {u"item"_s, added}});
        send(s, {{u"type"_s, u"conversation.item.done"_s}, {u"item"_s, added}});
    } else if (type == u"conversation.item.truncate"_s) {
        const QString item = e.value(u"item_id"_s).toString();
        const int end = e.value(u"audio_end_ms"_s).toInt(-1);
        if (!s->itemAudioMs.contains(item)) {
            sendError(s, u"invalid_request_error"_s, u"item_truncate_invalid_item_id"_s, u"Item not found."_s,
                      u"item_id"_s, eventId);
        } else if (end < 0) {
            sendError(s, u"invalid_request_error"_s, u"integer_below_min_value"_s, u"audio_end_ms below 0"_s,
                      u"audio_end_ms"_s, eventId);
        } else if (end > s->itemAudioMs.value(item)) {
            sendError(s, u"invalid_request_error"_s, QString(),
                      u"Audio content of %1ms is already shorter than %2ms"_s.arg(s->itemAudioMs.value(item))
                          .arg(end),
                      u"audio_end_ms"_s, eventId);
        } else {
            send(s, {{u"type"_s, u"conversation.item.truncated"_s},
                     {u"item_id"_s, item},
                     {u"content_index"_s, 0},
                     {u"audio_end_ms"_s, end}});
        }
    }
    Q_EMIT eventReceived(type);
}

} // namespace vaani::test
