// vaani-server's one-shot commands (--erase-caller, --reencrypt, --migrate): open the configured database,
// do one thing, say what was done, exit. Declared in server.h.
#include "server.h"

#include "db/dbworker.h"
#include "logging.h"

#include <cstdio>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
// The one-shot commands (--erase-caller, --reencrypt, --migrate): the configured database, migrated, or null
// after saying why on stderr. `check` may refuse the configuration first (an error message, or empty).
std::unique_ptr<db::DbWorker>
openForCommand(const ServerOptions &options, bool seedDemo, int *schemaVersion,
               const std::function<QString(const db::DatabaseConfig &)> &check = {})
{
    QString error;
    const db::DatabaseConfig config =
        db::DatabaseConfig::load(options.databaseUrl, options.dataDir, options.dataKeyFile, &error);
    if (error.isEmpty() && check)
        error = check(config);
    if (!error.isEmpty()) {
        std::fprintf(stderr, "vaani-server: %s\n", qPrintable(error));
        return nullptr;
    }
    auto worker = std::make_unique<db::DbWorker>(config);
    const auto init = worker->initialise(false, seedDemo).result();
    if (!init.ok()) {
        std::fprintf(stderr, "vaani-server: %s\n", qPrintable(init.error.message));
        return nullptr;
    }
    if (schemaVersion)
        *schemaVersion = init.value;
    return worker;
}
} // namespace

int eraseCaller(const ServerOptions &options, const QString &number)
{
    const auto worker = openForCommand(options, false, nullptr);
    if (!worker)
        return 1;
    const auto r = (*worker)
                       .submit([number](db::Repositories &repos) -> db::DbResult<db::ErasureReport> {
                           auto report = repos.privacy.eraseCaller(number, u"vaani-server --erase-caller"_s);
                           if (report.ok() && report.value.found) {
                               if (auto e = db::Database::compact(repos.db))
                                   return db::DbResult<db::ErasureReport>(e);
                           }
                           return report;
                       })
                       .result();
    const QString masked = Redactor::maskPhone(db::CustomerRepository::normalizePhone(number));
    if (!r.ok()) {
        std::fprintf(stderr, "vaani-server: erasing %s failed: %s\n", qPrintable(masked),
                     qPrintable(r.error.message));
        return 1;
    }
    if (!r.value.found) {
        std::printf("No customer and no call with the number %s; nothing erased.\n", qPrintable(masked));
        return 3;
    }
    std::printf(
        "Erased the personal data of %s: %sthe conversations of %d call(s) (%d transcript lines, %d tool "
        "calls) and the summaries of %d ticket(s). %sThe audit log has a row.\n",
        qPrintable(masked),
        r.value.customer ? "the customer record (name, number, e-mail, city), " : "no customer record; ",
        r.value.calls, r.value.transcriptLines, r.value.toolCalls, r.value.tickets,
        r.value.customer ? "Orders stay with the anonymised record. " : "");
    return 0;
}

int reencrypt(const ServerOptions &options)
{
    const auto worker = openForCommand(options, false, nullptr, [](const db::DatabaseConfig &config) {
        return config.cipher && config.cipher->enabled()
                   ? QString()
                   : u"--reencrypt needs VAANI_DATA_KEY_FILE (the key to seal with is its first line)"_s;
    });
    if (!worker)
        return 1;
    const db::DatabaseConfig &config = worker->config();
    const auto r = (*worker)
                       .submit([](db::Repositories &repos) -> db::DbResult<db::ReencryptReport> {
                           auto report = repos.privacy.reencrypt();
                           if (report.ok() && (report.value.values > 0 || report.value.hashes > 0)) {
                               if (auto e = db::Database::compact(repos.db))
                                   return e;
                           }
                           return report;
                       })
                       .result();
    if (!r.ok()) {
        std::fprintf(stderr,
                     "vaani-server: re-encryption stopped: %s (run it again; finished rows stay done)\n",
                     qPrintable(r.error.message));
        return 1;
    }
    worker
        ->submit([&r](db::Repositories &repos) {
            return repos.privacy.addAudit(
                u"vaani-server --reencrypt"_s, u"reencrypt"_s, u"key "_s + repos.cipher->currentKeyId(),
                u"%1 values sealed, %2 number hashes, %3 left (key not loaded)"_s.arg(r.value.values)
                    .arg(r.value.hashes)
                    .arg(r.value.unopened));
        })
        .waitForFinished();
    std::printf("Sealed %d value(s) and recomputed %d number hash(es) with data key %s.\n", r.value.values,
                r.value.hashes, qPrintable(config.cipher->currentKeyId()));
    if (r.value.unopened > 0) {
        std::printf(
            "%d value(s) are sealed with a key that is not in VAANI_DATA_KEY_FILE and were left as they "
            "are: add that key (not first) and run again.\n",
            r.value.unopened);
        return 3;
    }
    std::printf("Every personal value is now under %s; older keys can leave the key file.\n",
                qPrintable(config.cipher->currentKeyId()));
    return 0;
}

int migrateOnly(const ServerOptions &options)
{
    int version = 0;
    const auto worker = openForCommand(options, options.forceDemo, &version);
    if (!worker)
        return 1;
    const db::DatabaseConfig &config = worker->config();
    const auto access = worker->access().result();
    std::printf("Schema version %d on %s.\n", version, qPrintable(config.describe()));
    if (config.isPostgres())
        std::printf(
            access.value.rolesInstalled
                ? "Staff roles vaani_agent, vaani_supervisor, vaani_admin and vaani_server are set up.\n"
                : "Staff roles are NOT set up: connect as the tables' owner with CREATEROLE.\n");
    return 0;
}

} // namespace vaani
