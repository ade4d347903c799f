#include "realtimeclient.h"

#include "logging.h"
#include "metrics.h"

#include <QUrlQuery>

#include <cstring>

using namespace Qt::StringLiterals;

namespace vaani {

RealtimeClient::RealtimeClient(RealtimeEndpoint endpoint, Metrics *metrics, QObject *parent)
    : ModelLeg(parent)
    , m_endpoint(std::move(endpoint))
    , m_metrics(metrics)
{
    m_socket->setMaxMessageBytes(realtime::kMaxServerEventBytes);
    m_socket->setExtraCaCertificates(m_endpoint.extraCaPem);
    m_socket->setTextHandler([this](QByteArrayView text) { onText(text); });
    m_socket->setBinaryHandler([this](QByteArrayView) {
        m_metrics->realtimeError(u"malformed_event"_s);
        qCWarning(lcRealtime) << "ignoring a binary message from the Realtime API";
    });
    connect(m_socket, &ws::WebSocket::connected, this, [this] {
        if (m_state == State::Connecting)
            m_state = State::AwaitingCreated;
    });
    connect(m_socket, &ws::WebSocket::disconnected, this, &RealtimeClient::onDisconnected);
    m_liveness.setInterval(m_endpoint.livenessTickMs);
    connect(&m_liveness, &QTimer::timeout, this, &RealtimeClient::checkLiveness);
    connect(m_socket, &ws::WebSocket::connected, &m_liveness, qOverload<>(&QTimer::start));
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        fail(u"Realtime session not ready within %1 ms"_s.arg(m_endpoint.handshakeTimeoutMs),
             u"handshake_timeout"_s);
    });
}

RealtimeClient::~RealtimeClient()
{
    m_state = State::Closed;
    m_socket->dispose(ws::Normal, "call ended"); // the closing handshake runs on without this client
}

void RealtimeClient::checkLiveness()
{
    const quint64 frames = m_socket->framesReceived();
    if (frames != m_framesAtTick) {
        m_framesAtTick = frames;
        m_silentTicks = 0;
        return;
    }
    if (++m_silentTicks >= RealtimeEndpoint::kSilentTicksDead) {
        fail(u"connection to Realtime API lost: nothing received for %1 ms, pings unanswered"_s.arg(
                 m_silentTicks * m_endpoint.livenessTickMs),
             u"unresponsive"_s);
        return;
    }
    m_socket->ping("vaani");
}

void RealtimeClient::onDisconnected()
{
    if (m_state == State::Closed)
        return;
    if (m_state == State::Connecting) {
        const int status = m_socket->httpStatus();
        const bool auth = status == 401 || status == 403;
        fail(u"cannot connect to Realtime API: "_s + m_socket->errorString(),
             auth ? u"unauthorized"_s : u"connect"_s);
        return;
    }
    if (m_socket->closeCode() == ws::Abnormal) {
        const QString why =
            m_socket->errorString().isEmpty() ? u"connection closed"_s : m_socket->errorString();
        fail(u"connection to Realtime API lost: "_s + why, u"connection_lost"_s);
        return;
    }
    const QString reason = m_socket->closeReason().isEmpty()
                               ? u"connection closed (code %1)"_s.arg(int(m_socket->closeCode()))
                               : u"closed by server: %1 (code %2)"_s.arg(m_socket->closeReason())
                                     .arg(int(m_socket->closeCode()));
    fail(reason, u"closed"_s);
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

void RealtimeClient::connectSocket()
{
    const QUrl url = connectUrl(m_endpoint);
    const QString apiKey = m_endpoint.currentApiKey ? m_endpoint.currentApiKey() : m_endpoint.apiKey;
    const QList<QPair<QByteArray, QByteArray>> headers = {
        m_endpoint.azure ? qMakePair(QByteArray("api-key"), apiKey.toUtf8())
                         : qMakePair(QByteArray("Authorization"), "Bearer " + apiKey.toUtf8())};
    m_state = State::Connecting;
    m_deadline.start(m_endpoint.handshakeTimeoutMs);
    qCDebug(lcRealtime) << "connecting to" << url.toString(QUrl::RemoveQuery);
    m_socket->open(url, headers);
}

void RealtimeClient::warmUp()
{
    if (m_state == State::Idle)
        connectSocket();
}

void RealtimeClient::start(const realtime::SessionConfig &config)
{
    if (m_configured || m_state == State::Closed)
        return;
    m_configured = true;
    m_config = config;
    m_config.model = m_endpoint.azure ? QString() : m_endpoint.model;
    if (m_state == State::Idle) {
        connectSocket();
    } else if (m_state == State::Warm) {
        m_deadline.start(m_endpoint.handshakeTimeoutMs); // for session.updated
        sendSessionUpdate();
    }
    // Still connecting (a warm-up in progress): session.created sends the update.
}

void RealtimeClient::sendSessionUpdate()
{
    m_updateEventId = u"vaani_session_update_1"_s;
    m_state = State::AwaitingUpdated;
    send(realtime::sessionUpdate(m_config, m_updateEventId));
    m_config = {}; // instructions and tools are the model's now; not kept for the whole call
}

void RealtimeClient::send(const QByteArray &clientEvent)
{
    if (m_state == State::Closed || !m_socket->isOpen())
        return;
    m_socket->sendText(clientEvent);
}

void RealtimeClient::close()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    m_liveness.stop();
    if (m_socket->isOpen())
        m_socket->close(ws::Normal, "call ended");
    else
        m_socket->abort();
}

