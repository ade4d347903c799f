#include "repositories.h"
#include "sqlhelpers.h"

#include <QSqlError>

using namespace Qt::StringLiterals;

namespace vaani::db {

using detail::Stmt;

namespace {
// Executes a statement with one bound value; returns the rows it changed, or an error.
DbResult<int> change(const QSqlDatabase &db, const QString &sql, const QVariant &value)
{
    Stmt s(db, sql);
    s.bind(value);
    if (auto e = s.exec())
        return e;
    return std::max(0, s.numRowsAffected());
}
} // namespace

DbResult<bool> PrivacyRepository::addAudit(const QString &actor, const QString &action,
                                           const QString &subject, const QString &detail)
{
    Stmt s(m_db, u"INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)"_s);
    s.bind(detail::now()).bind(actor.left(200)).bind(action.left(100)).bind(subject.left(200));
    s.bind(detail::nullableText(detail.left(2000)));
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<PurgeReport> PrivacyRepository::purgeConversationsBefore(const QDateTime &cutoff,
                                                                  const QString &actor)
{
    const QString before = toDbTime(cutoff.toUTC());
    return detail::inTransaction<PurgeReport>(m_db, [&]() -> DbResult<PurgeReport> {
        PurgeReport report;
        Stmt calls(m_db, u"SELECT COUNT(DISTINCT c.id) AS n FROM calls c WHERE c.started_at < ? AND ("
                         "EXISTS (SELECT 1 FROM transcript_entries t WHERE t.call_id = c.id) OR "
                         "EXISTS (SELECT 1 FROM tool_invocations i WHERE i.call_id = c.id AND "
                         "(i.arguments <> '' OR i.result <> '')))"_s);
        calls.bind(before);
        if (auto e = calls.exec())
            return e;
        if (calls.next())
            report.calls = int(calls.int64("n"));
        const auto lines = change(
            m_db,
            u"DELETE FROM transcript_entries WHERE call_id IN (SELECT id FROM calls WHERE started_at < ?)"_s,
            before);
        if (!lines.ok())
            return lines.error;
        report.transcriptLines = lines.value;
        const auto tools =
            change(m_db,
                   u"UPDATE tool_invocations SET arguments = '', result = '' WHERE (arguments <> '' "
                   "OR result <> '') AND call_id IN (SELECT id FROM calls WHERE started_at < ?)"_s,
                   before);
        if (!tools.ok())
            return tools.error;
        report.toolCalls = tools.value;
        if (report.transcriptLines > 0 || report.toolCalls > 0) {
            const auto audited =
                addAudit(actor, u"retention_purge"_s, u"calls before "_s + before,
                         u"%1 calls: %2 transcript lines deleted, %3 tool calls cleared"_s.arg(report.calls)
                             .arg(report.transcriptLines)
                             .arg(report.toolCalls));
            if (!audited.ok())
                return audited.error;
        }
        return report;
    });
}

DbResult<ErasureReport> PrivacyRepository::eraseCaller(const QString &phone, const QString &actor)
{
    const QString number = CustomerRepository::normalizePhone(phone);
    if (number.size() < 8)
        return DbError::make(DbError::Kind::Invalid, u"not a phone number"_s);
    return detail::inTransaction<ErasureReport>(m_db, [&]() -> DbResult<ErasureReport> {
        ErasureReport report;
        Stmt find(m_db, u"SELECT id FROM customers WHERE phone = ?"_s);
        find.bind(number);
        if (auto e = find.exec())
            return e;
        if (!find.next())
            return report;
        report.found = true;
        const qint64 id = find.int64("id");
        const QVariant customer = QVariant::fromValue(id);

        const auto calls =
            change(m_db, u"UPDATE calls SET caller_masked = 'erased' WHERE customer_id = ?"_s, customer);
        if (!calls.ok())
            return calls.error;
        report.calls = calls.value;
        const auto lines = change(
            m_db,
            u"DELETE FROM transcript_entries WHERE call_id IN (SELECT id FROM calls WHERE customer_id = ?)"_s,
            customer);
        if (!lines.ok())
            return lines.error;
        report.transcriptLines = lines.value;
        const auto tools = change(m_db,
                                  u"UPDATE tool_invocations SET arguments = '', result = '' WHERE call_id IN "
                                  "(SELECT id FROM calls WHERE customer_id = ?)"_s,
                                  customer);
        if (!tools.ok())
            return tools.error;
        report.toolCalls = tools.value;
        const auto tickets = change(m_db,
                                    u"UPDATE tickets SET summary = '[erased on the customer''s request]' "
                                    "WHERE customer_id = ?"_s,
                                    customer);
        if (!tickets.ok())
            return tickets.error;
        report.tickets = tickets.value;
        const auto notes =
            change(m_db,
                   u"UPDATE ticket_events SET note = NULL WHERE note IS NOT NULL AND ticket_id IN "
                   "(SELECT id FROM tickets WHERE customer_id = ?)"_s,
                   customer);
        if (!notes.ok())
            return notes.error;
        // The customer row stays (orders refer to it) without anything that identifies the person; the
        // placeholder number keeps the column unique and is no one's.
        Stmt anonymise(m_db,
                       u"UPDATE customers SET name = 'Erased customer', phone = ?, phone_masked = 'erased', "
                       "email = NULL, city = NULL, "
                       "row_version = row_version + 1 WHERE id = ?"_s);
        anonymise.bind(u"erased-"_s + QString::number(id)).bind(customer);
        if (auto e = anonymise.exec())
            return e;
        const auto audited =
            addAudit(actor, u"erase_caller"_s, u"customer "_s + QString::number(id),
                     u"%1 calls, %2 transcript lines, %3 tool calls, %4 tickets"_s.arg(report.calls)
                         .arg(report.transcriptLines)
                         .arg(report.toolCalls)
                         .arg(report.tickets));
        if (!audited.ok())
            return audited.error;
        return report;
    });
}

DbResult<QList<AuditEntry>> PrivacyRepository::audit(int limit)
{
    Stmt s(m_db, u"SELECT * FROM audit_log ORDER BY id DESC LIMIT ?"_s);
    s.bind(limit);
    if (auto e = s.exec())
        return e;
    QList<AuditEntry> out;
    while (s.next())
        out.append({s.int64("id"), s.time("at"), s.text("actor"), s.text("action"), s.text("subject"),
                    s.text("detail")});
    return out;
}

} // namespace vaani::db
