#include "twiliomessages.h"

#include "base64.h"
#include "jsonscan.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

using namespace Qt::StringLiterals;

namespace vaani::twilio {

namespace {
constexpr qsizetype kMaxPayloadBase64 = 48 * 1024;

// Twilio sends counters as JSON strings; accept numbers too, reject anything else.
bool counter(const QJsonValue &v, qint64 *out)
{
    if (v.isString()) {
        bool ok = false;
        *out = v.toString().toLongLong(&ok);
        return ok && *out >= 0;
    }
    if (v.isDouble()) {
        // Range first: converting a double beyond qint64 is undefined behaviour. 2^53 keeps it exact.
        const double d = v.toDouble();
        if (!(d >= 0 && d <= 9007199254740992.0))
            return false;
        *out = qint64(d);
        return double(*out) == d;
    }
    return false;
}

ParseResult failure(ParseStatus s, const QString &msg)
{
    ParseResult r;
    r.status = s;
    r.error = msg;
    return r;
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
} // namespace

bool scanMedia(QByteArrayView text, QByteArrayView *payload, QByteArrayView *timestamp)
{
    if (text.size() > kMaxInboundMessageBytes || !jsonscan::isPlainObject(text))
        return false;
    static constexpr QByteArrayView keys[] = {"event", "payload", "timestamp"};
    const auto k = jsonscan::scanKeys(text, keys);
    // One "event" (reading media) and one "payload" in the whole text, both string-valued: whenever the
    // full parser reads this as media, its payload is this one. Anything else takes the full parser.
    if (k.count[0] != 1 || !k.stringValue[0] || k.value[0] != "media" || k.count[1] != 1 ||
        !k.stringValue[1] || k.value[1].size() > kMaxPayloadBase64 || !base64::isStrict(k.value[1]))
        return false;
    *payload = k.value[1];
    if (timestamp)
        *timestamp = k.count[2] == 1 && k.stringValue[2] ? k.value[2] : QByteArrayView();
    return true;
}

QString eventName(Event e)
{
    switch (e) {
    case Event::Connected:
        return u"connected"_s;
    case Event::Start:
        return u"start"_s;
    case Event::Media:
        return u"media"_s;
    case Event::Mark:
        return u"mark"_s;
    case Event::Dtmf:
        return u"dtmf"_s;
    case Event::Stop:
        return u"stop"_s;
    case Event::Unknown:
        break;
    }
    return u"unknown"_s;
}

ParseResult parse(QByteArrayView text, qsizetype maxBytes)
{
    if (text.size() > maxBytes)
        return failure(ParseStatus::TooLarge,
                       u"message of %1 bytes exceeds %2"_s.arg(text.size()).arg(maxBytes));
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(text.toByteArray(), &err);
    if (err.error != QJsonParseError::NoError)
        return failure(ParseStatus::NotJson,
                       u"invalid JSON: %1 at %2"_s.arg(err.errorString()).arg(err.offset));
    if (!doc.isObject())
        return failure(ParseStatus::NotObject, u"message is not a JSON object"_s);
    const QJsonObject o = doc.object();
    const QJsonValue ev = o.value(u"event"_s);
    if (!ev.isString())
        return failure(ParseStatus::MissingField, u"missing string field 'event'"_s);

    ParseResult r;
    Message &m = r.message;
    m.eventName = ev.toString();
    m.streamSid = o.value(u"streamSid"_s).toString();
    if (o.contains(u"sequenceNumber"_s) && !counter(o.value(u"sequenceNumber"_s), &m.sequenceNumber))
        return failure(ParseStatus::BadField, u"sequenceNumber is not a counter"_s);

    if (m.eventName == u"connected"_s) {
        m.event = Event::Connected;
        m.protocol = o.value(u"protocol"_s).toString();
        m.version = o.value(u"version"_s).toString();
    } else if (m.eventName == u"start"_s) {
        m.event = Event::Start;
        const QJsonValue sv = o.value(u"start"_s);
        if (!sv.isObject())
            return failure(ParseStatus::MissingField, u"start event without 'start' object"_s);
        const QJsonObject s = sv.toObject();
        StartInfo &st = m.start;
        st.streamSid = s.value(u"streamSid"_s).toString(m.streamSid);
        if (m.streamSid.isEmpty())
            m.streamSid = st.streamSid;
        st.accountSid = s.value(u"accountSid"_s).toString();
        st.callSid = s.value(u"callSid"_s).toString();
        if (st.streamSid.isEmpty() || st.callSid.isEmpty())
            return failure(ParseStatus::MissingField, u"start event without streamSid or callSid"_s);
        for (const QJsonValue t : s.value(u"tracks"_s).toArray())
            st.tracks << t.toString();
        const QJsonValue cp = s.value(u"customParameters"_s);
        if (!cp.isUndefined() && !cp.isObject())
            return failure(ParseStatus::BadField, u"customParameters is not an object"_s);
        const QJsonObject params = cp.toObject();
        for (auto it = params.begin(); it != params.end(); ++it) {
            if (!it.value().isString())
                return failure(ParseStatus::BadField,
                               u"custom parameter '%1' is not a string"_s.arg(it.key()));
            st.customParameters.insert(it.key(), it.value().toString());
        }
        const QJsonObject fmt = s.value(u"mediaFormat"_s).toObject();
        st.encoding = fmt.value(u"encoding"_s).toString();
        qint64 rate = 0, channels = 0;
        if ((fmt.contains(u"sampleRate"_s) && !counter(fmt.value(u"sampleRate"_s), &rate)) ||
            (fmt.contains(u"channels"_s) && !counter(fmt.value(u"channels"_s), &channels)) ||
            rate > 1000000 || channels > 64)
            return failure(ParseStatus::BadField, u"mediaFormat has an invalid sampleRate or channels"_s);
        st.sampleRate = int(rate);
        st.channels = int(channels);
    } else if (m.eventName == u"media"_s) {
        m.event = Event::Media;
        const QJsonObject media = o.value(u"media"_s).toObject();
        const QJsonValue payload = media.value(u"payload"_s);
        if (!payload.isString())
            return failure(ParseStatus::MissingField, u"media event without string payload"_s);
        const QString p = payload.toString();
        if (p.size() > kMaxPayloadBase64)
            return failure(ParseStatus::TooLarge, u"media payload too large"_s);
        m.payload = p.toLatin1();
        if (QLatin1StringView(m.payload) != p || !base64::isStrict(m.payload))
            return failure(ParseStatus::BadPayload, u"media payload is not base64"_s);
        m.track = media.value(u"track"_s).toString();
        if (media.contains(u"chunk"_s) && !counter(media.value(u"chunk"_s), &m.chunk))
            return failure(ParseStatus::BadField, u"media.chunk is not a counter"_s);
        if (media.contains(u"timestamp"_s) && !counter(media.value(u"timestamp"_s), &m.timestamp))
            return failure(ParseStatus::BadField, u"media.timestamp is not a counter"_s);
    } else if (m.eventName == u"mark"_s) {
        m.event = Event::Mark;
        const QJsonValue name = o.value(u"mark"_s).toObject().value(u"name"_s);
        if (!name.isString())
            return failure(ParseStatus::MissingField, u"mark event without mark.name"_s);
        m.markName = name.toString();
    } else if (m.eventName == u"dtmf"_s) {
        m.event = Event::Dtmf;
        const QJsonObject d = o.value(u"dtmf"_s).toObject();
        m.digit = d.value(u"digit"_s).toString();
        m.track = d.value(u"track"_s).toString();
        if (m.digit.isEmpty())
            return failure(ParseStatus::MissingField, u"dtmf event without digit"_s);
    } else if (m.eventName == u"stop"_s) {
        m.event = Event::Stop;
        const QJsonObject s = o.value(u"stop"_s).toObject();
        m.start.accountSid = s.value(u"accountSid"_s).toString();
        m.start.callSid = s.value(u"callSid"_s).toString();
    } else {
        m.event = Event::Unknown;
    }
    return r;
}

bool isPlainJsonToken(QStringView s)
{
    for (QChar c : s) {
        if (!(c.isLetterOrNumber() || c == u'_' || c == u'-') || c.unicode() >= 128)
            return false;
    }
    return true;
}

namespace {
// {"event":"<event>","streamSid":"<sid>","<event>":{"<field>":"<value>"}} — the shape of media and mark.
void appendNested(QByteArray &out, QByteArrayView event, QByteArrayView streamSid, QByteArrayView field,
                  QByteArrayView value)
{
    out.append(R"({"event":")").append(event).append(R"(","streamSid":")").append(streamSid).append(R"(",")");
    out.append(event).append(R"(":{")").append(field).append(R"(":")").append(value).append(R"("}})");
}
} // namespace

bool appendMediaMessage(QByteArray &out, QByteArrayView streamSid, QByteArrayView payloadBase64)
{
    if (!base64::isStrict(payloadBase64))
        return false; // pasted unescaped: only strict base64 can never break out of the string
    appendNested(out, "media", streamSid, "payload", payloadBase64);
    return true;
}

void appendMarkMessage(QByteArray &out, QByteArrayView streamSid, QByteArrayView name)
{
    appendNested(out, "mark", streamSid, "name", name);
}

QByteArray mediaMessage(const QString &streamSid, QByteArrayView payloadBase64)
{
    // Hand-assembled: this is the hot path and both strings are JSON-safe (SID is alphanumeric,
    // the payload is base64), so no escaping is needed. Other SIDs fall back to the JSON writer.
    if (!base64::isStrict(payloadBase64))
        return {};
    if (!isPlainJsonToken(streamSid))
        return compact({{u"event"_s, u"media"_s},
                        {u"streamSid"_s, streamSid},
                        {u"media"_s, QJsonObject{{u"payload"_s, QString::fromLatin1(payloadBase64)}}}});
    QByteArray out;
    out.reserve(60 + streamSid.size() + payloadBase64.size());
    appendMediaMessage(out, streamSid.toLatin1(), payloadBase64); // checked above
    return out;
}

QByteArray markMessage(const QString &streamSid, const QString &name)
{
    if (!isPlainJsonToken(streamSid) || !isPlainJsonToken(name))
        return compact({{u"event"_s, u"mark"_s},
                        {u"streamSid"_s, streamSid},
                        {u"mark"_s, QJsonObject{{u"name"_s, name}}}});
    QByteArray out;
    appendMarkMessage(out, streamSid.toLatin1(), name.toLatin1());
    return out;
}

QByteArray clearMessage(const QString &streamSid)
{
    return compact({{u"event"_s, u"clear"_s}, {u"streamSid"_s, streamSid}});
}

QByteArray connectedMessage()
{
    return compact({{u"event"_s, u"connected"_s}, {u"protocol"_s, u"Call"_s}, {u"version"_s, u"1.0.0"_s}});
}

QByteArray startMessage(qint64 seq, const StartInfo &s)
{
    QJsonObject params;
    for (auto it = s.customParameters.begin(); it != s.customParameters.end(); ++it)
        params.insert(it.key(), it.value());
    QJsonArray tracks;
    for (const QString &t : s.tracks)
        tracks.append(t);
    const QJsonObject start{{u"streamSid"_s, s.streamSid},
                            {u"accountSid"_s, s.accountSid},
                            {u"callSid"_s, s.callSid},
                            {u"tracks"_s, tracks},
                            {u"customParameters"_s, params},
                            {u"mediaFormat"_s, QJsonObject{{u"encoding"_s, s.encoding},
                                                           {u"sampleRate"_s, s.sampleRate},
                                                           {u"channels"_s, s.channels}}}};
    return compact({{u"event"_s, u"start"_s},
                    {u"sequenceNumber"_s, QString::number(seq)},
                    {u"streamSid"_s, s.streamSid},
                    {u"start"_s, start}});
}

QByteArray inboundMediaMessage(qint64 seq, const QString &streamSid, qint64 chunk, qint64 timestampMs,
                               QByteArrayView payloadBase64)
{
    return compact({{u"event"_s, u"media"_s},
                    {u"sequenceNumber"_s, QString::number(seq)},
                    {u"streamSid"_s, streamSid},
                    {u"media"_s, QJsonObject{{u"track"_s, u"inbound"_s},
                                             {u"chunk"_s, QString::number(chunk)},
                                             {u"timestamp"_s, QString::number(timestampMs)},
                                             {u"payload"_s, QString::fromLatin1(payloadBase64)}}}});
}

QByteArray markEchoMessage(qint64 seq, const QString &streamSid, const QString &name)
{
    return compact({{u"event"_s, u"mark"_s},
                    {u"sequenceNumber"_s, QString::number(seq)},
                    {u"streamSid"_s, streamSid},
                    {u"mark"_s, QJsonObject{{u"name"_s, name}}}});
}

QByteArray dtmfMessage(qint64 seq, const QString &streamSid, const QString &digit)
{
    return compact({{u"event"_s, u"dtmf"_s},
                    {u"sequenceNumber"_s, QString::number(seq)},
                    {u"streamSid"_s, streamSid},
                    {u"dtmf"_s, QJsonObject{{u"track"_s, u"inbound_track"_s}, {u"digit"_s, digit}}}});
}

QByteArray stopMessage(qint64 seq, const QString &streamSid, const QString &accountSid,
                       const QString &callSid)
{
    return compact({{u"event"_s, u"stop"_s},
                    {u"sequenceNumber"_s, QString::number(seq)},
                    {u"streamSid"_s, streamSid},
                    {u"stop"_s, QJsonObject{{u"accountSid"_s, accountSid}, {u"callSid"_s, callSid}}}});
}

} // namespace vaani::twilio
