#include "database.h"

#include "datacipher.h"
#include "logging.h"
#include "models.h"
#include "repositories.h"
#include "sqlhelpers.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSqlDriver>
#include <QSqlQuery>
#include <QUrl>
#include <QUrlQuery>
#include <QUuid>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani::db {

QString toDbTime(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(u"yyyy-MM-ddTHH:mm:ss.zzzZ"_s) : QString();
}

QDateTime fromDbTime(const QString &s)
{
    if (s.isEmpty())
        return {};
    QDateTime t = QDateTime::fromString(s, Qt::ISODateWithMs);
    if (!t.isValid())
        t = QDateTime::fromString(s, Qt::ISODate);
    return t.toUTC();
}

DatabaseConfig DatabaseConfig::fromUrl(const QString &url, const QString &dataDir, QString *error)
{
    DatabaseConfig c;
    if (error)
        error->clear();
    if (url.isEmpty()) {
        c.sqlitePath = QDir(dataDir.isEmpty() ? u"./data"_s : dataDir).absoluteFilePath(u"vaani.db"_s);
        return c;
    }
    if (url.startsWith(u"sqlite:"_s)) {
        QString path = url.mid(7);
        if (path.startsWith(u"//"_s))
            path = path.mid(2); // sqlite:///abs → /abs
        if (path.isEmpty()) {
            if (error)
                *error = u"DATABASE_URL: sqlite URL has no path"_s;
            return c;
        }
        c.sqlitePath = QFileInfo(path).isAbsolute() ? path : QDir(dataDir).absoluteFilePath(path);
        return c;
    }
    const QUrl u(url, QUrl::StrictMode);
    if (!u.isValid() || (u.scheme() != u"postgresql"_s && u.scheme() != u"postgres"_s) ||
        u.host().isEmpty()) {
        if (error)
            *error =
                u"DATABASE_URL must be empty, sqlite:///path.db or postgresql://user:pass@host:port/db"_s;
        return c;
    }
    c.engine = Engine::Postgres;
    c.host = u.host();
    c.port = u.port(5432);
    c.user = u.userName(QUrl::FullyDecoded);
    c.password = u.password(QUrl::FullyDecoded);
    c.name = u.path().mid(1);
    if (c.name.isEmpty())
        c.name = c.user;
    static const QHash<QString, QStringList> allowed = {
        {u"sslmode"_s,
         {u"disable"_s, u"allow"_s, u"prefer"_s, u"require"_s, u"verify-ca"_s, u"verify-full"_s}},
        {u"sslrootcert"_s, {}},
        {u"sslcert"_s, {}},
        {u"sslkey"_s, {}},
        {u"sslcrl"_s, {}},
        {u"connect_timeout"_s, {}},
        {u"application_name"_s, {}},
        {u"target_session_attrs"_s, {u"any"_s, u"read-write"_s, u"read-only"_s, u"primary"_s, u"standby"_s}},
        {u"keepalives"_s, {u"0"_s, u"1"_s}},
        {u"keepalives_idle"_s, {}},
        {u"statement_timeout"_s, {}},
    };
    // Values go into the driver's "key=value;…" option string: nothing that could end or quote one.
    static const QRegularExpression safe(u"^[A-Za-z0-9_./:+@-]{1,512}$"_s);
    bool timeout = false;
    const auto items = QUrlQuery(u).queryItems(QUrl::FullyDecoded);
    for (const auto &[key, value] : items) {
        const auto it = allowed.constFind(key);
        const bool numeric =
            key == u"connect_timeout"_s || key == u"keepalives_idle"_s || key == u"statement_timeout"_s;
        bool isNumber = false;
        value.toInt(&isNumber);
        QString why;
        if (it == allowed.cend())
            why = u"unknown parameter '%1' (allowed: %2)"_s.arg(key.left(40),
                                                                QStringList(allowed.keys()).join(u", "_s));
        else if (!it->isEmpty() && !it->contains(value))
            why = u"%1 must be one of %2"_s.arg(key, it->join(u", "_s));
        else if (numeric && (!isNumber || value.toInt() < 0))
            why = key == u"statement_timeout"_s ? u"statement_timeout must be a number of milliseconds"_s
                                                : u"%1 must be a number of seconds"_s.arg(key);
        else if (!safe.match(value).hasMatch())
            why = u"%1 has a value with characters a connection option cannot carry"_s.arg(key);
        if (!why.isEmpty()) {
            if (error)
                *error = u"DATABASE_URL: "_s + why;
            c.options.clear();
            return c;
        }
        timeout = timeout || key == u"connect_timeout"_s;
        if (key == u"statement_timeout"_s) {
            c.statementTimeoutMs = value.toInt(); // set on the session after connecting
            continue;
        }
        c.options << key + u'=' + value;
    }
    if (!timeout)
        c.options << u"connect_timeout=5"_s;
    return c;
}

