// The fake Realtime API's side of a conversation: responses (audio deltas at the real pace, transcripts,
// function calls, cancellation and completion) and the energy VAD that turns the caller's audio into
// speech_started/speech_stopped. The connection, session and event handling are in fakerealtime.cpp.
#include "fakerealtime.h"
#include "fakerealtime_p.h"

#include "mulaw.h"

#include <QJsonDocument>
#include <QtMath>

#include <chrono>
#include <utility>

using namespace Qt::StringLiterals;

namespace vaani::test {

namespace {
QByteArray tone(int ms, int phase)
{
    QList<std::int16_t> pcm(ms * 8);
    for (qsizetype i = 0; i < pcm.size(); ++i)
        pcm[i] = std::int16_t(6000 * std::sin(2 * M_PI * 440.0 * double(i + phase) / 8000.0));
    return mulaw::encode(pcm);
}
} // namespace

void FakeRealtimeServer::startResponse(Session *s, const QJsonObject &request)
{
    s->active = true;
    s->responseId = nextId("resp");
    s->itemId = nextId("item");
    s->audioMsSent = 0;
    s->transcriptSent = 0;
    s->speech.clear();
    send(s, {{u"type"_s, u"response.created"_s},
             {u"response"_s, QJsonObject{{u"id"_s, s->responseId},
                                         {u"object"_s, u"realtime.response"_s},
                                         {u"status"_s, u"in_progress"_s},
                                         {u"output"_s, QJsonArray()}}}});
    const FakeTurn *turn = s->turnIndex < turns.size() ? &turns.at(s->turnIndex) : nullptr;
    if (!s->greeted) {
        s->greeted = true;
        s->transcript = greetingTranscript;
        s->audioMsLeft = greetingAudioMs;
        Q_UNUSED(request);
    } else if (s->awaitingOutput && turn) {
        s->awaitingOutput = false;
        s->transcript = QString(turn->agentTranscript)
                            .replace(u"{output}"_s, sayOutput ? sayOutput(s->lastOutput) : s->lastOutput);
        s->audioMsLeft = turn->agentAudioMs;
        ++s->turnIndex;
    } else if (turn && !turn->functionName.isEmpty() && turn->sayFirst) {
        s->transcript = turn->agentTranscript;
        s->audioMsLeft = turn->agentAudioMs;
        s->callAfterSpeech = turn;
        ++s->turnIndex;
    } else if (turn && !turn->functionName.isEmpty()) {
        // The model decides to call a tool.
        const QJsonObject item = sendFunctionCall(s, 0, s->itemId, *turn);
        s->awaitingOutput = true;
        s->active = false;
        send(s,
             {{u"type"_s, u"response.done"_s},
              {u"response"_s,
               QJsonObject{{u"id"_s, s->responseId},
                           {u"status"_s, u"completed"_s},
                           {u"output"_s, QJsonArray{item}},
                           {u"usage"_s,
                            QJsonObject{{u"total_tokens"_s, 120},
                                        {u"input_tokens"_s, 100},
                                        {u"output_tokens"_s, 20},
                                        {u"input_token_details"_s, QJsonObject{{u"text_tokens"_s, 60},
                                                                               {u"audio_tokens"_s, 40},
                                                                               {u"cached_tokens"_s, 0}}},
                                        {u"output_token_details"_s,
                                         QJsonObject{{u"text_tokens"_s, 20}, {u"audio_tokens"_s, 0}}}}}}}});
        return;
    } else if (turn) {
        s->transcript = turn->agentTranscript;
        s->audioMsLeft = turn->agentAudioMs;
        ++s->turnIndex;
    } else {
        s->transcript = u"Ji, bataiye."_s;
        s->audioMsLeft = 500;
    }
    s->itemAudioMs.insert(s->itemId, 0);
    const QJsonObject msg{{u"id"_s, s->itemId},
                          {u"type"_s, u"message"_s},
                          {u"role"_s, u"assistant"_s},
                          {u"status"_s, u"in_progress"_s},
                          {u"content"_s, QJsonArray()}};
    send(s, {{u"type"_s, u"response.output_item.added"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, 0},
             {u"item"_s, msg}});
    send(s, {{u"type"_s, u"response.content_part.added"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, s->itemId},
             {u"output_index"_s, 0},
             {u"content_index"_s, 0},
             {u"part"_s, QJsonObject{{u"type"_s, u"audio"_s}, {u"transcript"_s, QString()}}}});
    auto play = [this, s, id = s->responseId] {
        QTimer::singleShot(firstAudioDelayMs, this, [this, s, id] {
            if (m_sessions.contains(s) && s->active && s->responseId == id)
                s->audioTimer.start();
        });
    };
    if (!voice) {
        play();
        return;
    }
    voice(s->transcript, [this, s, id = s->responseId, play](const QByteArray &mulaw) {
        if (!m_sessions.contains(s) || !s->active || s->responseId != id)
            return;
        if (!mulaw.isEmpty()) {
            s->speech = mulaw;
            s->audioMsLeft = int((mulaw.size() + 7) / 8); // the last delta carries the tail
        }
        play();
    });
}

void FakeRealtimeServer::streamAudio(Session *s)
{
    if (!s->active) {
        s->audioTimer.stop();
        return;
    }
    const int ms = std::min(deltaMs, s->audioMsLeft);
    if (ms > 0) {
        if (s->audioMsSent == 0)
            firstDeltaSentNs.insert(s->itemId, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now().time_since_epoch())
                                                   .count());
        send(s, {{u"type"_s, u"response.output_audio.delta"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0},
                 {u"delta"_s, QString::fromLatin1((s->speech.isEmpty()
                                                       ? tone(ms, s->audioMsSent * 8)
                                                       : s->speech.mid(qsizetype(s->audioMsSent) * 8, ms * 8))
                                                      .toBase64())}});
        s->audioMsLeft -= ms;
        s->audioMsSent += ms;
        s->itemAudioMs[s->itemId] = s->audioMsSent;
        // The transcript streams alongside the audio, in proportion to it.
        const qsizetype upTo =
            s->transcript.size() * s->audioMsSent / std::max(1, s->audioMsSent + s->audioMsLeft);
        if (upTo > s->transcriptSent) {
            send(s, {{u"type"_s, u"response.output_audio_transcript.delta"_s},
                     {u"response_id"_s, s->responseId},
                     {u"item_id"_s, s->itemId},
                     {u"output_index"_s, 0},
                     {u"content_index"_s, 0},
                     {u"delta"_s, s->transcript.mid(s->transcriptSent, upTo - s->transcriptSent)}});
            s->transcriptSent = upTo;
        }
    }
    if (s->audioMsLeft <= 0) {
        s->audioTimer.stop();
        send(s, {{u"type"_s, u"response.output_audio.done"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0}});
        send(s, {{u"type"_s, u"response.output_audio_transcript.done"_s},
                 {u"response_id"_s, s->responseId},
                 {u"item_id"_s, s->itemId},
                 {u"output_index"_s, 0},
                 {u"content_index"_s, 0},
                 {u"transcript"_s, s->transcript}});
        finishResponse(s, u"completed"_s, {});
    }
}

