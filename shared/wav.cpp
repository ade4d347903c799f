#include "wav.h"

#include "mulaw.h"

#include <QFile>
#include <QSaveFile>
#include <QtEndian>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
constexpr qsizetype kMaxWavBytes = qsizetype(1) << 30;

void put16(QByteArray &b, std::uint16_t v)
{
    char x[2];
    qToLittleEndian(v, x);
    b.append(x, 2);
}
void put32(QByteArray &b, std::uint32_t v)
{
    char x[4];
    qToLittleEndian(v, x);
    b.append(x, 4);
}
std::uint16_t get16(const char *p)
{
    return qFromLittleEndian<std::uint16_t>(p);
}
std::uint32_t get32(const char *p)
{
    return qFromLittleEndian<std::uint32_t>(p);
}
int bytesPerSample(Wav::Format f)
{
    return f == Wav::Format::Pcm16 ? 2 : 1;
}
} // namespace

qsizetype Wav::frames() const
{
    const qsizetype frameBytes = qsizetype(bytesPerSample(format)) * channels;
    return frameBytes > 0 ? data.size() / frameBytes : 0;
}

double Wav::durationSeconds() const
{
    return sampleRate > 0 ? double(frames()) / sampleRate : 0.0;
}

QList<std::int16_t> Wav::channelPcm16(int channel) const
{
    QList<std::int16_t> out;
    if (channel < 0 || channel >= channels)
        return out;
    const qsizetype n = frames();
    out.resize(n);
    const int bps = bytesPerSample(format);
    for (qsizetype i = 0; i < n; ++i) {
        const char *p = data.constData() + (i * channels + channel) * bps;
        out[i] = format == Format::Pcm16 ? std::int16_t(get16(p)) : mulaw::decodeSample(std::uint8_t(*p));
    }
    return out;
}

QList<std::int16_t> Wav::monoPcm16() const
{
    if (channels == 1)
        return channelPcm16(0);
    QList<QList<std::int16_t>> chans;
    for (int c = 0; c < channels; ++c)
        chans << channelPcm16(c);
    QList<std::int16_t> out(frames());
    for (qsizetype i = 0; i < out.size(); ++i) {
        int sum = 0;
        for (const auto &ch : chans)
            sum += ch[i];
        out[i] = std::int16_t(sum / channels);
    }
    return out;
}

QByteArray Wav::toBytes() const
{
    const int bps = bytesPerSample(format);
    QByteArray b;
    b.reserve(44 + data.size());
    b.append("RIFF", 4);
    put32(b, std::uint32_t(36 + data.size()));
    b.append("WAVEfmt ", 8);
    put32(b, 16);
    put16(b, std::uint16_t(format));
    put16(b, std::uint16_t(channels));
    put32(b, std::uint32_t(sampleRate));
    put32(b, std::uint32_t(sampleRate * channels * bps));
    put16(b, std::uint16_t(channels * bps));
    put16(b, std::uint16_t(bps * 8));
    b.append("data", 4);
    put32(b, std::uint32_t(data.size()));
    b.append(data);
    return b;
}

Wav Wav::fromBytes(const QByteArray &bytes, QString *error)
{
    auto fail = [&](const QString &msg) {
        if (error)
            *error = msg;
        return Wav{};
    };
    if (error)
        error->clear();
    if (bytes.size() > kMaxWavBytes)
        return fail(u"WAV file too large (%1 bytes)"_s.arg(bytes.size()));
    if (bytes.size() < 12 || !bytes.startsWith("RIFF") || bytes.mid(8, 4) != "WAVE")
        return fail(u"not a RIFF/WAVE file"_s);
    Wav w;
    bool haveFmt = false;
    bool haveData = false;
    qsizetype pos = 12;
    while (pos + 8 <= bytes.size()) {
        const QByteArray id = bytes.mid(pos, 4);
        const qsizetype size = get32(bytes.constData() + pos + 4);
        const qsizetype body = pos + 8;
        if (id == "fmt ") {
            if (size < 16 || body + 16 > bytes.size())
                return fail(u"WAV fmt chunk truncated"_s);
            const char *p = bytes.constData() + body;
            const std::uint16_t fmt = get16(p);
            w.channels = get16(p + 2);
            w.sampleRate = int(get32(p + 4));
            const std::uint16_t bits = get16(p + 14);
            if (fmt == 1 && bits == 16)
                w.format = Format::Pcm16;
            else if (fmt == 7 && bits == 8)
                w.format = Format::MuLaw;
            else
                return fail(
                    u"unsupported WAV encoding (format %1, %2 bits); use PCM16 or μ-law"_s.arg(fmt).arg(
                        bits));
            if (w.channels < 1 || w.channels > 8)
                return fail(u"WAV channel count %1 out of range"_s.arg(w.channels));
            if (w.sampleRate < 1000 || w.sampleRate > 384000)
                return fail(u"WAV sample rate %1 out of range"_s.arg(w.sampleRate));
            haveFmt = true;
        } else if (id == "data") {
            if (!haveFmt)
                return fail(u"WAV data chunk before fmt chunk"_s);
            qsizetype n = size;
            // Streams written live (espeak-ng --stdout, sox -) leave 0 or a huge placeholder as the size:
            // take what is there.
            const bool streamed = n == 0 || n >= 0x7FFF0000;
            if (streamed || body + n > bytes.size()) {
                if (!streamed)
                    return fail(
                        u"WAV data chunk truncated (%1 of %2 bytes)"_s.arg(bytes.size() - body).arg(n));
                n = bytes.size() - body;
            }
            const qsizetype frameBytes = qsizetype(bytesPerSample(w.format)) * w.channels;
            w.data = bytes.mid(body, n - n % frameBytes);
            haveData = true;
            break;
        }
        pos = body + size + (size & 1);
    }
    if (!haveFmt)
        return fail(u"WAV file has no fmt chunk"_s);
    if (!haveData)
        return fail(u"WAV file has no data chunk"_s);
    return w;
}

Wav Wav::pcm16(const QList<std::int16_t> &samples, int sampleRate, int channels)
{
    Wav w;
    w.format = Format::Pcm16;
    w.sampleRate = sampleRate;
    w.channels = channels;
    w.data.resize(samples.size() * 2);
    for (qsizetype i = 0; i < samples.size(); ++i)
        qToLittleEndian(samples[i], w.data.data() + i * 2);
    return w;
}

Wav Wav::mulaw(const QByteArray &codes, int sampleRate)
{
    Wav w;
    w.format = Format::MuLaw;
    w.sampleRate = sampleRate;
    w.channels = 1;
    w.data = codes;
    return w;
}

bool Wav::save(const QString &path, QString *error) const
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(toBytes()) < 0 || !f.commit()) {
        if (error)
            *error = u"cannot write %1: %2"_s.arg(path, f.errorString());
        return false;
    }
    return true;
}

Wav Wav::load(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = u"cannot read %1: %2"_s.arg(path, f.errorString());
        return {};
    }
    if (f.size() > kMaxWavBytes) {
        if (error)
            *error = u"%1: WAV file too large"_s.arg(path);
        return {};
    }
    Wav w = fromBytes(f.readAll(), error);
    if (error && !error->isEmpty())
        *error = path + u": "_s + *error;
    return w;
}

} // namespace vaani
