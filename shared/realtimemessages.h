#pragma once
// OpenAI Realtime GA events (../shared/reference/openai-realtime.md): a pure parser for the server events the
// bridge acts on (beta spellings of audio/transcript events accepted too) and serialisers for every client
// event the bridge sends. The parser caps input size, never throws, and reports unknown types as Other.

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace vaani::realtime {

constexpr qsizetype kMaxServerEventBytes = 8 * 1024 * 1024;

enum class ServerEvent {
    SessionCreated,
    SessionUpdated,
    Error,
    ResponseCreated,
    ResponseDone,
    OutputAudioDelta,
    OutputAudioDone,
    OutputAudioTranscriptDelta,
    OutputAudioTranscriptDone,
    SpeechStarted,
    SpeechStopped,
    InputAudioCommitted,
    InputTranscriptionCompleted,
    InputTranscriptionFailed,
    FunctionCallArgumentsDone,
    OutputItemAdded,
    OutputItemDone,
    ItemTruncated,
    RateLimitsUpdated,
    Other
};

struct Usage
{
    qint64 totalTokens = 0;
    qint64 inputTextTokens = 0;
    qint64 inputAudioTokens = 0;
    qint64 inputCachedTokens = 0;
    qint64 outputTextTokens = 0;
    qint64 outputAudioTokens = 0;
};

struct Event
{
    ServerEvent type = ServerEvent::Other;
    QString typeName;
    QString eventId;
    QString responseId;
    QString itemId;
    QString callId;
    QString name;      // function name
    QString arguments; // function arguments (JSON text)
    QString text;      // transcript / transcript delta
    QByteArray audio;  // base64 audio delta, as received
    qint64 audioStartMs = -1;
    qint64 audioEndMs = -1;
    QString status; // response.status
    QString statusReason;
    QString itemType; // output item type (message / function_call)
    QString errorType;
    QString errorCode;
    QString errorMessage;
    QString errorParam;
    QString errorEventId;
    Usage usage;
    QJsonObject session; // session.created / session.updated
    QJsonObject raw;     // the whole event for everything else
};

enum class ParseStatus { Ok, TooLarge, NotJson, NotObject, MissingType, BadAudio };

struct ParseResult
{
    ParseStatus status = ParseStatus::Ok;
    QString error;
    Event event;
    bool ok() const { return status == ParseStatus::Ok; }
};

ParseResult parse(QByteArrayView text, qsizetype maxBytes = kMaxServerEventBytes);
// The hot path for agent audio: true when `text` is certainly an output audio delta (no escapes, exactly one
// "type" key reading response.output_audio.delta and one each of "delta", "response_id" and "item_id", all
// string-valued) with strict base64 audio. Whenever parse() also reads it as an audio delta, it reads the
// same fields; anything else returns false and goes to parse().
struct AudioDeltaView
{
    QByteArrayView delta;
    QByteArrayView responseId;
    QByteArrayView itemId;
};
bool scanAudioDelta(QByteArrayView text, AudioDeltaView *out);

struct TurnDetection
{
    double threshold = 0.5;
    int prefixPaddingMs = 300;
    int silenceDurationMs = 500;
    bool createResponse = true;
    bool interruptResponse = true;
    std::optional<int> idleTimeoutMs;
};

struct SessionConfig
{
    QString model;
    QString instructions;
    QString voice = QStringLiteral("marin");
    double speed = 1.0;
    TurnDetection vad;
    QString transcriptionModel = QStringLiteral("gpt-4o-mini-transcribe");
    QString transcriptionLanguage; // empty = let the model detect (Hinglish callers switch languages)
    // Guides the transcription's style: Hindi and English mixed, Hindi written in Latin letters, so the call
    // log reads in one script.
    QString transcriptionPrompt = QStringLiteral(
        "Phone call to an Indian online store's support line, in Hinglish: Hindi and English mixed. Write "
        "Hindi words in Latin letters (romanised), never in Devanagari: \"Mera order kab aayega? Delivery "
        "kal "
        "tak ho jayegi na?\" Order IDs look like ABC123; ticket numbers like TKT-1001.");
    QString noiseReduction = QStringLiteral("near_field");
    QJsonArray tools;
};

// True when session.audio.input.format and output.format are both audio/pcmu.
bool sessionUsesPcmu(const QJsonObject &session);

// Client events (GA shapes).
QJsonObject sessionObject(const SessionConfig &config);
QByteArray sessionUpdate(const SessionConfig &config, const QString &eventId = {});
QByteArray inputAudioAppend(QByteArrayView base64Audio);
// Audio must be strict base64 (base64.h): otherwise nothing is appended (false) or an empty message returned.
bool appendInputAudioAppend(QByteArray &out, QByteArrayView base64Audio); // the same into a reused buffer
QByteArray responseCreate(const QJsonObject &response = {}, const QString &eventId = {});
QByteArray responseCancel(const QString &responseId = {});
QByteArray itemTruncate(const QString &itemId, int contentIndex, qint64 audioEndMs);
QByteArray functionCallOutput(const QString &callId, const QString &output);
QByteArray userTextMessage(const QString &text);
// Conversation items a resumed session replays (the client cannot create assistant audio: agent turns go
// back as output_text).
QByteArray assistantTextMessage(const QString &text);
QByteArray functionCallItem(const QString &callId, const QString &name, const QString &arguments);

} // namespace vaani::realtime
