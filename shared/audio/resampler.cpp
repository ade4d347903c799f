#include "resampler.h"

#include <speex/speex_resampler.h>

namespace vaani {

Resampler::Resampler(int inRate, int outRate, int quality)
    : m_in(inRate)
    , m_out(outRate)
    , m_passthrough(inRate == outRate)
{
    if (m_passthrough)
        return;
    int err = 0;
    m_state = speex_resampler_init(1, spx_uint32_t(inRate), spx_uint32_t(outRate), quality, &err);
    if (err != RESAMPLER_ERR_SUCCESS && m_state) {
        speex_resampler_destroy(m_state);
        m_state = nullptr;
    }
    if (m_state)
        speex_resampler_skip_zeros(m_state);
}

Resampler::~Resampler()
{
    if (m_state)
        speex_resampler_destroy(m_state);
}

QList<std::int16_t> Resampler::process(const std::int16_t *samples, qsizetype count)
{
    if (m_passthrough)
        return QList<std::int16_t>(samples, samples + count);
    QList<std::int16_t> out;
    if (!m_state || count <= 0)
        return out;
    out.resize(qsizetype(double(count) * m_out / m_in) + 64);
    qsizetype produced = 0;
    qsizetype consumed = 0;
    while (consumed < count) {
        spx_uint32_t inLen = spx_uint32_t(count - consumed);
        spx_uint32_t outLen = spx_uint32_t(out.size() - produced);
        if (outLen == 0) {
            out.resize(out.size() * 2);
            continue;
        }
        speex_resampler_process_int(m_state, 0, samples + consumed, &inLen, out.data() + produced, &outLen);
        consumed += inLen;
        produced += outLen;
        if (inLen == 0 && outLen == 0)
            break;
    }
    out.resize(produced);
    return out;
}

} // namespace vaani
