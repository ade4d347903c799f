#pragma once
// Minimal RIFF/WAVE reader and writer for PCM16 (format 1) and G.711 μ-law (format 7), any channel count.
// Malformed files give a clear error, never a crash. Pure functions; thread-safe.

#include <QByteArray>
#include <QList>
#include <QString>

#include <cstdint>

namespace vaani {

struct Wav
{
    enum class Format : std::uint16_t { Pcm16 = 1, MuLaw = 7 };
    Format format = Format::Pcm16;
    int sampleRate = 8000;
    int channels = 1;
    QByteArray data; // interleaved samples as stored

    qsizetype frames() const;
    double durationSeconds() const;
    // Samples of one channel as 16-bit PCM (μ-law is decoded).
    QList<std::int16_t> channelPcm16(int channel = 0) const;
    // All channels mixed to mono PCM16.
    QList<std::int16_t> monoPcm16() const;

    QByteArray toBytes() const;
    static Wav fromBytes(const QByteArray &bytes, QString *error);
    static Wav pcm16(const QList<std::int16_t> &samples, int sampleRate, int channels = 1);
    static Wav mulaw(const QByteArray &codes, int sampleRate = 8000);
    bool save(const QString &path, QString *error) const;
    static Wav load(const QString &path, QString *error);
};

} // namespace vaani
