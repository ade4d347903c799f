#include "logging.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestLogging : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void redact_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("e164") << u"call from +919876543210 ok"_s << u"call from +********3210 ok"_s;
        QTest::newRow("us") << u"From=+14158675309"_s << u"From=+*******5309"_s;
        QTest::newRow("spaced") << u"caller +91 98765 43210."_s << u"caller +** ***** *3210."_s;
        QTest::newRow("indian mobile") << u"phone 9876543210 asked"_s << u"phone ******3210 asked"_s;
        QTest::newRow("bearer") << u"Authorization: Bearer sk-proj-abc123XYZ"_s
                                << u"Authorization: Bearer ***"_s;
        QTest::newRow("openai key") << u"key=sk-proj-AbCdEf0123456789"_s << u"key=sk-***"_s;
        QTest::newRow("api-key header") << u"api-key: 0123456789abcdef"_s << u"api-key: ***"_s;
        QTest::newRow("auth token json")
            << u"{\"auth_token\":\"deadbeefcafe\"}"_s << u"{\"auth_token\":\"***\"}"_s;
        QTest::newRow("db password") << u"postgresql://vaani:s3cret@db:5432/x"_s
                                     << u"postgresql://vaani:***@db:5432/x"_s;
        QTest::newRow("sids untouched") << u"CallSid CA1234567890abcdef1234567890abcdef"_s
                                        << u"CallSid CA1234567890abcdef1234567890abcdef"_s;
        QTest::newRow("timestamps untouched")
            << u"2026-11-25T13:38:07.123Z took 1234 ms"_s << u"2026-11-25T13:38:07.123Z took 1234 ms"_s;
        QTest::newRow("order code untouched") << u"order ABC123"_s << u"order ABC123"_s;
    }
    void redact()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        QCOMPARE(Redactor::redact(input), expected);
    }

    void configuredSecrets()
    {
        QCOMPARE(Redactor::redact(u"token=abcd1234wxyz in url"_s, {u"abcd1234wxyz"_s}),
                 u"token=*** in url"_s);
    }

    void maskPhone()
    {
        QCOMPARE(Redactor::maskPhone(u"+919876543210"_s), u"+********3210"_s);
        QCOMPARE(Redactor::maskPhone(u"123"_s), u"123"_s);
        QCOMPARE(Redactor::maskPhone(u"anonymous"_s), u"anonymous"_s);
    }

    void textAndJsonLines()
    {
        const QString text = formatLogLine(LogFormat::Text, QtWarningMsg, "vaani.server.http",
                                           u"webhook from +919876543210 with Bearer abc.def"_s, {});
        QVERIFY(text.contains(u"[vaani.server.http]"_s));
        QVERIFY(text.contains(u"warning"_s));
        QVERIFY(!text.contains(u"9876543210"_s));
        QVERIFY(!text.contains(u"abc.def"_s));
        const QString json = formatLogLine(LogFormat::Json, QtInfoMsg, "vaani.db", u"key sk-abcdefghijkl"_s,
                                           {u"s3cr3tvalue"_s});
        const QJsonObject o = QJsonDocument::fromJson(json.toUtf8()).object();
        QCOMPARE(o.value(u"level"_s).toString(), u"info"_s);
        QCOMPARE(o.value(u"category"_s).toString(), u"vaani.db"_s);
        QCOMPARE(o.value(u"msg"_s).toString(), u"key sk-***"_s);
        QVERIFY(QDateTime::fromString(o.value(u"ts"_s).toString(), Qt::ISODateWithMs).isValid());
    }

    void categoriesAreHierarchical()
    {
        QCOMPARE(QByteArray(lcHttp().categoryName()), QByteArray("vaani.server.http"));
        QCOMPARE(QByteArray(lcRealtime().categoryName()), QByteArray("vaani.server.realtime"));
        QCOMPARE(QByteArray(lcDb().categoryName()), QByteArray("vaani.db"));
    }
};

QTEST_GUILESS_MAIN(TestLogging)
#include "tst_logging.moc"
