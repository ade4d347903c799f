#include "repositories.h"
#include "sqlhelpers.h"

#include "logging.h"

#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace vaani::db {

using detail::nullableText;
using detail::Stmt;

namespace {
Customer readCustomer(const Stmt &s, const DataCipher &cipher)
{
    Customer c;
    c.id = s.int64("id");
    c.name = s.text("name");
    c.phone = s.has("phone") ? cipher.read(s.text("phone"), "customers.phone") : s.text("phone_masked");
    c.email = s.text("email");
    c.city = s.text("city");
    c.createdAt = s.time("created_at");
    c.rowVersion = s.value("row_version").toInt();
    return c;
}

const QString kOrderColumns =
    u"o.id, o.code, o.customer_id, c.name AS customer_name, o.status, o.items, o.amount_paise, o.placed_at, "
    "o.expected_delivery, o.delivered_at, o.carrier, o.tracking_number, o.updated_at, o.row_version "
    "FROM orders o JOIN customers c ON c.id = o.customer_id"_s;

Order readOrder(const Stmt &s)
{
    Order o;
    o.id = s.int64("id");
    o.code = s.text("code");
    o.customerId = s.int64("customer_id");
    o.customerName = s.text("customer_name");
    o.status = s.text("status");
    o.items = s.text("items");
    o.amountPaise = s.int64("amount_paise");
    o.placedAt = s.time("placed_at");
    o.expectedDelivery = s.time("expected_delivery");
    o.deliveredAt = s.time("delivered_at");
    o.carrier = s.text("carrier");
    o.trackingNumber = s.text("tracking_number");
    o.updatedAt = s.time("updated_at");
    o.rowVersion = s.value("row_version").toInt();
    return o;
}

QString likePattern(const QString &text)
{
    QString t = text.trimmed().toLower();
    t.replace(u'\\', u"\\\\"_s).replace(u'%', u"\\%"_s).replace(u'_', u"\\_"_s);
    return u'%' + t + u'%';
}
} // namespace

QString CustomerRepository::phoneCondition(const QString &alias, const DataCipher &cipher,
                                           const QString &normalized, QVariantList *binds)
{
    const QStringList hashes = cipher.phoneHashes(normalized);
    for (const QString &h : hashes)
        binds->append(h);
    binds->append(normalized);
    QStringList marks(hashes.size(), u"?"_s);
    return u"(%1phone_hash IN (%2) OR (%1phone_hash IS NULL AND %1phone = ?))"_s.arg(alias,
                                                                                     marks.join(u", "_s));
}

QString CustomerRepository::columns() const
{
    return m_masked ? u"id, name, phone_masked, email, city, created_at, row_version"_s
                    : u"id, name, phone, email, city, created_at, row_version"_s;
}

QString CustomerRepository::normalizePhone(const QString &phone)
{
    QString out;
    for (QChar c : phone) {
        if (c.isDigit())
            out += c;
    }
    if (out.isEmpty())
        return {};
    // Indian numbers: 10 digits (optionally with a leading 0) are +91 numbers.
    if (out.size() == 11 && out.startsWith(u'0'))
        out = out.mid(1);
    if (out.size() == 10 && !phone.trimmed().startsWith(u'+'))
        out = u"91"_s + out;
    return u'+' + out;
}

DbResult<Customer> CustomerRepository::get(qint64 id)
{
    Stmt s(m_db, u"SELECT "_s + columns() + u" FROM customers WHERE id = ?"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"customer"_s);
    return readCustomer(s, *m_cipher);
}

DbResult<Customer> CustomerRepository::findByPhone(const QString &phone)
{
    const QString normalized = normalizePhone(phone);
    if (normalized.size() < 8)
        return detail::notFound(u"customer"_s);
    if (m_masked)
        return DbError::make(DbError::Kind::Invalid, u"finding a customer by number needs full numbers"_s);
    QVariantList binds;
    Stmt s(m_db, u"SELECT "_s + columns() + u" FROM customers WHERE "_s +
                     phoneCondition({}, *m_cipher, normalized, &binds));
    for (const QVariant &v : binds)
        s.bind(v);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"customer"_s);
    return readCustomer(s, *m_cipher);
}