void RealtimeClient::fail(const QString &reason, const QString &metricKind)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_deadline.stop();
    m_liveness.stop();
    m_metrics->realtimeError(metricKind);
    qCWarning(lcRealtime) << reason;
    m_socket->abort();
    Q_EMIT failed(reason);
}

bool RealtimeClient::tryFastAudioDelta(QByteArrayView text)
{
    // Hot path: audio deltas are most of the traffic. realtime::scanAudioDelta reads the three fields the
    // bridge needs; anything unusual (escapes, other shapes, audio that is not strict base64) takes the full
    // parser.
    realtime::AudioDeltaView view;
    if (m_state != State::Ready || !realtime::scanAudioDelta(text, &view))
        return false;
    realtime::Event &e = m_fastEvent;
    e.type = realtime::ServerEvent::OutputAudioDelta;
    if (e.responseId != QLatin1StringView(view.responseId))
        e.responseId = QString::fromUtf8(view.responseId);
    if (e.itemId != QLatin1StringView(view.itemId))
        e.itemId = QString::fromUtf8(view.itemId);
    e.audio.resize(view.delta.size());
    std::memcpy(e.audio.data(), view.delta.data(), size_t(view.delta.size()));
    Q_EMIT event(e);
    return true;
}

void RealtimeClient::onText(QByteArrayView utf8)
{
    if (m_state == State::Closed)
        return;
    if (tryFastAudioDelta(utf8))
        return;
    realtime::ParseResult r = realtime::parse(utf8.toByteArray());
    if (!r.ok()) {
        // Audio that is not strict base64 is never forwarded to the caller.
        m_metrics->realtimeError(r.status == realtime::ParseStatus::BadAudio ? u"invalid_audio"_s
                                                                             : u"malformed_event"_s);
        qCWarning(lcRealtime) << "unreadable server event:" << r.error;
        return;
    }
    realtime::Event &e = r.event;
    switch (m_state) {
    case State::AwaitingCreated:
    case State::Connecting:
        if (e.type == realtime::ServerEvent::SessionCreated) {
            m_created.start();
            if (m_configured) {
                sendSessionUpdate();
            } else {
                m_state = State::Warm;
                m_deadline.stop();
                Q_EMIT warmed();
            }
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
    case State::Warm: // idle until a call takes it; errors while idle end it
        if (e.type == realtime::ServerEvent::Error)
            fail(u"warm Realtime session ended: %1 (%2)"_s.arg(e.errorMessage, e.errorCode),
                 u"warm_session"_s);
        return;
    case State::Idle:
    case State::Closed:
        return;
    }
}

} // namespace vaani
