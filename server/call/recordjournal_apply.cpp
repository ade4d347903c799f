// RecordJournal: what each journaled write does to the database (the kinds are listed in recordjournal.cpp).
// Runs on the database thread only.
#include "recordjournal_p.h"

#include <QJsonArray>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
QDateTime timeOf(const QJsonObject &op)
{
    const qint64 at = qint64(op.value(u"at"_s).toDouble(0));
    return at > 0 ? QDateTime::fromMSecsSinceEpoch(at, Qt::UTC) : QDateTime::currentDateTimeUtc();
}
std::optional<qint64> optInt(const QJsonObject &op, const QString &key)
{
    const QJsonValue v = op.value(key);
    return v.isDouble() ? std::optional<qint64>(qint64(v.toDouble())) : std::nullopt;
}
QString text(const QJsonObject &op, const QString &key, int max)
{
    return op.value(key).toString().left(max);
}
} // namespace

Applied RecordJournal::State::apply(db::Repositories &r, const QJsonObject &op, DbError *error)
{
    const QString t = op.value(u"t"_s).toString();
    const QString sid = text(op, u"sid"_s, 64);
    if (sid.isEmpty()) {
        *error = DbError::make(DbError::Kind::Invalid, u"no CallSid"_s);
        return Applied::Rejected;
    }
    auto outcome = [error](const DbError &e, bool alreadyIsFine = false) {
        if (!e)
            return Applied::Yes;
        if (transient(e)) {
            *error = e;
            return Applied::Later;
        }
        if (alreadyIsFine)
            return Applied::Yes;
        *error = e;
        return Applied::Rejected;
    };
    if (t == u"reject"_s) {
        db::CallStart s{
            sid,       text(op, u"caller"_s, 32), text(op, u"called"_s, 32), text(op, u"inst"_s, 64), {}, {},
            timeOf(op)};
        auto c = r.calls.start(s);
        if (!c.ok())
            return outcome(c.error);
        if (c.value.outcome != u"in_progress"_s)
            return Applied::Yes; // a record of this call exists already: never overwritten
        db::CallEnd e{u"rejected"_s, text(op, u"reason"_s, 500), {}, {}, timeOf(op), false};
        return outcome(r.calls.end(c.value.id, e).error);
    }
    if (t == u"status"_s) {
        const auto dur = optInt(op, u"dur"_s);
        auto res = r.calls.updateTwilioStatus(sid, text(op, u"status"_s, 32),
                                              dur ? std::optional<int>(int(*dur)) : std::nullopt, timeOf(op));
        // Not found: the call is not (yet) in this database, or the status was applied already.
        return outcome(res.error, res.error.kind == DbError::Kind::NotFound);
    }
    if (t == u"menu"_s) {
        // The caller's choice in the fallback's menu: noted on the call's record, and a callback becomes a
        // ticket (one per call, whatever Twilio repeats or the journal replays).
        db::CallStart s{sid, text(op, u"caller"_s, 32), {}, text(op, u"inst"_s, 64), {}, {}, timeOf(op)};
        auto c = r.calls.start(s); // found (the webhook made it), or made now
        if (!c.ok())
            return outcome(c.error);
        const QString choice = text(op, u"choice"_s, 16);
        // `note`: a callback the agent offered itself (the caller stayed silent), not the fallback menu's.
        const QString why = text(op, u"note"_s, 200);
        const QString note = !why.isEmpty() ? why
                             : choice == u"transfer"_s
                                 ? u"caller pressed 2 in the fallback menu: transferred"_s
                                 : u"caller pressed 1 in the fallback menu: callback"_s;
        if (!c.value.endReason.contains(note)) {
            auto noted = r.calls.noteEndReason(c.value.id, note);
            if (!noted.ok())
                return outcome(noted.error);
        }
        if (choice != u"callback"_s)
            return Applied::Yes;
        auto tickets = r.tickets.forCall(c.value.id);
        if (!tickets.ok())
            return outcome(tickets.error);
        for (const db::Ticket &tk : std::as_const(tickets.value))
            if (tk.category == u"callback"_s)
                return Applied::Yes;
        db::NewTicket nt;
        nt.customerId = c.value.customerId;
        nt.callId = c.value.id;
        nt.category = u"callback"_s;
        nt.priority = u"high"_s;
        nt.summary = !why.isEmpty()
                         ? u"Call back %1: %2."_s.arg(text(op, u"caller"_s, 32), why)
                         : u"Call back %1: the agent could not take the call (%2) and the caller asked for a "
                           u"callback."_s.arg(text(op, u"caller"_s, 32), c.value.endReason.isEmpty()
                                                                             ? u"model unavailable"_s
                                                                             : c.value.endReason.left(200));
        nt.author = u"vaani-server"_s;
        return outcome(r.tickets.create(nt).error);
    }
    const QString w = text(op, u"w"_s, 32);
    if (t == u"start"_s) {
        db::CallStart s{sid,
                        text(op, u"caller"_s, 32),
                        text(op, u"called"_s, 32),
                        text(op, u"inst"_s, 64),
                        optInt(op, u"pid"_s),
                        {},
                        timeOf(op)};
        if (auto pv = optInt(op, u"pv"_s))
            s.promptVersion = int(*pv);
        auto c = r.calls.start(s);
        if (!c.ok())
            return outcome(c.error);
        if (writers.size() > 50000)
            writers.clear(); // re-learnt from the database as needed
        writers.insert(w, {c.value.id, c.value.outcome == u"in_progress"_s});
        return Applied::Yes;
    }
    // Any other write: the writer's row (learnt from its start, or found by CallSid after a restart).
    auto it = writers.find(w);
    if (it == writers.end()) {
        auto c = r.calls.findBySid(sid);
        if (!c.ok())
            return outcome(c.error);
        it = writers.insert(w, {c.value.id, true});
    }
    if (!it->owned)
        return Applied::Yes; // another call's record: never written
    const qint64 id = it->callId;
    auto prompt = [&op]() {
        std::optional<int> pv;
        if (auto v = optInt(op, u"pv"_s))
            pv = int(*v);
        return std::make_pair(optInt(op, u"pid"_s), pv);
    };
    if (t == u"claim"_s) {
        const auto [pid, pv] = prompt();
        // Not found: the call ended before the stream came (nothing to claim).
        const DbError e =
            r.calls.claim(id, text(op, u"stream"_s, 64), text(op, u"inst"_s, 64), pid, pv).error;
        return outcome(e, e.kind == DbError::Kind::NotFound);
    }
    if (t == u"stream"_s) {
        const auto [pid, pv] = prompt();
        return outcome(r.calls.setStream(id, text(op, u"stream"_s, 64), pid, pv).error);
    }
    if (t == u"line"_s) {
        const QString who = op.value(u"who"_s).toString();
        db::TranscriptEntry e{0,
                              id,
                              int(op.value(u"seq"_s).toDouble()),
                              who == u"agent"_s || who == u"caller"_s ? who : u"system"_s,
                              op.value(u"text"_s).toString().left(16000),
                              qint64(op.value(u"off"_s).toDouble()),
                              false,
                              {}};
        const QString lang = text(op, u"lang"_s, 8);
        if (lang == u"hi"_s || lang == u"en"_s || lang == u"hi-en"_s)
            e.language = lang;
        const DbError err = r.calls.addTranscript(e).error;
        return outcome(err, err.kind == DbError::Kind::Constraint); // stored already (a replay)
    }
    if (t == u"rec"_s) {
        static const QStringList statuses = {u"recording"_s, u"complete"_s, u"declined"_s, u"failed"_s};
        const QString status = text(op, u"status"_s, 16);
        const QString file = text(op, u"file"_s, 200);
        if (!statuses.contains(status) || file.contains(u".."_s) || file.startsWith(u'/')) {
            *error = DbError::make(DbError::Kind::Invalid, u"invalid recording write"_s);
            return Applied::Rejected;
        }
        std::optional<int> ms;
        if (auto v = optInt(op, u"ms"_s); v && *v >= 0 && *v < 24LL * 3600 * 1000)
            ms = int(*v);
        return outcome(
            r.calls.setRecording(id, status == u"declined"_s ? QString() : file, status, ms).error);
    }
    if (t == u"cut"_s) {
        const DbError e = r.calls.markTruncated(id, int(op.value(u"seq"_s).toDouble())).error;
        return outcome(e, e.kind == DbError::Kind::NotFound);
    }
    if (t == u"turn"_s) {
        db::CallTurn turn{id, int(op.value(u"seq"_s).toDouble()), int(op.value(u"ms"_s).toDouble()),
                          qint64(op.value(u"off"_s).toDouble())};
        const DbError e = r.calls.addTurn(turn).error;
        return outcome(e, e.kind == DbError::Kind::Constraint);
    }
    if (t == u"usage"_s) {
        realtime::Usage u;
        u.inputTextTokens = qint64(op.value(u"ti"_s).toDouble());
        u.inputAudioTokens = qint64(op.value(u"ai"_s).toDouble());
        u.inputCachedTokens = qint64(op.value(u"tc"_s).toDouble());
        u.outputTextTokens = qint64(op.value(u"to"_s).toDouble());
        u.outputAudioTokens = qint64(op.value(u"ao"_s).toDouble());
        return outcome(r.calls.setUsage(id, u, op.value(u"cost"_s).toDouble()).error);
    }
    if (t == u"tool"_s) {
        db::ToolInvocation inv{0,
                               id,
                               text(op, u"name"_s, 64),
                               op.value(u"args"_s).toString().left(16000),
                               op.value(u"res"_s).toString().left(16000),
                               int(op.value(u"ms"_s).toDouble()),
                               op.value(u"ok"_s).toBool(),
                               timeOf(op),
                               int(op.value(u"seq"_s).toDouble())};
        const DbError e = r.calls.addToolInvocation(inv).error;
        return outcome(e, e.kind == DbError::Kind::Constraint);
    }
    if (t == u"end"_s) {
        db::CallEnd e;
        e.outcome = text(op, u"outcome"_s, 32);
        e.reason = text(op, u"reason"_s, 500);
        if (auto fa = optInt(op, u"fa"_s))
            e.firstAudioMs = int(*fa);
        const QJsonArray lat = op.value(u"lat"_s).toArray();
        for (int i = 0; i < lat.size() && i < 10000; ++i)
            e.turnLatenciesMs << lat.at(i).toInt();
        e.endedAt = timeOf(op);
        e.onlyIfUnclaimed = op.value(u"unclaimed"_s).toBool();
        if (e.onlyIfUnclaimed) {
            // Never had the stream: end the row only if no server claimed it, and only then keep what was
            // held back (the greeting's transcript and cost were spent for this call).
            auto c = r.calls.get(id);
            if (!c.ok())
                return outcome(c.error, c.error.kind == DbError::Kind::NotFound);
            if (!c.value.streamSid.isEmpty() || c.value.outcome != u"in_progress"_s) {
                writers.erase(it);
                return Applied::Yes;
            }
            const QJsonArray held = op.value(u"held"_s).toArray();
            for (const QJsonValue &h : held) {
                const Applied a = apply(r, h.toObject(), error);
                if (a == Applied::Later)
                    return a; // all of it again later (each write is idempotent)
            }
            it = writers.find(w); // (the held writes may have rehashed the table)
        }
        const DbError err = r.calls.end(id, e).error;
        const Applied a = outcome(err, e.onlyIfUnclaimed && err.kind == DbError::Kind::NotFound);
        if (a != Applied::Later && it != writers.end())
            writers.erase(it);
        return a;
    }
    *error = DbError::make(DbError::Kind::Invalid, u"unknown write '%1'"_s.arg(t.left(16)));
    return Applied::Rejected;
}

} // namespace vaani
