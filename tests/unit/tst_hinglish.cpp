// Hinglish transcripts in one script: Devanagari romanised the way Hinglish is typed, and each line's
// language tagged (hinglish.h).
#include "hinglish.h"

#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestHinglish : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void romanise_data()
    {
        QTest::addColumn<QString>("devanagari");
        QTest::addColumn<QString>("latin");
        QTest::newRow("order status") << u"मेरा ऑर्डर कहाँ है?"_s << u"mera order kahan hai?"_s;
        QTest::newRow("backchannels") << u"हाँ जी, अच्छा, ठीक है"_s << u"haan ji, accha, theek hai"_s;
        QTest::newRow("interruption") << u"रुको, मेरा ऑर्डर गलत है"_s << u"ruko, mera order galat hai"_s;
        QTest::newRow("schwa kept and dropped") << u"समझता करना कमल घर"_s << u"samajhta karna kamal ghar"_s;
        QTest::newRow("conjuncts") << u"क्या आप प्रसाद को जानते हैं"_s << u"kya aap prasaad ko jaante hain"_s;
        QTest::newRow("long vowels inside words, short at the end")
            << u"बात नहीं पीना, पानी"_s << u"baat nahi peena, paani"_s;
        QTest::newRow("nukta") << u"ज़रूर फ़र्क"_s << u"zaroor fark"_s;
        QTest::newRow("anusvara before a labial") << u"संपर्क"_s << u"sampark"_s;
        QTest::newRow("digits and danda") << u"ऑर्डर ABC१२३। धन्यवाद"_s << u"order ABC123. dhanyavaad"_s;
        QTest::newRow("mixed script stays")
            << u"Mera order डिलीवर नहीं हुआ"_s << u"Mera order deliver nahi hua"_s;
        QTest::newRow("english words in devanagari")
            << u"मुझे रिफंड चाहिए, ऑर्डर कैंसल कर दो"_s << u"mujhe refund chaahie, order cancel kar do"_s;
        QTest::newRow("latin untouched") << u"Refund kab milega?"_s << u"Refund kab milega?"_s;
        QTest::newRow("stray signs") << u"\u094D\u093C\u093E\u0902"_s << u"aan"_s;
        QTest::newRow("empty") << QString() << QString();
    }
    void romanise()
    {
        QFETCH(QString, devanagari);
        QFETCH(QString, latin);
        QCOMPARE(hinglish::romanise(devanagari), latin);
    }

    void language_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("tag");
        QTest::newRow("hindi in latin") << u"Haan ji, theek hai"_s << u"hi"_s;
        QTest::newRow("hindi in devanagari") << u"हाँ जी, ठीक है"_s << u"hi"_s;
        QTest::newRow("english") << u"Yes, I want a refund please"_s << u"en"_s;
        QTest::newRow("code-mixed") << u"Mera order ABC123 kahan hai?"_s << u"hi-en"_s;
        QTest::newRow("code-mixed across scripts") << u"मेरा refund kab milega"_s << u"hi-en"_s;
        QTest::newRow("no words") << u"123 ... !"_s << QString();
    }
    void language()
    {
        QFETCH(QString, text);
        QFETCH(QString, tag);
        QCOMPARE(hinglish::language(text), tag);
    }

    // Model output is untrusted: any string gives an answer (the fuzz target covers the rest).
    void anyInputIsSafe()
    {
        QString all;
        for (char16_t c = 0x0900; c <= 0x097F; ++c)
            all += QChar(c);
        QVERIFY(!hinglish::romanise(all).isEmpty());
        QVERIFY(!hinglish::romanise(all + all).contains(QChar(0x094D)));
        QCOMPARE(hinglish::language(all), u"hi"_s);
    }
};

QTEST_GUILESS_MAIN(TestHinglish)
#include "tst_hinglish.moc"