QJsonObject FakeRealtimeServer::sendFunctionCall(Session *s, int outputIndex, const QString &itemId,
                                                 const FakeTurn &turn)
{
    const QString callId = nextId("call");
    s->callIds.insert(callId);
    const QJsonObject item{
        {u"id"_s, itemId},      {u"type"_s, u"function_call"_s}, {u"status"_s, u"completed"_s},
        {u"call_id"_s, callId}, {u"name"_s, turn.functionName},  {u"arguments"_s, turn.functionArguments}};
    QJsonObject added = item;
    added.insert(u"status"_s, u"in_progress"_s);
    added.insert(u"arguments"_s, QString());
    send(s, {{u"type"_s, u"response.output_item.added"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, outputIndex},
             {u"item"_s, added}});
    send(s, {{u"type"_s, u"response.function_call_arguments.delta"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, itemId},
             {u"output_index"_s, outputIndex},
             {u"call_id"_s, callId},
             {u"delta"_s, turn.functionArguments}});
    send(s, {{u"type"_s, u"response.function_call_arguments.done"_s},
             {u"response_id"_s, s->responseId},
             {u"item_id"_s, itemId},
             {u"output_index"_s, outputIndex},
             {u"call_id"_s, callId},
             {u"name"_s, turn.functionName},
             {u"arguments"_s, turn.functionArguments}});
    send(s, {{u"type"_s, u"response.output_item.done"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, outputIndex},
             {u"item"_s, item}});
    return item;
}

