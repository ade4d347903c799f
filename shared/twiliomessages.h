#pragma once
// Twilio Media Streams messages (../shared/reference/twilio.md §2): a pure parser for every inbound event
// and serialisers for the outbound ones (and, for the call simulator, for Twilio's side too).
// The parser never throws or crashes, caps input size, and reports unknown events as such.

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <QStringList>

namespace vaani::twilio {

constexpr qsizetype kMaxInboundMessageBytes = 64 * 1024;

enum class Event { Connected, Start, Media, Mark, Dtmf, Stop, Unknown };
enum class ParseStatus { Ok, TooLarge, NotJson, NotObject, MissingField, BadField, BadPayload };

struct StartInfo
{
    QString streamSid;
    QString accountSid;
    QString callSid;
    QStringList tracks;
    QHash<QString, QString> customParameters;
    QString encoding;
    int sampleRate = 0;
    int channels = 0;
};

struct Message
{
    Event event = Event::Unknown;
    QString eventName;
    QString streamSid;
    qint64 sequenceNumber = 0;
    // connected
    QString protocol;
    QString version;
    // start
    StartInfo start;
    // media: the payload stays base64, exactly as received
    QByteArray payload;
    QString track;
    qint64 chunk = 0;
    qint64 timestamp = 0;
    // mark
    QString markName;
    // dtmf
    QString digit;
};

struct ParseResult
{
    ParseStatus status = ParseStatus::Ok;
    QString error;
    Message message;
    bool ok() const { return status == ParseStatus::Ok; }
};

ParseResult parse(QByteArrayView text, qsizetype maxBytes = kMaxInboundMessageBytes);
// The hot path for caller audio: true when `text` is certainly a media message (no escapes, exactly one
// "event" key, reading "media", and one "payload" key, both string-valued) with a strict base64
// payload, which *payload then views (and *timestamp the media timestamp string, when there is one).
// Whenever parse() also reads it as media, it reads the same payload; anything else returns false and goes to
// parse().
bool scanMedia(QByteArrayView text, QByteArrayView *payload, QByteArrayView *timestamp = nullptr);
QString eventName(Event e);

// Server → Twilio
QByteArray mediaMessage(const QString &streamSid, QByteArrayView payloadBase64);
QByteArray markMessage(const QString &streamSid, const QString &name);
// Hot path: the same messages appended to a reused buffer. Only for a SID and name that need no JSON escaping
// (isPlainJsonToken); the payload is base64.
bool isPlainJsonToken(QStringView s); // ASCII letters, digits, '_' and '-'
// Media payloads must be strict base64 (base64.h); otherwise nothing is appended (false) / returned (empty).
bool appendMediaMessage(QByteArray &out, QByteArrayView streamSid, QByteArrayView payloadBase64);
void appendMarkMessage(QByteArray &out, QByteArrayView streamSid, QByteArrayView name);
QByteArray clearMessage(const QString &streamSid);

// Twilio → server (used by the call simulator and the softphone)
QByteArray connectedMessage();
QByteArray startMessage(qint64 seq, const StartInfo &start);
QByteArray inboundMediaMessage(qint64 seq, const QString &streamSid, qint64 chunk, qint64 timestampMs,
                               QByteArrayView payloadBase64);
QByteArray markEchoMessage(qint64 seq, const QString &streamSid, const QString &name);
QByteArray dtmfMessage(qint64 seq, const QString &streamSid, const QString &digit);
QByteArray stopMessage(qint64 seq, const QString &streamSid, const QString &accountSid,
                       const QString &callSid);

} // namespace vaani::twilio
