#include "fakerealtime.h"

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
QByteArray tone(int ms, int phase)
{
    QList<std::int16_t> pcm(ms * 8);
    for (qsizetype i = 0; i < pcm.size(); ++i)
        pcm[i] = std::int16_t(6000 * std::sin(2 * M_PI * 440.0 * double(i + phase) / 8000.0));
    return mulaw::encode(pcm);
}

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

struct FakeRealtimeServer::Session
{
    std::unique_ptr<QWebSocket> ws;
    QJsonObject session;
    // current response
    bool active = false;
    QString responseId;
    QString itemId;
    QString transcript;
    QByteArray speech; // the voice's audio for this answer (empty: a tone)
    int audioMsLeft = 0;
    int audioMsSent = 0;
    qsizetype transcriptSent = 0;
    QTimer audioTimer;
    QTimer lifetime;                // the API ends a session at its maximum duration
    bool replayPendingUser = false; // client-created items: a user message not yet answered
    QHash<QString, int> itemAudioMs;
    QSet<QString> callIds;
    // VAD
    bool speaking = false;
    int silenceMs = 0;
    qint64 positionMs = 0;
    QString userItem;
    int turnIndex = 0;
    bool awaitingOutput = false;
    QString lastOutput;
    bool greeted = false;
    const FakeTurn *callAfterSpeech = nullptr; // a sayFirst turn's function, sent when its audio is done
};

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

void FakeRealtimeServer::startResponse(Session *s, const QJsonObject &request)
{
    s->active = true;
    s->responseId = nextId("resp");
    s->itemId = nextId("item");
    s->audioMsSent = 0;
    s->transcriptSent = 0;
    s->speech.clear();
    send(s, {{u"type"_s, u"response.created"_s},
             {u"response"_s, QJsonObject{{u"id"_s, s->responseId},
                                         {u"object"_s, u"realtime.response"_s},
                                         {u"status"_s, u"in_progress"_s},
                                         {u"output"_s, QJsonArray()}}}});
    const FakeTurn *turn = s->turnIndex < turns.size() ? &turns.at(s->turnIndex) : nullptr;
    if (!s->greeted) {
        s->greeted = true;
        s->transcript = greetingTranscript;
        s->audioMsLeft = greetingAudioMs;
        Q_UNUSED(request);
    } else if (s->awaitingOutput && turn) {
        s->awaitingOutput = false;
        s->transcript = QString(turn->agentTranscript)
                            .replace(u"{output}"_s, sayOutput ? sayOutput(s->lastOutput) : s->lastOutput);
        s->audioMsLeft = turn->agentAudioMs;
        ++s->turnIndex;
    } else if (turn && !turn->functionName.isEmpty() && turn->sayFirst) {
        s->transcript = turn->agentTranscript;
        s->audioMsLeft = turn->agentAudioMs;
        s->callAfterSpeech = turn;
        ++s->turnIndex;
    } else if (turn && !turn->functionName.isEmpty()) {
        // The model decides to call a tool.
        const QJsonObject item = sendFunctionCall(s, 0, s->itemId, *turn);
        s->awaitingOutput = true;
        s->active = false;
        send(s,
             {{u"type"_s, u"response.done"_s},
              {u"response"_s,
               QJsonObject{{u"id"_s, s->responseId},
                           {u"status"_s, u"completed"_s},
                           {u"output"_s, QJsonArray{item}},
                           {u"usage"_s,
                            QJsonObject{{u"total_tokens"_s, 120},
                                        {u"input_tokens"_s, 100},
                                        {u"output_tokens"_s, 20},
                                        {u"input_token_details"_s, QJsonObject{{u"text_tokens"_s, 60},
                                                                               {u"audio_tokens"_s, 40},
                                                                               {u"cached_tokens"_s, 0}}},
                                        {u"output_token_details"_s,
                                         QJsonObject{{u"text_tokens"_s, 20}, {u"audio_tokens"_s, 0}}}}}}}});
        return;
    } else if (turn) {
        s->transcript = turn->agentTranscript;
        s->audioMsLeft = turn->agentAudioMs;
        ++s->turnIndex;
    } else {
        s->transcript = u"Ji, bataiye."_s;
        s->audioMsLeft = 500;
    }
    s->itemAudioMs.insert(s->itemId, 0);
    const QJsonObject msg{{u"id"_s, s->itemId},
                          {u"type"_s, u"message"_s},
                          {u"role"_s, u"assistant"_s},
                          {u"status"_s, u"in_progress"_s},
                          {u"content"_s, QJsonArray()}};
    send(s, {{u"type"_s, u"response.output_item.added"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, 0},
             {u"item"_s, msg}});
    send(s, {{u"type"_s, u"response.content_part.added"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, s->itemId},
             {u"output_index"_s, 0},
             {u"content_index"_s, 0},
             {u"part"_s, QJsonObject{{u"type"_s, u"audio"_s}, {u"transcript"_s, QString()}}}});
    auto play = [this, s, id = s->responseId] {
        QTimer::singleShot(firstAudioDelayMs, this, [this, s, id] {
            if (m_sessions.contains(s) && s->active && s->responseId == id)
                s->audioTimer.start();
        });
    };
    if (!voice) {
        play();
        return;
    }
    voice(s->transcript, [this, s, id = s->responseId, play](const QByteArray &mulaw) {
        if (!m_sessions.contains(s) || !s->active || s->responseId != id)
            return;
        if (!mulaw.isEmpty()) {
            s->speech = mulaw;
            s->audioMsLeft = int((mulaw.size() + 7) / 8); // the last delta carries the tail
        }
        play();
    });
}

