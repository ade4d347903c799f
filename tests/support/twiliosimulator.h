#pragma once
// Plays Twilio's part of a call against vaani-server over real sockets: posts the voice webhook exactly as
// Twilio does (form-encoded, all the usual parameters, X-Twilio-Signature), parses the TwiML, opens the
// <Stream> URL with the signature header, and speaks Media Streams in real time: `connected`, `start` with
// the <Parameter>s, 20 ms μ-law frames with string counters, marks echoed only after the audio before them
// has "played" at 8 bytes/ms, `clear` dropping queued audio at once (echoing pending marks), `stop` on
// hang-up.

#include "twiliomessages.h"
#include "twiliosignature.h"
#include "twimlreader.h"

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkAccessManager>
#include <QObject>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <deque>

namespace vaani::test {

using TwimlDocument = twilio::TwimlDocument;

class TwilioSimulator : public QObject
{
    Q_OBJECT
public:
    explicit TwilioSimulator(QObject *parent = nullptr);
    ~TwilioSimulator() override;

    // Configuration
    QUrl webhookUrl;   // e.g. http://127.0.0.1:PORT/incoming-call
    QString authToken; // signs requests when set
    QString from = QStringLiteral("+919876543210");
    QString to = QStringLiteral("+918000000000");
    QString callSid;
    QString accountSid = QStringLiteral("AC00000000000000000000000000000001");
    bool signRequests = true;
    QSslConfiguration tls; // https:// and wss:// (e.g. trusting a test certificate); null: Qt's defaults

    // Step 1: POST the webhook. Emits webhookAnswered(status, body).
    void placeCall();
    // Step 2: follow the TwiML's <Stream>. Emits streamConnected / streamClosed.
    void openStream(const QString &overrideToken = {});
    void hangUp(); // sends `stop` then closes
    void sendDtmf(const QString &digit);
    void sendRaw(const QString &text);
    // Caller audio to send (μ-law bytes); silence is sent when empty.
    void queueCallerAudio(const QByteArray &mulaw);
    static QByteArray loudSpeech(int ms); // a tone the fake's VAD takes for speech

    // Results
    int webhookStatus = 0;
    QByteArray webhookBody;
    TwimlDocument twiml;
    QString streamSid;
    bool streamOpen = false;
    int closeCode = -1;
    QString closeReason;
    qint64 framesSent = 0;
    qint64 agentBytesReceived = 0;
    QByteArray agentAudioKept; // the agent's μ-law as received, up to keepAgentAudio bytes
    qsizetype keepAgentAudio = 0;
    qint64 agentBytesPlayed = 0;
    qint64 agentBytesCleared = 0;
    int clears = 0;
    int marksEchoed = 0;
    qint64 playedAtLastClear = -1; // agent bytes played when the last clear arrived
    qint64 firstAudioAfterStartMs = -1;
    QStringList events;          // inbound events in order ("media", "mark", "clear")
    QStringList invalidMessages; // inbound messages Twilio would refuse (not JSON, media not base64)

Q_SIGNALS:
    void webhookAnswered(int status);
    void streamConnected();
    void streamClosed();
    void clearReceived();
    void agentAudio();

private:
    void onText(const QString &text);
    void tick();
    void echoMarksUpTo(qint64 playedPosition);

    QNetworkAccessManager m_nam;
    QWebSocket m_ws;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_framesDue = 0;
    qint64 m_seq = 0;
    qint64 m_chunk = 0;
    QByteArray m_callerAudio;
    QByteArray m_playback;                      // agent audio queued at "Twilio"
    qint64 m_queuedTotal = 0;                   // bytes ever queued (position of the queue end)
    std::deque<QPair<qint64, QString>> m_marks; // (queue position when sent, name)
};

} // namespace vaani::test
