#include "dberror.h"

using namespace Qt::StringLiterals;

namespace vaani::db {

namespace {
// SQLite's (extended) result codes have at most 4 digits; PostgreSQL's SQLSTATEs always 5 characters.
bool sqliteUnavailable(const QString &code)
{
    bool ok = false;
    const int n = code.size() <= 4 ? code.toInt(&ok) : 0;
    if (!ok)
        return false;
    const int primary = n & 0xff;
    return primary == 8 /* READONLY */ || primary == 10 /* IOERR */ || primary == 13 /* FULL */ ||
           primary == 14 /* CANTOPEN */;
}
} // namespace

DbError DbError::from(const QSqlError &e)
{
    if (e.type() == QSqlError::NoError)
        return {};
    const QString code = e.nativeErrorCode();
    const QString text = e.text();
    Kind k = Kind::Internal;
    // Constraint first: QSQLITE reports statement failures with the ConnectionError type.
    if (code.startsWith(u"23"_s) || code == u"19"_s || code == u"2067"_s || code == u"787"_s ||
        code == u"1555"_s || code == u"275"_s || code == u"1299"_s ||
        text.contains(u"constraint"_s, Qt::CaseInsensitive))
        k = Kind::Constraint;
    else if (code == u"42501"_s || text.contains(u"permission denied"_s))
        k = Kind::Forbidden;
    else if (code == u"5"_s || code == u"6"_s || code == u"40001"_s || code == u"40P01"_s)
        k = Kind::Conflict;
    else if (e.type() == QSqlError::ConnectionError || code.startsWith(u"08"_s) ||
             // The database cannot take writes now, though it may later: PostgreSQL out of disk or memory
             // (class 53), a statement cancelled by its timeout, an I/O error (class 58); SQLite's disk
             // full, I/O errors, a read-only or unopenable file (primary codes 13, 10, 8, 14).
             code.startsWith(u"53"_s) || code == u"57014"_s || code.startsWith(u"58"_s) ||
             sqliteUnavailable(code) || code.startsWith(u"57P0"_s) /* shutting down */ ||
             text.contains(u"server closed the connection"_s) ||
             // A server shutting down (57P01), as QPSQL reports it without the code.
             text.contains(u"terminating connection"_s) || text.contains(u"could not receive data"_s) ||
             text.contains(u"could not send data"_s) || text.contains(u"SSL connection has been closed"_s) ||
             text.contains(u"no connection to the server"_s) ||
             text.contains(u"could not connect"_s, Qt::CaseInsensitive))
        k = Kind::Unreachable;
    return {k, text};
}

QString DbError::kindName() const
{
    switch (kind) {
    case Kind::None:
        return u"none"_s;
    case Kind::Unreachable:
        return u"unreachable"_s;
    case Kind::Constraint:
        return u"constraint"_s;
    case Kind::NotFound:
        return u"not_found"_s;
    case Kind::Conflict:
        return u"conflict"_s;
    case Kind::Invalid:
        return u"invalid"_s;
    case Kind::Forbidden:
        return u"forbidden"_s;
    case Kind::Internal:
        return u"internal"_s;
    }
    return u"internal"_s;
}

} // namespace vaani::db
