#pragma once
// DbWorker: one thread that owns one database connection (QtSql connections belong to their thread).
// Any thread submits work as a function of Repositories&; the result comes back as a QFuture, usually
// consumed with future.then(contextObject, …) so the caller's event loop never waits. A connection that
// fails (server gone) is dropped and reopened on the next job. Jobs run in submission order.

#include "database.h"
#include "repositories.h"

#include <QFuture>
#include <QPromise>
#include <QThread>

#include <memory>
#include <type_traits>

namespace vaani::db {

class DbWorker
{
public:
    explicit DbWorker(DatabaseConfig config);
    ~DbWorker(); // runs the queued jobs, closes the connection on its own thread, joins it
    DbWorker(const DbWorker &) = delete;
    DbWorker &operator=(const DbWorker &) = delete;

    const DatabaseConfig &config() const { return m_config; }

    // fn: DbResult<T>(Repositories&), run on the database thread. Thread-safe.
    template<typename F> auto submit(F fn) -> QFuture<std::invoke_result_t<F, Repositories &>>
    {
        using R = std::invoke_result_t<F, Repositories &>;
        auto promise = std::make_shared<QPromise<R>>();
        QFuture<R> future = promise->future();
        promise->start();
        post([this, promise, fn = std::move(fn)]() mutable {
            DbError openError;
            Repositories *repos = session(&openError);
            R r = repos ? fn(*repos) : R(openError);
            if (!r.ok() && r.error.kind == DbError::Kind::Unreachable)
                resetSession();
            promise->addResult(std::move(r));
            promise->finish();
        });
        return future;
    }

    // A job that must run even when the database cannot be opened: `job(repos, openError)` on the database
    // thread, repos null when the connection could not be made (openError says why). A returned error of kind
    // Unreachable drops the connection (reopened by the next job). Thread-safe; in order with submit().
    void execute(std::function<DbError(Repositories *repos, const DbError &openError)> job)
    {
        post([this, job = std::move(job)] {
            DbError openError;
            Repositories *repos = session(&openError);
            if (job(repos, openError).kind == DbError::Kind::Unreachable && repos)
                resetSession();
        });
    }

    // Open, migrate, and load demo data into an empty database (or always, with forceDemo).
    QFuture<DbResult<int>> initialise(bool seedIfEmpty, bool forceDemo);
    QFuture<DbResult<bool>> ping();
    // Who the connection is and what its staff role allows.
    QFuture<DbResult<StaffAccess>> access();
    // A new set of data keys (SIGHUP after a key was added): jobs queued after this call use it.
    void setCipher(std::shared_ptr<const DataCipher> cipher);

private:
    void post(std::function<void()> job);
    Repositories *session(DbError *error); // database thread only
    void resetSession();                   // database thread only

    DatabaseConfig m_config;
    std::shared_ptr<const DataCipher> m_cipher; // database thread after construction
    QString m_connectionName;
    QThread m_thread;
    QObject *m_context = nullptr; // lives on m_thread; queued jobs are delivered to it
    std::unique_ptr<Repositories> m_session;
    // SQLite: the file the connection opened. Deleted or replaced while the server runs, the database is
    // treated as unreachable (writes wait in the journal) instead of writing into a file no one will see
    // again.
    bool m_sqliteKnown = false;
    quint64 m_sqliteDev = 0, m_sqliteIno = 0;
    bool m_sqliteGone = false;
    // The SQLite -shm file as this connection mapped it (see guardSharedMemory)
    void guardSharedMemory();
    bool m_shmKnown = false;
    quint64 m_shmIno = 0;
    qint64 m_shmSize = 0;
};

} // namespace vaani::db
