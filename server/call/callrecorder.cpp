#include "callrecorder.h"

#include "db/dbworker.h"
#include "logging.h"
#include "pii.h"

using namespace Qt::StringLiterals;

namespace vaani {

void CallRecorder::open(const db::CallStart &start, QObject *context,
                        std::function<void(const db::DbResult<db::CallRecord> &)> checked)
{
    if (m_opened)
        return;
    m_opened = true;
    m_instance = start.serverInstance;
    // The row exists from the webhook; start() is idempotent and creates it when the stream came first. The
    // session owns the row only if it is new or still in progress.
    m_db->submit([start, id = m_callId, owned = m_ownsRecord](db::Repositories &r) {
            auto c = r.calls.start(start);
            if (c.ok()) {
                *id = c.value.id;
                *owned = c.value.outcome == u"in_progress"_s;
            }
            return c;
        })
        .then(context, [context, checked = std::move(checked)](db::DbResult<db::CallRecord> c) {
            // Always from the event loop: a continuation attached to a finished job runs at once, inside
            // open(), before the caller has finished what it was doing.
            QMetaObject::invokeMethod(
                context, [checked, c] { checked(c); }, Qt::QueuedConnection);
        });
}

void CallRecorder::write(Write fn)
{
    if (!m_claimed) {
        // A greeting's transcript and cost, at most: a few writes. Past the cap, something is wrong; drop.
        if (m_held.size() < 256)
            m_held.append(std::move(fn));
        return;
    }
    submit(std::move(fn));
}

void CallRecorder::check(QObject *context, std::function<void(const db::DbResult<db::CallRecord> &)> seen)
{
    m_db->submit([sid = m_callSid](db::Repositories &r) { return r.calls.findBySid(sid); })
        .then(context, [context, seen = std::move(seen)](db::DbResult<db::CallRecord> c) {
            QMetaObject::invokeMethod(
                context, [seen, c] { seen(c); }, Qt::QueuedConnection);
        });
}

void CallRecorder::submit(Write fn)
{
    m_db->submit([sid = m_callSid, id = m_callId, owned = m_ownsRecord,
                  fn = std::move(fn)](db::Repositories &r) -> db::DbResult<bool> {
        if (!*owned)
            return false; // another call's record (see open()): never written
        if (*id == 0) {
            auto c = r.calls.findBySid(sid);
            if (!c.ok())
                return c.error;
            *id = c.value.id;
        }
        auto result = fn(r, *id);
        if (!result.ok())
            qCWarning(lcDb) << "call record not updated:" << result.error.message;
        return result;
    });
}

void CallRecorder::promptAndStream(const QString &streamSid, std::optional<qint64> promptId,
                                   std::optional<int> promptVersion)
{
    if (promptId) {
        m_promptId = promptId;
        m_promptVersion = promptVersion;
    }
    if (m_claimed || streamSid.isEmpty()) {
        if (m_claimed && (promptId || !streamSid.isEmpty()))
            submit([streamSid, promptId, promptVersion](db::Repositories &r, qint64 id) {
                return r.calls.setStream(id, streamSid, promptId, promptVersion);
            });
        return;
    }
    // The stream is ours: claim the row, then what waited for it.
    m_claimed = true;
    submit([streamSid, instance = m_instance, p = m_promptId, v = m_promptVersion](
               db::Repositories &r, qint64 id) { return r.calls.claim(id, streamSid, instance, p, v); });
    for (Write &held : m_held)
        submit(std::move(held));
    m_held.clear();
}

void CallRecorder::transcript(const QString &speaker, const QString &said, const QString &agentItemId)
{
    const QString text = pii::redact(said); // card, Aadhaar, PAN, OTP and account numbers never stored
    const int seq = ++m_seq;
    m_conversation << (speaker == u"agent"_s    ? u"Agent: "_s
                       : speaker == u"caller"_s ? u"Caller: "_s
                                                : u"System: "_s) +
                          text;
    const db::TranscriptEntry entry{0, 0, seq, speaker, text, offsetMs(), false};
    write([entry](db::Repositories &r, qint64 id) {
        db::TranscriptEntry e = entry;
        e.callId = id;
        return r.calls.addTranscript(e);
    });
    if (agentItemId.isEmpty())
        return;
    m_agentItemSeq.insert(agentItemId, seq);
    if (agentItemId == m_pendingTruncation) {
        m_pendingTruncation.clear();
        write([seq](db::Repositories &r, qint64 id) { return r.calls.markTruncated(id, seq); });
    }
}

void CallRecorder::truncated(const QString &agentItemId)
{
    const auto it = m_agentItemSeq.constFind(agentItemId);
    if (it == m_agentItemSeq.cend()) {
        m_pendingTruncation = agentItemId;
        return;
    }
    const int seq = *it;
    write([seq](db::Repositories &r, qint64 id) { return r.calls.markTruncated(id, seq); });
}

void CallRecorder::turn(int latencyMs)
{
    m_turnLatencies << latencyMs;
    const db::CallTurn turn{0, int(m_turnLatencies.size()), latencyMs, offsetMs()};
    write([turn](db::Repositories &r, qint64 id) {
        db::CallTurn t = turn;
        t.callId = id;
        return r.calls.addTurn(t);
    });
}

void CallRecorder::usage(const realtime::Usage &usage, double cost)
{
    write([usage, cost](db::Repositories &r, qint64 id) { return r.calls.addUsage(id, usage, cost); });
}

void CallRecorder::tool(const QString &name, const QString &arguments, const QString &result, int durationMs,
                        bool ok)
{
    const db::ToolInvocation inv{
        0,  0, name.left(64), pii::redact(arguments.left(16000)), pii::redact(result.left(16000)), durationMs,
        ok, {}};
    write([inv](db::Repositories &r, qint64 id) {
        db::ToolInvocation i = inv;
        i.callId = id;
        return r.calls.addToolInvocation(i);
    });
}

void CallRecorder::end(const QString &outcome, const QString &reason)
{
    db::CallEnd end;
    end.outcome = outcome;
    end.reason = reason.left(500);
    end.firstAudioMs = m_firstAudioMs;
    end.turnLatenciesMs = m_turnLatencies;
    if (m_claimed) {
        submit([end](db::Repositories &r, qint64 id) { return r.calls.end(id, end); });
        return;
    }
    // Never had the stream: end the row only if no server claimed it, and only then keep what was held (the
    // greeting's cost was spent for this call).
    end.onlyIfUnclaimed = true;
    submit([end, held = std::exchange(m_held, {})](db::Repositories &r, qint64 id) -> db::DbResult<bool> {
        auto ended = r.calls.end(id, end);
        if (!ended.ok())
            return ended.error.kind == db::DbError::Kind::NotFound ? db::DbResult<bool>(false) : ended;
        for (const Write &w : held)
            (void)w(r, id);
        return true;
    });
}

} // namespace vaani
