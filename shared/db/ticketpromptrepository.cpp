#include "repositories.h"
#include "sqlhelpers.h"

#include <QRandomGenerator>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace vaani::db {

using detail::inTransaction;
using detail::nullable;
using detail::nullableText;
using detail::Stmt;

namespace {
const QString kTicketSelect =
    u"SELECT t.*, o.code AS order_code FROM tickets t LEFT JOIN orders o ON o.id = t.order_id "_s;

Ticket readTicket(const Stmt &s, const DataCipher &cipher)
{
    Ticket t;
    t.id = s.int64("id");
    t.code = s.text("code");
    t.orderId = s.opt<qint64>("order_id");
    t.orderCode = s.text("order_code");
    t.customerId = s.opt<qint64>("customer_id");
    t.callId = s.opt<qint64>("call_id");
    t.category = s.text("category");
    t.priority = s.text("priority");
    t.status = s.text("status");
    t.summary = cipher.read(s.text("summary"), "tickets.summary");
    t.assignee = s.text("assignee");
    t.createdAt = s.time("created_at");
    t.updatedAt = s.time("updated_at");
    t.rowVersion = s.value("row_version").toInt();
    return t;
}

AgentPrompt readPrompt(const Stmt &s)
{
    AgentPrompt p;
    p.id = s.int64("id");
    p.name = s.text("name");
    p.version = s.value("version").toInt();
    p.instructions = s.text("instructions");
    p.greeting = s.text("greeting");
    p.recordingNotice = s.text("recording_notice");
    p.voice = s.text("voice");
    p.vadThreshold = s.value("vad_threshold").toDouble();
    p.vadPrefixPaddingMs = s.value("vad_prefix_padding_ms").toInt();
    p.vadSilenceDurationMs = s.value("vad_silence_duration_ms").toInt();
    p.vadIdleTimeoutMs = s.opt<int>("vad_idle_timeout_ms");
    p.active = s.value("active").toInt() != 0;
    p.author = s.text("author");
    p.note = s.text("note");
    p.createdAt = s.time("created_at");
    return p;
}

DbError addEvent(const QSqlDatabase &db, const DataCipher &cipher, qint64 ticketId, const QString &kind,
                 const QString &from, const QString &to, const QString &note, const QString &author)
{
    Stmt s(db,
           u"INSERT INTO ticket_events (ticket_id, kind, from_status, to_status, note, author, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)"_s);
    s.bind(ticketId)
        .bind(kind)
        .bind(nullableText(from))
        .bind(nullableText(to))
        .bind(nullableText(cipher.seal(note, "ticket_events.note")));
    s.bind(author.isEmpty() ? u"unknown"_s : author).bind(detail::now());
    return s.exec();
}

} // namespace

