#pragma once
// Mono 16-bit sample-rate conversion with libspeexdsp, keeping filter state across chunks (so a stream
// converted chunk by chunk sounds the same as one converted whole). Not thread-safe; one per direction.

#include <QList>

#include <cstdint>

struct SpeexResamplerState_;

namespace vaani {

class Resampler
{
public:
    Resampler(int inRate, int outRate, int quality = 5);
    ~Resampler();
    Resampler(const Resampler &) = delete;
    Resampler &operator=(const Resampler &) = delete;

    bool isValid() const { return m_state != nullptr || m_passthrough; }
    int inRate() const { return m_in; }
    int outRate() const { return m_out; }
    QList<std::int16_t> process(const std::int16_t *samples, qsizetype count);
    QList<std::int16_t> process(const QList<std::int16_t> &samples)
    {
        return process(samples.constData(), samples.size());
    }

private:
    SpeexResamplerState_ *m_state = nullptr;
    int m_in;
    int m_out;
    bool m_passthrough;
};

} // namespace vaani