DbResult<QList<Customer>> CustomerRepository::search(const QString &text, int limit)
{
    // Sealed numbers cannot be matched by pattern: the masked copy (last four digits) can, and a whole number
    // is matched by its hash (not for agents, who may not read the hash column).
    const bool masked = m_masked || m_cipher->enabled();
    const QString number = normalizePhone(text);
    const bool byHash = !m_masked && number.size() >= 11;
    QVariantList hashBinds;
    Stmt s(m_db, u"SELECT "_s + columns() + u" FROM customers WHERE LOWER(name) LIKE ? ESCAPE '\\' OR "_s +
                     (masked ? u"phone_masked"_s : u"phone"_s) +
                     u" LIKE ? ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE ? ESCAPE '\\' OR "
                     "LOWER(COALESCE(city, '')) LIKE ? ESCAPE '\\'"_s +
                     (byHash ? u" OR "_s + phoneCondition({}, *m_cipher, number, &hashBinds) : QString()) +
                     u" ORDER BY name LIMIT ?"_s);
    const QString p = likePattern(text);
    s.bind(p).bind(p).bind(p).bind(p);
    for (const QVariant &v : hashBinds)
        s.bind(v);
    s.bind(limit);
    if (auto e = s.exec())
        return e;
    QList<Customer> out;
    while (s.next())
        out << readCustomer(s, *m_cipher);
    return out;
}

DbResult<Customer> CustomerRepository::create(const Customer &c)
{
    const QString phone = normalizePhone(c.phone);
    if (c.name.trimmed().isEmpty() || phone.size() < 8)
        return DbError::make(DbError::Kind::Invalid, u"a customer needs a name and a valid phone number"_s);
    Stmt s(m_db, u"INSERT INTO customers (name, phone, phone_masked, phone_hash, email, city, created_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id"_s);
    s.bind(c.name.trimmed())
        .bind(m_cipher->seal(phone, "customers.phone"))
        .bind(Redactor::maskPhone(phone))
        .bind(m_cipher->phoneHash(phone))
        .bind(nullableText(c.email))
        .bind(nullableText(c.city))
        .bind(detail::now());
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return DbError::make(DbError::Kind::Internal, u"insert returned no id"_s);
    return get(s.value("id").toLongLong());
}

DbResult<Customer> CustomerRepository::update(const Customer &c)
{
    const QString phone = normalizePhone(c.phone);
    if (c.name.trimmed().isEmpty() || phone.size() < 8)
        return DbError::make(DbError::Kind::Invalid, u"a customer needs a name and a valid phone number"_s);
    Stmt s(m_db, u"UPDATE customers SET name = ?, phone = ?, phone_masked = ?, phone_hash = ?, email = ?, "
                 "city = ?, row_version = row_version + 1 WHERE id = ? AND row_version = ?"_s);
    s.bind(c.name.trimmed())
        .bind(m_cipher->seal(phone, "customers.phone"))
        .bind(Redactor::maskPhone(phone))
        .bind(m_cipher->phoneHash(phone))
        .bind(nullableText(c.email))
        .bind(nullableText(c.city))
        .bind(c.id)
        .bind(c.rowVersion);
    if (auto e = s.exec())
        return e;
    if (s.numRowsAffected() == 0)
        return DbError::make(DbError::Kind::Conflict,
                             u"the customer was changed by someone else; reload it"_s);
    return get(c.id);
}

QString OrderRepository::normalizeCode(const QString &code)
{
    QString out;
    for (QChar c : code) {
        if (c.isSpace() || c == u'-' || c == u'.')
            continue;
        out += c.toUpper();
    }
    static const QRegularExpression valid(u"^[A-Z0-9]{3,16}$"_s);
    return valid.match(out).hasMatch() ? out : QString();
}