DbResult<Ticket> TicketRepository::create(const NewTicket &t)
{
    if (t.summary.trimmed().isEmpty())
        return DbError::make(DbError::Kind::Invalid, u"a ticket needs a summary"_s);
    if (t.category.trimmed().isEmpty())
        return DbError::make(DbError::Kind::Invalid, u"a ticket needs a category"_s);
    if (!Ticket::priorities().contains(t.priority))
        return DbError::make(DbError::Kind::Invalid,
                             u"priority must be one of %1"_s.arg(Ticket::priorities().join(u", "_s)));
    return inTransaction<Ticket>(m_db, [&]() -> DbResult<Ticket> {
        const QString now = detail::now();
        // Ticket numbers are read out on the phone and must not be guessable (one caller must not reach
        // another's ticket by counting): eight random digits from the system's generator, drawn again on the
        // rare collision (the unique index catches a race between servers).
        QString code;
        for (int attempt = 0; attempt < 8 && code.isEmpty(); ++attempt) {
            const QString candidate =
                u"TKT-"_s + QString::number(QRandomGenerator::system()->bounded(10000000, 100000000));
            Stmt taken(m_db, u"SELECT 1 FROM tickets WHERE code = ?"_s);
            taken.bind(candidate);
            if (auto e = taken.exec())
                return e;
            if (!taken.next())
                code = candidate;
        }
        if (code.isEmpty())
            return DbError::make(DbError::Kind::Internal, u"no free ticket number"_s);
        Stmt s(m_db, u"INSERT INTO tickets (code, order_id, customer_id, call_id, category, priority, "
                     u"status, summary, "
                     "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id"_s);
        s.bind(code);
        s.bind(nullable(t.orderId)).bind(nullable(t.customerId)).bind(nullable(t.callId));
        s.bind(t.category.trimmed().toLower())
            .bind(t.priority)
            .bind(m_cipher->seal(t.summary.trimmed(), "tickets.summary"))
            .bind(now)
            .bind(now);
        if (auto e = s.exec())
            return e;
        if (!s.next())
            return DbError::make(DbError::Kind::Internal, u"insert returned no id"_s);
        const qint64 id = s.value("id").toLongLong();
        if (auto e =
                addEvent(m_db, *m_cipher, id, u"created"_s, {}, u"open"_s, t.summary.trimmed(), t.author))
            return e;
        return get(id);
    });
}

DbResult<Ticket> TicketRepository::get(qint64 id)
{
    Stmt s(m_db, kTicketSelect + u"WHERE t.id = ?"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"ticket"_s);
    return readTicket(s, *m_cipher);
}

DbResult<Ticket> TicketRepository::findByCode(const QString &code)
{
    static const QRegularExpression re(u"^\\s*(?:TKT)?[\\s\\-#]*(\\d{1,12})\\s*$"_s,
                                       QRegularExpression::CaseInsensitiveOption);
    const auto m = re.match(code);
    if (!m.hasMatch())
        return DbError::make(DbError::Kind::NotFound,
                             u"'%1' is not a valid ticket number"_s.arg(code.left(40)));
    Stmt s(m_db, kTicketSelect + u"WHERE t.code = ?"_s);
    s.bind(u"TKT-"_s + m.captured(1));
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"ticket TKT-"_s + m.captured(1));
    return readTicket(s, *m_cipher);
}

DbResult<QList<Ticket>> TicketRepository::list(const TicketFilter &f)
{
    QString sql = kTicketSelect + u"WHERE 1=1"_s;
    QVariantList binds;
    if (!f.status.isEmpty()) {
        sql += u" AND t.status = ?"_s;
        binds << f.status;
    }
    if (!f.priority.isEmpty()) {
        sql += u" AND t.priority = ?"_s;
        binds << f.priority;
    }
    if (!f.assignee.isEmpty()) {
        sql += u" AND t.assignee = ?"_s;
        binds << f.assignee;
    }
    if (!f.text.isEmpty()) {
        // Sealed summaries cannot be searched in the database: then the code and order code only.
        sql +=
            m_cipher->enabled()
                ? u" AND (LOWER(t.code) LIKE ? OR LOWER(COALESCE(o.code, '')) LIKE ?)"_s
                : u" AND (LOWER(t.summary) LIKE ? OR LOWER(t.code) LIKE ? OR LOWER(COALESCE(o.code, '')) LIKE ?)"_s;
        const QString p = u'%' + f.text.trimmed().toLower() + u'%';
        binds << p << p;
        if (!m_cipher->enabled())
            binds << p;
    }
    sql += u" ORDER BY t.created_at DESC LIMIT ?"_s;
    binds << f.limit;
    Stmt s(m_db, sql);
    for (const QVariant &v : binds)
        s.bind(v);
    if (auto e = s.exec())
        return e;
    QList<Ticket> out;
    while (s.next())
        out << readTicket(s, *m_cipher);
    return out;
}

