#pragma once
// Process-wide metrics in Prometheus text exposition format. Thread-safe: hot-path counters are atomics,
// labelled counters (rare events) take a mutex, histograms use fixed buckets of atomics.

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace vaani {

class Histogram
{
public:
    explicit Histogram(QList<double> upperBounds);
    void observe(double value);
    void render(QByteArray &out, const char *name, const char *help) const;

private:
    QList<double> m_bounds;
    std::unique_ptr<std::atomic<quint64>[]> m_counts; // one per bound, plus +Inf
    std::atomic<quint64> m_count{0};
    std::atomic<quint64> m_sumMicro{0}; // sum in millionths, to stay lock-free
};

class Metrics
{
public:
    Metrics();

    std::atomic<qint64> callsActive{0};
    std::atomic<quint64> framesIn{0};
    std::atomic<quint64> framesOut{0};
    std::atomic<quint64> marksOut{0};
    std::atomic<quint64> callsRecovered{0};   // left in progress by a stopped server, marked interrupted
    std::atomic<quint64> callsTimeLimited{0}; // reached MAX_CALL_MINUTES (told to wrap up, then cut)
    std::atomic<qint64> spendTodayMicroUsd{
        -1}; // DAILY_SPEND_CAP_USD: today's spend as last read (-1: no cap)
    // REDIS_URL: -1 not configured, 0 unreachable, 1 connected.
    std::atomic<int> redisUp{-1};
    std::atomic<qint64> deploymentCalls{-1}; // the deployment's calls, as Redis counted them at the last look
    std::atomic<qint64> deploymentServers{-1};
    // What the model cost so far, in millionths of a US dollar (priced with the PRICE_* settings).
    std::atomic<quint64> modelCostMicroUsd{0};
    std::atomic<quint64> audioTokensIn{0};
    std::atomic<quint64> audioTokensOut{0};
    std::atomic<quint64> clearsOut{0};
    std::atomic<quint64> bargeIns{0};     // caller speech that stopped the agent
    std::atomic<quint64> backchannels{0}; // caller speech over the agent that did not (BACKCHANNEL_MS)
    std::atomic<quint64> callerFramesDropped{0};
    // RECORD_CALLS (RecordingStore)
    std::atomic<qint64> recordingsOpen{0};
    std::atomic<quint64> recordingsCompleted{0};
    std::atomic<quint64> recordingsDeclined{0};
    std::atomic<quint64> recordingsFailed{0};       // the disk refused a file (its call's record says so)
    std::atomic<quint64> recordingBlocksDropped{0}; // audio blocks not written: the disk fell behind
    std::atomic<quint64> recordingBytesWritten{0};
    std::atomic<quint64> recordingsDeleted{0};        // files removed by retention or erasure
    std::atomic<quint64> retentionPurgedLines{0};     // transcript lines deleted by RETENTION_DAYS
    std::atomic<quint64> retentionPurgedToolCalls{0}; // tool calls whose arguments and results were cleared
    // The call-record journal (RecordJournal), read when /metrics is rendered; unset: not rendered.
    struct JournalFigures
    {
        qint64 backlog = 0, backlogBytes = 0, oldestAgeMs = 0;
        bool databaseTakesWrites = true, fileWritable = true;
        quint64 applied = 0, replayed = 0, dropped = 0, rejected = 0, fileErrors = 0;
    };
    std::function<JournalFigures()> journal;
    Histogram turnLatencyMs;
    Histogram firstAudioMs;
    Histogram toolDurationMs;
    Histogram modelResumeGapMs; // model connection lost → replacement session ready, conversation replayed

    void callEnded(const QString &outcome);
    void webhookRequest(const QString &route, int status);
    void webhookError(const QString &kind);
    void streamError(const QString &kind);
    void signatureRejected(const QString &where);
    void realtimeError(const QString &kind);
    void redisFallback(const QString &kind);  // a decision taken locally because Redis was unreachable
    void fallbackMenu(const QString &choice); // a caller's choice in the fallback's keypad menu
    void modelResume(const QString &result);  // resumed, rollover, failed

    QByteArray render() const;

private:
    void bump(QHash<QString, quint64> &map, const QString &key);
    mutable QMutex m_mutex;
    QHash<QString, quint64> m_callsByOutcome;
    QHash<QString, quint64> m_webhookRequests;
    QHash<QString, quint64> m_webhookErrors;
    QHash<QString, quint64> m_streamErrors;
    QHash<QString, quint64> m_signatureRejections;
    QHash<QString, quint64> m_realtimeErrors;
    QHash<QString, quint64> m_redisFallbacks;
    QHash<QString, quint64> m_fallbackMenu;
    QHash<QString, quint64> m_modelResumes;
};

} // namespace vaani