DatabaseConfig DatabaseConfig::load(const QString &url, const QString &dataDir, const QString &dataKeyFile,
                                    QString *error)
{
    DatabaseConfig c = fromUrl(url, dataDir, error);
    if (!error->isEmpty())
        return c;
    c.cipher = DataCipher::fromFile(dataKeyFile, error);
    return c;
}

QString DatabaseConfig::describe() const
{
    if (engine == Engine::Sqlite)
        return u"SQLite %1"_s.arg(sqlitePath);
    return u"PostgreSQL %1@%2:%3/%4"_s.arg(user, host).arg(port).arg(name);
}

QSqlDatabase Database::open(const DatabaseConfig &config, const QString &connectionName, DbError *error)
{
    QSqlDatabase db;
    if (config.engine == DatabaseConfig::Engine::Sqlite) {
        // On one machine, access to the embedded database is the file's permissions: a new data directory is
        // the owner's alone (0700) and a new database file is created 0600 before SQLite opens it (SQLite
        // gives its -wal and -shm files the database file's permissions).
        const QString dir = QFileInfo(config.sqlitePath).absolutePath();
        if (!QFileInfo::exists(dir) && QDir().mkpath(dir))
            QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        if (!QFileInfo::exists(config.sqlitePath)) {
            const int fd = ::open(QFile::encodeName(config.sqlitePath).constData(),
                                  O_CREAT | O_WRONLY | O_CLOEXEC, S_IRUSR | S_IWUSR);
            if (fd >= 0)
                ::close(fd);
        }
        db = QSqlDatabase::addDatabase(u"QSQLITE"_s, connectionName);
        db.setDatabaseName(config.sqlitePath);
        db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=5000"_s);
    } else {
        db = QSqlDatabase::addDatabase(u"QPSQL"_s, connectionName);
        db.setHostName(config.host);
        db.setPort(config.port);
        db.setUserName(config.user);
        db.setPassword(config.password);
        db.setDatabaseName(config.name);
        db.setConnectOptions(config.options.isEmpty() ? u"connect_timeout=5"_s : config.options.join(u';'));
    }
    if (!db.isValid()) {
        if (error)
            *error = {DbError::Kind::Internal,
                      u"Qt SQL driver for %1 is not installed"_s.arg(config.describe())};
        return db;
    }
    if (!db.open()) {
        if (error)
            *error = {DbError::Kind::Unreachable,
                      u"cannot open %1: %2"_s.arg(config.describe(), db.lastError().text())};
        return db;
    }
    if (config.engine == DatabaseConfig::Engine::Sqlite) {
        QSqlQuery q(db);
        q.exec(u"PRAGMA journal_mode=WAL"_s);
        q.exec(u"PRAGMA foreign_keys=ON"_s);
        q.exec(u"PRAGMA synchronous=NORMAL"_s);
        // Deleted and rewritten content is overwritten, not left in free pages: erased data, and the clear
        // values that sealing replaced, do not survive in a copy of the file.
        q.exec(u"PRAGMA secure_delete=ON"_s);
    } else {
        QSqlQuery q(db);
        q.exec(u"SET client_min_messages TO WARNING"_s);
        // One hung query must not stall the database thread (and every call's tools with it).
        q.exec(u"SET statement_timeout = %1"_s.arg(config.statementTimeoutMs));
    }
    if (error)
        *error = {};
    return db;
}