DbResult<QList<Ticket>> TicketRepository::forCall(qint64 callId)
{
    Stmt s(m_db, kTicketSelect + u"WHERE t.call_id = ? ORDER BY t.id"_s);
    s.bind(callId);
    if (auto e = s.exec())
        return e;
    QList<Ticket> out;
    while (s.next())
        out << readTicket(s, *m_cipher);
    return out;
}

DbResult<Ticket> TicketRepository::bump(qint64 id, int expectedRowVersion, const QString &setSql,
                                        const QVariantList &values)
{
    Stmt s(m_db, u"UPDATE tickets SET "_s + setSql +
                     u", updated_at = ?, row_version = row_version + 1 WHERE id = ? AND row_version = ?"_s);
    for (const QVariant &v : values)
        s.bind(v);
    s.bind(detail::now()).bind(id).bind(expectedRowVersion);
    if (auto e = s.exec())
        return e;
    if (s.numRowsAffected() == 0)
        return DbError::make(DbError::Kind::Conflict, u"the ticket was changed by someone else; reload it"_s);
    return get(id);
}

DbResult<Ticket> TicketRepository::changeStatus(qint64 id, const QString &to, const QString &author,
                                                const QString &note, int expectedRowVersion)
{
    return inTransaction<Ticket>(m_db, [&]() -> DbResult<Ticket> {
        auto cur = get(id);
        if (!cur.ok())
            return cur;
        if (!Ticket::canTransition(cur.value.status, to))
            return DbError::make(DbError::Kind::Invalid,
                                 u"a ticket cannot go from %1 to %2"_s.arg(cur.value.status, to));
        auto r = bump(id, expectedRowVersion, u"status = ?"_s, {to});
        if (!r.ok())
            return r;
        if (auto e = addEvent(m_db, *m_cipher, id, u"status"_s, cur.value.status, to, note, author))
            return e;
        return r;
    });
}

DbResult<Ticket> TicketRepository::assign(qint64 id, const QString &assignee, const QString &author,
                                          int expectedRowVersion)
{
    return inTransaction<Ticket>(m_db, [&]() -> DbResult<Ticket> {
        auto r = bump(id, expectedRowVersion, u"assignee = ?"_s, {nullableText(assignee.trimmed())});
        if (!r.ok())
            return r;
        if (auto e = addEvent(m_db, *m_cipher, id, u"assigned"_s, {}, {}, assignee.trimmed(), author))
            return e;
        return r;
    });
}

DbResult<Ticket> TicketRepository::addNote(qint64 id, const QString &note, const QString &author)
{
    if (note.trimmed().isEmpty())
        return DbError::make(DbError::Kind::Invalid, u"the note is empty"_s);
    return inTransaction<Ticket>(m_db, [&]() -> DbResult<Ticket> {
        auto cur = get(id);
        if (!cur.ok())
            return cur;
        if (auto e = addEvent(m_db, *m_cipher, id, u"note"_s, {}, {}, note.trimmed(), author))
            return e;
        Stmt s(m_db, u"UPDATE tickets SET updated_at = ? WHERE id = ?"_s);
        s.bind(detail::now()).bind(id);
        if (auto e = s.exec())
            return e;
        return get(id);
    });
}

DbResult<QList<TicketEvent>> TicketRepository::history(qint64 id)
{
    Stmt s(m_db, u"SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY created_at, id"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    QList<TicketEvent> out;
    while (s.next()) {
        TicketEvent ev;
        ev.id = s.int64("id");
        ev.ticketId = s.int64("ticket_id");
        ev.kind = s.text("kind");
        ev.fromStatus = s.text("from_status");
        ev.toStatus = s.text("to_status");
        ev.note = m_cipher->read(s.text("note"), "ticket_events.note");
        ev.author = s.text("author");
        ev.createdAt = s.time("created_at");
        out << ev;
    }
    return out;
}

DbResult<AgentPrompt> PromptRepository::active()
{
    Stmt s(m_db, u"SELECT * FROM agent_prompts WHERE active = 1 ORDER BY id DESC LIMIT 1"_s);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"active agent prompt"_s);
    return readPrompt(s);
}

