#include "logging.h"
#include "repositories.h"
#include "sqlhelpers.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::db {

using detail::nullable;
using detail::nullableText;
using detail::Stmt;

namespace {
CallRecord readCall(const Stmt &s)
{
    CallRecord c;
    c.id = s.int64("id");
    c.callSid = s.text("call_sid");
    c.streamSid = s.text("stream_sid");
    c.callerMasked = s.text("caller_masked");
    c.calledNumber = s.text("called_number");
    c.customerId = s.opt<qint64>("customer_id");
    c.startedAt = s.time("started_at");
    c.endedAt = s.time("ended_at");
    c.outcome = s.text("outcome");
    c.endReason = s.text("end_reason");
    c.twilioStatus = s.text("twilio_status");
    c.durationS = s.opt<int>("duration_s");
    c.promptId = s.opt<qint64>("prompt_id");
    c.promptVersion = s.opt<int>("prompt_version");
    c.serverInstance = s.text("server_instance");
    c.inputTokens = s.int64("input_tokens");
    c.outputTokens = s.int64("output_tokens");
    c.audioInputTokens = s.int64("audio_input_tokens");
    c.audioOutputTokens = s.int64("audio_output_tokens");
    c.cachedInputTokens = s.int64("cached_input_tokens");
    c.costUsd = s.value("cost_usd").toDouble();
    c.firstAudioMs = s.opt<int>("first_audio_ms");
    c.turnCount = s.value("turn_count").toInt();
    c.turnLatencyP50Ms = s.opt<int>("turn_latency_p50_ms");
    c.turnLatencyP95Ms = s.opt<int>("turn_latency_p95_ms");
    c.recordingFile = s.text("recording_file");
    c.recordingStatus = s.text("recording_status");
    c.recordingMs = s.opt<int>("recording_ms");
    return c;
}

std::optional<int> percentile(QList<int> v, double p)
{
    if (v.isEmpty())
        return std::nullopt;
    std::sort(v.begin(), v.end());
    const qsizetype idx = qsizetype(std::ceil(p * double(v.size()))) - 1;
    return v.at(std::clamp<qsizetype>(idx, 0, v.size() - 1));
}

// Admin desktops on PostgreSQL LISTEN on this channel to update live calls at once.
void notifyCallChanged(const QSqlDatabase &db, qint64 callId)
{
    if (!detail::isPostgres(db))
        return;
    Stmt n(db, u"SELECT pg_notify('vaani_calls', ?)"_s);
    n.bind(QString::number(callId));
    n.exec();
}

DbResult<bool> affected(Stmt &s, const QString &what)
{
    if (auto e = s.exec())
        return e;
    if (s.numRowsAffected() == 0)
        return detail::notFound(what);
    return true;
}
} // namespace

DbResult<CallRecord> CallRepository::start(const CallStart &st)
{
    if (st.callSid.isEmpty())
        return DbError::make(DbError::Kind::Invalid, u"CallSid missing"_s);
    if (auto existing = findBySid(st.callSid); existing.ok())
        return existing;
    CustomerRepository customers(m_db);
    customers.setCipher(m_cipher);
    std::optional<qint64> customerId;
    if (auto c = customers.findByPhone(st.callerNumber); c.ok())
        customerId = c.value.id;
    const QString started = toDbTime(st.startedAt.isValid() ? st.startedAt : QDateTime::currentDateTimeUtc());
    Stmt s(m_db, u"INSERT INTO calls (call_sid, caller_masked, caller_hash, caller_number, called_number, "
                 u"customer_id, "
                 "started_at, outcome, prompt_id, prompt_version, server_instance, updated_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, 'in_progress', ?, ?, ?, ?) RETURNING id"_s);
    s.bind(st.callSid).bind(Redactor::maskPhone(st.callerNumber.isEmpty() ? u"unknown"_s : st.callerNumber));
    // The number itself only sealed (with a data key; never in clear), and its keyed hash so erasure and
    // "calls from this number" find the call.
    const QString number = CustomerRepository::normalizePhone(st.callerNumber);
    s.bind(nullableText(m_cipher->phoneHash(number)))
        .bind(nullableText(m_cipher->enabled() ? m_cipher->seal(number, "calls.caller_number") : QString()));
    s.bind(nullableText(st.calledNumber)).bind(nullable(customerId)).bind(started);
    s.bind(nullable(st.promptId))
        .bind(nullable(st.promptVersion))
        .bind(nullableText(st.serverInstance))
        .bind(started);
    if (auto e = s.exec()) {
        // Two webhooks for one CallSid racing: the other one won; return its row.
        if (e.kind == DbError::Kind::Constraint) {
            if (auto existing = findBySid(st.callSid); existing.ok())
                return existing;
        }
        return e;
    }
    if (!s.next())
        return DbError::make(DbError::Kind::Internal, u"insert returned no id"_s);
    const qint64 id = s.value("id").toLongLong();
    notifyCallChanged(m_db, id);
    return get(id);
}

