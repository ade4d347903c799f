#pragma once
// Typed database errors and results. Errors are translated once at the edge (HTTP status, a tool's
// function_call_output, a message box), never thrown.

#include <QSqlError>
#include <QString>

#include <utility>

namespace vaani::db {

struct DbError
{
    // Forbidden: the database refused it for the connected user's role (SQLSTATE 42501).
    enum class Kind { None, Unreachable, Constraint, NotFound, Conflict, Invalid, Forbidden, Internal };
    Kind kind = Kind::None;
    QString message;

    explicit operator bool() const { return kind != Kind::None; }
    static DbError from(const QSqlError &e);
    static DbError make(Kind k, const QString &msg) { return {k, msg}; }
    QString kindName() const;
};

template<typename T> struct DbResult
{
    T value{};
    DbError error;

    DbResult() = default;
    DbResult(T v)
        : value(std::move(v))
    {} // NOLINT(google-explicit-constructor): natural return syntax
    DbResult(DbError e)
        : error(std::move(e))
    {} // NOLINT(google-explicit-constructor)
    bool ok() const { return !error; }
};

} // namespace vaani::db
