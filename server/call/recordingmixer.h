#pragma once
// RECORD_CALLS: puts a call's two directions side by side as they were heard — caller left, agent right —
// in blocks of interleaved stereo μ-law for the RecordingStore. The caller's frames are the clock (Twilio
// sends one every 20 ms, silence included): each caller sample takes the next agent sample queued for
// playout, or silence. Agent audio is queued as it is sent to Twilio, which plays it at once and in order;
// Twilio's `clear` (a barge-in) empties the queue, so the agent channel goes silent where the caller stopped
// hearing it. Pure; used on the session's thread. No allocation per frame once a block is reserved.

#include <QByteArray>
#include <QByteArrayView>

namespace vaani {

class RecordingMixer
{
public:
    static constexpr qsizetype kBlockSamples = 8000;         // one second per block
    static constexpr qsizetype kMaxQueuedAgent = 8000 * 120; // two minutes of agent audio ahead of playout

    // μ-law samples the caller sent (one Twilio frame); returns true when a block is ready (takeBlock()).
    bool caller(QByteArrayView mulaw);
    // μ-law samples sent to Twilio for playout; beyond kMaxQueuedAgent the oldest are dropped.
    void agent(QByteArrayView mulaw);
    // Twilio was told to `clear`: what was queued is never heard.
    void clear();
    // The block so far (at most kBlockSamples stereo frames ready: a full one, or the rest at the end).
    QByteArray takeBlock();
    bool hasAudio() const { return !m_block.isEmpty(); }
    qint64 samples() const { return m_samples; } // per channel, since the start
    qint64 durationMs() const { return m_samples / 8; }
    qsizetype agentQueued() const { return m_agent.size() - m_agentRead; }

private:
    QByteArray m_block; // interleaved caller, agent
    QByteArray m_agent; // queued for playout from m_agentRead
    qsizetype m_agentRead = 0;
    qint64 m_samples = 0;
};

} // namespace vaani
