#include "testenv.h"
#include <QTcpServer>

#include <QDir>
#include <QFile>
#include <QSqlQuery>
#include <QTcpServer>
#include <QUuid>

using namespace Qt::StringLiterals;

namespace vaani::test {

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

QString tempDir(const QString &suite)
{
    QString base = qEnvironmentVariable("VAANI_TEST_TMP");
    if (base.isEmpty())
        base = QDir::tempPath() + u"/vaani-tests"_s;
    const QString dir = base + u'/' + suite + u'-' + QUuid::createUuid().toString(QUuid::Id128).left(12);
    QDir().mkpath(dir);
    return dir;
}

bool postgresUrl(QString *url, QString *why)
{
    const QString file = qEnvironmentVariable("VAANI_TEST_PG_URL_FILE");
    if (!qEnvironmentVariableIsEmpty("VAANI_TEST_PG_URL")) {
        *url = qEnvironmentVariable("VAANI_TEST_PG_URL");
        return true;
    }
    QFile f(file);
    if (file.isEmpty() || !f.open(QIODevice::ReadOnly)) {
        *why = u"PostgreSQL test cluster not running (no %1); run the suite through ctest"_s.arg(file);
        return false;
    }
    *url = QString::fromUtf8(f.readAll()).trimmed();
    return !url->isEmpty();
}

QProcessEnvironment cleanEnvironment()
{
    QProcessEnvironment env;
    const QProcessEnvironment here = QProcessEnvironment::systemEnvironment();
    for (const QString &key : {u"ASAN_OPTIONS"_s, u"UBSAN_OPTIONS"_s, u"LSAN_OPTIONS"_s}) {
        if (here.contains(key))
            env.insert(key, here.value(key));
    }
    return env;
}

db::DatabaseConfig freshDatabase(const QString &engine, const QString &suite, QString *error)
{
    error->clear();
    if (engine == u"sqlite"_s)
        return db::DatabaseConfig::fromUrl(u"sqlite://"_s + tempDir(suite) + u"/vaani.db"_s, {}, error);
    QString url;
    if (!postgresUrl(&url, error))
        return {};
    // One database per test case run: create it through the admin connection.
    db::DatabaseConfig admin = db::DatabaseConfig::fromUrl(url, {}, error);
    if (!error->isEmpty())
        return {};
    const QString name = (suite + u'_' + QUuid::createUuid().toString(QUuid::Id128).left(10)).toLower();
    {
        db::DbError e;
        QSqlDatabase conn = db::Database::open(admin, u"pg-admin"_s, &e);
        if (e) {
            *error = e.message;
        } else {
            QSqlQuery q(conn);
            if (!q.exec(u"CREATE DATABASE \"%1\" OWNER \"%2\""_s.arg(name, admin.user)))
                *error = q.lastError().text();
        }
    }
    db::Database::close(u"pg-admin"_s);
    admin.name = name;
    return admin;
}

} // namespace vaani::test
