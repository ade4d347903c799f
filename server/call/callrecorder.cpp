#include "callrecorder.h"

#include "db/dbworker.h"
#include "hinglish.h"
#include "logging.h"
#include "pii.h"
#include "recordjournal.h"

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
void putPrompt(QJsonObject &op, std::optional<qint64> promptId, std::optional<int> promptVersion)
{
    if (promptId)
        op.insert(u"pid"_s, double(*promptId));
    if (promptVersion)
        op.insert(u"pv"_s, *promptVersion);
}
} // namespace

CallRecorder::CallRecorder(RecordJournal *journal, db::DbWorker *db, QString callSid, Clock clock)
    : m_journal(journal)
    , m_db(db)
    , m_callSid(std::move(callSid))
    , m_writer(RecordJournal::newWriterId())
    , m_clock(std::move(clock))
{}

void CallRecorder::open(const db::CallStart &start, QObject *context,
                        std::function<void(const db::DbResult<db::CallRecord> &)> checked)
{
    if (m_opened)
        return;
    m_opened = true;
    m_instance = start.serverInstance;
    // The row exists from the webhook; the start is idempotent and creates it when the stream came first. The
    // journal applies the start (the writes that follow belong to this row only if it is new or still in
    // progress); the session asks the database what it has now.
    QJsonObject op{
        {u"t"_s, u"start"_s},
        {u"caller"_s, start.callerNumber.left(32)},
        {u"called"_s, start.calledNumber.left(32)},
        {u"inst"_s, start.serverInstance},
        {u"at"_s, double((start.startedAt.isValid() ? start.startedAt : QDateTime::currentDateTimeUtc())
                             .toMSecsSinceEpoch())}};
    putPrompt(op, start.promptId, start.promptVersion);
    submit(std::move(op));
    check(context, std::move(checked));
}

void CallRecorder::write(QJsonObject op)
{
    if (!m_claimed) {
        // A greeting's transcript and cost, at most: a few writes. Past the cap, something is wrong; drop.
        if (m_held.size() < 256) {
            op.insert(u"sid"_s, m_callSid);
            op.insert(u"w"_s, m_writer);
            m_held.append(op);
        }
        return;
    }
    submit(std::move(op));
}

void CallRecorder::check(QObject *context, std::function<void(const db::DbResult<db::CallRecord> &)> seen)
{
    m_db->submit([sid = m_callSid](db::Repositories &r) { return r.calls.findBySid(sid); })
        .then(context, [context, seen = std::move(seen)](db::DbResult<db::CallRecord> c) {
            // Always from the event loop: a continuation attached to a finished job runs at once, inside
            // the caller, before it has finished what it was doing.
            QMetaObject::invokeMethod(
                context, [seen, c] { seen(c); }, Qt::QueuedConnection);
        });
}

void CallRecorder::submit(QJsonObject op)
{
    op.insert(u"sid"_s, m_callSid);
    op.insert(u"w"_s, m_writer);
    m_journal->append(std::move(op));
}

void CallRecorder::promptAndStream(const QString &streamSid, std::optional<qint64> promptId,
                                   std::optional<int> promptVersion)
{
    if (promptId) {
        m_promptId = promptId;
        m_promptVersion = promptVersion;
    }
    if (m_claimed || streamSid.isEmpty()) {
        if (m_claimed && (promptId || !streamSid.isEmpty())) {
            QJsonObject op{{u"t"_s, u"stream"_s}, {u"stream"_s, streamSid}};
            putPrompt(op, promptId, promptVersion);
            submit(std::move(op));
        }
        return;
    }
    // The stream is ours: claim the row, then what waited for it.
    m_claimed = true;
    QJsonObject op{{u"t"_s, u"claim"_s}, {u"stream"_s, streamSid}, {u"inst"_s, m_instance}};
    putPrompt(op, m_promptId, m_promptVersion);
    submit(std::move(op));
    for (const QJsonValue &held : std::as_const(m_held))
        m_journal->append(held.toObject());
    m_held = {};
}

