#pragma once
// G.711 μ-law (classic 16-bit form, identical to ITU-T G.191 for the reference vectors; see
// ../shared/reference/twilio.md §5). Buffer functions, table-driven decode. Pure and thread-safe.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <cstdint>

namespace vaani::mulaw {

constexpr std::uint8_t kSilence = 0xFF;
constexpr int kBytesPerMs = 8; // 8 kHz, one byte per sample

std::uint8_t encodeSample(std::int16_t pcm);
std::int16_t decodeSample(std::uint8_t code);

void encode(const std::int16_t *pcm, qsizetype count, std::uint8_t *out);
void decode(const std::uint8_t *codes, qsizetype count, std::int16_t *out);

QByteArray encode(const QList<std::int16_t> &pcm);
QList<std::int16_t> decode(QByteArrayView codes);
QByteArray silence(qsizetype samples);

} // namespace vaani::mulaw
