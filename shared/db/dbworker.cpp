#include "dbworker.h"

#include "logging.h"

#include <QFile>
#include <QUuid>

#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani::db {

DbWorker::DbWorker(DatabaseConfig config)
    : m_config(std::move(config))
    , m_cipher(m_config.cipher)
    , m_connectionName(u"vaani-dbworker-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
{
    m_thread.setObjectName(u"vaani-db"_s);
    m_context = new QObject; // deleted on its own thread when the thread finishes
    m_context->moveToThread(&m_thread);
    QObject::connect(&m_thread, &QThread::finished, m_context, &QObject::deleteLater);
    m_thread.start();
}

DbWorker::~DbWorker()
{
    // Jobs already queued still run (their futures complete); then the connection closes on its thread.
    post([this] {
        resetSession();
        QThread::currentThread()->quit();
    });
    m_thread.wait();
}

void DbWorker::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_context, std::move(job), Qt::QueuedConnection);
}

Repositories *DbWorker::session(DbError *error)
{
    if (m_config.engine == DatabaseConfig::Engine::Sqlite && m_sqliteKnown) {
        struct stat st;
        const bool same = ::stat(QFile::encodeName(m_config.sqlitePath).constData(), &st) == 0 &&
                          quint64(st.st_dev) == m_sqliteDev && quint64(st.st_ino) == m_sqliteIno;
        if (!same) {
            if (!m_sqliteGone)
                qCCritical(lcDb).noquote()
                    << u"the SQLite database file %1 was deleted or replaced while the server ran: the "
                       u"database "
                       "is unreachable for this process (call records wait in the journal); move the file "
                       "back, "
                       "or restart the server to use whatever file is there then"_s.arg(m_config.sqlitePath);
            m_sqliteGone = true;
            resetSession();
            *error = {DbError::Kind::Unreachable,
                      u"SQLite database file %1 was deleted or replaced"_s.arg(m_config.sqlitePath)};
            return nullptr;
        }
        if (m_sqliteGone)
            qCInfo(lcDb) << "the SQLite database file is back";
        m_sqliteGone = false;
        guardSharedMemory();
    }
    if (m_session && m_session->db.isOpen())
        return m_session.get();
    resetSession();
    DbError e;
    QSqlDatabase db = Database::open(m_config, m_connectionName, &e);
    if (e) {
        qCWarning(lcDb) << "database unavailable:" << e.message;
        *error = e;
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_connectionName);
        return nullptr;
    }
    if (m_config.engine == DatabaseConfig::Engine::Sqlite && !m_sqliteKnown) {
        struct stat st;
        if (::stat(QFile::encodeName(m_config.sqlitePath).constData(), &st) == 0) {
            m_sqliteKnown = true;
            m_sqliteDev = quint64(st.st_dev);
            m_sqliteIno = quint64(st.st_ino);
        }
    }
    m_session = std::make_unique<Repositories>(db);
    m_session->setAccess(Database::staffAccess(db));
    m_session->setCipher(m_cipher);
    return m_session.get();
}

void DbWorker::guardSharedMemory()
{
    // SQLite maps its WAL index (the -shm file) into memory: if someone cuts the file short, the next
    // statement touches pages past its end and the process dies of SIGBUS. Before each job: a file that
    // shrank is given its size back (zeros: SQLite sees an invalid index and rebuilds it from the WAL), and
    // the connection is reopened; a file that was replaced or deleted also gets a fresh connection, so this
    // process and the other users of the database (vaani-admin) share one index again.
    if (!m_session)
        return;
    const QByteArray shm = QFile::encodeName(m_config.sqlitePath + u"-shm"_s);
    struct stat st;
    const bool exists = ::stat(shm.constData(), &st) == 0;
    if (exists && m_shmKnown && quint64(st.st_ino) == m_shmIno && qint64(st.st_size) >= m_shmSize) {
        m_shmSize = qint64(st.st_size);
        return;
    }
    if (!m_shmKnown) {
        if (exists) {
            m_shmKnown = true;
            m_shmIno = quint64(st.st_ino);
            m_shmSize = qint64(st.st_size);
        }
        return;
    }
    if (exists && quint64(st.st_ino) == m_shmIno) {
        qCCritical(lcDb).noquote()
            << u"SQLite's shared-memory file %1 was cut from %2 to %3 bytes by another "
               "process; restoring its size and reopening the database"_s.arg(QFile::decodeName(shm))
                   .arg(m_shmSize)
                   .arg(qint64(st.st_size));
        if (::truncate(shm.constData(), off_t(m_shmSize)) != 0)
            qCCritical(lcDb) << "could not restore the shared-memory file's size:" << qt_error_string(errno);
    } else {
        qCCritical(lcDb).noquote() << u"SQLite's shared-memory file %1 was deleted or replaced by another "
                                      "process; reopening the database"_s.arg(QFile::decodeName(shm));
    }
    resetSession();
}

