#include "metrics.h"

#include <QMutexLocker>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
const QList<double> kLatencyBuckets = {5,   10,   25,   50,   100,  200,  300,  500,
                                       750, 1000, 1500, 2000, 3000, 5000, 10000};

QByteArray num(double v)
{
    return QByteArray::number(v, 'g', 12);
}

QByteArray escapeLabel(const QString &v)
{
    QByteArray b = v.toUtf8();
    b.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return b;
}

void renderLabelled(QByteArray &out, const char *name, const char *help, const char *type, const char *label,
                    const QHash<QString, quint64> &values)
{
    out += "# HELP "_ba + name + ' ' + help + "\n# TYPE "_ba + name + ' ' + type + '\n';
    QStringList keys = values.keys();
    std::sort(keys.begin(), keys.end());
    for (const QString &k : keys) {
        // "a|b" keys hold two label values (route|status).
        const QStringList parts = k.split(u'|');
        QByteArray labels = QByteArray(label) + "=\"" + escapeLabel(parts.at(0)) + '"';
        if (parts.size() > 1)
            labels += ",status=\"" + escapeLabel(parts.at(1)) + '"';
        out += QByteArray(name) + '{' + labels + "} " + QByteArray::number(values.value(k)) + '\n';
    }
}

void renderScalar(QByteArray &out, const char *name, const char *help, const char *type, double value)
{
    out += "# HELP "_ba + name + ' ' + help + "\n# TYPE "_ba + name + ' ' + type + '\n' + name + ' ' +
           num(value) + '\n';
}
} // namespace

Histogram::Histogram(QList<double> upperBounds)
    : m_bounds(std::move(upperBounds))
    , m_counts(new std::atomic<quint64>[size_t(m_bounds.size()) + 1])
{
    for (qsizetype i = 0; i <= m_bounds.size(); ++i)
        m_counts[size_t(i)] = 0;
}

