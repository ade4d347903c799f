#include "realtimemessages.h"

#include "base64.h"
#include "jsonscan.h"

#include <QHash>
#include <QJsonDocument>
#include <QJsonParseError>

using namespace Qt::StringLiterals;

namespace vaani::realtime {

namespace {
const QHash<QString, ServerEvent> &typeTable()
{
    static const QHash<QString, ServerEvent> t = {
        {u"session.created"_s, ServerEvent::SessionCreated},
        {u"session.updated"_s, ServerEvent::SessionUpdated},
        {u"error"_s, ServerEvent::Error},
        {u"response.created"_s, ServerEvent::ResponseCreated},
        {u"response.done"_s, ServerEvent::ResponseDone},
        {u"response.output_audio.delta"_s, ServerEvent::OutputAudioDelta},
        {u"response.audio.delta"_s, ServerEvent::OutputAudioDelta},
        {u"response.output_audio.done"_s, ServerEvent::OutputAudioDone},
        {u"response.audio.done"_s, ServerEvent::OutputAudioDone},
        {u"response.output_audio_transcript.delta"_s, ServerEvent::OutputAudioTranscriptDelta},
        {u"response.audio_transcript.delta"_s, ServerEvent::OutputAudioTranscriptDelta},
        {u"response.output_audio_transcript.done"_s, ServerEvent::OutputAudioTranscriptDone},
        {u"response.audio_transcript.done"_s, ServerEvent::OutputAudioTranscriptDone},
        {u"input_audio_buffer.speech_started"_s, ServerEvent::SpeechStarted},
        {u"input_audio_buffer.speech_stopped"_s, ServerEvent::SpeechStopped},
        {u"input_audio_buffer.committed"_s, ServerEvent::InputAudioCommitted},
        {u"conversation.item.input_audio_transcription.completed"_s,
         ServerEvent::InputTranscriptionCompleted},
        {u"conversation.item.input_audio_transcription.failed"_s, ServerEvent::InputTranscriptionFailed},
        {u"response.function_call_arguments.done"_s, ServerEvent::FunctionCallArgumentsDone},
        {u"response.output_item.added"_s, ServerEvent::OutputItemAdded},
        {u"response.output_item.done"_s, ServerEvent::OutputItemDone},
        {u"conversation.item.truncated"_s, ServerEvent::ItemTruncated},
        {u"rate_limits.updated"_s, ServerEvent::RateLimitsUpdated},
    };
    return t;
}

qint64 ms(const QJsonObject &o, const QString &key)
{
    const QJsonValue v = o.value(key);
    // A time in ms: a non-negative whole number below 2^53 (converting a larger double is undefined), else
    // absent (-1).
    if (!v.isDouble())
        return -1;
    const double d = v.toDouble();
    return d >= 0 && d <= 9007199254740992.0 ? qint64(d) : -1;
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Usage parseUsage(const QJsonObject &u)
{
    Usage r;
    r.totalTokens = u.value(u"total_tokens"_s).toInteger();
    const QJsonObject in = u.value(u"input_token_details"_s).toObject();
    const QJsonObject out = u.value(u"output_token_details"_s).toObject();
    r.inputTextTokens = in.value(u"text_tokens"_s).toInteger();
    r.inputAudioTokens = in.value(u"audio_tokens"_s).toInteger();
    r.inputCachedTokens = in.value(u"cached_tokens"_s).toInteger();
    r.outputTextTokens = out.value(u"text_tokens"_s).toInteger();
    r.outputAudioTokens = out.value(u"audio_tokens"_s).toInteger();
    if (in.isEmpty() && out.isEmpty()) {
        r.inputTextTokens = u.value(u"input_tokens"_s).toInteger();
        r.outputTextTokens = u.value(u"output_tokens"_s).toInteger();
    }
    return r;
}
} // namespace

bool scanAudioDelta(QByteArrayView text, AudioDeltaView *out)
{
    if (text.size() > kMaxServerEventBytes || !jsonscan::isPlainObject(text))
        return false;
    static constexpr QByteArrayView keys[] = {"type", "delta", "response_id", "item_id"};
    const auto k = jsonscan::scanKeys(text, keys);
    for (int i = 0; i < 4; ++i) {
        // Members of the event itself: a "delta" inside some nested object is not the audio.
        if (k.count[i] != 1 || !k.stringValue[i] || k.depth[i] != 1)
            return false;
    }
    if (k.value[0] != "response.output_audio.delta" || !base64::isStrict(k.value[1]))
        return false;
    out->delta = k.value[1];
    out->responseId = k.value[2];
    out->itemId = k.value[3];
    return true;
}

ParseResult parse(QByteArrayView text, qsizetype maxBytes)
{
    ParseResult r;
    if (text.size() > maxBytes) {
        r.status = ParseStatus::TooLarge;
        r.error = u"event of %1 bytes exceeds %2"_s.arg(text.size()).arg(maxBytes);
        return r;
    }
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(text.toByteArray(), &err);
    if (err.error != QJsonParseError::NoError) {
        r.status = ParseStatus::NotJson;
        r.error = u"invalid JSON: %1"_s.arg(err.errorString());
        return r;
    }
    if (!doc.isObject()) {
        r.status = ParseStatus::NotObject;
        r.error = u"event is not a JSON object"_s;
        return r;
    }
    const QJsonObject o = doc.object();
    const QJsonValue type = o.value(u"type"_s);
    if (!type.isString()) {
        r.status = ParseStatus::MissingType;
        r.error = u"event without string 'type'"_s;
        return r;
    }
    Event &e = r.event;
    e.typeName = type.toString();
    e.type = typeTable().value(e.typeName, ServerEvent::Other);
    e.eventId = o.value(u"event_id"_s).toString();
    e.responseId = o.value(u"response_id"_s).toString();
    e.itemId = o.value(u"item_id"_s).toString();

    switch (e.type) {
    case ServerEvent::SessionCreated:
    case ServerEvent::SessionUpdated:
        e.session = o.value(u"session"_s).toObject();
        break;
    case ServerEvent::Error: {
        const QJsonObject er = o.value(u"error"_s).toObject();
        e.errorType = er.value(u"type"_s).toString();
        e.errorCode = er.value(u"code"_s).toString();
        e.errorMessage = er.value(u"message"_s).toString();
        e.errorParam = er.value(u"param"_s).toString();
        e.errorEventId = er.value(u"event_id"_s).toString();
        break;
    }
    case ServerEvent::ResponseCreated:
    case ServerEvent::ResponseDone: {
        const QJsonObject resp = o.value(u"response"_s).toObject();
        e.responseId = resp.value(u"id"_s).toString();
        e.status = resp.value(u"status"_s).toString();
        const QJsonObject details = resp.value(u"status_details"_s).toObject();
        e.statusReason = details.value(u"reason"_s).toString();
        const QJsonObject detailError = details.value(u"error"_s).toObject();
        e.errorType = detailError.value(u"type"_s).toString();
        e.errorCode = detailError.value(u"code"_s).toString();
        e.usage = parseUsage(resp.value(u"usage"_s).toObject());
        e.raw = o;
        break;
    }
    case ServerEvent::OutputAudioDelta: {
        const QString delta = o.value(u"delta"_s).toString();
        e.audio = delta.toLatin1();
        if (!delta.isEmpty() && (QLatin1StringView(e.audio) != delta || !base64::isStrict(e.audio))) {
            r.status = ParseStatus::BadAudio;
            r.error = u"audio delta is not base64"_s;
            e.audio.clear();
            return r;
        }
    } break;
    case ServerEvent::OutputAudioTranscriptDelta:
        e.text = o.value(u"delta"_s).toString();
        break;
    case ServerEvent::OutputAudioTranscriptDone:
    case ServerEvent::InputTranscriptionCompleted:
        e.text = o.value(u"transcript"_s).toString();
        break;
    case ServerEvent::InputTranscriptionFailed: {
        const QJsonObject er = o.value(u"error"_s).toObject();
        e.errorCode = er.value(u"code"_s).toString();
        e.errorMessage = er.value(u"message"_s).toString();
        break;
    }
    case ServerEvent::SpeechStarted:
    case ServerEvent::SpeechStopped:
    case ServerEvent::InputAudioCommitted:
    case ServerEvent::ItemTruncated:
        e.audioStartMs = ms(o, u"audio_start_ms"_s);
        e.audioEndMs = ms(o, u"audio_end_ms"_s);
        break;
    case ServerEvent::FunctionCallArgumentsDone:
        e.callId = o.value(u"call_id"_s).toString();
        e.name = o.value(u"name"_s).toString();
        e.arguments = o.value(u"arguments"_s).toString();
        break;
    case ServerEvent::OutputItemAdded:
    case ServerEvent::OutputItemDone: {
        const QJsonObject item = o.value(u"item"_s).toObject();
        e.itemId = item.value(u"id"_s).toString();
        e.itemType = item.value(u"type"_s).toString();
        e.callId = item.value(u"call_id"_s).toString();
        e.name = item.value(u"name"_s).toString();
        e.arguments = item.value(u"arguments"_s).toString();
        e.status = item.value(u"status"_s).toString();
        break;
    }
    case ServerEvent::OutputAudioDone:
    case ServerEvent::RateLimitsUpdated:
        break;
    case ServerEvent::Other:
        e.raw = o;
        break;
    }
    return r;
}

bool sessionUsesPcmu(const QJsonObject &session)
{
    const QJsonObject audio = session.value(u"audio"_s).toObject();
    const auto fmt = [&](const QString &dir) {
        return audio.value(dir).toObject().value(u"format"_s).toObject().value(u"type"_s).toString();
    };
    return fmt(u"input"_s) == u"audio/pcmu"_s && fmt(u"output"_s) == u"audio/pcmu"_s;
}

QJsonObject sessionObject(const SessionConfig &c)
{
    QJsonObject vad{
        {u"type"_s, u"server_vad"_s},
        {u"threshold"_s, c.vad.threshold},
        {u"prefix_padding_ms"_s, c.vad.prefixPaddingMs},
        {u"silence_duration_ms"_s, c.vad.silenceDurationMs},
        {u"create_response"_s, c.vad.createResponse},
        {u"interrupt_response"_s, c.vad.interruptResponse},
        {u"idle_timeout_ms"_s, c.vad.idleTimeoutMs ? QJsonValue(*c.vad.idleTimeoutMs) : QJsonValue()}};
    QJsonObject input{{u"format"_s, QJsonObject{{u"type"_s, u"audio/pcmu"_s}}}, {u"turn_detection"_s, vad}};
    if (!c.transcriptionModel.isEmpty()) {
        QJsonObject tr{{u"model"_s, c.transcriptionModel}};
        if (!c.transcriptionLanguage.isEmpty())
            tr.insert(u"language"_s, c.transcriptionLanguage);
        if (!c.transcriptionPrompt.isEmpty())
            tr.insert(u"prompt"_s, c.transcriptionPrompt);
        input.insert(u"transcription"_s, tr);
    }
    input.insert(u"noise_reduction"_s, c.noiseReduction.isEmpty()
                                           ? QJsonValue()
                                           : QJsonValue(QJsonObject{{u"type"_s, c.noiseReduction}}));
    const QJsonObject output{{u"format"_s, QJsonObject{{u"type"_s, u"audio/pcmu"_s}}},
                             {u"voice"_s, c.voice},
                             {u"speed"_s, c.speed}};
    QJsonObject session{{u"type"_s, u"realtime"_s},
                        {u"output_modalities"_s, QJsonArray{u"audio"_s}},
                        {u"instructions"_s, c.instructions},
                        {u"audio"_s, QJsonObject{{u"input"_s, input}, {u"output"_s, output}}},
                        {u"tools"_s, c.tools},
                        {u"tool_choice"_s, u"auto"_s}};
    if (!c.model.isEmpty())
        session.insert(u"model"_s, c.model);
    return session;
}

QByteArray sessionUpdate(const SessionConfig &config, const QString &eventId)
{
    QJsonObject o{{u"type"_s, u"session.update"_s}, {u"session"_s, sessionObject(config)}};
    if (!eventId.isEmpty())
        o.insert(u"event_id"_s, eventId);
    return compact(o);
}

bool appendInputAudioAppend(QByteArray &out, QByteArrayView base64Audio)
{
    // Hot path: assembled directly. Only strict base64 is pasted (it needs no JSON escaping); anything else
    // could carry a quote and with it a second event into the model session.
    if (!base64::isStrict(base64Audio))
        return false;
    out.append(R"({"type":"input_audio_buffer.append","audio":")");
    out.append(base64Audio);
    out.append(R"("})");
    return true;
}

QByteArray inputAudioAppend(QByteArrayView base64Audio)
{
    QByteArray out;
    out.reserve(48 + base64Audio.size());
    if (!appendInputAudioAppend(out, base64Audio))
        return {};
    return out;
}

QByteArray responseCreate(const QJsonObject &response, const QString &eventId)
{
    QJsonObject o{{u"type"_s, u"response.create"_s}};
    if (!response.isEmpty())
        o.insert(u"response"_s, response);
    if (!eventId.isEmpty())
        o.insert(u"event_id"_s, eventId);
    return compact(o);
}

QByteArray responseCancel(const QString &responseId)
{
    QJsonObject o{{u"type"_s, u"response.cancel"_s}};
    if (!responseId.isEmpty())
        o.insert(u"response_id"_s, responseId);
    return compact(o);
}

QByteArray itemTruncate(const QString &itemId, int contentIndex, qint64 audioEndMs)
{
    return compact({{u"type"_s, u"conversation.item.truncate"_s},
                    {u"item_id"_s, itemId},
                    {u"content_index"_s, contentIndex},
                    {u"audio_end_ms"_s, audioEndMs}});
}

QByteArray functionCallOutput(const QString &callId, const QString &output)
{
    return compact({{u"type"_s, u"conversation.item.create"_s},
                    {u"item"_s, QJsonObject{{u"type"_s, u"function_call_output"_s},
                                            {u"call_id"_s, callId},
                                            {u"output"_s, output}}}});
}

QByteArray assistantTextMessage(const QString &text)
{
    // GA: the client may add assistant text (output_text), never assistant audio.
    const QJsonObject content{{u"type"_s, u"output_text"_s}, {u"text"_s, text}};
    return compact({{u"type"_s, u"conversation.item.create"_s},
                    {u"item"_s, QJsonObject{{u"type"_s, u"message"_s},
                                            {u"role"_s, u"assistant"_s},
                                            {u"content"_s, QJsonArray{content}}}}});
}

QByteArray functionCallItem(const QString &callId, const QString &name, const QString &arguments)
{
    return compact({{u"type"_s, u"conversation.item.create"_s},
                    {u"item"_s, QJsonObject{{u"type"_s, u"function_call"_s},
                                            {u"call_id"_s, callId},
                                            {u"name"_s, name},
                                            {u"arguments"_s, arguments}}}});
}

QByteArray userTextMessage(const QString &text)
{
    const QJsonObject content{{u"type"_s, u"input_text"_s}, {u"text"_s, text}};
    return compact({{u"type"_s, u"conversation.item.create"_s},
                    {u"item"_s, QJsonObject{{u"type"_s, u"message"_s},
                                            {u"role"_s, u"user"_s},
                                            {u"content"_s, QJsonArray{content}}}}});
}

} // namespace vaani::realtime