void DbWorker::resetSession()
{
    m_shmKnown = false;
    m_shmSize = 0;
    if (!m_session && !QSqlDatabase::contains(m_connectionName))
        return;
    m_session.reset();
    Database::close(m_connectionName);
}

QFuture<DbResult<int>> DbWorker::initialise(bool seedIfEmpty, bool forceDemo)
{
    return submit([this, seedIfEmpty, forceDemo](Repositories &r) -> DbResult<int> {
        if (auto e = Database::migrate(r.db))
            return e;
        bool rolesApplied = false;
        if (auto e = Database::setupStaffRoles(r.db, &rolesApplied))
            qCWarning(lcDb) << "could not set up the staff roles:" << e.message;
        r.setAccess(Database::staffAccess(r.db));
        if (r.access.postgres && !r.access.rolesInstalled)
            qCWarning(lcDb).noquote()
                << "the PostgreSQL staff roles (vaani_agent, vaani_supervisor, vaani_admin, vaani_server) "
                   "are not "
                   "set up, so every database user with access to the tables sees and changes everything; "
                   "connect once as the tables' owner with the CREATEROLE attribute (see docs/security.md)";
        else if (rolesApplied)
            qCInfo(lcDb) << "staff roles and grants are up to date";

        // Staff accounts use the data; loading demo data and the first prompt is the owner's (or server's)
        // job.
        if (r.access.role != StaffAccess::Role::Owner && r.access.role != StaffAccess::Role::Server)
            return Database::schemaVersion(r.db);
        const bool empty = Database::isEmpty(r.db);
        if (forceDemo || (seedIfEmpty && empty)) {
            if (auto e = Database::seedDemo(r.db))
                return e;
            qCInfo(lcDb) << (forceDemo ? "demo data loaded (SEED_DEMO)"
                                       : "demo data loaded into the empty database");
        } else if (empty) {
            qCInfo(lcDb)
                << "the database is empty; no demo data loaded into a database named by DATABASE_URL "
                   "(--seed-demo loads it)";
        }
        if (auto e = Database::ensureDefaultPrompt(r.db))
            return e;
        const DataCipher &cipher = m_cipher ? *m_cipher : DataCipher::clearMode();
        if (auto e = Database::fillDerivedPhoneColumns(r.db, cipher))
            return e;
        if (cipher.enabled()) {
            // Demo data arrives in clear: seal it at once. Otherwise say what still waits for --reencrypt.
            if (forceDemo || (seedIfEmpty && empty)) {
                if (auto sealed = r.privacy.reencrypt(); !sealed.ok())
                    return sealed.error;
                if (auto e = Database::compact(r.db))
                    return e;
            } else if (auto left = r.privacy.valuesNotUnderCurrentKey(); left.ok() && left.value > 0) {
                qCWarning(lcDb).noquote()
                    << "the database holds personal data that is not sealed with the current data key ("
                    << cipher.currentKeyId()
                    << "); run vaani-server --reencrypt (it works while the server runs)";
            }
        }
        return Database::schemaVersion(r.db);
    });
}

void DbWorker::setCipher(std::shared_ptr<const DataCipher> cipher)
{
    post([this, cipher = std::move(cipher)] {
        m_cipher = cipher;
        if (m_session)
            m_session->setCipher(cipher);
    });
}

QFuture<DbResult<StaffAccess>> DbWorker::access()
{
    return submit([](Repositories &r) -> DbResult<StaffAccess> { return r.access; });
}

QFuture<DbResult<bool>> DbWorker::ping()
{
    return submit([](Repositories &r) -> DbResult<bool> {
        if (!Database::ping(r.db))
            return DbError::make(DbError::Kind::Unreachable, u"database did not answer"_s);
        return true;
    });
}

} // namespace vaani::db
