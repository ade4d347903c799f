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
        const auto recordings =
            change(m_db,
                   u"UPDATE calls SET recording_status = 'erased' WHERE started_at < ? AND "
                   "recording_file IS NOT NULL AND recording_status <> 'erased'"_s,
                   before);
        if (!recordings.ok())
            return recordings.error;
        report.recordings = recordings.value;
        if (report.transcriptLines > 0 || report.toolCalls > 0 || report.recordings > 0) {
            const auto audited = addAudit(
                actor, u"retention_purge"_s, u"calls before "_s + before,
                u"%1 calls: %2 transcript lines deleted, %3 tool calls cleared, %4 recordings erased"_s
                    .arg(report.calls)
                    .arg(report.transcriptLines)
                    .arg(report.toolCalls)
                    .arg(report.recordings));
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
        QVariantList binds;
        Stmt find(m_db, u"SELECT id FROM customers WHERE "_s +
                            CustomerRepository::phoneCondition({}, *m_cipher, number, &binds));
        for (const QVariant &v : binds)
            find.bind(v);
        if (auto e = find.exec())
            return e;
        const qint64 id = find.next() ? find.int64("id") : -1;
        report.customer = id > 0;

        // The caller's calls: those linked to the customer, and those from the number (by its keyed hash),
        // also when the caller never was a customer.
        const QStringList hashes = m_cipher->phoneHashes(number);
        const QString callsOf = u"(customer_id = ? OR caller_hash IN (%1))"_s.arg(
            QStringList(hashes.size(), u"?"_s).join(u", "_s));
        auto run = [&](const QString &sql, const QVariantList &before = {}) -> DbResult<int> {
            Stmt s(m_db, sql);
            for (const QVariant &v : before)
                s.bind(v);
            s.bind(QVariant::fromValue(id));
            for (const QString &h : hashes)
                s.bind(h);
            if (auto e = s.exec())
                return e;
            return std::max(0, s.numRowsAffected());
        };
        const auto lines =
            run(u"DELETE FROM transcript_entries WHERE call_id IN (SELECT id FROM calls WHERE "_s + callsOf +
                u")"_s);
        if (!lines.ok())
            return lines.error;
        report.transcriptLines = lines.value;
        const auto tools = run(u"UPDATE tool_invocations SET arguments = '', result = '' WHERE call_id IN "
                               "(SELECT id FROM calls WHERE "_s +
                               callsOf + u")"_s);
        if (!tools.ok())
            return tools.error;
        report.toolCalls = tools.value;
        const auto recordings =
            run(u"UPDATE calls SET recording_status = 'erased' WHERE recording_file IS NOT NULL AND "
                "recording_status <> 'erased' AND "_s +
                callsOf);
        if (!recordings.ok())
            return recordings.error;
        report.recordings = recordings.value;
        const auto tickets = run(u"UPDATE tickets SET summary = '[erased on the customer''s request]' WHERE "
                                 "customer_id = ? OR call_id IN (SELECT id FROM calls WHERE "_s +
                                     callsOf + u")"_s,
                                 {QVariant::fromValue(id)});
        if (!tickets.ok())
            return tickets.error;
        report.tickets = tickets.value;
        const auto notes =
            run(u"UPDATE ticket_events SET note = NULL WHERE note IS NOT NULL AND ticket_id IN "
                "(SELECT id FROM tickets WHERE customer_id = ? OR call_id IN (SELECT id FROM calls "
                "WHERE "_s +
                    callsOf + u"))"_s,
                {QVariant::fromValue(id)});
        if (!notes.ok())
            return notes.error;
        // Last, as it removes what found the calls: the number, its hash and its masked form.
        const auto calls =
            run(u"UPDATE calls SET caller_masked = 'erased', caller_number = NULL, caller_hash = "
                "NULL WHERE "_s +
                callsOf);
        if (!calls.ok())
            return calls.error;
        report.calls = calls.value;
        report.found = report.found || report.calls > 0;
        if (!report.found)
            return report;
        if (id > 0) {
            // The customer row stays (orders refer to it) without anything that identifies the person; the
            // placeholder number keeps the column unique and is no one's.
            Stmt anonymise(m_db, u"UPDATE customers SET name = 'Erased customer', phone = ?, phone_masked = "
                                 "'erased', phone_hash = 'erased', email = NULL, city = NULL, row_version = "
                                 "row_version + 1 WHERE id = ?"_s);
            anonymise.bind(u"erased-"_s + QString::number(id)).bind(QVariant::fromValue(id));
            if (auto e = anonymise.exec())
                return e;
        }
        const auto audited = addAudit(
            actor, u"erase_caller"_s, id > 0 ? u"customer "_s + QString::number(id) : u"a caller"_s,
            u"%1 calls, %2 transcript lines, %3 tool calls, %4 tickets, %5 recordings"_s.arg(report.calls)
                .arg(report.transcriptLines)
                .arg(report.toolCalls)
                .arg(report.tickets)
                .arg(report.recordings));
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

namespace vaani::db {

namespace {
struct SealedColumn
{
    const char *table;
    const char *column;               // as named in the associated data: "<table>.<column>"
    const char *hashColumn = nullptr; // the keyed hash beside a phone number
};
const SealedColumn kSealed[] = {
    {"customers", "phone", "phone_hash"},
    {"calls", "caller_number", "caller_hash"},
    {"transcript_entries", "text"},
    {"tool_invocations", "arguments"},
    {"tool_invocations", "result"},
    {"tickets", "summary"},
    {"ticket_events", "note"},
};
} // namespace

DbResult<ReencryptReport> PrivacyRepository::reencrypt(int batch)
{
    ReencryptReport report;
    if (!m_cipher->enabled())
        return DbError::make(DbError::Kind::Invalid, u"no data key is loaded (VAANI_DATA_KEY_FILE)"_s);
    const QString current = m_cipher->currentKeyId();
    for (const SealedColumn &c : kSealed) {
        const QString table = QString::fromLatin1(c.table);
        const QString column = QString::fromLatin1(c.column);
        const QByteArray qualified = QByteArray(c.table) + '.' + c.column;
        const QString hash = c.hashColumn ? QString::fromLatin1(c.hashColumn) : QString();
        qint64 after = 0;
        for (;;) {
            auto done = detail::inTransaction<int>(m_db, [&]() -> DbResult<int> {
                if (detail::isPostgres(m_db)) {
                    // Same values, new seal: the audit trigger leaves these rows out (one audit row says it).
                    QSqlQuery quiet(m_db);
                    if (!quiet.exec(u"SET LOCAL vaani.resealing = 'on'"_s))
                        return DbError::from(quiet.lastError());
                }
                Stmt rows(m_db, u"SELECT id, %1 AS v%2 FROM %3 WHERE id > ? AND %1 IS NOT NULL AND %1 <> '' "
                                "ORDER BY id LIMIT ?"_s.arg(
                                    column, hash.isEmpty() ? QString() : u", "_s + hash + u" AS h"_s, table));
                rows.bind(QVariant::fromValue(after)).bind(batch);
                if (auto e = rows.exec())
                    return e;
                int seen = 0;
                while (rows.next()) {
                    ++seen;
                    after = rows.int64("id");
                    const QString stored = rows.text("v");
                    const bool reseal = m_cipher->needsReseal(stored);
                    // "erased": an anonymised customer, whose placeholder number has nothing to hash.
                    const bool rehash = !hash.isEmpty() && rows.text("h") != u"erased"_s &&
                                        !rows.text("h").startsWith(current + u':');
                    if (!reseal && !rehash)
                        continue;
                    const auto plain = m_cipher->open(stored, qualified.constData());
                    if (!plain) {
                        ++report.unopened;
                        continue;
                    }
                    // Only a row nobody changed meanwhile (the old value still there) is rewritten.
                    Stmt update(m_db,
                                hash.isEmpty()
                                    ? u"UPDATE %1 SET %2 = ? WHERE id = ? AND %2 = ?"_s.arg(table, column)
                                    : u"UPDATE %1 SET %2 = ?, %3 = ? WHERE id = ? AND %2 = ?"_s.arg(
                                          table, column, hash));
                    update.bind(m_cipher->seal(*plain, qualified.constData()));
                    if (!hash.isEmpty())
                        update.bind(m_cipher->phoneHash(CustomerRepository::normalizePhone(*plain)));
                    update.bind(QVariant::fromValue(after)).bind(stored);
                    if (auto e = update.exec())
                        return e;
                    if (update.numRowsAffected() > 0) {
                        report.values += reseal ? 1 : 0;
                        report.hashes += rehash ? 1 : 0;
                    }
                }
                return seen;
            });
            if (!done.ok())
                return done.error;
            if (done.value < batch)
                break;
        }
    }
    // Calls from before their caller_number was kept: their hash follows their customer's.
    Stmt linked(m_db, u"UPDATE calls SET caller_hash = (SELECT phone_hash FROM customers c WHERE c.id = "
                      "calls.customer_id) WHERE customer_id IS NOT NULL AND caller_number IS NULL"_s);
    if (auto e = linked.exec())
        return e;
    return report;
}

DbResult<int> PrivacyRepository::valuesNotUnderCurrentKey(int cap)
{
    if (!m_cipher->enabled())
        return 0;
    const QString sealedPrefix = u"enc:v1:"_s + m_cipher->currentKeyId() + u":%"_s;
    int total = 0;
    for (const SealedColumn &c : kSealed) {
        Stmt s(m_db,
               u"SELECT COUNT(*) AS n FROM (SELECT 1 FROM %1 WHERE %2 IS NOT NULL AND %2 <> '' AND %2 NOT "
               "LIKE ? LIMIT ?) x"_s.arg(QString::fromLatin1(c.table), QString::fromLatin1(c.column)));
        s.bind(sealedPrefix).bind(cap);
        if (auto e = s.exec())
            return e;
        if (s.next())
            total += int(s.int64("n"));
    }
    return total;
}

} // namespace vaani::db
