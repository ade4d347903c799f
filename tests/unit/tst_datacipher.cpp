// DataCipher (encryption at rest with libsodium): round trips, what binds a sealed value (its column and key
// id), tampering, unknown keys, the key file's format, and the keyed hashes that find a number.
#include "db/datacipher.h"
#include "testenv.h"

#include <QFile>
#include <QTest>

using namespace vaani::db;
using namespace Qt::StringLiterals;

namespace {
std::shared_ptr<const DataCipher> cipher(const QByteArray &text)
{
    QString error;
    auto c = DataCipher::fromText(text, &error);
    if (!error.isEmpty())
        qFatal("%s", qPrintable(error));
    return c;
}
const QByteArray kK1 = "k1 " + QByteArray(32, 'a').toBase64() + "\n";
const QByteArray kK2 = "k2 " + QByteArray(32, 'b').toBase64() + "\n";
} // namespace

class TestDataCipher : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTrip()
    {
        auto c = cipher(kK1);
        QVERIFY(c->enabled());
        QCOMPARE(c->currentKeyId(), u"k1"_s);
        for (const QString &plain :
             {u"+919876543210"_s, u"Mera order kab aayega? मेरा ऑर्डर"_s, u"x"_s, QString(20000, u'z')}) {
            const QString sealed = c->seal(plain, "transcript_entries.text");
            QVERIFY(sealed.startsWith(u"enc:v1:k1:"_s));
            QVERIFY(plain.size() < 8 || !sealed.contains(plain.left(8)));
            QCOMPARE(DataCipher::keyIdOf(sealed), u"k1"_s);
            QCOMPARE(c->open(sealed, "transcript_entries.text").value_or(u"FAILED"_s), plain);
        }
        // A fresh nonce each time: the same text seals differently.
        QVERIFY(c->seal(u"same"_s, "tickets.summary") != c->seal(u"same"_s, "tickets.summary"));
        // Empty stays empty, sealed values are not sealed twice, clear values read as they are.
        QCOMPARE(c->seal(QString(), "tickets.summary"), QString());
        const QString once = c->seal(u"abc"_s, "tickets.summary");
        QCOMPARE(c->seal(once, "tickets.summary"), once);
        QCOMPARE(c->open(u"plain old text"_s, "tickets.summary").value_or(QString()), u"plain old text"_s);
    }

    void boundToColumnAndKeyId()
    {
        auto c = cipher(kK1 + kK2);
        const QString sealed = c->seal(u"secret summary"_s, "tickets.summary");
        QVERIFY(sealed.startsWith(u"enc:v1:k1:"_s));
        // Moved to another column: does not open.
        QVERIFY(!c->open(sealed, "transcript_entries.text"));
        // Relabelled with the other key id: does not open.
        QString relabelled = sealed;
        relabelled.replace(u"enc:v1:k1:"_s, u"enc:v1:k2:"_s);
        QVERIFY(!c->open(relabelled, "tickets.summary"));
        QVERIFY(c->read(relabelled, "tickets.summary").contains(u"damaged or altered"_s));
    }

    void tamperingIsDetected()
    {
        auto c = cipher(kK1);
        const QString sealed = c->seal(u"hello world"_s, "tickets.summary");
        const qsizetype body = u"enc:v1:k1:"_s.size();
        for (qsizetype i = body; i < sealed.size(); i += 3) {
            QString t = sealed;
            t[i] = t[i] == u'A' ? u'B' : u'A';
            // Any changed byte fails the tag check (a flip in base64's unused last bits changes no byte).
            const auto opened = c->open(t, "tickets.summary");
            QVERIFY2(!opened || *opened == u"hello world"_s, qPrintable(t));
        }
        QVERIFY(!c->open(u"enc:v1:k1:"_s, "tickets.summary"));
        QVERIFY(!c->open(u"enc:v1:k1:!!!not base64"_s, "tickets.summary"));
        QVERIFY(!c->open(u"enc:v1:k1:AAAA"_s, "tickets.summary")); // shorter than nonce + tag
    }

    void keyRotation()
    {
        auto old = cipher(kK1);
        const QString byOld = old->seal(u"from last year"_s, "tickets.summary");
        auto both = cipher(kK2 + kK1); // k2 current, k1 still opens
        QCOMPARE(both->currentKeyId(), u"k2"_s);
        QCOMPARE(both->open(byOld, "tickets.summary").value_or(QString()), u"from last year"_s);
        QVERIFY(both->needsReseal(byOld));
        QVERIFY(!both->needsReseal(both->seal(u"new"_s, "tickets.summary")));
        QVERIFY(both->needsReseal(u"clear text"_s));
        QVERIFY(!both->needsReseal(QString()));
        // Without k1 the value stays closed and says which key it needs.
        auto onlyNew = cipher(kK2);
        QVERIFY(!onlyNew->open(byOld, "tickets.summary"));
        QVERIFY(onlyNew->read(byOld, "tickets.summary").contains(u"k1, which is not loaded"_s));
        // Clear mode opens clear values only.
        QVERIFY(!DataCipher::clearMode().open(byOld, "tickets.summary"));
        QCOMPARE(DataCipher::clearMode().seal(u"x"_s, "tickets.summary"), u"x"_s);
        QVERIFY(!DataCipher::clearMode().needsReseal(u"x"_s));
    }

    void phoneHashes()
    {
        auto c1 = cipher(kK1);
        auto c12 = cipher(kK2 + kK1);
        const QString n = u"+919876543210"_s;
        QCOMPARE(c1->phoneHash(n), c1->phoneHash(n)); // deterministic
        QVERIFY(c1->phoneHash(n).startsWith(u"k1:"_s));
        QVERIFY(c1->phoneHash(n) != c1->phoneHash(u"+919876543211"_s));
        QVERIFY(!c1->phoneHash(n).contains(u"9876"_s));
        QVERIFY(c12->phoneHash(n).startsWith(u"k2:"_s));
        // Lookups during a rotation match under every key and the public clear-mode key.
        const QStringList all = c12->phoneHashes(n);
        QCOMPARE(all.size(), 3);
        QVERIFY(all.contains(c1->phoneHash(n)));
        QVERIFY(all.contains(c12->phoneHash(n)));
        QVERIFY(all.contains(DataCipher::clearMode().phoneHash(n)));
        QVERIFY(DataCipher::clearMode().phoneHash(n).startsWith(u"public:"_s));
        QCOMPARE(c1->phoneHash(QString()), QString());
    }

    void keyFileFormat_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("error");
        QTest::newRow("empty") << QByteArray() << u"no key"_s;
        QTest::newRow("comments only") << QByteArray("# nothing\n\n") << u"no key"_s;
        QTest::newRow("short key") << QByteArray("k1 " + QByteArray(16, 'a').toBase64()) << u"line 1"_s;
        QTest::newRow("no id") << QByteArray(QByteArray(32, 'a').toBase64()) << u"line 1"_s;
        QTest::newRow("bad id") << QByteArray("k 1 " + QByteArray(32, 'a').toBase64()) << u"line 1"_s;
        QTest::newRow("twice") << QByteArray(kK1 + kK1) << u"appears twice"_s;
        QTest::newRow("bad second line") << QByteArray(kK1 + "k2 nope\n") << u"line 2"_s;
    }
    void keyFileFormat()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, error);
        QString why;
        QVERIFY(!DataCipher::fromText(text, &why));
        QVERIFY2(why.contains(error), qPrintable(why));
    }

    void keyFile()
    {
        const QString dir = vaani::test::tempDir(u"datakey"_s);
        QString error;
        QVERIFY(!DataCipher::fromFile(dir + u"/missing"_s, &error));
        QVERIFY(error.contains(u"cannot read"_s));
        QFile f(dir + u"/keys"_s);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("# Vaani data keys, newest first\n" + DataCipher::generateKeyLine(u"2026-11"_s).toLatin1() +
                "\n" + kK1);
        f.close();
        auto c = DataCipher::fromFile(f.fileName(), &error);
        QVERIFY2(c && error.isEmpty(), qPrintable(error));
        QCOMPARE(c->keyIds(), QStringList({u"2026-11"_s, u"k1"_s}));
        // Clear mode from an empty path.
        auto none = DataCipher::fromFile({}, &error);
        QVERIFY(none && !none->enabled() && error.isEmpty());
        // Generated keys differ.
        QVERIFY(DataCipher::generateKeyLine(u"a"_s) != DataCipher::generateKeyLine(u"a"_s));
    }
};

QTEST_GUILESS_MAIN(TestDataCipher)
#include "tst_datacipher.moc"
