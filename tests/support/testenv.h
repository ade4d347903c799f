#pragma once
// Test helpers: a per-test temporary directory and the database configurations a suite runs against
// (SQLite file always; PostgreSQL from the cluster the CTest fixture started).

#include "db/database.h"

#include <QList>
#include <QProcessEnvironment>
#include <QString>

namespace vaani::test {

QString tempDir(const QString &suite);
// A loopback port free right now (for programs that must be told their port before they start).
quint16 freePort();
// Fails the current test (QFAIL) if PostgreSQL was expected but is not available.
bool postgresUrl(QString *url, QString *why);
// An environment with nothing of this machine's configuration in it (so a program started by a test reads
// only what the test gives it), except the sanitizers' options of the ASan build.
QProcessEnvironment cleanEnvironment();
// A fresh SQLite file, or a fresh PostgreSQL schema-less database (all tables dropped).
db::DatabaseConfig freshDatabase(const QString &engine, const QString &suite, QString *error);

} // namespace vaani::test