void Histogram::observe(double value)
{
    const auto it = std::lower_bound(m_bounds.begin(), m_bounds.end(), value);
    m_counts[size_t(it - m_bounds.begin())].fetch_add(1, std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
    m_sumMicro.fetch_add(quint64(std::max(0.0, value) * 1e6), std::memory_order_relaxed);
}

void Histogram::render(QByteArray &out, const char *name, const char *help) const
{
    out += "# HELP "_ba + name + ' ' + help + "\n# TYPE "_ba + name + " histogram\n";
    quint64 cumulative = 0;
    for (qsizetype i = 0; i < m_bounds.size(); ++i) {
        cumulative += m_counts[size_t(i)].load(std::memory_order_relaxed);
        out += QByteArray(name) + "_bucket{le=\"" + num(m_bounds.at(i)) + "\"} " +
               QByteArray::number(cumulative) + '\n';
    }
    cumulative += m_counts[size_t(m_bounds.size())].load(std::memory_order_relaxed);
    out += QByteArray(name) + "_bucket{le=\"+Inf\"} " + QByteArray::number(cumulative) + '\n';
    out += QByteArray(name) + "_sum " + num(double(m_sumMicro.load()) / 1e6) + '\n';
    out += QByteArray(name) + "_count " + QByteArray::number(cumulative) + '\n';
}

Metrics::Metrics()
    : turnLatencyMs(kLatencyBuckets)
    , firstAudioMs(kLatencyBuckets)
    , toolDurationMs(kLatencyBuckets)
    , modelResumeGapMs(kLatencyBuckets)
{}

void Metrics::bump(QHash<QString, quint64> &map, const QString &key)
{
    QMutexLocker lock(&m_mutex);
    ++map[key];
}

void Metrics::callEnded(const QString &outcome)
{
    bump(m_callsByOutcome, outcome);
}

void Metrics::webhookRequest(const QString &route, int status)
{
    bump(m_webhookRequests, route + u'|' + QString::number(status));
}

void Metrics::webhookError(const QString &kind)
{
    bump(m_webhookErrors, kind);
}

void Metrics::streamError(const QString &kind)
{
    bump(m_streamErrors, kind);
}

void Metrics::signatureRejected(const QString &where)
{
    bump(m_signatureRejections, where);
}

void Metrics::redisFallback(const QString &kind)
{
    bump(m_redisFallbacks, kind);
}

void Metrics::fallbackMenu(const QString &choice)
{
    bump(m_fallbackMenu, choice);
}

void Metrics::modelResume(const QString &result)
{
    bump(m_modelResumes, result);
}

void Metrics::realtimeError(const QString &kind)
{
    bump(m_realtimeErrors, kind);
}

QByteArray Metrics::render() const
{
    QByteArray out;
    out.reserve(8192);
    renderScalar(out, "vaani_calls_active", "Calls in progress on this server.", "gauge",
                 double(callsActive.load()));
    {
        QMutexLocker lock(&m_mutex);
        renderLabelled(out, "vaani_calls_total", "Calls ended, by outcome.", "counter", "outcome",
                       m_callsByOutcome);
        renderLabelled(out, "vaani_http_requests_total", "Webhook and probe requests, by route and status.",
                       "counter", "route", m_webhookRequests);
        renderLabelled(out, "vaani_webhook_errors_total", "Rejected or failed webhook requests, by kind.",
                       "counter", "kind", m_webhookErrors);
        renderLabelled(out, "vaani_stream_errors_total", "Media Stream protocol errors, by kind.", "counter",
                       "kind", m_streamErrors);
        renderLabelled(out, "vaani_signature_rejections_total",
                       "Requests rejected for a bad Twilio signature.", "counter", "where",
                       m_signatureRejections);
        renderLabelled(out, "vaani_realtime_errors_total", "OpenAI Realtime errors, by kind.", "counter",
                       "kind", m_realtimeErrors);
        if (redisUp.load() >= 0)
            renderLabelled(
                out, "vaani_redis_fallbacks_total",
                "Deployment-wide decisions taken by this server alone because Redis was unreachable, "
                "by kind.",
                "counter", "kind", m_redisFallbacks);
        renderLabelled(out, "vaani_fallback_menu_total",
                       "Choices made in the fallback's keypad menu (callback ticket, transfer).", "counter",
                       "choice", m_fallbackMenu);
        renderLabelled(out, "vaani_model_resumes_total",
                       "Model sessions replaced mid-call: resumed after a drop, rollover before the "
                       "session limit, failed (the call went to the fallback).",
                       "counter", "result", m_modelResumes);
    }
    if (const int up = redisUp.load(); up >= 0) {
        renderScalar(out, "vaani_redis_up", "1 when this server's Redis connection (REDIS_URL) is up.",
                     "gauge", double(up));
        renderScalar(out, "vaani_deployment_calls_active",
                     "Calls in progress on all servers, as counted in Redis at the last heartbeat.", "gauge",
                     double(std::max<qint64>(0, deploymentCalls.load())));
        renderScalar(out, "vaani_deployment_servers",
                     "Live servers registered in Redis at the last heartbeat.", "gauge",
                     double(std::max<qint64>(0, deploymentServers.load())));
    }
    renderScalar(out, "vaani_media_frames_in_total", "Caller media frames received from Twilio.", "counter",
                 double(framesIn.load()));
    renderScalar(out, "vaani_media_frames_out_total", "Agent media frames sent to Twilio.", "counter",
                 double(framesOut.load()));
    renderScalar(out, "vaani_marks_out_total", "Marks sent to Twilio.", "counter", double(marksOut.load()));
    renderScalar(out, "vaani_calls_recovered_total",
                 "Calls a stopped server left in progress, marked interrupted by this one.", "counter",
                 double(callsRecovered.load()));
    renderScalar(out, "vaani_calls_time_limited_total",
                 "Calls that reached MAX_CALL_MINUTES (the agent said goodbye, then the call was cut).",
                 "counter", double(callsTimeLimited.load()));
    if (const qint64 spent = spendTodayMicroUsd.load(); spent >= 0)
        renderScalar(out, "vaani_spend_today_usd",
                     "Model spend today on every server sharing the database (DAILY_SPEND_CAP_USD).", "gauge",
                     double(spent) / 1e6);
    renderScalar(out, "vaani_model_cost_usd_total", "Model usage cost in US dollars (PRICE_* settings).",
                 "counter", double(modelCostMicroUsd.load()) / 1e6);
    renderScalar(out, "vaani_model_audio_input_tokens_total", "Audio input tokens billed by the model.",
                 "counter", double(audioTokensIn.load()));
    renderScalar(out, "vaani_model_audio_output_tokens_total", "Audio output tokens billed by the model.",
                 "counter", double(audioTokensOut.load()));
    renderScalar(out, "vaani_clears_out_total", "Clear (barge-in) messages sent to Twilio.", "counter",
                 double(clearsOut.load()));
    renderScalar(out, "vaani_barge_ins_total", "Caller speech that stopped the agent mid-answer.", "counter",
                 double(bargeIns.load()));
    renderScalar(
        out, "vaani_backchannels_total",
        "Caller speech over the agent taken as a backchannel (haan, acha, hmm…): the agent carried on.",
        "counter", double(backchannels.load()));
    renderScalar(out, "vaani_caller_frames_dropped_total", "Caller frames dropped because a buffer was full.",
                 "counter", double(callerFramesDropped.load()));
    renderScalar(out, "vaani_recordings_open", "Call recordings being written now (RECORD_CALLS).", "gauge",
                 double(recordingsOpen.load()));
    renderScalar(out, "vaani_recordings_completed_total", "Call recordings written to the end.", "counter",
                 double(recordingsCompleted.load()));
    renderScalar(out, "vaani_recordings_declined_total",
                 "Calls whose caller declined recording (their audio was deleted).", "counter",
                 double(recordingsDeclined.load()));
    renderScalar(out, "vaani_recordings_failed_total", "Call recordings the disk refused.", "counter",
                 double(recordingsFailed.load()));
    renderScalar(out, "vaani_recording_blocks_dropped_total",
                 "One-second recording blocks dropped because the disk fell behind (never delays a call).",
                 "counter", double(recordingBlocksDropped.load()));
    renderScalar(out, "vaani_recording_bytes_written_total", "Bytes written to call recordings.", "counter",
                 double(recordingBytesWritten.load()));
    renderScalar(out, "vaani_recordings_deleted_total",
                 "Recording files deleted by RETENTION_DAYS or a caller's erasure.", "counter",
                 double(recordingsDeleted.load()));
    renderScalar(out, "vaani_retention_purged_transcript_lines_total",
                 "Transcript lines deleted because they were older than RETENTION_DAYS.", "counter",
                 double(retentionPurgedLines.load()));
    renderScalar(out, "vaani_retention_purged_tool_calls_total",
                 "Tool calls whose arguments and results were cleared by RETENTION_DAYS.", "counter",
                 double(retentionPurgedToolCalls.load()));
    if (journal) {
        const JournalFigures j = journal();
        renderScalar(out, "vaani_journal_backlog",
                     "Call-record writes waiting in the journal for the database.", "gauge",
                     double(j.backlog));
        renderScalar(out, "vaani_journal_backlog_bytes",
                     "Bytes of call-record writes waiting in the journal.", "gauge", double(j.backlogBytes));
        renderScalar(out, "vaani_journal_oldest_seconds",
                     "Seconds the oldest write in the journal has waited for the database.", "gauge",
                     double(j.oldestAgeMs) / 1000.0);
        renderScalar(out, "vaani_journal_database_ok",
                     "1 while the database takes call-record writes, 0 while they wait in the journal.",
                     "gauge", j.databaseTakesWrites ? 1 : 0);
        renderScalar(
            out, "vaani_journal_file_ok",
            "1 while the journal file can be written (0: disk full or failing; writes in memory only).",
            "gauge", j.fileWritable ? 1 : 0);
        renderScalar(out, "vaani_journal_applied_total", "Call-record writes applied to the database.",
                     "counter", double(j.applied));
        renderScalar(out, "vaani_journal_replayed_total",
                     "Call-record writes an earlier run left in the journal, applied at this start.",
                     "counter", double(j.replayed));
        renderScalar(out, "vaani_journal_dropped_total",
                     "Call-record writes dropped because the journal was full (JOURNAL_MAX_MB).", "counter",
                     double(j.dropped));
        renderScalar(out, "vaani_journal_rejected_total",
                     "Call-record writes the database refused for good (logged).", "counter",
                     double(j.rejected));
        renderScalar(out, "vaani_journal_file_errors_total", "Failed appends or fsyncs of the journal file.",
                     "counter", double(j.fileErrors));
    }
    turnLatencyMs.render(out, "vaani_turn_latency_ms",
                         "Caller stops speaking to first agent audio sent to Twilio, in milliseconds.");
    firstAudioMs.render(out, "vaani_first_audio_ms",
                        "Stream start to first greeting audio sent, in milliseconds.");
    toolDurationMs.render(out, "vaani_tool_duration_ms", "Tool execution time, in milliseconds.");
    modelResumeGapMs.render(out, "vaani_model_resume_gap_ms",
                            "Model connection lost to the replacement session ready with the conversation "
                            "replayed, in milliseconds.");
    return out;
}

} // namespace vaani
