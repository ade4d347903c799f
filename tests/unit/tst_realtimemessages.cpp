#include "realtimemessages.h"

#include <QJsonDocument>
#include <QTest>

using namespace vaani::realtime;
using namespace Qt::StringLiterals;

class TestRealtimeMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parseServerEvents()
    {
        auto r = parse("{\"type\":\"session.updated\",\"event_id\":\"ev1\",\"session\":{\"type\":"
                       "\"realtime\",\"audio\":{\"input\":{\"format\":{\"type\":\"audio/"
                       "pcmu\"}},\"output\":{\"format\":{\"type\":\"audio/pcmu\"},\"voice\":\"marin\"}}}}");
        QVERIFY(r.ok());
        QCOMPARE(r.event.type, ServerEvent::SessionUpdated);
        QVERIFY(sessionUsesPcmu(r.event.session));

        r = parse(
            "{\"type\":\"session.created\",\"session\":{\"audio\":{\"input\":{\"format\":{\"type\":\"audio/"
            "pcm\",\"rate\":24000}},\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000}}}}}");
        QVERIFY(!sessionUsesPcmu(r.event.session));

        r = parse("{\"type\":\"response.output_audio.delta\",\"response_id\":\"resp_1\",\"item_id\":\"item_"
                  "1\",\"output_index\":0,\"content_index\":0,\"delta\":\"/38AgA==\"}");
        QCOMPARE(r.event.type, ServerEvent::OutputAudioDelta);
        QCOMPARE(r.event.audio, QByteArray("/38AgA=="));
        QCOMPARE(r.event.itemId, u"item_1"_s);
        QCOMPARE(
            r.event.responseId,
            u"resp_1"_s); // Beta spelling still
                          // recognised.QCOMPARE(parse("{\"type\":\"response.audio.delta\",\"delta\":\"AA==\"}").event.type,
                          // ServerEvent::OutputAudioDelta);

        r = parse("{\"type\":\"input_audio_buffer.speech_started\",\"audio_start_ms\":1200,\"item_id\":"
                  "\"item_2\"}");
        QCOMPARE(r.event.type, ServerEvent::SpeechStarted);
        QCOMPARE(r.event.audioStartMs, 1200);
        r = parse("{\"type\":\"response.function_call_arguments.done\",\"call_id\":\"call_1\",\"name\":"
                  "\"lookup_order\",\"item_id\":\"it\",\"arguments\":\"{\\\"order_id\\\":\\\"ABC123\\\"}\"}");
        QCOMPARE(r.event.type, ServerEvent::FunctionCallArgumentsDone);
        QCOMPARE(r.event.callId, u"call_1"_s);
        QCOMPARE(r.event.name, u"lookup_order"_s);
        QCOMPARE(r.event.arguments, u"{\"order_id\":\"ABC123\"}"_s);
        r = parse(
            "{\"type\":\"response.output_item.done\",\"item\":{\"id\":\"it\",\"type\":\"function_call\","
            "\"call_id\":\"call_1\",\"name\":\"end_call\",\"arguments\":\"{}\",\"status\":\"completed\"}}");
        QCOMPARE(r.event.type, ServerEvent::OutputItemDone);
        QCOMPARE(r.event.itemType, u"function_call"_s);
        QCOMPARE(r.event.name, u"end_call"_s);

        r = parse(
            "{\"type\":\"response.done\",\"response\":{\"id\":\"resp_1\",\"status\":\"cancelled\",\"status_"
            "details\":{\"reason\":\"turn_detected\"},\"usage\":{\"total_tokens\":300,\"input_tokens\":200,"
            "\"output_tokens\":100,\"input_token_details\":{\"text_tokens\":50,\"audio_tokens\":150,\"cached_"
            "tokens\":20},\"output_token_details\":{\"text_tokens\":30,\"audio_tokens\":70}}}}");
        QCOMPARE(r.event.type, ServerEvent::ResponseDone);
        QCOMPARE(r.event.status, u"cancelled"_s);
        QCOMPARE(r.event.statusReason, u"turn_detected"_s);
        QCOMPARE(r.event.usage.inputAudioTokens, 150);
        QCOMPARE(r.event.usage.outputAudioTokens, 70);
        QCOMPARE(r.event.usage.inputCachedTokens, 20);

        r = parse("{\"type\":\"error\",\"event_id\":\"e\",\"error\":{\"type\":\"invalid_request_error\","
                  "\"code\":\"unknown_parameter\",\"message\":\"Unknown parameter: "
                  "'session.foo'.\",\"param\":\"session.foo\",\"event_id\":\"cli_1\"}}");
        QCOMPARE(r.event.type, ServerEvent::Error);
        QCOMPARE(r.event.errorCode, u"unknown_parameter"_s);
        QCOMPARE(r.event.errorEventId, u"cli_1"_s);
        r = parse("{\"type\":\"conversation.item.input_audio_transcription.completed\",\"item_id\":\"i\","
                  "\"content_index\":0,\"transcript\":\"Mera order kahan hai?\"}");
        QCOMPARE(r.event.type, ServerEvent::InputTranscriptionCompleted);
        QCOMPARE(r.event.text, u"Mera order kahan hai?"_s);
    }

    void unknownAndMalformed()
    {
        auto r = parse("{\"type\":\"mcp_list_tools.in_progress\",\"x\":1}");
        QVERIFY(r.ok());
        QCOMPARE(r.event.type, ServerEvent::Other);
        QCOMPARE(parse("").status, ParseStatus::NotJson);
        QCOMPARE(parse("\"str\"").status, ParseStatus::NotJson);
        QCOMPARE(parse("[]").status, ParseStatus::NotObject);
        QCOMPARE(parse("{\"no\":\"type\"}").status, ParseStatus::MissingType);
        QCOMPARE(parse("{\"type\":7}").status, ParseStatus::MissingType);
        QCOMPARE(
            parse(QByteArray(100, ' '), 10).status,
            ParseStatus::
                TooLarge); // Wrong field types degrade to empty values, never a crash.r =
                           // parse("{\"type\":\"response.output_audio.delta\",\"delta\":12,\"item_id\":[1]}");
        QVERIFY(r.ok());
        QVERIFY(r.event.audio.isEmpty());
        QVERIFY(r.event.itemId.isEmpty());
    }

    void clientEvents()
    {
        auto obj = [](const QByteArray &b) { return QJsonDocument::fromJson(b).object(); };
        SessionConfig c;
        c.instructions = u"Be nice"_s;
        c.tools = QJsonArray{QJsonObject{{u"type"_s, u"function"_s}, {u"name"_s, u"end_call"_s}}};
        const QJsonObject su = obj(sessionUpdate(c, u"evt_1"_s));
        QCOMPARE(su.value(u"type"_s).toString(), u"session.update"_s);
        const QJsonObject s = su.value(u"session"_s).toObject();
        QCOMPARE(s.value(u"type"_s).toString(), u"realtime"_s);
        QVERIFY(sessionUsesPcmu(s));
        const QJsonObject vad =
            s.value(u"audio"_s).toObject().value(u"input"_s).toObject().value(u"turn_detection"_s).toObject();
        for (const char *k : {"type", "threshold", "prefix_padding_ms", "silence_duration_ms",
                              "create_response", "interrupt_response", "idle_timeout_ms"})
            QVERIFY2(vad.contains(QLatin1String(k)), k);
        QCOMPARE(obj(inputAudioAppend("AAAA")),
                 QJsonObject({{u"type"_s, u"input_audio_buffer.append"_s}, {u"audio"_s, u"AAAA"_s}}));
        QByteArray reused = inputAudioAppend("BBBB");
        reused.resize(0);
        appendInputAudioAppend(reused, "AAAA");
        QCOMPARE(reused, inputAudioAppend("AAAA"));
        QCOMPARE(obj(itemTruncate(u"it"_s, 0, 640)).value(u"audio_end_ms"_s).toInt(), 640);
        const QJsonObject fco = obj(functionCallOutput(u"call_1"_s, u"{\"ok\":true}"_s));
        QCOMPARE(fco.value(u"item"_s).toObject().value(u"type"_s).toString(), u"function_call_output"_s);
        QCOMPARE(obj(responseCreate()).value(u"type"_s).toString(), u"response.create"_s);
        QCOMPARE(obj(responseCancel(u"r1"_s)).value(u"response_id"_s).toString(), u"r1"_s);
    }
};

QTEST_GUILESS_MAIN(TestRealtimeMessages)
#include "tst_realtimemessages.moc"
