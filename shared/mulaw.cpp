#include "mulaw.h"

#include <array>

namespace vaani::mulaw {

namespace {
constexpr int kBias = 0x84;
constexpr int kClip = 32635;

constexpr std::array<std::int16_t, 256> makeDecodeTable()
{
    std::array<std::int16_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
        const int u = ~i & 0xFF;
        const int exponent = (u >> 4) & 0x07;
        const int mantissa = u & 0x0F;
        const int magnitude = (((mantissa << 3) + kBias) << exponent) - kBias;
        t[size_t(i)] = std::int16_t((u & 0x80) ? -magnitude : magnitude);
    }
    return t;
}
constexpr auto kDecode = makeDecodeTable();
} // namespace

std::uint8_t encodeSample(std::int16_t pcm)
{
    int sample = pcm;
    const int sign = sample < 0 ? 0x80 : 0;
    int magnitude = sample < 0 ? -sample : sample;
    if (magnitude > kClip)
        magnitude = kClip;
    magnitude += kBias;
    int exponent = 7;
    for (int mask = 0x4000; exponent > 0 && !(magnitude & mask); mask >>= 1)
        --exponent;
    const int mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    return std::uint8_t(~(sign | (exponent << 4) | mantissa) & 0xFF);
}

std::int16_t decodeSample(std::uint8_t code)
{
    return kDecode[code];
}

void encode(const std::int16_t *pcm, qsizetype count, std::uint8_t *out)
{
    for (qsizetype i = 0; i < count; ++i)
        out[i] = encodeSample(pcm[i]);
}

void decode(const std::uint8_t *codes, qsizetype count, std::int16_t *out)
{
    for (qsizetype i = 0; i < count; ++i)
        out[i] = kDecode[codes[i]];
}

QByteArray encode(const QList<std::int16_t> &pcm)
{
    QByteArray out(pcm.size(), Qt::Uninitialized);
    encode(pcm.constData(), pcm.size(), reinterpret_cast<std::uint8_t *>(out.data()));
    return out;
}

QList<std::int16_t> decode(QByteArrayView codes)
{
    QList<std::int16_t> out(codes.size());
    decode(reinterpret_cast<const std::uint8_t *>(codes.data()), codes.size(), out.data());
    return out;
}

QByteArray silence(qsizetype samples)
{
    return QByteArray(samples, char(kSilence));
}

} // namespace vaani::mulaw
