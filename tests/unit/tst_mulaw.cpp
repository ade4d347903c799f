#include "mulaw.h"

#include <QTest>

using namespace vaani;

class TestMuLaw : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encode_data()
    {
        QTest::addColumn<int>("pcm");
        QTest::addColumn<int>("code");
        // ITU-T G.191 reference vectors (../shared/reference/twilio.md §5), identical for the classic
        // encoder.
        const QList<QPair<int, int>> rows = {
            {-32768, 0x00}, {-20000, 0x0C}, {-8000, 0x20}, {-1000, 0x4E}, {-101, 0x72}, {-99, 0x73},
            {-50, 0x79},    {-1, 0x7F},     {0, 0xFF},     {1, 0xFF},     {50, 0xF9},   {99, 0xF3},
            {101, 0xF2},    {1000, 0xCE},   {8000, 0xA0},  {20000, 0x8C}, {32767, 0x80}};
        for (const auto &[pcm, code] : rows)
            QTest::addRow("%d", pcm) << pcm << code;
        // Classic-form specifics listed in the reference.
        QTest::addRow("classic -100") << -100 << 0x72;
        QTest::addRow("classic -4") << -4 << 0x7E;
        QTest::addRow("classic -31612") << -31612 << 0x00;
    }
    void encode()
    {
        QFETCH(int, pcm);
        QFETCH(int, code);
        QCOMPARE(int(mulaw::encodeSample(std::int16_t(pcm))), code);
        const std::int16_t in[3] = {std::int16_t(pcm), std::int16_t(pcm), std::int16_t(pcm)};
        std::uint8_t out[3] = {};
        mulaw::encode(in, 3, out);
        QCOMPARE(int(out[2]), code);
    }
    void decode_data()
    {
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("pcm");
        const QList<QPair<int, int>> rows = {
            {0x00, -32124}, {0x0F, -16764}, {0x10, -15996}, {0x1F, -8316}, {0x20, -7932}, {0x3F, -1980},
            {0x5F, -396},   {0x70, -120},   {0x7E, -8},     {0x7F, 0},     {0x80, 32124}, {0x8F, 16764},
            {0xA0, 7932},   {0xC0, 1884},   {0xEF, 132},    {0xF0, 120},   {0xFE, 8},     {0xFF, 0}};
        for (const auto &[code, pcm] : rows)
            QTest::addRow("0x%02X", code) << code << pcm;
    }
    void decode()
    {
        QFETCH(int, code);
        QFETCH(int, pcm);
        QCOMPARE(int(mulaw::decodeSample(std::uint8_t(code))), pcm);
        const auto buf = mulaw::decode(QByteArray(4, char(code)));
        QCOMPARE(buf.size(), 4);
        QCOMPARE(int(buf.at(3)), pcm);
    }
    void roundTrip()
    {
        QCOMPARE(int(mulaw::decodeSample(mulaw::encodeSample(1000))), 988);
        QCOMPARE(int(mulaw::decodeSample(mulaw::encodeSample(-99))), -96);
        QCOMPARE(int(mulaw::decodeSample(mulaw::encodeSample(8000))), 7932);
        // Every code decodes and re-encodes to itself (except -0, which encodes as +0).
        for (int c = 0; c < 256; ++c) {
            if (c == 0x7F)
                continue;
            QCOMPARE(int(mulaw::encodeSample(mulaw::decodeSample(std::uint8_t(c)))), c);
        }
    }
    void silence()
    {
        const QByteArray s = mulaw::silence(160);
        QCOMPARE(s.size(), 160);
        QVERIFY(std::all_of(s.begin(), s.end(), [](char c) { return std::uint8_t(c) == 0xFF; }));
        QCOMPARE(s.toBase64(), QByteArray(212, '/') + "/w==");
        QCOMPARE(QByteArray::fromHex("FF7F0080").toBase64(), QByteArray("/38AgA=="));
    }
};

QTEST_GUILESS_MAIN(TestMuLaw)
#include "tst_mulaw.moc"