void FakeRealtimeServer::finishResponse(Session *s, const QString &status, const QString &reason)
{
    s->audioTimer.stop();
    s->active = false;
    const QJsonObject item{{u"id"_s, s->itemId},
                           {u"type"_s, u"message"_s},
                           {u"role"_s, u"assistant"_s},
                           {u"status"_s, status == u"completed"_s ? u"completed"_s : u"incomplete"_s},
                           {u"content"_s, QJsonArray{QJsonObject{{u"type"_s, u"output_audio"_s},
                                                                 {u"transcript"_s, s->transcript}}}}};
    send(s, {{u"type"_s, u"response.output_item.done"_s},
             {u"response_id"_s, s->responseId},
             {u"output_index"_s, 0},
             {u"item"_s, item}});
    QJsonArray output{item};
    const FakeTurn *call = std::exchange(s->callAfterSpeech, nullptr);
    if (call && status != u"completed"_s)
        --s->turnIndex; // interrupted before its function call: the next response tries the turn again
    if (call && status == u"completed"_s)
        output.append(sendFunctionCall(s, 1, nextId("item"), *call));
    QJsonObject details;
    if (!reason.isEmpty())
        details = {{u"type"_s, status}, {u"reason"_s, reason}};
    const int audioTokens = s->audioMsSent / 50;
    send(s, {{u"type"_s, u"response.done"_s},
             {u"response"_s,
              QJsonObject{
                  {u"id"_s, s->responseId},
                  {u"status"_s, status},
                  {u"status_details"_s, details.isEmpty() ? QJsonValue() : QJsonValue(details)},
                  {u"output"_s, output},
                  {u"usage"_s,
                   QJsonObject{{u"total_tokens"_s, 200 + audioTokens},
                               {u"input_tokens"_s, 150},
                               {u"output_tokens"_s, 50 + audioTokens},
                               {u"input_token_details"_s, QJsonObject{{u"text_tokens"_s, 100},
                                                                      {u"audio_tokens"_s, 50},
                                                                      {u"cached_tokens"_s, 20}}},
                               {u"output_token_details"_s,
                                QJsonObject{{u"text_tokens"_s, 50}, {u"audio_tokens"_s, audioTokens}}}}}}}});
}

void FakeRealtimeServer::processAudio(Session *s, const QByteArray &mulawBytes)
{
    const QJsonObject vad = s->session.value(u"audio"_s)
                                .toObject()
                                .value(u"input"_s)
                                .toObject()
                                .value(u"turn_detection"_s)
                                .toObject();
    const int silenceNeeded = vad.value(u"silence_duration_ms"_s).toInt(200);
    const int prefix = vad.value(u"prefix_padding_ms"_s).toInt(300);
    const bool interrupt = vad.value(u"interrupt_response"_s).toBool(true);
    const bool create = vad.value(u"create_response"_s).toBool(true);
    for (qsizetype off = 0; off + 160 <= mulawBytes.size(); off += 160) {
        const auto pcm = mulaw::decode(QByteArrayView(mulawBytes).sliced(off, 160));
        qint64 sum = 0;
        for (std::int16_t v : pcm)
            sum += std::abs(int(v));
        const bool loud = sum / 160 > vadThreshold;
        if (loud) {
            s->silenceMs = 0;
            if (!s->speaking) {
                s->speaking = true;
                s->userItem = nextId("item");
                send(s, {{u"type"_s, u"input_audio_buffer.speech_started"_s},
                         {u"audio_start_ms"_s, std::max<qint64>(0, s->positionMs - prefix)},
                         {u"item_id"_s, s->userItem}});
                if (s->active && interrupt)
                    finishResponse(s, u"cancelled"_s, u"turn_detected"_s);
            }
        } else if (s->speaking) {
            s->silenceMs += 20;
            if (s->silenceMs >= silenceNeeded) {
                s->speaking = false;
                send(s, {{u"type"_s, u"input_audio_buffer.speech_stopped"_s},
                         {u"audio_end_ms"_s, s->positionMs},
                         {u"item_id"_s, s->userItem}});
                send(s, {{u"type"_s, u"input_audio_buffer.committed"_s},
                         {u"item_id"_s, s->userItem},
                         {u"previous_item_id"_s, QJsonValue()}});
                send(s,
                     {{u"type"_s, u"conversation.item.added"_s},
                      {u"item"_s, QJsonObject{{u"id"_s, s->userItem},
                                              {u"type"_s, u"message"_s},
                                              {u"role"_s, u"user"_s},
                                              {u"content"_s,
                                               QJsonArray{QJsonObject{{u"type"_s, u"input_audio"_s},
                                                                      {u"transcript"_s, QJsonValue()}}}}}}});
                const FakeTurn *turn = s->turnIndex < turns.size() ? &turns.at(s->turnIndex) : nullptr;
                if (s->session.value(u"audio"_s)
                        .toObject()
                        .value(u"input"_s)
                        .toObject()
                        .value(u"transcription"_s)
                        .isObject())
                    send(s, {{u"type"_s, u"conversation.item.input_audio_transcription.completed"_s},
                             {u"item_id"_s, s->userItem},
                             {u"content_index"_s, 0},
                             {u"transcript"_s, !utterances.isEmpty() ? utterances.takeFirst()
                                               : turn                ? turn->callerTranscript
                                                                     : u"(unintelligible)"_s}});
                if (create && !s->active)
                    startResponse(s, {});
            }
        }
        s->positionMs += 20;
    }
}

} // namespace vaani::test
