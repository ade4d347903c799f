#pragma once
// A protocol-faithful stand-in for the OpenAI Realtime API (GA interface), in the test process on 127.0.0.1.
// It checks the bearer (or api-key) header and answers a bad key with HTTP 401 before the upgrade, as the
// real API does; sends session.created, applies session.update (rejecting unknown fields with an error event
// and leaving the defaults), runs a simple energy VAD over the μ-law it receives (speech_started/stopped,
// committed, transcription), and plays scripted turns: audio deltas, transcripts, function calls. Echo mode
// answers each input_audio_buffer.append with an audio delta of the same bytes (for the benchmark).
// Every client event received is kept (and can be written as JSON lines for schema validation).

#include <QHash>
#include <QHttpServer>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTimer>
#include <QWebSocket>

#include <functional>
#include <memory>

namespace vaani {
class EspeakVoice;
}

namespace vaani::test {

// The session object as the GA API sends it in session.created (defaults: PCM 24 kHz, server VAD), and
// how session.update merges into it.
QJsonObject initialSession(const QString &id);
QJsonObject mergeSession(QJsonObject base, const QJsonObject &update);

struct FakeTurn
{
    QString callerTranscript;  // transcription of the caller's speech that triggered this turn
    QString functionName;      // if set, the response is a function call …
    QString functionArguments; // … with these arguments (JSON text)
    QString agentTranscript;   // spoken reply (after the function output, if any)
    int agentAudioMs = 1000;
    // Speak agentTranscript first and call the function at the end of the same response, as models do with
    // end_call and transfer_to_human ("say goodbye, then hang up").
    bool sayFirst = false;
};

class FakeRealtimeServer : public QObject
{
    Q_OBJECT
public:
    explicit FakeRealtimeServer(QObject *parent = nullptr);
    ~FakeRealtimeServer() override;

    bool listen();
    bool listenOn(quint16 port);
    QUrl url() const; // ws://127.0.0.1:port/v1/realtime

    // Behaviour
    QString expectedKey = QStringLiteral("sk-test-key");
    bool azure = false;
    bool rejectSessionUpdate = false;
    int connectDelayMs = 0;    // before session.created
    int firstAudioDelayMs = 0; // response.create → first audio delta
    int deltaMs = 100;         // audio per delta
    int greetingAudioMs = 1500;
    QString greetingTranscript =
        QStringLiteral("Namaste! Main Vaani hoon, aapki kaise madad kar sakti hoon?");
    QList<FakeTurn> turns;
    // Speech: when set, each spoken answer is this voice reading its transcript (8 kHz μ-law, as for
    // audio/pcmu) instead of a tone of the turn's fixed length; done gets empty audio on failure (then the
    // tone is sent). See EspeakVoice.
    std::function<void(const QString &text, std::function<void(const QByteArray &mulaw)> done)> voice;
    // Sets `voice` to this espeak-ng voice (μ-law of its 8 kHz speech; a tone, with a warning, when it
    // fails).
    void speakWith(EspeakVoice *speech);
    // How a tool's output is put into words where a turn's agentTranscript says {output} (default: as is).
    std::function<QString(const QString &output)> sayOutput;
    // Reads an order or ticket tool's JSON output as a short Hinglish sentence (for sayOutput).
    static QString hinglishToolAnswer(const QString &output);
    // vaani-fake-realtime's call (the README's no-key walkthrough): greeting; the caller's first turn looks
    // up ABC123 and the answer reads out the tool's output; the next turn says goodbye, then end_call.
    void useDemoScript();
    int vadThreshold = 800; // mean |sample| above which a 20 ms frame is speech
    // What the caller says in each utterance, in order (taken before the turns' callerTranscript): for
    // utterances that are not turns, such as a "haan" over the agent.
    QStringList utterances;

    // Observations
    struct Received
    {
        QString type;
        QJsonObject event;
    };
    QList<Received> received;
    QList<QJsonObject> receivedOfType(const QString &type) const;
    QList<QByteArray> rawEvents;
    int connections = 0;
    QStringList errorsSent; // codes (or types) of the error events sent
    int rejectedHandshakes = 0;
    QList<QByteArray> handshakeAuthHeaders;
    bool writeEvents(const QString &path) const;
    bool clientConnected() const;
    void closeAll(); // every connection reset (a network drop)
    // The API's end of a session at its maximum duration (error session_expired, then close 1001), for
    // every open session; sessions also expire by themselves after sessionLifetimeMs.
    void expireAll();
    int sessionLifetimeMs = 60 * 60 * 1000;
    int sessionsExpired = 0;
    bool responding() const; // a response is streaming on some session
    // A hostile or broken model: sends this text as is to every connected session.
    void sendRawToAll(const QString &text);

    // Monotonic time (ns, steady clock) at which each response's first audio delta was sent, by item id.
    QHash<QString, qint64> firstDeltaSentNs;

Q_SIGNALS:
    void eventReceived(const QString &type);

private:
    struct Session;
    void onConnection();
    void onMessage(Session *s, const QString &text);
    void send(Session *s, const QJsonObject &event);
    void sendError(Session *s, const QString &type, const QString &code, const QString &message,
                   const QString &param, const QString &eventId);
    void startResponse(Session *s, const QJsonObject &request);
    void streamAudio(Session *s);
    void finishResponse(Session *s, const QString &status, const QString &reason);
    // A function_call item as the API streams it (added, arguments delta and done, item done); returns the
    // item.
    QJsonObject sendFunctionCall(Session *s, int outputIndex, const QString &itemId, const FakeTurn &turn);
    void processAudio(Session *s, const QByteArray &mulaw);
    void expire(Session *s);
    QString nextId(const char *prefix);

    QHttpServer m_http;
    QList<Session *> m_sessions;
    quint16 m_port = 0;
    int m_ids = 0;
};

} // namespace vaani::test