void FakeRealtimeServer::streamAudio(Session *s)
{
    if (!s->active) {
        s->audioTimer.stop();
        return;
    }
    const int ms = std::min(deltaMs, s->audioMsLeft);
    if (ms > 0) {
        if (s->audioMsSent == 0)
            firstDeltaSentNs.insert(s->itemId, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now().time_since_epoch())
                                                   .count());
        send(s, {{u"type"_s, u"response.output_audio.delta"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0},
                 {u"delta"_s, QString::fromLatin1((s->speech.isEmpty()
                                                       ? tone(ms, s->audioMsSent * 8)
                                                       : s->speech.mid(qsizetype(s->audioMsSent) * 8, ms * 8))
                                                      .toBase64())}});
        s->audioMsLeft -= ms;
        s->audioMsSent += ms;
        s->itemAudioMs[s->itemId] = s->audioMsSent;
        // The transcript streams alongside the audio, in proportion to it.
        const qsizetype upTo =
            s->transcript.size() * s->audioMsSent / std::max(1, s->audioMsSent + s->audioMsLeft);
        if (upTo > s->transcriptSent) {
            send(s, {{u"type"_s, u"response.output_audio_transcript.delta"_s},
                     {u"response_id"_s, s->responseId},
                     {u"item_id"_s, s->itemId},
                     {u"output_index"_s, 0},
                     {u"content_index"_s, 0},
                     {u"delta"_s, s->transcript.mid(s->transcriptSent, upTo - s->transcriptSent)}});
            s->transcriptSent = upTo;
        }
    }
    if (s->audioMsLeft <= 0) {
        s->audioTimer.stop();
        send(s, {{u"type"_s, u"response.output_audio.done"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0}});
        send(s, {{u"type"_s, u"response.output_audio_transcript.done"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0},
                 {u"transcript"_s, s->transcript}});
        finishResponse(s, u"completed"_s, {});
    }
}

QJsonObject FakeRealtimeServer::sendFunctionCall(Session *s, int outputIndex, const QString &itemId,
                                                 const FakeTurn &turn)
{
    const QString callId = nextId("call");
    s->callIds.insert(callId);
    const QJsonObject item{
        {u"id"_s, itemId},      {u"type"_s, u"function_call"_s}, {u"status"_s, u"completed"_s},
        {u"call_id"_s, callId}, {u"name"_s, turn.functionName},  {u"arguments"_s, turn.functionArguments}};
    QJsonObject added = item;
    added.insert(u"status"_s, u"in_progress"_s);
    added.insert(u"arguments"_s, QString());
    send(s, {{u"type"_s, u"response.output_item.added"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, outputIndex},
             {u"item"_s, added}});
    send(s, {{u"type"_s, u"response.function_call_arguments.delta"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, itemId},
             {u"output_index"_s, outputIndex},
             {u"call_id"_s, callId},
             {u"delta"_s, turn.functionArguments}});
    send(s, {{u"type"_s, u"response.function_call_arguments.done"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, itemId},
             {u"output_index"_s, outputIndex},
             {u"call_id"_s, callId},
             {u"name"_s, turn.functionName},
             {u"arguments"_s, turn.functionArguments}});
    send(s, {{u"type"_s, u"response.output_item.done"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, outputIndex},
             {u"item"_s, item}});
    return item;
}

