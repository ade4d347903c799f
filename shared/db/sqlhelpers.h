#pragma once
// Internal to the data layer: a prepared statement with positional binds and typed errors.
// Threads: the database thread only (the connection it is given lives there); a value on the stack.

#include "dberror.h"
#include "models.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QVariant>

#include <optional>

namespace vaani::db::detail {

class Stmt
{
public:
    Stmt(const QSqlDatabase &db, const QString &sql)
        : q(db)
    {
        m_prepared = q.prepare(sql);
    }
    Stmt &bind(const QString &v)
    {
        q.addBindValue(v);
        return *this;
    }
    Stmt &bind(const QVariant &v)
    {
        q.addBindValue(v);
        return *this;
    }
    DbError exec()
    {
        if (!m_prepared || !q.exec())
            return DbError::from(q.lastError());
        return {};
    }
    bool next() { return q.next(); }
    QVariant value(const char *column) const { return q.value(QString::fromLatin1(column)); }
    bool has(const char *column) const { return q.record().indexOf(QString::fromLatin1(column)) >= 0; }
    QString text(const char *column) const { return value(column).toString(); }
    qint64 int64(const char *column) const { return value(column).toLongLong(); }
    QDateTime time(const char *column) const { return fromDbTime(text(column)); }
    template<typename T> std::optional<T> opt(const char *column) const
    {
        const QVariant v = value(column);
        if (v.isNull())
            return std::nullopt;
        return v.value<T>();
    }
    int numRowsAffected() const { return q.numRowsAffected(); }

    QSqlQuery q;

private:
    bool m_prepared = false;
};

template<typename T> QVariant nullable(const std::optional<T> &v)
{
    return v ? QVariant::fromValue(*v) : QVariant(QMetaType::fromType<T>());
}

inline QVariant nullableText(const QString &s)
{
    return s.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(s);
}

// Runs fn inside a transaction; commits on success, rolls back on error.
template<typename T, typename F> DbResult<T> inTransaction(QSqlDatabase &db, F fn)
{
    if (!db.transaction())
        return DbError::from(db.lastError());
    DbResult<T> r = fn();
    if (!r.ok()) {
        db.rollback();
        return r;
    }
    if (!db.commit()) {
        DbError e = DbError::from(db.lastError());
        db.rollback();
        return e;
    }
    return r;
}

// PostgreSQL (else SQLite): for the few statements the engines write differently.
inline bool isPostgres(const QSqlDatabase &db)
{
    return db.driverName() == QLatin1String("QPSQL");
}

inline QString now()
{
    return toDbTime(QDateTime::currentDateTimeUtc());
}

inline DbError notFound(const QString &what)
{
    return DbError::make(DbError::Kind::NotFound, what + QStringLiteral(" not found"));
}

} // namespace vaani::db::detail
