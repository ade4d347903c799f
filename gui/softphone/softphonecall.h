#pragma once
// The softphone's call engine: plays Twilio's part against vaani-server exactly as Twilio does — a signed
// form POST to /incoming-call, the TwiML's <Stream> URL and <Parameter>s, the WebSocket with the signature
// header, `connected` + `start`, 20 ms μ-law caller frames in real time, agent audio into a playback buffer,
// `clear` dropping queued audio at once, each `mark` echoed only after the audio before it has played, `stop`
// on hang-up. Audio in and out is 8 kHz PCM16; the audio devices or the headless player convert. Keeps a
// stereo recording (caller left, agent right, as heard). No widgets; lives on the GUI/main thread.

#include "twimlreader.h"
#include "wav.h"

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <deque>

namespace vaani::softphone {

class SoftphoneCall : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Dialing, Connecting, InCall, Ended };
    Q_ENUM(State)

    struct Settings
    {
        QUrl serverUrl; // http://host:port
        QString authToken;
        QString accountSid = QStringLiteral("AC00000000000000000000000000000000");
        QString from = QStringLiteral("+919876543210");
        QString to = QStringLiteral("+918000000000");
    };

    explicit SoftphoneCall(Settings settings, QObject *parent = nullptr);
    ~SoftphoneCall() override;

    void dial();
    void hangUp();
    void sendDtmf(const QString &digits);
    void setMuted(bool muted) { m_muted = muted; }
    bool isMuted() const { return m_muted; }

    // Caller side: 8 kHz samples to send, paced at 20 ms per frame.
    void pushCallerAudio(const QList<std::int16_t> &pcm8k);
    qsizetype pendingCallerSamples() const { return qsizetype(m_callerQueue.size()); }
    // Agent side, for an audio device: take up to `count` samples as they play (marks are echoed as the
    // position passes them). Without a device, enable the virtual player, which plays 160 samples per tick.
    QList<std::int16_t> pullAgentAudio(qsizetype count);
    void setVirtualPlayback(bool on) { m_virtualPlayback = on; }
    qsizetype bufferedAgentSamples() const { return qsizetype(m_playback.size()); }

    State state() const { return m_state; }
    qint64 elapsedMs() const { return m_clock.isValid() ? m_clock.elapsed() : 0; }
    bool agentSpeaking() const { return !m_playback.empty(); }
    // Agent samples received since the call started (never decreases; a clear does not take them back).
    qint64 agentSamplesReceived() const { return m_agentSamplesReceived; }
    qint64 msSinceAgentAudio() const;
    bool failed() const { return m_failed; }
    QString endReason() const { return m_endReason; }
    const twilio::TwimlDocument &twiml() const { return m_twiml; }
    Wav recording() const; // stereo 8 kHz PCM16: caller left, agent right

Q_SIGNALS:
    void stateChanged(vaani::softphone::SoftphoneCall::State state);
    void protocolEvent(const QString &name, const QString &detail); // start, media, mark, clear, stop, …
    void levels(double caller, double agent);                       // 0..1 per 20 ms
    void ended(const QString &reason, bool failed);

private:
    void setState(State s);
    void onWebhookReply(int status, const QByteArray &body, const QString &error);
    void openStream();
    void onText(const QString &text);
    void tick();
    void echoPlayedMarks();
    void finish(const QString &reason, bool failed);

    Settings m_settings;
    QNetworkAccessManager m_nam;
    QWebSocket m_ws;
    QTimer m_timer{this};
    QElapsedTimer m_clock;
    State m_state = State::Idle;
    twilio::TwimlDocument m_twiml;
    QString m_callSid;
    QString m_streamSid;
    qint64 m_seq = 0;
    qint64 m_chunk = 0;
    qint64 m_ticks = 0;
    bool m_muted = false;
    bool m_virtualPlayback = false;
    bool m_failed = false;
    bool m_hungUp = false;
    QString m_endReason;
    std::deque<std::int16_t> m_callerQueue;
    std::deque<std::int16_t> m_playback;
    qint64 m_played = 0;                            // agent samples played so far
    qint64 m_queuedEnd = 0;                         // position of the end of the playback buffer
    std::deque<QPair<qint64, QString>> m_marks;     // (position, name)
    std::deque<std::int16_t> m_agentRecentlyPlayed; // for the recording when a device pulls
    QList<std::int16_t> m_recCaller;
    QList<std::int16_t> m_recAgent;
    QElapsedTimer m_lastAgentAudio;
    bool m_sawAgentAudio = false;
    qint64 m_agentSamplesReceived = 0;
};

} // namespace vaani::softphone
