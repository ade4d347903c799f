#pragma once
// Repositories: the only place SQL lives. Each wraps a QSqlDatabase connection that belongs to the calling
// thread; every value is bound, never concatenated. Methods return DbResult with a typed error.

#include "database.h"
#include "datacipher.h"
#include "dberror.h"
#include "models.h"
#include "realtimemessages.h"

#include <QSqlDatabase>

namespace vaani::db {

class CustomerRepository
{
public:
    explicit CustomerRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    // Seals personal data on the way in and opens it on the way out (datacipher.h). Not owned.
    void setCipher(const DataCipher *cipher) { m_cipher = cipher; }
    DbResult<Customer> get(qint64 id);
    DbResult<Customer> findByPhone(const QString &phone);
    DbResult<QList<Customer>> search(const QString &text, int limit = 500);
    DbResult<Customer> create(const Customer &c);
    // Optimistic locking: fails with Conflict when someone saved the row since it was read.
    DbResult<Customer> update(const Customer &c);

    static QString normalizePhone(const QString &phone);
    // "(<alias>phone_hash IN (?, …) OR (<alias>phone_hash IS NULL AND <alias>phone = ?))" with its values
    // appended to binds: finds a number by its keyed hash under any loaded key, and rows from before hashes.
    static QString phoneCondition(const QString &alias, const DataCipher &cipher, const QString &normalized,
                                  QVariantList *binds);
    // Staff who may not see full numbers (vaani_agent) read the masked copy: Customer::phone is then
    // "+********3210" and searching matches the masked form (the last four digits).
    void setMaskedNumbers(bool masked) { m_masked = masked; }

private:
    QString columns() const;
    QSqlDatabase m_db;
    const DataCipher *m_cipher = &DataCipher::clearMode();
    bool m_masked = false;
};

class OrderRepository
{
public:
    explicit OrderRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    // Seals personal data on the way in and opens it on the way out (datacipher.h). Not owned.
    void setCipher(const DataCipher *cipher) { m_cipher = cipher; }
    // Case-, space- and dash-insensitive ("abc 123" finds ABC123). Invalid codes find nothing.
    DbResult<Order> findByCode(const QString &code);
    DbResult<QList<Order>> forPhone(const QString &phone, int limit = 10);
    DbResult<QList<Order>> search(const QString &text, int limit = 500);
    DbResult<Order> get(qint64 id);
    DbResult<Order> updateStatus(qint64 id, const QString &status, int expectedRowVersion);

