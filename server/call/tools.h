#pragma once
// The agent's tools as one typed registry, built once: each tool's name, description, parameters (the JSON
// schema sent in session.update is generated from them), kind and — for database tools — its handler, which
// runs on the DbWorker thread (never on the caller's event loop). Validation and dispatch use the same
// entries, so a tool is defined in exactly one place. transfer_to_human and end_call act on the live call and
// are carried out by CallSession (their kind says which).
//
// Threads: the registry is immutable after construction (a function-local static) and may be read from any
// thread; handlers run on the database thread with that thread's Repositories.

#include "db/dbworker.h"

#include <QFuture>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace vaani {

// Caller verification: order and ticket details are read out only to a caller the tools have verified — the
// calling number is the customer's registered number, or the caller gave the last four digits of it (checked
// here, never taken from the model's word). Verification lasts for the call; the session keeps it and hands
// it back with every tool call. After kMaxVerificationAttempts wrong answers in a call, no more are checked.
constexpr int kMaxVerificationAttempts = 3;

struct ToolContext
{
    QString callerNumber; // full number, for find_orders_for_caller and verification
    QString callSid;
    QSet<qint64> verifiedCustomers; // customers this caller has been verified as, in this call
    int failedVerifications = 0;    // wrong answers so far in this call
};

struct ToolResult
{
    ToolResult() = default;
    ToolResult(bool isOk, QJsonObject out)
        : ok(isOk)
        , output(std::move(out))
    {}
    bool ok = false;
    QJsonObject output; // what the model reads (serialised as the function_call_output string)
    // For the session, never shown to the model: the caller was verified as this customer, or gave a wrong
    // answer.
    std::optional<qint64> verifiedCustomer;
    bool verificationFailed = false;
};

struct ToolParam
{
    QString name;
    QString description;
    int maxLength = 1000;
    QStringList choices; // enum, when not empty
    bool required = false;
};

enum class ToolKind {
    Database,         // answered by its handler on the database thread
    Transfer,         // CallSession transfers the call to a human
    EndCall,          // CallSession hangs up after the goodbye has played
    DeclineRecording, // CallSession stops the recording and deletes it (offered only with RECORD_CALLS)
};

struct ToolSpec
{
    using Handler = std::function<db::DbResult<ToolResult>(db::Repositories &, const QJsonObject &args,
                                                           const ToolContext &)>;
    QString name;
    QString description;
    QList<ToolParam> params;
    ToolKind kind = ToolKind::Database;
    Handler handler;        // Database tools only
    QJsonObject definition; // the session.update entry, generated once from the above
};

class ToolRegistry
{
public:
    static const ToolRegistry &instance();
    const ToolSpec *find(QStringView name) const;
    const QList<ToolSpec> &tools() const { return m_tools; }
    const QJsonArray &definitions() const { return m_definitions; }
    // Parses `arguments` (JSON text) and checks it against the tool's parameters. Returns an error message or
    // empty; on success *args holds the object.
    static QString validate(const ToolSpec &tool, const QString &arguments, QJsonObject *args);
    // Runs a Database tool as one job on the database thread; failures become outputs the model can talk
    // about.
    static QFuture<ToolResult> run(db::DbWorker *worker, const ToolSpec &tool, const QJsonObject &args,
                                   const ToolContext &context);

private:
    ToolRegistry();
    QList<ToolSpec> m_tools;
    QHash<QString, qsizetype> m_index;
    QJsonArray m_definitions;
};

// The registry's operations by tool name (tests and older callers).
class Tools
{
public:
    static const QJsonArray &definitions() { return ToolRegistry::instance().definitions(); }
    static bool isKnown(const QString &name) { return ToolRegistry::instance().find(name) != nullptr; }
    static QString validate(const QString &name, const QString &arguments, QJsonObject *args);
    static QFuture<ToolResult> runDatabaseTool(db::DbWorker *worker, const QString &name,
                                               const QJsonObject &args, const ToolContext &context);
    static ToolResult error(const QString &message);
    static QJsonObject describeOrder(const db::Order &o);
};

} // namespace vaani