DbResult<AgentPrompt> PromptRepository::get(qint64 id)
{
    Stmt s(m_db, u"SELECT * FROM agent_prompts WHERE id = ?"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"agent prompt"_s);
    return readPrompt(s);
}

DbResult<QList<AgentPrompt>> PromptRepository::versions(const QString &name)
{
    Stmt s(m_db, name.isEmpty() ? u"SELECT * FROM agent_prompts ORDER BY name, version DESC"_s
                                : u"SELECT * FROM agent_prompts WHERE name = ? ORDER BY version DESC"_s);
    if (!name.isEmpty())
        s.bind(name);
    if (auto e = s.exec())
        return e;
    QList<AgentPrompt> out;
    while (s.next())
        out << readPrompt(s);
    return out;
}

DbResult<AgentPrompt> PromptRepository::saveNewVersion(const AgentPrompt &p)
{
    if (const QString err = p.validate(); !err.isEmpty())
        return DbError::make(DbError::Kind::Invalid, err);
    return inTransaction<AgentPrompt>(m_db, [&]() -> DbResult<AgentPrompt> {
        Stmt v(m_db, u"SELECT COALESCE(MAX(version), 0) AS v FROM agent_prompts WHERE name = ?"_s);
        v.bind(p.name.trimmed());
        if (auto e = v.exec())
            return e;
        const int next = v.next() ? v.value("v").toInt() + 1 : 1;
        Stmt s(
            m_db,
            u"INSERT INTO agent_prompts (name, version, instructions, greeting, voice, vad_threshold, "
            "vad_prefix_padding_ms, vad_silence_duration_ms, vad_idle_timeout_ms, author, note, "
            "created_at, recording_notice) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"_s); // active: 0 by default
                                                                                                            // (supervisors may not
                                                                                                            // set it)
        s.bind(p.name.trimmed()).bind(next).bind(p.instructions).bind(p.greeting).bind(p.voice);
        s.bind(p.vadThreshold)
            .bind(p.vadPrefixPaddingMs)
            .bind(p.vadSilenceDurationMs)
            .bind(nullable(p.vadIdleTimeoutMs));
        s.bind(p.author.isEmpty() ? u"unknown"_s : p.author).bind(nullableText(p.note)).bind(detail::now());
        s.bind(nullableText(p.recordingNotice.trimmed()));
        if (auto e = s.exec())
            return e;
        if (!s.next())
            return DbError::make(DbError::Kind::Internal, u"insert returned no id"_s);
        return get(s.value("id").toLongLong());
    });
}

DbResult<AgentPrompt> PromptRepository::activate(qint64 id)
{
    return inTransaction<AgentPrompt>(m_db, [&]() -> DbResult<AgentPrompt> {
        auto p = get(id);
        if (!p.ok())
            return p;
        Stmt off(m_db, u"UPDATE agent_prompts SET active = 0 WHERE active = 1 AND id <> ?"_s);
        off.bind(id);
        if (auto e = off.exec())
            return e;
        Stmt on(m_db, u"UPDATE agent_prompts SET active = 1 WHERE id = ?"_s);
        on.bind(id);
        if (auto e = on.exec())
            return e;
        return get(id);
    });
}

DbResult<AgentPrompt> PromptRepository::rollback()
{
    auto cur = active();
    if (!cur.ok())
        return cur;
    Stmt s(m_db,
           u"SELECT id FROM agent_prompts WHERE name = ? AND version < ? ORDER BY version DESC LIMIT 1"_s);
    s.bind(cur.value.name).bind(cur.value.version);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return DbError::make(
            DbError::Kind::NotFound,
            u"version %1 is the first version; there is nothing to roll back to"_s.arg(cur.value.version));
    return activate(s.value("id").toLongLong());
}

} // namespace vaani::db