void FakeRealtimeServer::finishResponse(Session *s, const QString &status, const QString &reason)
{
    s->audioTimer.stop();
    s->active = false;
    const QJsonObject item{{u"id"_s, s->itemId},
                           {u"type"_s, u"message"_s},
                           {u"role"_s, u"assistant"_s},
                           {u"status"_s, status == u"completed"_s ? u"completed"_s : u"incomplete"_s},
                           {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"output_audio"_s},
                                                                 {u"transcript"_s, s->transcript}}}}};
    send(s, {{u"type"_s, u"response.output_item.done"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, 0},
             {u"item"_s, item}});
    QJsonArray output{item};
    const FakeTurn *call = std::exchange(s->callAfterSpeech, nullptr);
    if (call && status != u"completed"_s)
        --s->turnIndex; // interrupted before its function call: the next response tries the turn again
    if (call && status == u"completed"_s)
        output.append(sendFunctionCall(s, 1, nextId("item"), *call));
    QJsonObject details;
    if (!reason.isEmpty())
        details = {{u"type"_s, status}, {u"reason"_s, reason}};
    const int audioTokens = s->audioMsSent / 50;
    send(s, {{u"type"_s, u"response.done"_s},
             {u"response"_s,
              QJsonObject{
                  {u"id"_s, s->responseId},
                  {u"status"_s, status},
                  {u"status_details"_s, details.isEmpty() ? QJsonValue() : QJsonValue(details)},
                  {u"output"_s, output},
                  {u"usage"_s,
                   QJsonObject{{u"total_tokens"_s, 200 + audioTokens},
                               {u"input_tokens"_s, 150},
                               {u"output_tokens"_s, 50 + audioTokens},
                               {u"input_token_details"_s, QJsonObject{{u"text_tokens"_s, 100},
                                                                      {u"audio_tokens"_s, 50},
                                                                      {u"cached_tokens"_s, 20}}},
                               {u"output_token_details"_s,
                                QJsonObject{{u"text_tokens"_s, 50}, {u"audio_tokens"_s, audioTokens}}}}}}}});
}

void FakeRealtimeServer::processAudio(Session *s, const QByteArray &mulawBytes)
{
    const QJsonObject vad = s->session.value(u"audio"_s)
                                .toObject()
                                .value(u"input"_s)
                                .toObject()
                                .value(u"turn_detection"_s)
                                .toObject();
    const int silenceNeeded = vad.value(u"silence_duration_ms"_s).toInt(200);
    const int prefix = vad.value(u"prefix_padding_ms"_s).toInt(300);
    const bool interrupt = vad.value(u"interrupt_response"_s).toBool(true);
    const bool create = vad.value(u"create_response"_s).toBool(true);
    for (qsizetype off = 0; off + 160 <= mulawBytes.size(); off += 160) {
        const auto pcm = mulaw::decode(QByteArrayView(mulawBytes).sliced(off, 160));
        qint64 sum = 0;
        for (std::int16_t v : pcm)
            sum += std::abs(int(v));
        const bool loud = sum / 160 > vadThreshold;
        if (loud) {
            s->silenceMs = 0;
            if (!s->speaking) {
                s->speaking = true;
                s->userItem = nextId("item");
                send(s, {{u"type"_s, u"input_audio_buffer.speech_started"_s},
                         {u"audio_start_ms"_s, std::max<qint64>(0, s->positionMs - prefix)},
                         {u"item_id"_s, s->userItem}});
                if (s->active && interrupt)
                    finishResponse(s, u"cancelled"_s, u"turn_detected"_s);
            }
        } else if (s->speaking) {
            s->silenceMs += 20;
            if (s->silenceMs >= silenceNeeded) {
                s->speaking = false;
                send(s, {{u"type"_s, u"input_audio_buffer.speech_stopped"_s},
                         {u"audio_end_ms"_s, s->positionMs},
                         {u"item_id"_s, s->userItem}});
                send(s, {{u"type"_s, u"input_audio_buffer.committed"_s},
                         {u"item_id"_s, s->userItem},
                         {u"previous_item_id"_s, QJsonValue()}});
                send(s,
                     {{u"type"_s, u"conversation.item.added"_s},
                      {u"item"_s, QJsonObject{{u"id"_s, s->userItem},
                                              {u"type"_s, u"message"_s},
                                              {u"role"_s, u"user"_s},
                                              {u"content"_s,
                                               QJsonArray{QJsonObject{{u"type"_s, u"input_audio"_s},
                                                                      {u"transcript"_s, QJsonValue()}}}}}}});
                const FakeTurn *turn = s->turnIndex < turns.size() ? &turns.at(s->turnIndex) : nullptr;
                if (s->session.value(u"audio"_s)
                        .toObject()
                        .value(u"input"_s)
                        .toObject()
                        .value(u"transcription"_s)
                        .isObject())
                    send(s, {{u"type"_s, u"conversation.item.input_audio_transcription.completed"_s},
                             {u"item_id"_s, s->userItem},
                             {u"content_index"_s, 0},
                             {u"transcript"_s, !utterances.isEmpty() ? utterances.takeFirst()
                                               : turn                ? turn->callerTranscript
                                                                     : u"(unintelligible)"_s}});
                if (create && !s->active)
                    startResponse(s, {});
            }
        }
        s->positionMs += 20;
    }
}

} // namespace vaani::test
