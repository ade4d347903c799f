#pragma once
// ModelLeg over the OpenAI Realtime WebSocket (GA). Opens wss://…/realtime?model=…, authenticates with
// `Authorization: Bearer` (OpenAI) or `api-key` (Azure), sends session.update after session.created and
// becomes ready only when session.updated confirms audio/pcmu both ways, within a handshake deadline (socket,
// upgrade, session.created, session.updated). Lives on its session's thread; parented to the session.

#include "legs.h"
#include "settings.h"
#include "websocket.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QUrl>

namespace vaani {

class Metrics;

class RealtimeClient : public ModelLeg
{
    Q_OBJECT
public:
    RealtimeClient(RealtimeEndpoint endpoint, Metrics *metrics, QObject *parent = nullptr);
    ~RealtimeClient() override;

    // Connects and waits for session.created without configuring: a warm session for a later start().
    // Emits warmed() then; failed() if it cannot connect or drops while idle.
    void warmUp();
    bool isWarm() const { return m_state == State::Warm; }

    void start(const realtime::SessionConfig &config) override;
    void send(const QByteArray &clientEvent) override;
    void close() override;
    bool isReady() const override { return m_state == State::Ready; }
    qint64 sessionAgeMs() const override { return m_created.isValid() ? m_created.elapsed() : 0; }

    static QUrl connectUrl(const RealtimeEndpoint &e);

Q_SIGNALS:
    void warmed();

private:
    enum class State { Idle, Connecting, AwaitingCreated, Warm, AwaitingUpdated, Ready, Closed };
    void onText(QByteArrayView utf8);
    void onDisconnected();
    bool tryFastAudioDelta(QByteArrayView text);
    void connectSocket();
    void sendSessionUpdate();
    void fail(const QString &reason, const QString &metricKind);

    RealtimeEndpoint m_endpoint;
    Metrics *m_metrics;
    realtime::SessionConfig m_config;
    ws::WebSocket *m_socket = new ws::WebSocket(this); // a child (it moves with the client); disposed
    QTimer m_deadline{this}; // parented: moves with the session to the stream's thread
    QTimer m_liveness{this};
    quint64 m_framesAtTick = 0;
    int m_silentTicks = 0;
    void checkLiveness();
    State m_state = State::Idle;
    bool m_configured = false; // start() was called
    QString m_updateEventId;
    QElapsedTimer m_created;     // since session.created
    realtime::Event m_fastEvent; // reused for audio deltas (no per-delta allocation of the event itself)
};

} // namespace vaani