DbResult<CallRecord> CallRepository::get(qint64 id)
{
    Stmt s(m_db, u"SELECT * FROM calls WHERE id = ?"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"call"_s);
    return readCall(s);
}

DbResult<CallRecord> CallRepository::findBySid(const QString &callSid)
{
    Stmt s(m_db, u"SELECT * FROM calls WHERE call_sid = ?"_s);
    s.bind(callSid);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"call"_s);
    return readCall(s);
}

DbResult<bool> CallRepository::setStream(qint64 callId, const QString &streamSid,
                                         std::optional<qint64> promptId, std::optional<int> promptVersion)
{
    Stmt s(m_db, u"UPDATE calls SET stream_sid = COALESCE(NULLIF(?, ''), stream_sid), prompt_id = "
                 u"COALESCE(?, prompt_id), "
                 "prompt_version = COALESCE(?, prompt_version), updated_at = ? WHERE id = ?"_s);
    s.bind(streamSid).bind(nullable(promptId)).bind(nullable(promptVersion)).bind(detail::now()).bind(callId);
    return affected(s, u"call"_s);
}

DbResult<bool> CallRepository::addTranscript(const TranscriptEntry &e)
{
    Stmt s(m_db, u"INSERT INTO transcript_entries (call_id, seq, speaker, text, offset_ms, truncated, "
                 "language) VALUES (?, ?, ?, ?, ?, ?, ?)"_s);
    s.bind(e.callId)
        .bind(e.seq)
        .bind(e.speaker)
        .bind(m_cipher->seal(e.text, "transcript_entries.text"))
        .bind(e.offsetMs)
        .bind(e.truncated ? 1 : 0)
        .bind(nullableText(e.language));
    if (auto err = s.exec())
        return err;
    notifyCallChanged(m_db, e.callId);
    return true;
}

DbResult<bool> CallRepository::setRecording(qint64 callId, const QString &file, const QString &status,
                                            std::optional<int> ms)
{
    Stmt s(m_db,
           u"UPDATE calls SET recording_file = ?, recording_status = ?, recording_ms = ?, updated_at = ? "
           "WHERE id = ? AND (recording_status IS NULL OR recording_status <> 'erased')"_s);
    s.bind(nullableText(file)).bind(nullableText(status)).bind(nullable(ms)).bind(detail::now()).bind(callId);
    if (auto e = s.exec())
        return e;
    notifyCallChanged(m_db, callId);
    return true;
}

DbResult<QList<CallRecord>> CallRepository::recordingsToDelete(const QString &instance, int limit)
{
    Stmt s(m_db, u"SELECT * FROM calls WHERE server_instance = ? AND recording_status = 'erased' AND "
                 "recording_file IS NOT NULL ORDER BY id LIMIT ?"_s);
    s.bind(instance).bind(limit);
    if (auto e = s.exec())
        return e;
    QList<CallRecord> out;
    while (s.next())
        out << readCall(s);
    return out;
}

DbResult<bool> CallRepository::forgetRecording(qint64 callId)
{
    Stmt s(m_db, u"UPDATE calls SET recording_file = NULL WHERE id = ? AND recording_status = 'erased'"_s);
    s.bind(callId);
    return affected(s, u"erased recording"_s);
}

DbResult<bool> CallRepository::markTruncated(qint64 callId, int seq)
{
    Stmt s(m_db, u"UPDATE transcript_entries SET truncated = 1 WHERE call_id = ? AND seq = ?"_s);
    s.bind(callId).bind(seq);
    return affected(s, u"transcript entry"_s);
}

