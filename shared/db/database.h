#pragma once
// Opening a connection (SQLite file or PostgreSQL from DATABASE_URL), running the versioned migrations in
// resources/migrations, and loading the demo data. QtSql connections belong to the thread that opened
// them: call these from the thread that will use the connection, and close it there.

#include "dberror.h"

#include <QSqlDatabase>
#include <QString>
#include <QStringList>

#include <memory>

namespace vaani::db {

struct DatabaseConfig
{
    enum class Engine { Sqlite, Postgres };
    Engine engine = Engine::Sqlite;
    QString sqlitePath;
    QString host;
    int port = 5432;
    QString user;
    QString password;
    QString name;
    QStringList options; // libpq connection parameters from the URL's query ("sslmode=verify-full", …)
    int statementTimeoutMs = 30000; // PostgreSQL: ?statement_timeout=<ms> (0 = none)
    // The data key(s) from VAANI_DATA_KEY_FILE (null: personal data stored in clear). Not part of the URL.
    std::shared_ptr<const class DataCipher> cipher;

    // url: "" (vaani.db in dataDir), "sqlite:///abs/path.db", "sqlite:relative.db",
    // "postgresql://user:pass@host:port/db?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem" (also
    // "postgres://"). Query parameters: sslmode, sslrootcert, sslcert, sslkey, sslcrl, connect_timeout
    // (default 5), application_name, target_session_attrs, keepalives, keepalives_idle, statement_timeout
    // (milliseconds, default 30000, set on each session); anything else is an error.
    static DatabaseConfig fromUrl(const QString &url, const QString &dataDir, QString *error);
    // fromUrl() plus the data key(s) from dataKeyFile (empty: clear mode).
    static DatabaseConfig load(const QString &url, const QString &dataDir, const QString &dataKeyFile,
                               QString *error);
    QString describe() const; // for logs: never contains the password
    bool isPostgres() const { return engine == Engine::Postgres; }
};

// Who is connected and what their Vaani staff role lets them do. On SQLite (one machine) the file's owner is
// the owner of everything; on PostgreSQL the role comes from membership of vaani_agent / vaani_supervisor /
// vaani_admin (resources/postgres/staff_roles.sql), and the database enforces it — these flags only tell the
// admin app what to hide and why.
struct StaffAccess
{
    enum class Role { Owner, Admin, Supervisor, Agent, Server, None };
    Role role = Role::Owner;
    QString user;
    bool postgres = false;
    bool rolesInstalled = false; // PostgreSQL: the vaani_* roles exist

    bool atLeast(Role r) const;
    bool fullNumbers() const { return atLeast(Role::Supervisor); }
    bool transcripts() const { return atLeast(Role::Supervisor); }
    bool editCustomers() const { return atLeast(Role::Supervisor); }
    bool changeOrders() const { return atLeast(Role::Supervisor); }
    bool prompts() const { return atLeast(Role::Supervisor); } // read and save drafts
    bool activatePrompts() const { return atLeast(Role::Admin); }
    bool exports() const { return atLeast(Role::Admin); }
    bool auditLog() const { return atLeast(Role::Admin); }
    bool staffAccounts() const { return postgres && rolesInstalled && atLeast(Role::Admin); }
    bool tickets() const { return atLeast(Role::Agent); }
    QString roleName() const; // "owner", "admin", "supervisor", "agent", "server", "none"
};

class Database
{
public:
    static QSqlDatabase open(const DatabaseConfig &config, const QString &connectionName, DbError *error);
    static void close(const QString &connectionName);

    static int latestSchemaVersion();
    static int schemaVersion(QSqlDatabase &db);
    // Applies every migration above the current version, up to maxVersion (-1 = all), each in a transaction.
    static DbError migrate(QSqlDatabase &db, int maxVersion = -1);
    // Runs a script of ';'-terminated statements with the engine placeholders replaced.
    static DbError execScript(QSqlDatabase &db, const QString &script);
    static QString translate(const QSqlDatabase &db, QString sql);

    static bool isEmpty(QSqlDatabase &db);
    // Loads the default agent prompt (if there is no prompt yet) and the demo data: customers, orders,
    // tickets and about 30 days of call history (transcripts, tool calls, turn latencies), dated relative to
    // today. Skips rows whose keys already exist, so loading twice changes nothing.
    static DbError seedDemo(QSqlDatabase &db);
    static DbError ensureDefaultPrompt(QSqlDatabase &db);
    static bool ping(QSqlDatabase &db);

    // PostgreSQL: creates or refreshes the staff roles and their grants (resources/postgres/staff_roles.sql)
    // when the connected user owns the tables and may create roles; *applied says whether it did. Several
    // servers starting together take turns (advisory lock). SQLite: nothing to do.
    static DbError setupStaffRoles(QSqlDatabase &db, bool *applied = nullptr);
    static StaffAccess staffAccess(QSqlDatabase &db);
    // SQLite: rebuilds the file (VACUUM) so no page keeps an old copy of a row that was rewritten or deleted
    // (secure_delete zeroes freed cells, but moving rows between pages can leave stale bytes). Takes the
    // database for a moment; used after sealing and erasure. PostgreSQL: nothing (its dumps show live rows).
    static DbError compact(QSqlDatabase &db);
    // Fills what is derived from a customer's number where it is missing (rows loaded by SQL, e.g. the demo
    // data, or from before a column existed): the masked copy and the keyed hash, and the hash of calls
    // linked to the customer.
    static DbError fillDerivedPhoneColumns(QSqlDatabase &db, const DataCipher &cipher);
};

} // namespace vaani::db
