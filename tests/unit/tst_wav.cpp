#include "testenv.h"
#include "wav.h"

#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestWav : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pcmRoundTrip()
    {
        QList<std::int16_t> samples;
        for (int i = 0; i < 1600; ++i)
            samples << std::int16_t((i * 37) % 20000 - 10000);
        const Wav w = Wav::pcm16(samples, 16000);
        const QByteArray bytes = w.toBytes();
        QCOMPARE(bytes.size(), 44 + 3200);
        QString err;
        const Wav back = Wav::fromBytes(bytes, &err);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QCOMPARE(back.sampleRate, 16000);
        QCOMPARE(back.channels, 1);
        QCOMPARE(back.format, Wav::Format::Pcm16);
        QCOMPARE(back.channelPcm16(), samples);
        QCOMPARE(back.durationSeconds(), 0.1);
    }
    void mulawFileRoundTrip()
    {
        const QString path = test::tempDir(u"wav"_s) + u"/x.wav"_s;
        const Wav w = Wav::mulaw(QByteArray::fromHex("FF7F0080CE"));
        QString err;
        QVERIFY(w.save(path, &err));
        const Wav back = Wav::load(path, &err);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QCOMPARE(back.format, Wav::Format::MuLaw);
        QCOMPARE(back.data, w.data);
        QCOMPARE(back.channelPcm16().at(4), std::int16_t(988));
    }
    void stereoMix()
    {
        const Wav w = Wav::pcm16({100, 300, -100, -300}, 8000, 2);
        QCOMPARE(w.frames(), 2);
        QCOMPARE(w.channelPcm16(1), QList<std::int16_t>({300, -300}));
        QCOMPARE(w.monoPcm16(), QList<std::int16_t>({200, -200}));
    }
    void malformed_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const QByteArray good = Wav::pcm16({1, 2, 3}, 8000).toBytes();
        QTest::newRow("empty") << QByteArray() << u"not a RIFF/WAVE"_s;
        QTest::newRow("not riff") << QByteArray("RIFX0000WAVEfmt ") << u"not a RIFF/WAVE"_s;
        QTest::newRow("no fmt") << QByteArray("RIFF\x04\0\0\0WAVEdata\0\0\0\0", 20) << u"before fmt"_s;
        QByteArray truncatedFmt = good.left(30);
        QTest::newRow("fmt truncated") << truncatedFmt << u"fmt chunk truncated"_s;
        QByteArray noData = good.left(36);
        QTest::newRow("no data") << noData << u"no data chunk"_s;
        QByteArray float32 = good;
        float32[20] = 3; // IEEE float
        float32[34] = 32;
        QTest::newRow("float") << float32 << u"unsupported WAV encoding"_s;
        QByteArray shortData = good;
        shortData[40] = 100;
        QTest::newRow("data truncated") << shortData << u"data chunk truncated"_s;
        QByteArray zeroRate = good;
        zeroRate[24] = 0;
        zeroRate[25] = 0;
        QTest::newRow("bad rate") << zeroRate << u"sample rate"_s;
    }
    void malformed()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QString err;
        const Wav w = Wav::fromBytes(bytes, &err);
        QVERIFY2(err.contains(expected), qPrintable(err));
        QVERIFY(w.data.isEmpty());
    }
    void streamedSizes()
    {
        // espeak-ng --stdout and sox write placeholder sizes; the data that is there is read.
        QByteArray b = Wav::pcm16({1, 2, 3, 4}, 22050).toBytes();
        b[40] = char(0x00);
        b[41] = char(0xF0);
        b[42] = char(0xFF);
        b[43] = char(0x7F);
        QString err;
        const Wav w = Wav::fromBytes(b, &err);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QCOMPARE(w.channelPcm16(), QList<std::int16_t>({1, 2, 3, 4}));
    }

    void missingFile()
    {
        QString err;
        Wav::load(u"/nonexistent/x.wav"_s, &err);
        QVERIFY(err.contains(u"cannot read"_s));
    }
};

QTEST_GUILESS_MAIN(TestWav)
#include "tst_wav.moc"
