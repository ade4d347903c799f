#pragma once
// What the caller has heard of the agent. Twilio plays the audio we send in order and without gaps, and
// echoes each mark once the audio before it has played. The ledger keeps the audio sent since the last echoed
// mark in chunks, each closed by a mark, so that at a barge-in the session knows how much of an answer the
// caller heard (confirmed by echoes, plus the time played since the last one) and truncates the model's
// memory of it there; and so that a hang-up waits until the goodbye has been heard. A mark follows every
// kMarkEveryBytes of audio (100 ms: barge-in needs no finer grain, and a mark per 20 ms delta would double
// the messages to Twilio), the end of each item's audio and the moment before a hang-up.
//
// Pure bookkeeping: no I/O (the session sends the marks it is given) and time from a Clock. Value type, used
// on the session's thread.

#include "clock.h"

#include <QHash>
#include <QString>

#include <algorithm>
#include <deque>
#include <optional>

namespace vaani {

class PlaybackLedger
{
public:
    static constexpr qint64 kMarkEveryBytes = 800; // 100 ms of 8 kHz μ-law

    explicit PlaybackLedger(Clock clock)
        : m_clock(std::move(clock))
    {}

    // The model delivered `bytes` of audio for `itemId` (whether or not it reaches the caller).
    void received(const QString &itemId, qint64 bytes) { m_received[itemId] += bytes; }

    struct Marks
    {
        QString before; // send before this audio: closes the previous item's unmarked audio
        QString after;  // send with this audio
    };
    // `bytes` of `itemId` go to the caller now; returns the marks to send around them.
    Marks sent(const QString &itemId, qint64 bytes);
    // A mark for audio sent since the last one (at the end of an item, before a hang-up); empty if none.
    QString seal();
    // Twilio echoed this mark: everything up to it has played (marks echo in order).
    void played(const QString &mark);

    // Bytes of `itemId` the caller has heard: echoed, plus what has played since the last echo (one 20 ms
    // frame held back, so the model never hears that the caller heard more than they did).
    qint64 heardBytes(const QString &itemId) const;
    // Agent audio is at Twilio and not yet known to have played.
    bool audioQueued() const { return !m_chunks.empty() || m_unmarked.bytes > 0; }
    // About how much agent audio is still to play at Twilio, in ms (sent, not yet echoed, less what has
    // played since the last echo).
    qint64 queuedMs() const
    {
        qint64 bytes = m_unmarked.bytes;
        for (const Chunk &c : m_chunks)
            bytes += c.bytes;
        const qint64 playing = m_playingSince >= 0 ? (m_clock() - m_playingSince) * 8 : 0;
        return std::max<qint64>(0, bytes - playing) / 8;
    }
    // Marks still to be echoed (a hang-up waits for them; cleared audio's marks echo too).
    bool awaitingMarks() const { return !m_chunks.empty(); }

    // Barge-in: Twilio is told to clear what it has not played. Returns where to truncate `itemId` (in ms of
    // audio the caller heard) when that is less than the model sent, else nothing.
    std::optional<qint64> clear(const QString &itemId);

private:
    struct Chunk
    {
        QString mark;
        qint64 bytes = 0;
        QString itemId;
        int epoch = 0;
    };
    QString nextMark() { return QStringLiteral("a") + QString::number(++m_markCounter); }

    Clock m_clock;
    std::deque<Chunk> m_chunks; // closed by marks not yet echoed
    Chunk m_unmarked;           // sent since the last mark
    qint64 m_playingSince = -1; // clock time of the last echo, or when audio started after an idle spell
    int m_epoch = 0;            // bumped by each clear: older chunks were never played
    quint64 m_markCounter = 0;
    QHash<QString, qint64> m_received;
    QHash<QString, qint64> m_played;
};

} // namespace vaani
