#include "twiliosignature.h"

#include <QTest>

using namespace vaani::twilio;
using namespace Qt::StringLiterals;

namespace {
const QString kToken = u"12345"_s;
const QString kU = u"https://mycompany.com/myapp.php?foo=1&bar=2"_s;
FormParams p()
{
    return {{u"CallSid"_s, u"CA1234567890ABCDE"_s},
            {u"Caller"_s, u"+14158675309"_s},
            {u"Digits"_s, u"1234"_s},
            {u"From"_s, u"+14158675309"_s},
            {u"To"_s, u"+18005551212"_s}};
}
const QByteArray kV7Hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
} // namespace

class TestTwilioSignature : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void signedString()
    {
        QCOMPARE(
            vaani::twilio::signedString(kU, p()),
            u"https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675309Digits1234"
            "From+14158675309To+18005551212"_s);
    }

    void vectors_data()
    {
        QTest::addColumn<QString>("url"); // URL the server validates against
        QTest::addColumn<FormParams>("params");
        QTest::addColumn<QByteArray>("signature");
        QTest::addColumn<bool>("valid");
        QTest::newRow("V1") << kU << p() << QByteArray("RSOYDt4T1cUTdK1PDd93/VVr8B8=") << true;
        QTest::newRow("V2 port stripped") << u"https://mycompany.com:1234/myapp.php?foo=1&bar=2"_s << p()
                                          << QByteArray("RSOYDt4T1cUTdK1PDd93/VVr8B8=") << true;
        QTest::newRow("V3 :443 signed, plain URL")
            << kU << p() << QByteArray("kvajT1Ptam85bY51eRf/AJRuM3w=") << true;
        QTest::newRow("V3 :443 URL") << u"https://mycompany.com:443/myapp.php?foo=1&bar=2"_s << p()
                                     << QByteArray("kvajT1Ptam85bY51eRf/AJRuM3w=") << true;
        QTest::newRow("V4 :80 signed, plain http") << u"http://mycompany.com/myapp.php?foo=1&bar=2"_s << p()
                                                   << QByteArray("0ZXoZLH/DfblKGATFgpif+LLRf4=") << true;
        QTest::newRow("V5 explicit port") << u"http://mycompany.com:1234/myapp.php?foo=1&bar=2"_s << p()
                                          << QByteArray("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=") << true;
        QTest::newRow("V6 repeated params") << kU
                                            << FormParams{{u"Sid"_s, u"CA123"_s},
                                                          {u"SidAccount"_s, u"AC123"_s},
                                                          {u"Digits"_s, u"5678"_s},
                                                          {u"Digits"_s, u"1234"_s},
                                                          {u"Digits"_s, u"1234"_s}}
                                            << QByteArray("IK+Dwps556ElfBT0I3Rgjkr1wJU=") << true;
        QTest::newRow("V8 bodySHA256") << kU + u"&bodySHA256="_s + QString::fromLatin1(kV7Hash)
                                       << FormParams{} << QByteArray("a9nBmqA0ju/hNViExpshrM61xv4=") << true;
        QTest::newRow("V9") << u"https://mycompany.com/myapp.php?bodySHA256="_s + QString::fromLatin1(kV7Hash)
                            << FormParams{} << QByteArray("y77kIzt2vzLz71DgmJGsen2scGs=") << true;
        QTest::newRow("V10 only :443 variant")
            << kU + u"&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"_s
            << FormParams{} << QByteArray("Ldidvp12m26NI7eqEvxnEpkd9Hc=") << true;
        QTest::newRow("V11 userinfo") << u"https://user:pass@mycompany.com/myapp.php?foo=1&bar=2"_s << p()
                                      << QByteArray("CukzLTc1tT5dXEDIHm/tKBanW10=") << true;
        QTest::newRow("V11 userinfo :443") << u"https://user:pass@mycompany.com/myapp.php?foo=1&bar=2"_s
                                           << p() << QByteArray("ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=") << true;
        QTest::newRow("V12 user only") << u"https://user@mycompany.com/myapp.php?foo=1&bar=2"_s << p()
                                       << QByteArray("2YRLlVAflCqxaNicjMpJcSTgzSs=") << true;
        QTest::newRow("V13 raw apostrophe")
            << kU + u"&Body=It's+amazing"_s << p() << QByteArray("dsq4Ehbj6cs+KdTkpF5sSSplOWw=") << true;
        QTest::newRow("V14 order a") << kU
                                     << FormParams{{u"MessagingBinding.Address"_s, u"+1325xxxxxxx"_s},
                                                   {u"MessagingBinding.Address"_s, u"+1415xxxxxxx"_s}}
                                     << QByteArray("83O6e2vORAoJHUNzJjDWN1jz+BA=") << true;
        QTest::newRow("V14 order b") << kU
                                     << FormParams{{u"MessagingBinding.Address"_s, u"+1415xxxxxxx"_s},
                                                   {u"MessagingBinding.Address"_s, u"+1325xxxxxxx"_s}}
                                     << QByteArray("83O6e2vORAoJHUNzJjDWN1jz+BA=") << true;
        QTest::newRow("C1 wss upgrade") << u"wss://mycompany.com/media-stream"_s << FormParams{}
                                        << QByteArray("N2Y//FHA042H22oVtTOPT1X3yoU=") << true;
        const QByteArray c2 =
            "AccountSid=AC00000000000000000000000000000000&ApiVersion=2010-04-01&CallSid="
            "CA00000000000000000000000000000000&CallStatus=ringing&CallerCity=&Direction=inbound&"
            "From=%2B14158675309&To=%2B18005551212";
        QTest::newRow("C2 form body") << u"https://mycompany.com/voice"_s << parseForm(c2)
                                      << QByteArray("EH280AOZn8DCJ4gn7r1bW8A5oMM=") << true;
        QTest::newRow("C3 no params")
            << kU << FormParams{} << QByteArray("zYQTYrRWXE7LtzbG4PfP7/bkkGo=") << true;
        // Rejections
        QTest::newRow("reject: tampered param") << kU
                                                << FormParams{{u"CallSid"_s, u"CA1234567890ABCDF"_s},
                                                              {u"Caller"_s, u"+14158675309"_s},
                                                              {u"Digits"_s, u"1234"_s},
                                                              {u"From"_s, u"+14158675309"_s},
                                                              {u"To"_s, u"+18005551212"_s}}
                                                << QByteArray("RSOYDt4T1cUTdK1PDd93/VVr8B8=") << false;
        QTest::newRow("reject: other path") << u"https://mycompany.com/myapp.php?foo=1&bar=3"_s << p()
                                            << QByteArray("RSOYDt4T1cUTdK1PDd93/VVr8B8=") << false;
        QTest::newRow("reject: trailing slash") << u"wss://mycompany.com/media-stream/"_s << FormParams{}
                                                << QByteArray("N2Y//FHA042H22oVtTOPT1X3yoU=") << false;
        QTest::newRow("reject: empty") << kU << p() << QByteArray() << false;
        QTest::newRow("reject: garbage") << kU << p() << QByteArray("not-a-signature") << false;
        QTest::newRow("reject: V5 without port") << u"http://mycompany.com/myapp.php?foo=1&bar=2"_s << p()
                                                 << QByteArray("Zmvh+3yNM1Phv2jhDCwEM3q5ebU=") << false;
    }
    void vectors()
    {
        QFETCH(QString, url);
        QFETCH(FormParams, params);
        QFETCH(QByteArray, signature);
        QFETCH(bool, valid);
        QCOMPARE(validateSignature(kToken, url, params, signature), valid);
        // The wrong token never validates.
        QVERIFY(!validateSignature(u"54321"_s, url, params, signature));
    }

    void computeMatchesVectors()
    {
        QCOMPARE(computeSignature(kToken, kU, p()), QByteArray("RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        QCOMPARE(computeSignature(kToken, u"https://mycompany.com:443/myapp.php?foo=1&bar=2"_s, p()),
                 QByteArray("kvajT1Ptam85bY51eRf/AJRuM3w="));
        QCOMPARE(computeSignature(kToken, u"wss://mycompany.com/media-stream"_s),
                 QByteArray("N2Y//FHA042H22oVtTOPT1X3yoU="));
    }

    void jsonBody()
    {
        const QByteArray body = "{\"property\": \"value\", \"boolean\": true}";
        QCOMPARE(bodySha256Hex(body), kV7Hash);
        QCOMPARE(bodySha256Hex("{}"),
                 QByteArray("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
        const QString url = kU + u"&bodySHA256="_s + QString::fromLatin1(kV7Hash);
        QVERIFY(validateJsonBody(kToken, url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
        QVERIFY(!validateJsonBody(kToken, url, "{\"property\": \"value\", \"boolean\": false}",
                                  "a9nBmqA0ju/hNViExpshrM61xv4="));
        QVERIFY(!validateJsonBody(kToken, kU, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
    }

    void formParsing()
    {
        const FormParams f = parseForm("From=%2B14158675309&Body=It%27s+amazing&Empty=&Flag&x=a%26b");
        QCOMPARE(f.size(), 5);
        QCOMPARE(f.at(0).second, u"+14158675309"_s);
        QCOMPARE(f.at(1).second, u"It's amazing"_s);
        QCOMPARE(f.at(2).second, QString());
        QCOMPARE(f.at(3).first, u"Flag"_s);
        QCOMPARE(f.at(4).second, u"a&b"_s);
        QCOMPARE(parseForm(encodeForm(f)), f);
    }

    void portVariants()
    {
        QCOMPARE(urlPortVariants(u"https://a.com/x"_s),
                 QStringList({u"https://a.com/x"_s, u"https://a.com:443/x"_s}));
        QCOMPARE(urlPortVariants(u"wss://a.com/x"_s),
                 QStringList({u"wss://a.com/x"_s, u"wss://a.com:443/x"_s}));
        QCOMPARE(urlPortVariants(u"http://a.com:8080/x?y=1"_s),
                 QStringList({u"http://a.com:8080/x?y=1"_s, u"http://a.com/x?y=1"_s}));
        QCOMPARE(urlPortVariants(u"https://u:p@a.com?q"_s),
                 QStringList({u"https://u:p@a.com?q"_s, u"https://u:p@a.com:443?q"_s}));
    }
};

QTEST_GUILESS_MAIN(TestTwilioSignature)
#include "tst_twiliosignature.moc"
