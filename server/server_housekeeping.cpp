// Server's periodic housekeeping on the main thread: today's spend against DAILY_SPEND_CAP_USD, the heartbeat
// that registers this server and recovers calls a stopped one left open, RETENTION_DAYS' purge and the
// deletion of erased recordings. Declared in server.h; the timers that run these are set up in server.cpp.
#include "server.h"

#include "db/dbworker.h"
#include "logging.h"
#include "metrics.h"
#include "recordingstore.h"
#include "recordjournal.h"

#include <cmath>

using namespace Qt::StringLiterals;

namespace vaani {

void Server::refreshSpend()
{
    // Midnight in the server's time zone (TZ): the business's day.
    const QDateTime since = QDateTime(QDate::currentDate(), QTime(0, 0)).toUTC();
    m_db->submit([since](db::Repositories &r) { return r.calls.costSince(since); })
        .then(this, [this](db::DbResult<double> r) {
            if (!r.ok()) {
                // Unknown spend: keep the last figure (a database outage must not open or close the gate).
                qCWarning(lcDb) << "today's spend not read:" << r.error.message;
                return;
            }
            m_ctx.spentTodayMicroUsd.store(qint64(std::llround(r.value * 1e6)));
            m_metrics->spendTodayMicroUsd.store(qint64(std::llround(r.value * 1e6)));
            const bool over = m_ctx.overSpendCap();
            if (over && !m_spendCapWarned)
                qCWarning(lcServer).noquote() << u"DAILY_SPEND_CAP_USD reached: $%1 spent today (cap $%2); "
                                                 u"new calls get the fallback until "
                                                 "midnight or a higher cap"_s.arg(r.value, 0, 'f', 2)
                                                     .arg(m_ctx.settings.dailySpendCapUsd, 0, 'f', 2);
            else if (!over && m_spendCapWarned)
                qCInfo(lcServer) << "under DAILY_SPEND_CAP_USD again: taking calls";
            m_spendCapWarned = over;
        });
}

void Server::heartbeat()
{
    struct Beat
    {
        QString twinSeenAt; // empty: our row is written
        int recovered = 0;
    };
    const QString instance = m_ctx.settings.instance;
    const QDateTime started = m_processStarted;
    const qint64 staleMs = m_ctx.settings.serverStaleMs;
    const QString lastTwin = m_twinSeenAt;
    // Calls an earlier run of this server left open are marked interrupted only once the writes it journaled
    // have been tried (the end of a call that did finish is in there).
    const bool sweep = m_journal->replayDone();
    m_db->submit([instance, started, staleMs, lastTwin, sweep](db::Repositories &r) -> db::DbResult<Beat> {
            auto beat = r.calls.beat(instance, started, staleMs);
            // The other row under our name did not move since the last beat: an earlier run of this server
            // that was killed (and we are its restart), not a live twin. Take the name over.
            if (beat.ok() && !beat.value.isEmpty() && beat.value == lastTwin)
                beat = r.calls.beat(instance, started, staleMs, true);
            if (!beat.ok())
                return beat.error;
            Beat b{beat.value, 0};
            if (b.twinSeenAt.isEmpty() && sweep) {
                auto recovered = r.calls.recoverOrphans(instance, started, staleMs);
                if (!recovered.ok())
                    return recovered.error;
                b.recovered = recovered.value;
            }
            return b;
        })
        .then(this, [this, instance, lastTwin](db::DbResult<Beat> r) {
            if (!r.ok())
                return; // the database is away: the health timer says so
            m_twinSeenAt = r.value.twinSeenAt;
            // The other row moved between two beats: a live process under our name.
            if (!r.value.twinSeenAt.isEmpty() && !lastTwin.isEmpty() && r.value.twinSeenAt != lastTwin &&
                !m_twinWarned) {
                m_twinWarned = true;
                qCWarning(lcServer).noquote()
                    << u"another running server uses VAANI_INSTANCE=%1: give each server its own name (call "
                       "records, stream routing and crash recovery depend on it)"_s.arg(instance);
            }
            if (r.value.recovered > 0) {
                m_metrics->callsRecovered.fetch_add(quint64(r.value.recovered));
                qCWarning(lcServer) << r.value.recovered
                                    << "call(s) left in progress by a stopped server marked interrupted";
            }
        });
}

void Server::purgeOldConversations()
{
    m_retentionTimer.setInterval(24 * 3600 * 1000);
    const int days = m_ctx.settings.retentionDays;
    if (days <= 0 || !m_db)
        return;
    const QDateTime cutoff = QDateTime::currentDateTimeUtc().addDays(-days);
    m_db->submit([cutoff](db::Repositories &r) {
            return r.privacy.purgeConversationsBefore(cutoff, u"vaani-server (RETENTION_DAYS)"_s);
        })
        .then(this, [this, days](db::DbResult<db::PurgeReport> r) {
            if (!r.ok()) {
                qCWarning(lcServer) << "retention purge failed:" << r.error.message;
                return;
            }
            m_metrics->retentionPurgedLines.fetch_add(quint64(r.value.transcriptLines));
            m_metrics->retentionPurgedToolCalls.fetch_add(quint64(r.value.toolCalls));
            if (r.value.transcriptLines > 0 || r.value.toolCalls > 0)
                qCInfo(lcServer) << "retention: purged the conversations of" << r.value.calls
                                 << "calls older than" << days << "days (" << r.value.transcriptLines
                                 << "transcript lines," << r.value.toolCalls << "tool calls)";
            Q_EMIT retentionPurged(r.value.transcriptLines, r.value.toolCalls);
            if (m_recordings) {
                // Files of days past the period (whatever the database says), then those it marked erased.
                m_recordings->removeOlderThan(QDateTime::currentDateTimeUtc().addDays(-days).date());
                sweepRecordings();
            }
        });
}

void Server::sweepRecordings()
{
    if (!m_recordings || !m_db)
        return;
    m_db->submit([instance = m_ctx.settings.instance](db::Repositories &r) {
            return r.calls.recordingsToDelete(instance);
        })
        .then(this, [this](db::DbResult<QList<db::CallRecord>> r) {
            if (!r.ok() || r.value.isEmpty())
                return;
            QStringList paths;
            QList<qint64> ids;
            for (const db::CallRecord &c : std::as_const(r.value)) {
                paths << c.recordingFile;
                ids << c.id;
            }
            m_recordings->remove(paths, [db = m_db.get(), ids](int deleted) {
                qCInfo(lcServer) << "recordings: deleted" << deleted << "erased recording file(s)";
                db->submit([ids](db::Repositories &repos) {
                    for (qint64 id : ids) {
                        if (auto e = repos.calls.forgetRecording(id).error;
                            e.kind != db::DbError::Kind::None && e.kind != db::DbError::Kind::NotFound)
                            return db::DbResult<bool>(e);
                    }
                    return db::DbResult<bool>(true);
                });
            });
        });
}

} // namespace vaani