void Database::close(const QString &connectionName)
{
    {
        QSqlDatabase db = QSqlDatabase::database(connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(connectionName);
}

QString Database::translate(const QSqlDatabase &db, QString sql)
{
    const bool pg = db.driverName() == u"QPSQL"_s;
    sql.replace(u"{{PK}}"_s, pg ? u"BIGSERIAL PRIMARY KEY"_s : u"INTEGER PRIMARY KEY AUTOINCREMENT"_s);
    sql.replace(u"{{REAL}}"_s, pg ? u"DOUBLE PRECISION"_s : u"REAL"_s);
    sql.replace(u"{{BIGINT}}"_s, pg ? u"BIGINT"_s : u"INTEGER"_s);
    return sql;
}

namespace {
struct Migration
{
    int version;
    QString name;
    QString path;
};

// NNNN_name.sql is portable; NNNN_name.postgres.sql and NNNN_name.sqlite.sql are one engine's variant of
// version NNNN (a version has either the portable file or both variants).
QList<Migration> migrations(bool postgres)
{
    QList<Migration> out;
    static const QRegularExpression re(u"^(\\d{4})_([a-z0-9_]+?)(?:\\.(postgres|sqlite))?\\.sql$"_s);
    const QStringList files = QDir(u":/vaani/migrations"_s).entryList({u"*.sql"_s}, QDir::Files, QDir::Name);
    const QString engine = postgres ? u"postgres"_s : u"sqlite"_s;
    for (const QString &f : files) {
        const auto m = re.match(f);
        if (m.hasMatch() && (!m.hasCaptured(3) || m.captured(3) == engine))
            out.append({m.captured(1).toInt(), m.captured(2), u":/vaani/migrations/"_s + f});
    }
    return out;
}

// Statements end with ';' at the end of a line, except inside a $$-quoted body (PostgreSQL functions).
QStringList splitStatements(const QString &script)
{
    QStringList out;
    QString current;
    bool inBody = false;
    for (const QString &line : script.split(u'\n')) {
        const QString t = line.trimmed();
        if ((t.startsWith(u"--"_s) && !inBody) || t.isEmpty())
            continue;
        current += line + u'\n';
        if (line.count(u"$$"_s) % 2 == 1)
            inBody = !inBody;
        if (t.endsWith(u';') && !inBody) {
            current = current.trimmed();
            current.chop(1);
            out << current;
            current.clear();
        }
    }
    if (!current.trimmed().isEmpty())
        out << current.trimmed();
    return out;
}

QString readResource(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll());
}

bool isPg(const QSqlDatabase &db)
{
    return detail::isPostgres(db);
}
} // namespace

int Database::latestSchemaVersion()
{
    const auto all = migrations(false);
    return all.isEmpty() ? 0 : all.last().version;
}

int Database::schemaVersion(QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (!q.exec(u"SELECT MAX(version) FROM schema_migrations"_s) || !q.next())
        return 0;
    return q.value(0).toInt();
}

DbError Database::execScript(QSqlDatabase &db, const QString &script)
{
    QSqlQuery q(db);
    for (const QString &stmt : splitStatements(translate(db, script))) {
        if (!q.exec(stmt)) {
            DbError e = DbError::from(q.lastError());
            e.message = e.message + u" — in: "_s + stmt.left(160);
            return e;
        }
    }
    return {};
}

DbError Database::migrate(QSqlDatabase &db, int maxVersion)
{
    QSqlQuery q(db);
    // Up to date: nothing to do, and nothing that needs more than reading (staff and a minimal server role
    // may not create tables).
    if (maxVersion < 0 && schemaVersion(db) >= latestSchemaVersion())
        return {};
    if (!q.exec(
            u"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"_s))
        return DbError::from(q.lastError());
    // Several servers may start together on one PostgreSQL database: serialise migrations.
    if (isPg(db))
        q.exec(u"SELECT pg_advisory_lock(7261001)"_s);
    DbError result;
    for (const Migration &m : migrations(isPg(db))) {
        if (maxVersion >= 0 && m.version > maxVersion)
            break;
        if (!q.exec(isPg(db) ? u"BEGIN"_s : u"BEGIN IMMEDIATE"_s)) {
            result = DbError::from(q.lastError());
            break;
        }
        q.prepare(u"SELECT COUNT(*) FROM schema_migrations WHERE version = ?"_s);
        q.addBindValue(m.version);
        if (!q.exec() || !q.next()) {
            result = DbError::from(q.lastError());
            q.exec(u"ROLLBACK"_s);
            break;
        }
        if (q.value(0).toInt() > 0) {
            q.exec(u"COMMIT"_s);
            continue;
        }
        const QString script = readResource(m.path);
        DbError e = script.isEmpty() ? DbError{DbError::Kind::Internal, u"missing migration "_s + m.path}
                                     : execScript(db, script);
        if (!e) {
            q.prepare(u"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"_s);
            q.addBindValue(m.version);
            q.addBindValue(m.name);
            q.addBindValue(toDbTime(QDateTime::currentDateTimeUtc()));
            if (!q.exec())
                e = DbError::from(q.lastError());
        }
        if (e) {
            q.exec(u"ROLLBACK"_s);
            e.message = u"migration %1 (%2) failed: %3"_s.arg(m.version).arg(m.name, e.message);
            result = e;
            break;
        }
        if (!q.exec(u"COMMIT"_s)) {
            result = DbError::from(q.lastError());
            break;
        }
        qCInfo(lcDb) << "applied migration" << m.version << m.name;
    }
    if (isPg(db))
        q.exec(u"SELECT pg_advisory_unlock(7261001)"_s);
    return result;
}

bool Database::isEmpty(QSqlDatabase &db)
{
    QSqlQuery q(db);
    return q.exec(u"SELECT (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM orders)"_s) && q.next() &&
           q.value(0).toLongLong() == 0;
}

DbError Database::ensureDefaultPrompt(QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (!q.exec(u"SELECT COUNT(*) FROM agent_prompts"_s) || !q.next())
        return DbError::from(q.lastError());
    if (q.value(0).toLongLong() > 0)
        return {};
    AgentPrompt p;
    p.instructions = readResource(u":/vaani/prompts/default_instructions.txt"_s).trimmed();
    p.greeting = readResource(u":/vaani/prompts/default_greeting.txt"_s).trimmed();
    q.prepare(u"INSERT INTO agent_prompts (name, version, instructions, greeting, voice, vad_threshold, "
              "vad_prefix_padding_ms, vad_silence_duration_ms, active, author, created_at, note) "
              "VALUES (?, 1, ?, ?, ?, ?, ?, ?, 1, 'vaani', ?, 'Default Hinglish support persona')"_s);
    q.addBindValue(p.name);
    q.addBindValue(p.instructions);
    q.addBindValue(p.greeting);
    q.addBindValue(p.voice);
    q.addBindValue(p.vadThreshold);
    q.addBindValue(p.vadPrefixPaddingMs);
    q.addBindValue(p.vadSilenceDurationMs);
    q.addBindValue(toDbTime(QDateTime::currentDateTimeUtc()));
    if (!q.exec())
        return DbError::from(q.lastError());
    return {};
}

DbError Database::seedDemo(QSqlDatabase &db)
{
    QString script = readResource(u":/vaani/demo/demo.sql"_s);
    if (script.isEmpty())
        return {DbError::Kind::Internal, u"demo data resource missing"_s};
    // Dates relative to the load day: {{DAY-n}} / {{DAY+n}} is that day at 10:30 IST (05:00 UTC),
    // {{DAY-n@HH:MM:SS.mmm}} that day at the given UTC time, {{DATE-n}} its date alone (as in tool results).
    static const QRegularExpression day(
        u"\\{\\{(DAY|DATE)([+-]\\d+)(?:@(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d\\d\\d))?\\}\\}"_s);
    const QDate today = QDateTime::currentDateTimeUtc().date();
    QString out;
    qsizetype last = 0;
    for (auto it = day.globalMatch(script); it.hasNext();) {
        const auto m = it.next();
        out += QStringView(script).mid(last, m.capturedStart() - last);
        const QDate date = today.addDays(m.captured(2).toInt());
        if (m.captured(1) == u"DATE"_s) {
            out += date.toString(Qt::ISODate);
        } else {
            const QTime time = m.hasCaptured(3) ? QTime(m.captured(3).toInt(), m.captured(4).toInt(),
                                                        m.captured(5).toInt(), m.captured(6).toInt())
                                                : QTime(5, 0);
            out += toDbTime(QDateTime(date, time, Qt::UTC));
        }
        last = m.capturedEnd();
    }
    out += QStringView(script).mid(last);
    out.replace(u");\n"_s, u") ON CONFLICT DO NOTHING;\n"_s);

    // The demo calls name the active prompt, which must exist first.
    if (auto e = ensureDefaultPrompt(db))
        return e;
    QSqlQuery q(db);
    if (!db.transaction())
        return DbError::from(db.lastError());
    // Loading demo data is not a staff action: the audit rows its ticket notes write go again.
    qint64 auditBefore = 0;
    if (q.exec(u"SELECT COALESCE(MAX(id), 0) FROM audit_log"_s) && q.next())
        auditBefore = q.value(0).toLongLong();
    DbError e = execScript(db, out);
    if (!e) {
        q.prepare(u"DELETE FROM audit_log WHERE id > ?"_s);
        q.addBindValue(auditBefore);
        if (!q.exec())
            e = DbError::from(q.lastError());
    }
    if (!e)
        e = fillDerivedPhoneColumns(db, DataCipher::clearMode());
    if (!e && isPg(db)) {
        // Explicit ids do not advance PostgreSQL sequences.
        for (const char *t : {"customers", "orders", "tickets", "ticket_events", "calls",
                              "transcript_entries", "tool_invocations", "call_turns"}) {
            const QString table = QString::fromLatin1(t);
            if (!q.exec(
                    u"SELECT setval(pg_get_serial_sequence('%1', 'id'), COALESCE((SELECT MAX(id) FROM %1), 1))"_s
                        .arg(table))) {
                e = DbError::from(q.lastError());
                break;
            }
        }
    }
    if (e) {
        db.rollback();
        return e;
    }
    if (!db.commit())
        return DbError::from(db.lastError());
    return {};
}

DbError Database::fillDerivedPhoneColumns(QSqlDatabase &db, const DataCipher &cipher)
{
    QSqlQuery q(db);
    if (!q.exec(u"SELECT id, phone FROM customers WHERE phone_masked IS NULL OR phone_hash IS NULL"_s))
        return DbError::from(q.lastError());
    QList<std::pair<qint64, QString>> rows;
    while (q.next()) {
        // A number sealed with a key that is not loaded cannot be hashed now; --reencrypt will.
        if (const auto phone = cipher.open(q.value(1).toString(), "customers.phone"))
            rows.append({q.value(0).toLongLong(), *phone});
    }
    QSqlQuery u(db);
    u.prepare(u"UPDATE customers SET phone_masked = ?, phone_hash = ? WHERE id = ?"_s);
    for (const auto &[id, phone] : rows) {
        u.addBindValue(Redactor::maskPhone(phone));
        u.addBindValue(cipher.phoneHash(CustomerRepository::normalizePhone(phone)));
        u.addBindValue(id);
        if (!u.exec())
            return DbError::from(u.lastError());
    }
    if (!q.exec(u"UPDATE calls SET caller_hash = (SELECT phone_hash FROM customers c WHERE c.id = "
                "calls.customer_id) WHERE caller_hash IS NULL AND customer_id IS NOT NULL"_s))
        return DbError::from(q.lastError());
    return {};
}

DbError Database::compact(QSqlDatabase &db)
{
    if (isPg(db))
        return {};
    QSqlQuery q(db);
    if (!q.exec(u"VACUUM"_s))
        return DbError::from(q.lastError());
    return {};
}

bool StaffAccess::atLeast(Role r) const
{
    // The server's account and an account without a Vaani role rank below every staff role.
    auto rank = [](Role x) {
        switch (x) {
        case Role::Owner:
            return 4;
        case Role::Admin:
            return 3;
        case Role::Supervisor:
            return 2;
        case Role::Agent:
            return 1;
        case Role::Server:
            return 0;
        case Role::None:
            return -1;
        }
        return -1;
    };
    return rank(role) >= rank(r);
}

QString StaffAccess::roleName() const
{
    switch (role) {
    case Role::Owner:
        return u"owner"_s;
    case Role::Admin:
        return u"admin"_s;
    case Role::Supervisor:
        return u"supervisor"_s;
    case Role::Agent:
        return u"agent"_s;
    case Role::Server:
        return u"server"_s;
    case Role::None:
        return u"none"_s;
    }
    return u"none"_s;
}

StaffAccess Database::staffAccess(QSqlDatabase &db)
{
    StaffAccess a;
    if (!isPg(db)) {
        a.user = qEnvironmentVariable("USER", u"local"_s);
        return a;
    }
    a.postgres = true;
    QSqlQuery q(db);
    // Owner: a superuser or a member of the role owning the tables.
    if (q.exec(
            u"SELECT session_user, r.rolsuper OR COALESCE((SELECT pg_has_role(session_user, c.relowner, "
            "'MEMBER') FROM pg_class c WHERE c.relname = 'calls' AND c.relkind = 'r' AND "
            "c.relnamespace = 'public'::regnamespace), false) FROM pg_roles r WHERE r.rolname = session_user"_s) &&
        q.next()) {
        a.user = q.value(0).toString();
        if (q.value(1).toBool()) {
            a.role = StaffAccess::Role::Owner;
        } else {
            a.role = StaffAccess::Role::None;
        }
    }
    if (!q.exec(
            u"SELECT g.rolname, pg_has_role(session_user, g.oid, 'MEMBER') FROM pg_roles g WHERE g.rolname "
            "IN ('vaani_agent', 'vaani_supervisor', 'vaani_admin', 'vaani_server')"_s))
        return a;
    QSet<QString> member;
    int found = 0;
    while (q.next()) {
        ++found;
        if (q.value(1).toBool())
            member.insert(q.value(0).toString());
    }
    a.rolesInstalled = found == 4;
    if (a.role == StaffAccess::Role::Owner)
        return a;
    if (member.contains(u"vaani_admin"_s))
        a.role = StaffAccess::Role::Admin;
    else if (member.contains(u"vaani_supervisor"_s))
        a.role = StaffAccess::Role::Supervisor;
    else if (member.contains(u"vaani_agent"_s))
        a.role = StaffAccess::Role::Agent;
    else if (member.contains(u"vaani_server"_s))
        a.role = StaffAccess::Role::Server;
    else if (!a.rolesInstalled)
        a.role = StaffAccess::Role::Owner; // no role system yet: whatever the grants allow
    return a;
}

DbError Database::setupStaffRoles(QSqlDatabase &db, bool *applied)
{
    if (applied)
        *applied = false;
    if (!isPg(db))
        return {};
    QSqlQuery q(db);
    if (!q.exec(u"SELECT (r.rolsuper OR r.rolcreaterole) AND pg_has_role(current_user, c.relowner, 'MEMBER') "
                "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.relname = 'calls' AND "
                "c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"_s))
        return DbError::from(q.lastError());
    if (!q.next() || !q.value(0).toBool())
        return {};
    const QString script = readResource(u":/vaani/postgres/staff_roles.sql"_s);
    if (script.isEmpty())
        return {DbError::Kind::Internal, u"staff roles resource missing"_s};
    q.exec(u"SELECT pg_advisory_lock(7261001)"_s);
    DbError e;
    if (!q.exec(u"BEGIN"_s)) {
        e = DbError::from(q.lastError());
    } else {
        e = execScript(db, script);
        q.exec(e ? u"ROLLBACK"_s : u"COMMIT"_s);
    }
    q.exec(u"SELECT pg_advisory_unlock(7261001)"_s);
    if (e) {
        e.message = u"staff roles: "_s + e.message;
        return e;
    }
    if (applied)
        *applied = true;
    return {};
}

bool Database::ping(QSqlDatabase &db)
{
    QSqlQuery q(db);
    return db.isOpen() && q.exec(u"SELECT 1"_s) && q.next();
}

} // namespace vaani::db
