#include "realtimeclient.h"

#include "jsonscan.h"
#include "logging.h"
#include "metrics.h"

#include <QNetworkRequest>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace vaani {

RealtimeClient::RealtimeClient(RealtimeEndpoint endpoint, Metrics *metrics, QObject *parent)
    : ModelLeg(parent)
    , m_endpoint(std::move(endpoint))
    , m_metrics(metrics)
    , m_socket(QString(), QWebSocketProtocol::VersionLatest, this)
{
    m_socket.setMaxAllowedIncomingMessageSize(quint64(realtime::kMaxServerEventBytes));
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &RealtimeClient::onText);
    connect(&m_socket, &QWebSocket::connected, this, [this] {
        if (m_state == State::Connecting)
            m_state = State::AwaitingCreated;
    });
    connect(&m_socket, &QWebSocket::disconnected, this, [this] {
        if (m_state == State::Closed)
            return;
        if (m_state == State::Connecting) {
            // Qt 6.4 emits disconnected before error() on refused connections: let the error speak first.
            QTimer::singleShot(0, this, [this] {
                fail(u"cannot connect to Realtime API: "_s + m_socket.errorString(), u"connect"_s);
            });
            return;
        }
        const QString reason = m_socket.closeReason().isEmpty()
                                   ? u"connection closed (code %1)"_s.arg(int(m_socket.closeCode()))
                                   : u"closed by server: %1 (code %2)"_s.arg(m_socket.closeReason())
                                         .arg(int(m_socket.closeCode()));
        fail(reason, u"closed"_s);
    });
    connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (m_state == State::Closed)
                    return;
                // Qt 6.4: a refused upgrade (401/403/…) leaves the socket "connecting" for ever.
                const QString why = m_socket.errorString();
                if (m_state == State::Ready || m_state == State::AwaitingUpdated) {
                    fail(u"connection to Realtime API lost: "_s + why, u"connection_lost"_s);
                    return;
                }
                const bool auth = why.contains(u"401"_s) || why.contains(u"403"_s);
                fail(u"cannot connect to Realtime API: "_s + why, auth ? u"unauthorized"_s : u"connect"_s);
            });
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        fail(u"Realtime session not ready within %1 ms"_s.arg(m_endpoint.handshakeTimeoutMs),
             u"handshake_timeout"_s);
    });
}

RealtimeClient::~RealtimeClient()
{
    m_state = State::Closed;
    if (m_socket.state() != QAbstractSocket::UnconnectedState)
        m_socket.abort();
}

QUrl RealtimeClient::connectUrl(const RealtimeEndpoint &e)
{
    QUrl url = e.url;
    QUrlQuery q(url);
    q.removeAllQueryItems(u"model"_s);
    if (!e.model.isEmpty())
        q.addQueryItem(u"model"_s, e.model);
    url.setQuery(q);
    return url;
}

void RealtimeClient::start(const realtime::SessionConfig &config)
{
    if (m_state != State::Idle)
        return;
    m_config = config;
    m_config.model = m_endpoint.azure ? QString() : m_endpoint.model;
    QNetworkRequest request(connectUrl(m_endpoint));
    if (m_endpoint.azure)
        request.setRawHeader("api-key", m_endpoint.apiKey.toUtf8());
    else
        request.setRawHeader("Authorization", "Bearer " + m_endpoint.apiKey.toUtf8());
    m_state = State::Connecting;
    m_deadline.start(m_endpoint.handshakeTimeoutMs);
    qCDebug(lcRealtime) << "connecting to" << request.url().toString(QUrl::RemoveQuery);
    m_socket.open(request);
}

void RealtimeClient::send(const QByteArray &clientEvent)
{
    if (m_state == State::Closed || m_socket.state() != QAbstractSocket::ConnectedState)
        return;
    m_socket.sendTextMessage(QString::fromUtf8(clientEvent));
}

void RealtimeClient::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    if (m_socket.state() == QAbstractSocket::ConnectedState)
        m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"call ended"_s);
    else
        m_socket.abort();
}

void RealtimeClient::fail(const QString &reason, const QString &metricKind)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    m_metrics->realtimeError(metricKind);
    qCWarning(lcRealtime) << reason;
    if (m_socket.state() != QAbstractSocket::UnconnectedState)
        m_socket.abort();
    Q_EMIT failed(reason);
}

bool RealtimeClient::tryFastAudioDelta(QStringView text)
{
    // Hot path: audio deltas are most of the traffic. Scan for the three fields the bridge needs; anything
    // unusual (escapes, other shapes) takes the full parser.
    static const QString kType = u"\"type\":\"response.output_audio.delta\""_s;
    static const QString kDelta = u"\"delta\":\""_s;
    static const QString kResponse = u"\"response_id\":\""_s;
    static const QString kItem = u"\"item_id\":\""_s;
    if (m_state != State::Ready || text.contains(u'\\') || !text.contains(kType))
        return false;
    QStringView delta, response, item;
    if (!jsonscan::stringValue(text, kDelta, &delta) || !jsonscan::stringValue(text, kResponse, &response) ||
        !jsonscan::stringValue(text, kItem, &item))
        return false;
    realtime::Event &e = m_fastEvent;
    e.type = realtime::ServerEvent::OutputAudioDelta;
    if (e.responseId != response)
        e.responseId = response.toString();
    if (e.itemId != item)
        e.itemId = item.toString();
    e.audio.resize(delta.size());
    for (qsizetype i = 0; i < delta.size(); ++i)
        e.audio[i] = char(delta[i].unicode());
    Q_EMIT event(e);
    return true;
}

void RealtimeClient::onText(const QString &text)
{
    if (m_state == State::Closed)
        return;
    if (tryFastAudioDelta(text))
        return;
    const QByteArray utf8 = text.toUtf8();
    realtime::ParseResult r = realtime::parse(utf8);
    if (!r.ok()) {
        m_metrics->realtimeError(u"malformed_event"_s);
        qCWarning(lcRealtime) << "unreadable server event:" << r.error;
        return;
    }
    realtime::Event &e = r.event;
    switch (m_state) {
    case State::AwaitingCreated:
    case State::Connecting:
        if (e.type == realtime::ServerEvent::SessionCreated) {
            m_updateEventId = u"vaani_session_update_1"_s;
            m_state = State::AwaitingUpdated;
            send(realtime::sessionUpdate(m_config, m_updateEventId));
            return;
        }
        if (e.type == realtime::ServerEvent::Error) {
            fail(u"Realtime API refused the session: %1 (%2)"_s.arg(e.errorMessage, e.errorCode),
                 u"refused"_s);
            return;
        }
        return;
    case State::AwaitingUpdated:
        if (e.type == realtime::ServerEvent::SessionUpdated) {
            if (!realtime::sessionUsesPcmu(e.session)) {
                fail(u"session.updated does not confirm audio/pcmu in and out"_s, u"format_mismatch"_s);
                return;
            }
            m_state = State::Ready;
            m_deadline.stop();
            qCDebug(lcRealtime) << "session ready";
            Q_EMIT ready();
            return;
        }
        if (e.type == realtime::ServerEvent::Error) {
            // GA rejects the whole update on any unknown field; the defaults (PCM 24 kHz) would be static on
            // a phone.
            fail(u"session.update rejected: %1 (%2, param %3)"_s.arg(e.errorMessage, e.errorCode,
                                                                     e.errorParam),
                 u"session_rejected"_s);
            return;
        }
        return;
    case State::Ready:
        Q_EMIT event(e);
        return;
    case State::Idle:
    case State::Closed:
        return;
    }
}

} // namespace vaani