    static QString normalizeCode(const QString &code);
    void setMaskedNumbers(bool masked) { m_masked = masked; }

private:
    QSqlDatabase m_db;
    const DataCipher *m_cipher = &DataCipher::clearMode();
    bool m_masked = false;
};

struct NewTicket
{
    std::optional<qint64> orderId;
    std::optional<qint64> customerId;
    std::optional<qint64> callId;
    QString category;
    QString priority = QStringLiteral("normal");
    QString summary;
    QString author;
};

class TicketRepository
{
public:
    explicit TicketRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    // Seals personal data on the way in and opens it on the way out (datacipher.h). Not owned.
    void setCipher(const DataCipher *cipher) { m_cipher = cipher; }
    DbResult<Ticket> create(const NewTicket &t);
    DbResult<Ticket> get(qint64 id);
    DbResult<Ticket> findByCode(const QString &code); // "TKT-1001", "tkt 1001" or "1001"
    DbResult<QList<Ticket>> list(const TicketFilter &filter);
    DbResult<QList<Ticket>> forCall(qint64 callId);
    DbResult<Ticket> changeStatus(qint64 id, const QString &to, const QString &author, const QString &note,
                                  int expectedRowVersion);
    DbResult<Ticket> assign(qint64 id, const QString &assignee, const QString &author,
                            int expectedRowVersion);
    DbResult<Ticket> addNote(qint64 id, const QString &note, const QString &author);
    DbResult<QList<TicketEvent>> history(qint64 id);

private:
    DbResult<Ticket> bump(qint64 id, int expectedRowVersion, const QString &setSql,
                          const QVariantList &values);
    QSqlDatabase m_db;
    const DataCipher *m_cipher = &DataCipher::clearMode();
};

class PromptRepository
{
public:
    explicit PromptRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    DbResult<AgentPrompt> active();
    DbResult<AgentPrompt> get(qint64 id);
    DbResult<QList<AgentPrompt>> versions(const QString &name = {});
    // Saves as the next version of p.name (not active until activate()).
    DbResult<AgentPrompt> saveNewVersion(const AgentPrompt &p);
    DbResult<AgentPrompt> activate(qint64 id);
    // Activates the version before the currently active one of the same name.
    DbResult<AgentPrompt> rollback();

private:
    QSqlDatabase m_db;
};

struct CallStart
{
    QString callSid;
    QString callerNumber; // full number: only its masked form and the customer link are stored
    QString calledNumber;
    QString serverInstance;
    std::optional<qint64> promptId;
    std::optional<int> promptVersion;
    QDateTime startedAt;
};

struct CallEnd
{
    QString outcome;
    QString reason;
    std::optional<int> firstAudioMs;
    QList<int> turnLatenciesMs;
    QDateTime endedAt;
    // The ending session never had the stream (a pre-warmed session whose stream went elsewhere, or never
    // came): the row is ended only if no server has claimed it, never over the owner's record.
    bool onlyIfUnclaimed = false;
};

class CallRepository
{
public:
    explicit CallRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    // Seals personal data on the way in and opens it on the way out (datacipher.h). Not owned.
    void setCipher(const DataCipher *cipher) { m_cipher = cipher; }
    // Idempotent per CallSid: a repeated webhook returns the existing record.
    DbResult<CallRecord> start(const CallStart &s);
    DbResult<CallRecord> get(qint64 id);
    DbResult<CallRecord> findBySid(const QString &callSid);
    DbResult<bool> setStream(qint64 callId, const QString &streamSid, std::optional<qint64> promptId,
                             std::optional<int> promptVersion);
    // One call, one owner: the server whose session has the Media Stream claims the row (stream SID and its
    // instance name). NotFound when the call has already ended.
    DbResult<bool> claim(qint64 callId, const QString &streamSid, const QString &instance,
                         std::optional<qint64> promptId, std::optional<int> promptVersion);
    DbResult<bool> addTranscript(const TranscriptEntry &e);
    DbResult<bool> markTruncated(qint64 callId, int seq);
    DbResult<bool> addToolInvocation(const ToolInvocation &t);
    DbResult<bool> addTurn(const CallTurn &t);
    // The call's token usage and cost so far (totals, not increments: writing them again changes nothing).
    DbResult<bool> setUsage(qint64 callId, const realtime::Usage &total, double costUsd);
    DbResult<bool> end(qint64 callId, const CallEnd &e);
    // RECORD_CALLS: the call's recording (file relative to RECORDINGS_DIR, status as in CallRecord, length).
    // An 'erased' recording is never set back to another status.
    DbResult<bool> setRecording(qint64 callId, const QString &file, const QString &status,
                                std::optional<int> ms);
    // Recordings this server holds (calls.server_instance) whose rows say 'erased' (retention, a caller's
    // erasure) while the file is still named: the server deletes the files, then forgetRecording() each.
    DbResult<QList<CallRecord>> recordingsToDelete(const QString &instance, int limit = 500);
    DbResult<bool> forgetRecording(qint64 callId);
    // Adds "; <note>" to the call's end reason (what the caller did after the agent, e.g. in the fallback
    // menu).
    DbResult<bool> noteEndReason(qint64 callId, const QString &note);
    // Twilio status callback: authoritative end of the call.
    // `at`: when the callback arrived (a journaled one is applied later); invalid = now.
    DbResult<bool> updateTwilioStatus(const QString &callSid, const QString &status,
                                      std::optional<int> durationS, const QDateTime &at = {});
    DbResult<QList<CallRecord>> list(const CallFilter &f);
    DbResult<QList<CallRecord>> active();
    // What the calls started since `since` cost so far (in-progress calls included), in US dollars.
    DbResult<double> costSince(const QDateTime &since);

