#include "recordingmixer.h"

#include <algorithm>

namespace vaani {

namespace {
constexpr char kMulawSilence = char(0xFF);
}

bool RecordingMixer::caller(QByteArrayView mulaw)
{
    if (m_block.capacity() < 2 * kBlockSamples)
        m_block.reserve(2 * kBlockSamples + 2 * 1024);
    const qsizetype n = mulaw.size();
    const qsizetype fromAgent = std::min(n, agentQueued());
    const qsizetype start = m_block.size();
    m_block.resize(start + 2 * n);
    char *out = m_block.data() + start;
    const char *agentBytes = m_agent.constData() + m_agentRead;
    for (qsizetype i = 0; i < n; ++i) {
        out[2 * i] = mulaw[i];
        out[2 * i + 1] = i < fromAgent ? agentBytes[i] : kMulawSilence;
    }
    m_agentRead += fromAgent;
    if (m_agentRead == m_agent.size()) {
        m_agent.resize(0);
        m_agentRead = 0;
    }
    m_samples += n;
    return m_block.size() >= 2 * kBlockSamples;
}

void RecordingMixer::agent(QByteArrayView mulaw)
{
    if (m_agentRead > 0 && m_agentRead >= m_agent.size() / 2) {
        m_agent.remove(0, m_agentRead); // compact: what has been played is gone
        m_agentRead = 0;
    }
    m_agent.append(mulaw.data(), mulaw.size());
    if (const qsizetype over = agentQueued() - kMaxQueuedAgent; over > 0)
        m_agentRead += over;
}

void RecordingMixer::clear()
{
    m_agent.resize(0);
    m_agentRead = 0;
}

QByteArray RecordingMixer::takeBlock()
{
    QByteArray out;
    out.swap(m_block);
    return out;
}

} // namespace vaani
