#pragma once
// Opening a connection (SQLite file or PostgreSQL from DATABASE_URL), running the versioned migrations in
// resources/migrations, and loading the demo data. QtSql connections belong to the thread that opened
// them: call these from the thread that will use the connection, and close it there.

#include "dberror.h"

#include <QSqlDatabase>
#include <QString>
#include <QStringList>

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

    // url: "" (vaani.db in dataDir), "sqlite:///abs/path.db", "sqlite:relative.db",
    // "postgresql://user:pass@host:port/db?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem" (also
    // "postgres://"). Query parameters: sslmode, sslrootcert, sslcert, sslkey, sslcrl, connect_timeout
    // (default 5), application_name, target_session_attrs, keepalives, keepalives_idle; anything else is an
    // error.
    static DatabaseConfig fromUrl(const QString &url, const QString &dataDir, QString *error);
    QString describe() const; // for logs: never contains the password
    bool isPostgres() const { return engine == Engine::Postgres; }
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
};

} // namespace vaani::db