void CallRecorder::transcript(const QString &speaker, const QString &said, const QString &agentItemId,
                              std::optional<qint64> atMs)
{
    const bool spoken = speaker == u"agent"_s || speaker == u"caller"_s;
    // Card, Aadhaar, PAN, OTP and account numbers never stored; Hindi in Latin letters like the rest.
    const QString text = pii::redact(spoken ? hinglish::romanise(said) : said);
    const int seq = ++m_seq;
    m_conversation << (speaker == u"agent"_s    ? u"Agent: "_s
                       : speaker == u"caller"_s ? u"Caller: "_s
                                                : u"System: "_s) +
                          text;
    QJsonObject line{{u"t"_s, u"line"_s},
                     {u"seq"_s, seq},
                     {u"who"_s, speaker},
                     {u"text"_s, text.left(16000)},
                     {u"off"_s, double(atMs ? std::clamp<qint64>(*atMs, 0, offsetMs()) : offsetMs())}};
    if (const QString lang = spoken ? hinglish::language(said) : QString(); !lang.isEmpty())
        line.insert(u"lang"_s, lang);
    write(std::move(line));
    if (agentItemId.isEmpty())
        return;
    m_agentItemSeq.insert(agentItemId, seq);
    if (agentItemId == m_pendingTruncation) {
        m_pendingTruncation.clear();
        write({{u"t"_s, u"cut"_s}, {u"seq"_s, seq}});
    }
}

void CallRecorder::recording(const QString &file, const QString &status, std::optional<qint64> ms)
{
    QJsonObject op{{u"t"_s, u"rec"_s}, {u"file"_s, file}, {u"status"_s, status}};
    if (ms)
        op.insert(u"ms"_s, double(*ms));
    write(std::move(op));
}

void CallRecorder::truncated(const QString &agentItemId)
{
    const auto it = m_agentItemSeq.constFind(agentItemId);
    if (it == m_agentItemSeq.cend()) {
        m_pendingTruncation = agentItemId;
        return;
    }
    write({{u"t"_s, u"cut"_s}, {u"seq"_s, *it}});
}

void CallRecorder::turn(int latencyMs)
{
    m_turnLatencies << latencyMs;
    write({{u"t"_s, u"turn"_s},
           {u"seq"_s, int(m_turnLatencies.size())},
           {u"ms"_s, latencyMs},
           {u"off"_s, double(offsetMs())}});
}

void CallRecorder::usage(const realtime::Usage &usage, double cost)
{
    m_usage.inputTextTokens += usage.inputTextTokens;
    m_usage.inputAudioTokens += usage.inputAudioTokens;
    m_usage.inputCachedTokens += usage.inputCachedTokens;
    m_usage.outputTextTokens += usage.outputTextTokens;
    m_usage.outputAudioTokens += usage.outputAudioTokens;
    m_cost += cost;
    write({{u"t"_s, u"usage"_s},
           {u"ti"_s, double(m_usage.inputTextTokens)},
           {u"ai"_s, double(m_usage.inputAudioTokens)},
           {u"tc"_s, double(m_usage.inputCachedTokens)},
           {u"to"_s, double(m_usage.outputTextTokens)},
           {u"ao"_s, double(m_usage.outputAudioTokens)},
           {u"cost"_s, m_cost}});
}

void CallRecorder::tool(const QString &name, const QString &arguments, const QString &result, int durationMs,
                        bool ok)
{
    write({{u"t"_s, u"tool"_s},
           {u"seq"_s, ++m_toolSeq},
           {u"name"_s, name.left(64)},
           {u"args"_s, pii::redact(arguments.left(16000))},
           {u"res"_s, pii::redact(result.left(16000))},
           {u"ms"_s, durationMs},
           {u"ok"_s, ok},
           {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}});
}

void CallRecorder::callbackTicket(const QString &callerNumber, const QString &why)
{
    submit({{u"t"_s, u"menu"_s},
            {u"choice"_s, u"callback"_s},
            {u"caller"_s, callerNumber.left(32)},
            {u"inst"_s, m_instance},
            {u"note"_s, why.left(200)},
            {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}});
}

void CallRecorder::end(const QString &outcome, const QString &reason)
{
    QJsonArray latencies;
    for (int l : std::as_const(m_turnLatencies))
        latencies.append(l);
    QJsonObject op{{u"t"_s, u"end"_s},
                   {u"outcome"_s, outcome},
                   {u"reason"_s, reason.left(500)},
                   {u"lat"_s, latencies},
                   {u"at"_s, double(QDateTime::currentMSecsSinceEpoch())}};
    if (m_firstAudioMs)
        op.insert(u"fa"_s, *m_firstAudioMs);
    if (!m_claimed) {
        // Never had the stream: the row is ended only if no server claimed it, and only then is what was held
        // kept (the greeting's cost was spent for this call).
        op.insert(u"unclaimed"_s, true);
        op.insert(u"held"_s, std::exchange(m_held, {}));
    }
    submit(std::move(op));
}

} // namespace vaani