    // Liveness of the servers sharing the database (resources/migrations/0006). beat() writes this server's
    // row (instance, when this process started, now). When another process's row under the same name was seen
    // within staleMs, it is left alone and its seen_at returned (empty: written) — unless `takeOver`, for a
    // row that stopped moving (a killed earlier run, not a live twin).
    DbResult<QString> beat(const QString &instance, const QDateTime &processStarted, qint64 staleMs,
                           bool takeOver = false);
    DbResult<bool> forget(const QString &instance); // a clean stop
    // Marks 'interrupted' the calls still in progress on servers that stopped beating (seen before now -
    // staleMs), and those this instance's earlier run left (started before processStarted); ended_at is the
    // dead server's last sign of life. Returns how many calls were marked.
    DbResult<int> recoverOrphans(const QString &instance, const QDateTime &processStarted, qint64 staleMs);
    DbResult<QList<TranscriptEntry>> transcript(qint64 callId);
    DbResult<QList<ToolInvocation>> tools(qint64 callId);
    DbResult<QList<CallTurn>> turns(qint64 callId);

private:
    QSqlDatabase m_db;
    const DataCipher *m_cipher = &DataCipher::clearMode();
};

// Personal data over time: retention (transcripts older than the retention period are purged) and erasure
// of one caller's data on request (India's DPDP Act 2023), each leaving a row in the audit log.
struct PurgeReport
{
    int calls = 0;           // calls whose conversation was purged
    int transcriptLines = 0; // lines deleted
    int toolCalls = 0;       // tool calls whose arguments and results were cleared
    int recordings = 0;      // recordings marked 'erased' (their servers delete the files)
};
struct ErasureReport
{
    bool found = false;    // a customer with that number, or calls from it, exist
    bool customer = false; // a customer record was anonymised
    int calls = 0;
    int transcriptLines = 0;
    int toolCalls = 0;
    int tickets = 0;
    int recordings = 0; // recordings marked 'erased' (their servers delete the files)
};
struct ReencryptReport
{
    int values = 0;   // values sealed anew
    int hashes = 0;   // phone hashes recomputed
    int unopened = 0; // values sealed with a key that is not loaded (left as they are)
};
struct AuditEntry
{
    qint64 id = 0;
    QDateTime at;
    QString actor;
    QString action;
    QString subject;
    QString detail;
};

class PrivacyRepository
{
public:
    explicit PrivacyRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    // Seals personal data on the way in and opens it on the way out (datacipher.h). Not owned.
    void setCipher(const DataCipher *cipher) { m_cipher = cipher; }
    // Deletes the transcript lines and clears the tool arguments and results of calls that started before
    // `cutoff` (the calls, their outcomes, costs and latencies stay). Records an audit row when anything
    // went.
    DbResult<PurgeReport> purgeConversationsBefore(const QDateTime &cutoff, const QString &actor);
    // Removes one caller's personal data: the customer's name, number, e-mail and city are replaced, the
    // conversations of their calls deleted, their tickets' summaries and notes replaced. Orders stay (with
    // the anonymised customer) as business records. One audit row says who erased what (never the number).
    DbResult<ErasureReport> eraseCaller(const QString &phone, const QString &actor);
    // Moves every sealed or clear personal value to the current data key (and recomputes the numbers'
    // hashes), in batches of `batch` rows, each its own transaction, so the server keeps running. Values
    // sealed with a key that is not loaded are left and counted.
    DbResult<ReencryptReport> reencrypt(int batch = 500);
    // How many values are not yet under the current key (clear or another key); 0 in clear mode. Cheap
    // enough for a start-up check: stops counting at `cap` per column.
    DbResult<int> valuesNotUnderCurrentKey(int cap = 1);
    DbResult<QList<AuditEntry>> audit(int limit = 500);
    DbResult<bool> addAudit(const QString &actor, const QString &action, const QString &subject,
                            const QString &detail);

private:
    QSqlDatabase m_db;
    const DataCipher *m_cipher = &DataCipher::clearMode();
};

// Staff accounts (PostgreSQL: database users in vaani_agent / vaani_supervisor / vaani_admin, changed through
// the owner's vaani_staff_* functions, which only admins may call) and the export record.
struct StaffMember
{
    QString login;
    QString role; // "agent", "supervisor", "admin"
    bool canLogin = true;
};

class StaffRepository
{
public:
    explicit StaffRepository(QSqlDatabase db)
        : m_db(std::move(db))
    {}
    DbResult<QList<StaffMember>> list();
    // Creates the account or changes its role; an empty password keeps the current one. The password leaves
    // this process only as a SCRAM-SHA-256 verifier.
    DbResult<bool> save(const QString &login, const QString &role, const QString &password);
    DbResult<bool> setCanLogin(const QString &login, bool canLogin);
    // An export of `rows` rows of `what` (PostgreSQL: only vaani_admin may, and the actor is the signed-in
    // database user; SQLite: the local file's owner).
    DbResult<bool> recordExport(const QString &what, int rows);

    // PostgreSQL's stored form of a password (RFC 5802/7677):
    // SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>.
    static QString scramVerifier(const QString &password, const QByteArray &salt, int iterations = 4096);

private:
    QSqlDatabase m_db;
};

// All repositories over one connection.
struct Repositories
{
    explicit Repositories(const QSqlDatabase &connection)
        : db(connection)
        , customers(connection)
        , orders(connection)
        , tickets(connection)
        , prompts(connection)
        , calls(connection)
        , privacy(connection)
        , staff(connection)
    {}
    // The connection's staff role decides what its queries may read (database.h).
    void setCipher(std::shared_ptr<const DataCipher> c)
    {
        cipher = std::move(c);
        const DataCipher *raw = cipher ? cipher.get() : &DataCipher::clearMode();
        customers.setCipher(raw);
        orders.setCipher(raw);
        tickets.setCipher(raw);
        calls.setCipher(raw);
        privacy.setCipher(raw);
    }
    void setAccess(const StaffAccess &a)
    {
        access = a;
        const bool masked = a.role == StaffAccess::Role::Agent;
        customers.setMaskedNumbers(masked);
        orders.setMaskedNumbers(masked);
    }
    QSqlDatabase db;
    StaffAccess access;
    std::shared_ptr<const DataCipher> cipher; // null: clear mode
    CustomerRepository customers;
    OrderRepository orders;
    TicketRepository tickets;
    PromptRepository prompts;
    CallRepository calls;
    PrivacyRepository privacy;
    StaffRepository staff;
};

} // namespace vaani::db