DbResult<bool> CallRepository::addToolInvocation(const ToolInvocation &t)
{
    Stmt s(m_db,
           u"INSERT INTO tool_invocations (call_id, tool, arguments, result, duration_ms, ok, created_at, "
           "seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_s);
    s.bind(t.callId)
        .bind(t.tool)
        .bind(m_cipher->seal(t.arguments, "tool_invocations.arguments"))
        .bind(m_cipher->seal(t.result, "tool_invocations.result"))
        .bind(t.durationMs)
        .bind(t.ok ? 1 : 0);
    s.bind(toDbTime(t.createdAt.isValid() ? t.createdAt : QDateTime::currentDateTimeUtc()));
    s.bind(nullable(t.seq));
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<bool> CallRepository::addTurn(const CallTurn &t)
{
    Stmt s(m_db, u"INSERT INTO call_turns (call_id, seq, latency_ms, offset_ms) VALUES (?, ?, ?, ?)"_s);
    s.bind(t.callId).bind(t.seq).bind(t.latencyMs).bind(t.offsetMs);
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<bool> CallRepository::setUsage(qint64 callId, const realtime::Usage &u, double costUsd)
{
    Stmt s(m_db,
           u"UPDATE calls SET input_tokens = ?, output_tokens = ?, audio_input_tokens = ?, "
           "audio_output_tokens = ?, cached_input_tokens = ?, cost_usd = ?, updated_at = ? WHERE id = ?"_s);
    s.bind(u.inputTextTokens + u.inputAudioTokens).bind(u.outputTextTokens + u.outputAudioTokens);
    s.bind(u.inputAudioTokens).bind(u.outputAudioTokens).bind(u.inputCachedTokens).bind(costUsd);
    s.bind(detail::now()).bind(callId);
    return affected(s, u"call"_s);
}

DbResult<bool> CallRepository::claim(qint64 callId, const QString &streamSid, const QString &instance,
                                     std::optional<qint64> promptId, std::optional<int> promptVersion)
{
    Stmt s(m_db,
           u"UPDATE calls SET stream_sid = ?, server_instance = COALESCE(NULLIF(?, ''), server_instance), "
           "prompt_id = COALESCE(?, prompt_id), prompt_version = COALESCE(?, prompt_version), updated_at = ? "
           "WHERE id = ? AND outcome = 'in_progress'"_s);
    s.bind(streamSid)
        .bind(instance)
        .bind(nullable(promptId))
        .bind(nullable(promptVersion))
        .bind(detail::now());
    s.bind(callId);
    auto r = affected(s, u"call in progress"_s);
    if (r.ok())
        notifyCallChanged(m_db, callId);
    return r;
}

DbResult<bool> CallRepository::end(qint64 callId, const CallEnd &e)
{
    const QString ended = toDbTime(e.endedAt.isValid() ? e.endedAt : QDateTime::currentDateTimeUtc());
    Stmt s(m_db,
           u"UPDATE calls SET ended_at = COALESCE(ended_at, ?), outcome = ?, end_reason = ?, "
           "first_audio_ms = COALESCE(?, first_audio_ms), turn_count = ?, turn_latency_p50_ms = ?, "
           "turn_latency_p95_ms = ?, updated_at = ? WHERE id = ?"_s +
               (e.onlyIfUnclaimed ? u" AND stream_sid IS NULL AND outcome = 'in_progress'"_s : QString()));
    s.bind(ended).bind(e.outcome).bind(nullableText(e.reason)).bind(nullable(e.firstAudioMs));
    s.bind(int(e.turnLatenciesMs.size())).bind(nullable(percentile(e.turnLatenciesMs, 0.5)));
    s.bind(nullable(percentile(e.turnLatenciesMs, 0.95))).bind(ended).bind(callId);
    auto r = affected(s, u"call"_s);
    if (r.ok())
        notifyCallChanged(m_db, callId);
    return r;
}

DbResult<bool> CallRepository::noteEndReason(qint64 callId, const QString &note)
{
    Stmt s(m_db, u"UPDATE calls SET end_reason = CASE WHEN end_reason IS NULL OR end_reason = '' THEN ? ELSE "
                 "end_reason || '; ' || ? END, updated_at = ? WHERE id = ?"_s);
    s.bind(note).bind(note).bind(detail::now()).bind(callId);
    auto r = affected(s, u"call"_s);
    if (r.ok())
        notifyCallChanged(m_db, callId);
    return r;
}

DbResult<bool> CallRepository::updateTwilioStatus(const QString &callSid, const QString &status,
                                                  std::optional<int> durationS, const QDateTime &at)
{
    // Terminal Twilio statuses end the call if the session did not (e.g. the caller hung up before the
    // stream).
    static const QStringList terminal = {u"completed"_s, u"busy"_s, u"failed"_s, u"no-answer"_s,
                                         u"canceled"_s};
    const bool isTerminal = terminal.contains(status);
    const QString now = at.isValid() ? toDbTime(at) : detail::now();
    Stmt s(m_db, u"UPDATE calls SET twilio_status = ?, duration_s = COALESCE(?, duration_s), "
                 "ended_at = CASE WHEN ? = 1 THEN COALESCE(ended_at, ?) ELSE ended_at END, "
                 "outcome = CASE WHEN ? = 1 AND outcome = 'in_progress' THEN ? ELSE outcome END, "
                 "updated_at = ? WHERE call_sid = ? AND (twilio_status IS NULL OR twilio_status NOT IN "
                 "('completed', 'busy', 'failed', 'no-answer', 'canceled'))"_s);
    // A final status is final: a late or replayed callback never moves the call back.
    const QString outcome = status == u"completed"_s ? u"dropped"_s : status.toLower().replace(u'-', u'_');
    s.bind(status).bind(nullable(durationS)).bind(isTerminal ? 1 : 0).bind(now).bind(isTerminal ? 1 : 0);
    s.bind(outcome).bind(now).bind(callSid);
    return affected(s, u"call"_s);
}

DbResult<QList<CallRecord>> CallRepository::list(const CallFilter &f)
{
    QString sql = u"SELECT * FROM calls c WHERE 1=1"_s;
    QVariantList binds;
    if (f.from.isValid()) {
        sql += u" AND c.started_at >= ?"_s;
        binds << toDbTime(f.from);
    }
    if (f.to.isValid()) {
        sql += u" AND c.started_at < ?"_s;
        binds << toDbTime(f.to);
    }
    if (!f.caller.isEmpty()) {
        sql += u" AND c.caller_masked LIKE ?"_s;
        binds << QString(u'%' + f.caller.right(4) + u'%');
    }
    if (!f.outcome.isEmpty()) {
        sql += u" AND c.outcome = ?"_s;
        binds << f.outcome;
    }
    if (f.hasTicket)
        sql += *f.hasTicket ? u" AND EXISTS (SELECT 1 FROM tickets t WHERE t.call_id = c.id)"_s
                            : u" AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.call_id = c.id)"_s;
    sql += u" ORDER BY c.started_at DESC LIMIT ?"_s;
    binds << f.limit;
    Stmt s(m_db, sql);
    for (const QVariant &v : binds)
        s.bind(v);
    if (auto e = s.exec())
        return e;
    QList<CallRecord> out;
    while (s.next())
        out << readCall(s);
    return out;
}

DbResult<QList<CallRecord>> CallRepository::active()
{
    Stmt s(m_db,
           u"SELECT * FROM calls WHERE outcome = 'in_progress' AND ended_at IS NULL ORDER BY started_at"_s);
    if (auto e = s.exec())
        return e;
    QList<CallRecord> out;
    while (s.next())
        out << readCall(s);
    return out;
}

DbResult<double> CallRepository::costSince(const QDateTime &since)
{
    Stmt s(m_db, u"SELECT COALESCE(SUM(cost_usd), 0) AS total FROM calls WHERE started_at >= ?"_s);
    s.bind(toDbTime(since));
    if (auto e = s.exec())
        return e;
    return s.next() ? s.value("total").toDouble() : 0.0;
}

DbResult<QString> CallRepository::beat(const QString &instance, const QDateTime &processStarted,
                                       qint64 staleMs, bool takeOver)
{
    const QString started = toDbTime(processStarted);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    {
        Stmt other(m_db, u"SELECT started_at, seen_at FROM server_heartbeats WHERE instance = ?"_s);
        other.bind(instance);
        if (auto e = other.exec())
            return e;
        if (other.next() && !takeOver && other.text("started_at") != started &&
            other.time("seen_at") >= now.addMSecs(-staleMs))
            return other.text("seen_at"); // not overwritten: the other process's row stays its own
    }
    Stmt up(m_db, u"UPDATE server_heartbeats SET started_at = ?, seen_at = ? WHERE instance = ?"_s);
    up.bind(started).bind(toDbTime(now)).bind(instance);
    if (auto e = up.exec())
        return e;
    if (up.numRowsAffected() == 0) {
        Stmt in(m_db, u"INSERT INTO server_heartbeats (instance, started_at, seen_at) VALUES (?, ?, ?)"_s);
        in.bind(instance).bind(started).bind(toDbTime(now));
        if (auto e = in.exec(); e && e.kind != DbError::Kind::Constraint) // a twin's insert won the race
            return e;
    }
    return QString();
}

DbResult<bool> CallRepository::forget(const QString &instance)
{
    Stmt s(m_db, u"DELETE FROM server_heartbeats WHERE instance = ?"_s);
    s.bind(instance);
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<int> CallRepository::recoverOrphans(const QString &instance, const QDateTime &processStarted,
                                             qint64 staleMs)
{
    const QString now = detail::now();
    const QString cutoff = toDbTime(QDateTime::currentDateTimeUtc().addMSecs(-staleMs));
    int marked = 0;
    // Servers that stopped beating: their calls end at their last sign of life.
    {
        Stmt s(
            m_db,
            u"UPDATE calls SET outcome = 'interrupted', end_reason = 'server ' || server_instance || "
            "' stopped without ending the call', ended_at = COALESCE(ended_at, (SELECT h.seen_at FROM "
            "server_heartbeats h WHERE h.instance = calls.server_instance)), updated_at = ? WHERE outcome = "
            "'in_progress' AND server_instance IN (SELECT instance FROM server_heartbeats WHERE seen_at < ?)"_s);
        s.bind(now).bind(cutoff);
        if (auto e = s.exec())
            return e;
        marked += std::max(0, s.numRowsAffected());
        Stmt gone(m_db, u"DELETE FROM server_heartbeats WHERE seen_at < ?"_s);
        gone.bind(cutoff);
        if (auto e = gone.exec())
            return e;
    }
    // This instance's previous run (killed, then restarted under the same name).
    {
        Stmt s(
            m_db,
            u"UPDATE calls SET outcome = 'interrupted', end_reason = 'server ' || server_instance || "
            "' restarted during the call', ended_at = COALESCE(ended_at, ?), updated_at = ? WHERE outcome = "
            "'in_progress' AND server_instance = ? AND started_at < ?"_s);
        s.bind(toDbTime(processStarted)).bind(now).bind(instance).bind(toDbTime(processStarted));
        if (auto e = s.exec())
            return e;
        marked += std::max(0, s.numRowsAffected());
    }
    return marked;
}

DbResult<QList<TranscriptEntry>> CallRepository::transcript(qint64 callId)
{
    Stmt s(m_db, u"SELECT * FROM transcript_entries WHERE call_id = ? ORDER BY seq"_s);
    s.bind(callId);
    if (auto e = s.exec())
        return e;
    QList<TranscriptEntry> out;
    while (s.next()) {
        TranscriptEntry t;
        t.id = s.int64("id");
        t.callId = s.int64("call_id");
        t.seq = s.value("seq").toInt();
        t.speaker = s.text("speaker");
        t.text = m_cipher->read(s.text("text"), "transcript_entries.text");
        t.offsetMs = s.int64("offset_ms");
        t.truncated = s.value("truncated").toInt() != 0;
        t.language = s.text("language");
        out << t;
    }
    return out;
}

DbResult<QList<ToolInvocation>> CallRepository::tools(qint64 callId)
{
    Stmt s(m_db, u"SELECT * FROM tool_invocations WHERE call_id = ? ORDER BY id"_s);
    s.bind(callId);
    if (auto e = s.exec())
        return e;
    QList<ToolInvocation> out;
    while (s.next()) {
        ToolInvocation t;
        t.id = s.int64("id");
        t.callId = s.int64("call_id");
        t.tool = s.text("tool");
        t.arguments = m_cipher->read(s.text("arguments"), "tool_invocations.arguments");
        t.result = m_cipher->read(s.text("result"), "tool_invocations.result");
        t.durationMs = s.value("duration_ms").toInt();
        t.ok = s.value("ok").toInt() != 0;
        t.createdAt = s.time("created_at");
        out << t;
    }
    return out;
}

DbResult<QList<CallTurn>> CallRepository::turns(qint64 callId)
{
    Stmt s(m_db, u"SELECT * FROM call_turns WHERE call_id = ? ORDER BY seq"_s);
    s.bind(callId);
    if (auto e = s.exec())
        return e;
    QList<CallTurn> out;
    while (s.next())
        out << CallTurn{s.int64("call_id"), s.value("seq").toInt(), s.value("latency_ms").toInt(),
                        s.int64("offset_ms")};
    return out;
}

} // namespace vaani::db
