#include "twiliomessages.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace vaani::twilio;
using namespace Qt::StringLiterals;

class TestTwilioMessages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parseFixtures()
    {
        // Fixtures as in Twilio's docs (../shared/reference/twilio.md §2).
        auto r = parse("{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.event, Event::Connected);
        QCOMPARE(r.message.protocol, u"Call"_s);
        r = parse("{\"event\":\"start\",\"sequenceNumber\":\"1\",\"streamSid\":\"MZ11\",\"start\":{"
                  "\"streamSid\":\"MZ11\",\"accountSid\":\"AC22\",\"callSid\":\"CA33\",\"tracks\":["
                  "\"inbound\"],\"customParameters\":{\"callToken\":\"8f3c\",\"caller\":\"+919876543210\"},"
                  "\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1}}}");
        QVERIFY2(r.ok(), qPrintable(r.error));
        QCOMPARE(r.message.event, Event::Start);
        QCOMPARE(r.message.sequenceNumber, 1);
        QCOMPARE(r.message.start.callSid, u"CA33"_s);
        QCOMPARE(r.message.start.customParameters.value(u"callToken"_s), u"8f3c"_s);
        QCOMPARE(r.message.start.encoding, u"audio/x-mulaw"_s);
        QCOMPARE(r.message.start.sampleRate, 8000);
        QCOMPARE(r.message.start.tracks, QStringList{u"inbound"_s});

        r = parse("{\"event\":\"media\",\"sequenceNumber\":\"4\",\"streamSid\":\"MZ11\",\"media\":{\"track\":"
                  "\"inbound\",\"chunk\":\"2\",\"timestamp\":\"5\",\"payload\":\"/38AgA==\"}}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.event, Event::Media);
        QCOMPARE(r.message.payload, QByteArray("/38AgA=="));
        QCOMPARE(r.message.chunk, 2);
        QCOMPARE(r.message.timestamp, 5);
        QCOMPARE(r.message.streamSid, u"MZ11"_s);
        r = parse("{\"event\":\"dtmf\",\"sequenceNumber\":\"5\",\"streamSid\":\"MZ11\",\"dtmf\":{\"track\":"
                  "\"inbound_track\",\"digit\":\"1\"}}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.digit, u"1"_s);

        r = parse("{\"event\":\"mark\",\"sequenceNumber\":\"6\",\"streamSid\":\"MZ11\",\"mark\":{\"name\":"
                  "\"my label\"}}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.markName, u"my label"_s);
        r = parse("{\"event\":\"stop\",\"sequenceNumber\":\"7\",\"streamSid\":\"MZ11\",\"stop\":{"
                  "\"accountSid\":\"AC22\",\"callSid\":\"CA33\"}}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.event, Event::Stop);
        QCOMPARE(r.message.start.callSid, u"CA33"_s);
    }

    void unknownEventIsNotAnError()
    {
        const auto r = parse("{\"event\":\"something-new\",\"streamSid\":\"MZ1\",\"extra\":{\"a\":1}}");
        QVERIFY(r.ok());
        QCOMPARE(r.message.event, Event::Unknown);
        QCOMPARE(r.message.eventName, u"something-new"_s);
    }
    void malformed_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("status");
        QTest::newRow("empty") << QByteArray() << int(ParseStatus::NotJson);
        QTest::newRow("truncated") << QByteArray("{\"event\":\"media\",\"media\":{\"payload\":\"AA")
                                   << int(ParseStatus::NotJson);
        QTest::newRow("array") << QByteArray("[1,2,3]") << int(ParseStatus::NotObject);
        QTest::newRow("no event") << QByteArray("{\"streamSid\":\"MZ\"}") << int(ParseStatus::MissingField);
        QTest::newRow("event not string") << QByteArray("{\"event\":42}") << int(ParseStatus::MissingField);
        QTest::newRow("media no payload")
            << QByteArray("{\"event\":\"media\",\"media\":{}}") << int(ParseStatus::MissingField);
        QTest::newRow("media payload number") << QByteArray("{\"event\":\"media\",\"media\":{\"payload\":5}}")
                                              << int(ParseStatus::MissingField);
        QTest::newRow("bad seq")
            << QByteArray("{\"event\":\"mark\",\"sequenceNumber\":\"x1\",\"mark\":{\"name\":\"a\"}}")
            << int(ParseStatus::BadField);
        QTest::newRow("negative seq")
            << QByteArray("{\"event\":\"mark\",\"sequenceNumber\":-3,\"mark\":{\"name\":\"a\"}}")
            << int(ParseStatus::BadField);
        QTest::newRow("start no callSid")
            << QByteArray("{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\"}}")
            << int(ParseStatus::MissingField);
        QTest::newRow("start params not object")
            << QByteArray("{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\",\"callSid\":\"CA\","
                          "\"customParameters\":[1]}}")
            << int(ParseStatus::BadField);
        QTest::newRow("start param not string")
            << QByteArray("{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ\",\"callSid\":\"CA\","
                          "\"customParameters\":{\"a\":{}}}}")
            << int(ParseStatus::BadField);
        QTest::newRow("mark without name")
            << QByteArray("{\"event\":\"mark\",\"mark\":{}}") << int(ParseStatus::MissingField);
        QTest::newRow("dtmf without digit")
            << QByteArray("{\"event\":\"dtmf\",\"dtmf\":{}}") << int(ParseStatus::MissingField);
        QTest::newRow("oversized") << (QByteArray("{\"event\":\"media\",\"media\":{\"payload\":\"") +
                                       QByteArray(70000, 'A') + QByteArray("\"}}"))
                                   << int(ParseStatus::TooLarge);
        QTest::newRow("binary junk") << QByteArray("\x00\xff\xfe{{{", 6) << int(ParseStatus::NotJson);
        QTest::newRow("deep nesting") << QByteArray(5000, '[') << int(ParseStatus::NotJson);
    }
    void malformed()
    {
        QFETCH(QByteArray, input);
        QFETCH(int, status);
        const auto r = parse(input);
        QCOMPARE(int(r.status), status);
        QVERIFY(!r.error.isEmpty());
    }

    void serialiseOutbound()
    {
        auto obj = [](const QByteArray &b) { return QJsonDocument::fromJson(b).object(); };
        const QJsonObject media = obj(mediaMessage(u"MZ1"_s, "/38AgA=="));
        QCOMPARE(media.value(u"event"_s).toString(), u"media"_s);
        QCOMPARE(media.value(u"streamSid"_s).toString(), u"MZ1"_s);
        QCOMPARE(media.value(u"media"_s).toObject().value(u"payload"_s).toString(), u"/38AgA=="_s);
        QCOMPARE(media.size(), 3);
        // A SID that needs escaping still produces valid JSON.
        QCOMPARE(obj(mediaMessage(u"MZ\"x"_s, "AA==")).value(u"streamSid"_s).toString(), u"MZ\"x"_s);
        const QJsonObject mark = obj(markMessage(u"MZ1"_s, u"a-1"_s));
        QCOMPARE(mark.value(u"mark"_s).toObject().value(u"name"_s).toString(), u"a-1"_s);
        QCOMPARE(mark.value(u"streamSid"_s).toString(), u"MZ1"_s);
        QCOMPARE(mark.size(), 3);
        // A mark name that needs escaping takes the JSON writer too.
        const QJsonObject quoted = obj(markMessage(u"MZ1"_s, u"say \"hi\"\n"_s));
        QCOMPARE(quoted.value(u"mark"_s).toObject().value(u"name"_s).toString(), u"say \"hi\"\n"_s);
        // The reused-buffer forms append exactly the same messages.
        QByteArray buffer = "x";
        buffer.resize(0);
        appendMediaMessage(buffer, "MZ1", "/38AgA==");
        QCOMPARE(obj(buffer), media);
        buffer.resize(0);
        appendMarkMessage(buffer, "MZ1", "a-1");
        QCOMPARE(obj(buffer), mark);
        QVERIFY(isPlainJsonToken(u"MZ0123abc_-"_s));
        QVERIFY(!isPlainJsonToken(u"MZ\"x"_s));
        QVERIFY(!isPlainJsonToken(u"MZ\u00e9"_s));
        QCOMPARE(obj(clearMessage(u"MZ1"_s)),
                 QJsonObject({{u"event"_s, u"clear"_s}, {u"streamSid"_s, u"MZ1"_s}}));
    }

    void simulatorMessagesParseBack()
    {
        StartInfo s;
        s.streamSid = u"MZ9"_s;
        s.callSid = u"CA9"_s;
        s.accountSid = u"AC9"_s;
        s.tracks = {u"inbound"_s};
        s.customParameters = {{u"streamToken"_s, u"tok"_s}};
        s.encoding = u"audio/x-mulaw"_s;
        s.sampleRate = 8000;
        s.channels = 1;
        auto r = parse(startMessage(1, s));
        QVERIFY(r.ok());
        QCOMPARE(r.message.start.customParameters.value(u"streamToken"_s), u"tok"_s);
        r = parse(inboundMediaMessage(2, u"MZ9"_s, 1, 20, "AAAA"));
        QVERIFY(r.ok());
        QCOMPARE(r.message.timestamp, 20);
        QCOMPARE(parse(markEchoMessage(3, u"MZ9"_s, u"m1"_s)).message.markName, u"m1"_s);
        QCOMPARE(parse(dtmfMessage(4, u"MZ9"_s, u"#"_s)).message.digit, u"#"_s);
        QCOMPARE(parse(stopMessage(5, u"MZ9"_s, u"AC9"_s, u"CA9"_s)).message.event, Event::Stop);
        QCOMPARE(parse(connectedMessage()).message.event, Event::Connected);
    }
};

QTEST_GUILESS_MAIN(TestTwilioMessages)
#include "tst_twiliomessages.moc"