DbResult<Order> OrderRepository::findByCode(const QString &code)
{
    const QString normalized = normalizeCode(code);
    if (normalized.isEmpty())
        return DbError::make(DbError::Kind::NotFound, u"'%1' is not a valid order ID"_s.arg(code.left(40)));
    Stmt s(m_db, u"SELECT "_s + kOrderColumns + u" WHERE o.code = ?"_s);
    s.bind(normalized);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"order "_s + normalized);
    return readOrder(s);
}

DbResult<Order> OrderRepository::get(qint64 id)
{
    Stmt s(m_db, u"SELECT "_s + kOrderColumns + u" WHERE o.id = ?"_s);
    s.bind(id);
    if (auto e = s.exec())
        return e;
    if (!s.next())
        return detail::notFound(u"order"_s);
    return readOrder(s);
}

DbResult<QList<Order>> OrderRepository::forPhone(const QString &phone, int limit)
{
    const QString normalized = CustomerRepository::normalizePhone(phone);
    QList<Order> out;
    if (normalized.size() < 8)
        return out;
    QVariantList binds;
    Stmt s(m_db, u"SELECT "_s + kOrderColumns + u" WHERE "_s +
                     CustomerRepository::phoneCondition(u"c."_s, *m_cipher, normalized, &binds) +
                     u" ORDER BY o.placed_at DESC LIMIT ?"_s);
    for (const QVariant &v : binds)
        s.bind(v);
    s.bind(limit);
    if (auto e = s.exec())
        return e;
    while (s.next())
        out << readOrder(s);
    return out;
}

DbResult<QList<Order>> OrderRepository::search(const QString &text, int limit)
{
    const QString p = likePattern(text);
    QString compact = text;
    compact.remove(u' ');
    Stmt s(m_db, u"SELECT "_s + kOrderColumns +
                     u" WHERE LOWER(o.code) LIKE ? ESCAPE '\\' OR LOWER(c.name) LIKE ? ESCAPE '\\' "
                     "OR c."_s +
                     (m_masked || m_cipher->enabled() ? u"phone_masked"_s : u"phone"_s) +
                     u" LIKE ? ESCAPE '\\' OR o.status LIKE ? ESCAPE '\\' "
                     "OR LOWER(COALESCE(o.tracking_number, '')) LIKE ? ESCAPE '\\' "
                     "ORDER BY o.placed_at DESC LIMIT ?"_s);
    s.bind(likePattern(compact)).bind(p).bind(likePattern(compact)).bind(p).bind(p).bind(limit);
    if (auto e = s.exec())
        return e;
    QList<Order> out;
    while (s.next())
        out << readOrder(s);
    return out;
}

DbResult<Order> OrderRepository::updateStatus(qint64 id, const QString &status, int expectedRowVersion)
{
    auto current = get(id);
    if (!current.ok())
        return current.error;
    if (current.value.rowVersion != expectedRowVersion)
        return DbError::make(DbError::Kind::Conflict,
                             u"order %1 was changed by someone else; reload it"_s.arg(current.value.code));
    if (!Order::canTransition(current.value.status, status))
        return DbError::make(DbError::Kind::Invalid,
                             u"an order cannot go from %1 to %2"_s.arg(current.value.status, status));
    Stmt s(m_db, u"UPDATE orders SET status = ?, updated_at = ?, row_version = row_version + 1, "
                 "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END "
                 "WHERE id = ? AND row_version = ?"_s);
    const QString now = detail::now();
    s.bind(status).bind(now).bind(status).bind(now).bind(id).bind(expectedRowVersion);
    if (auto e = s.exec())
        return e;
    if (s.numRowsAffected() == 0)
        return DbError::make(DbError::Kind::Conflict, u"order was changed by someone else; reload it"_s);
    return get(id);
}

} // namespace vaani::db
