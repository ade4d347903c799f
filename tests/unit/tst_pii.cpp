// PII redaction (shared/pii.*) from a table of what callers say, in English, Hinglish and Hindi, typed and
// spoken: each row's input and the text that may be stored. Plus what must be left alone: order IDs,
// tracking numbers, dates, amounts, delivery PIN codes and short numbers.
#include "pii.h"

#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestPii : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void e164Numbers()
    {
        QVERIFY(pii::isE164(u"+919876543210"_s));
        QVERIFY(pii::isE164(u"+14155550100"_s));
        QVERIFY(!pii::isE164(u"anonymous"_s));
        QVERIFY(!pii::isE164(u"919876543210"_s));
        QVERIFY(!pii::isE164(u"+0919876543"_s));
        QVERIFY(!pii::isE164(u"+91 98765 43210"_s));
        QVERIFY(!pii::isE164(u"+9198765432101234"_s));
        QVERIFY(!pii::isE164(QString()));
    }
    void redactsWhatCallersSay_data()
    {
        QTest::addColumn<QString>("said");
        QTest::addColumn<QString>("stored");
        // Cards: Luhn-valid 13–19 digits anywhere, or any 13–19 digits said as a card.
        QTest::newRow("card, grouped") << u"My card is 4111 1111 1111 1111, expiry 09/27"_s
                                       << u"My card is [card ****1111], expiry 09/27"_s;
        QTest::newRow("card, hyphens")
            << u"card number 5500-0000-0000-0004 hai"_s << u"card number [card ****0004] hai"_s;
        QTest::newRow("card, no word, Luhn")
            << u"4242424242424242 pe payment hua"_s << u"[card ****4242] pe payment hua"_s;
        QTest::newRow("card said as a card, not Luhn")
            << u"debit card ka number 1234 5678 9012 3456"_s << u"debit card ka number [card ****3456]"_s;
        QTest::newRow("card, spoken English")
            << u"card number four one one one one one one one one one one one one one one one"_s
            << u"card number [card ****1111]"_s;
        QTest::newRow("card, double and triple")
            << u"card is four double one triple one one one one one one one one one one"_s
            << u"card is [card ****1111]"_s;
        // Aadhaar: 12 digits.
        QTest::newRow("aadhaar, Hinglish spoken")
            << u"mera aadhaar number hai chaar paanch chhe saat aath nau ek do teen chaar paanch chhe"_s
            << u"mera aadhaar number hai [aadhaar ****3456]"_s;
        QTest::newRow("aadhaar, digits") << u"Aadhar: 2345 6789 0123"_s << u"Aadhar: [aadhaar ****0123]"_s;
        QTest::newRow("aadhaar, no word") << u"ye lo 5678 1234 9876"_s << u"ye lo [aadhaar ****9876]"_s;
        QTest::newRow("aadhaar, Devanagari") << u"मेरा आधार नंबर चार पांच छह सात आठ नौ एक दो तीन चार पांच छह है"_s
                                             << u"मेरा आधार नंबर [aadhaar ****3456] है"_s;
        QTest::newRow("aadhaar, Devanagari digits")
            << u"आधार ४५६७ ८९०१ २३४५"_s << u"आधार [aadhaar ****2345]"_s;
        // PAN.
        QTest::newRow("PAN") << u"PAN card ABCDE1234F hai"_s << u"PAN card [pan] hai"_s;
        QTest::newRow("PAN, spelled out") << u"pan hai A B C D E 1 2 3 4 F"_s << u"pan hai [pan]"_s;
        QTest::newRow("PAN, lower case") << u"my pan is abcpe9876k."_s << u"my pan is [pan]."_s;
        // OTPs, PINs, CVVs: only with the word.
        QTest::newRow("OTP before") << u"OTP 482913 aaya hai"_s << u"OTP [otp] aaya hai"_s;
        QTest::newRow("OTP after, spoken")
            << u"chaar aath do nau ek teen, yeh mera OTP hai"_s << u"[otp], yeh mera OTP hai"_s;
        QTest::newRow("OTP, Devanagari word") << u"ओटीपी 7 3 1 9 है"_s << u"ओटीपी [otp] है"_s;
        QTest::newRow("one-time password")
            << u"the one time password is 5521"_s << u"the one time password is [otp]"_s;
        QTest::newRow("UPI PIN") << u"mera UPI PIN 1947 hai"_s << u"mera UPI PIN [pin] hai"_s;
        QTest::newRow("CVV") << u"cvv is 123"_s << u"cvv is [cvv]"_s;
        // Bank accounts.
        QTest::newRow("account") << u"account number 50100234567891 hai, IFSC HDFC0001234"_s
                                 << u"account number [account ****7891] hai, IFSC HDFC0001234"_s;
        QTest::newRow("khata, spoken")
            << u"mera khata number ek do teen chaar paanch chhe saat aath nau shunya"_s
            << u"mera khata number [account ****7890]"_s;
        // Long numbers said without a word.
        QTest::newRow("long number") << u"reference 1234567890123456789012"_s
                                     << u"reference [number ****9012]"_s;
        // Several in one line, inside JSON (a tool's arguments).
        QTest::newRow("in JSON")
            << uR"({"summary":"Caller gave card 4111111111111111 and OTP 123456 by mistake"})"_s
            << uR"({"summary":"Caller gave card [card ****1111] and OTP [otp] by mistake"})"_s;
    }
    void redactsWhatCallersSay()
    {
        QFETCH(QString, said);
        QFETCH(QString, stored);
        QCOMPARE(pii::redact(said), stored);
        QCOMPARE(pii::redact(stored), stored); // a second pass changes nothing
    }

    void leavesOrdinaryTextAlone_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("order ID") << u"Mera order ABC123 kahan hai?"_s;
        QTest::newRow("order ID spoken") << u"order A B C, one two three"_s;
        QTest::newRow("tracking number") << u"tracking IN1326315825 on India Post"_s;
        QTest::newRow("date and amount")
            << uR"({"amount_inr":529,"placed_on":"2026-11-25","expected_delivery":"2026-12-01"})"_s;
        QTest::newRow("delivery PIN code") << u"pin code 560001 hai, Bangalore"_s;
        QTest::newRow("phone's last four") << u"last four digits 3210"_s;
        QTest::newRow("ticket number") << u"ticket TKT-48213907 ka status"_s;
        QTest::newRow("counting") << u"do teen din mein aa jayega"_s;
        QTest::newRow("a phone number") << u"call me on 98765 43210"_s;
        QTest::newRow("a phone number with +91") << u"call me on +91 98765 43210"_s;
        QTest::newRow("a phone number with 91") << u"number 919876543210 pe call karo"_s;
        QTest::newRow("E.164 in a log line") << u"incoming call CA1 from +919876543210"_s;
        QTest::newRow("time") << u"kal 10:30 baje"_s;
    }
    void leavesOrdinaryTextAlone()
    {
        QFETCH(QString, text);
        QCOMPARE(pii::redact(text), text);
    }

    void spokenDigitsAndLuhn()
    {
        QCOMPARE(pii::digitWord(u"Chaar"), 4);
        QCOMPARE(pii::digitWord(u"पाँच"), 5);
        QCOMPARE(pii::digitWord(u"shunya"), 0);
        QCOMPARE(pii::digitWord(u"order"), -1);
        QVERIFY(pii::luhnValid(u"4111111111111111"));
        QVERIFY(pii::luhnValid(u"79927398713"));
        QVERIFY(!pii::luhnValid(u"4111111111111112"));
    }
};

QTEST_GUILESS_MAIN(TestPii)
#include "tst_pii.moc"
