#pragma once
// One Twilio Media Streams WebSocket (server side). Parses Twilio's messages, enforces the limits (message
// size, a deadline for `start`, idle timeout, malformed-message budget), verifies the stream token in
// `start`, and sends media/mark/clear. Lives on the worker thread that accepted the socket and stays there.
// Owns its WebSocket; deletes itself after close.

#include "legs.h"
#include "settings.h"
#include "streamtokens.h"
#include "websocket.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>

namespace vaani {

class Metrics;

class MediaStream : public TelephonyLeg
{
    Q_OBJECT
public:
    MediaStream(std::unique_ptr<ws::WebSocket> socket, StreamTokens *tokens, Metrics *metrics,
                StreamLimits limits, QObject *parent = nullptr);
    // Twilio's REST API for redirect() (transfers, hang-ups); without it redirect() answers false at once.
    // Twilio's REST account for redirect(); `currentToken`, when given, supplies the auth token at each use
    // (it may be rotated during the call: SIGHUP).
    void setRestAccount(const TwilioAccount &account, std::function<QString()> currentToken = {})
    {
        m_account = account;
        m_currentToken = std::move(currentToken);
    }
    void redirect(const QByteArray &twiml,
                  std::function<void(bool ok, const QString &message)> done) override;
    ~MediaStream() override;

    void sendMedia(QByteArrayView payloadBase64, const QString &mark) override;
    void sendMark(const QString &name) override;
    void sendClear() override;
    void close(const QString &reason) override;
    // Closes with 1008 (policy), counted under `metricKind`: a stream the server will not serve.
    void refuse(const QString &reason, const QString &metricKind)
    {
        fail(ws::PolicyViolated, reason, metricKind);
    }
    bool isStarted() const override { return m_started; }
    QString streamSid() const override { return m_start.streamSid; }

    const twilio::StartInfo &startInfo() const { return m_start; }
    // The caller and called numbers of the signed webhook, from the verified stream token (never from the
    // stream's own parameters, which anyone holding a token could set).
    const StreamTokens::Bound &verifiedNumbers() const { return m_numbers; }
    const StreamTokens::Ticket &verifiedTicket() const { return m_ticket; }
    // Replays caller audio received since `start` (held until a session attached), then forwards live.
    void beginForwarding() override;

Q_SIGNALS:
    // `start` arrived and its token verified; the receiver must create or adopt a session and attach().
    void started(const vaani::twilio::StartInfo &start);

private:
    void onText(QByteArrayView utf8);
    bool tryFastMedia(QByteArrayView text);
    void deliverMedia(const QByteArray &payload,
                      qint64 timestampMs); // to the session, or held until it attaches
    void onDisconnected();
    void queueMark(const QString &name);
    void fail(ws::CloseCode code, const QString &reason, const QString &metricKind);
    void finish(const QString &reason);

    std::unique_ptr<ws::WebSocket> m_socket;
    QByteArray m_payload; // reused for each caller frame
    QByteArray m_message; // reused for each outgoing media/mark message
    QByteArray m_sidLatin1;
    bool m_plainSid = false; // the stream SID needs no JSON escaping (always, for Twilio's MZ… SIDs)
    StreamTokens *m_tokens;
    Metrics *m_metrics;
    StreamLimits m_limits;
    twilio::StartInfo m_start;
    TwilioAccount m_account;
    std::function<QString()> m_currentToken;
    StreamTokens::Bound m_numbers;
    StreamTokens::Ticket m_ticket;
    bool m_started = false;
    bool m_attached = false;
    bool m_finished = false;
    int m_malformed = 0;
    QList<QPair<QByteArray, qint64>> m_preAttach;
    QTimer m_startDeadline{this};
    QTimer m_idle{this};
    QElapsedTimer m_lastActivity;
};

} // namespace vaani
