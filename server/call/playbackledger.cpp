#include "playbackledger.h"

#include <algorithm>

namespace vaani {

PlaybackLedger::Marks PlaybackLedger::sent(const QString &itemId, qint64 bytes)
{
    Marks marks;
    if (m_unmarked.bytes > 0 && m_unmarked.itemId != itemId)
        marks.before = seal(); // marks never span two items
    if (m_chunks.empty() && m_unmarked.bytes == 0)
        m_playingSince = m_clock(); // nothing queued at Twilio: this plays from now
    m_unmarked.itemId = itemId;
    m_unmarked.epoch = m_epoch;
    m_unmarked.bytes += bytes;
    if (m_unmarked.bytes >= kMarkEveryBytes) {
        marks.after = nextMark();
        m_unmarked.mark = marks.after;
        m_chunks.push_back(std::exchange(m_unmarked, Chunk{QString(), 0, QString(), m_epoch}));
    }
    return marks;
}

QString PlaybackLedger::seal()
{
    if (m_unmarked.bytes == 0)
        return {};
    m_unmarked.mark = nextMark();
    const QString mark = m_unmarked.mark;
    m_chunks.push_back(std::exchange(m_unmarked, Chunk{QString(), 0, QString(), m_epoch}));
    return mark;
}

void PlaybackLedger::played(const QString &mark)
{
    // An echo caused by `clear` belongs to an older epoch: that audio was not heard.
    while (!m_chunks.empty()) {
        const Chunk c = m_chunks.front();
        m_chunks.pop_front();
        if (c.epoch == m_epoch)
            m_played[c.itemId] += c.bytes;
        if (c.mark == mark)
            break;
    }
    m_playingSince = m_clock();
}

qint64 PlaybackLedger::heardBytes(const QString &itemId) const
{
    qint64 heard = m_played.value(itemId);
    qint64 budget = m_playingSince >= 0 ? std::max<qint64>(0, m_clock() - m_playingSince - 20) * 8 : 0;
    auto consume = [&](const Chunk &c) {
        if (c.epoch != m_epoch)
            return;
        const qint64 take = std::min(budget, c.bytes);
        budget -= take;
        if (c.itemId == itemId)
            heard += take;
    };
    for (const Chunk &c : m_chunks)
        consume(c);
    consume(m_unmarked);
    return heard;
}

std::optional<qint64> PlaybackLedger::clear(const QString &itemId)
{
    const qint64 heard = itemId.isEmpty() ? 0 : heardBytes(itemId); // before the clear discards the rest
    ++m_epoch;
    m_unmarked = Chunk{QString(), 0, QString(), m_epoch}; // cleared at Twilio: never played
    if (itemId.isEmpty())
        return std::nullopt;
    const qint64 receivedMs = m_received.value(itemId) / 8;
    const qint64 heardMs = std::clamp<qint64>(heard / 8, 0, receivedMs);
    if (heardMs >= receivedMs)
        return std::nullopt;
    return heardMs;
}

} // namespace vaani
