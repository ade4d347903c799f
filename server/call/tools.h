#pragma once
// The agent's tools: their JSON-schema definitions for session.update, argument validation against those
// schemas, and execution of the database tools on the DbWorker thread (never on the caller's event loop).
// transfer_to_human and end_call act on the live call and are carried out by CallSession.

#include "db/dbworker.h"

#include <QFuture>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace vaani {

struct ToolContext
{
    QString callerNumber; // full number, for find_orders_for_caller
    QString callSid;
};

struct ToolResult
{
    bool ok = false;
    QJsonObject output; // what the model reads (serialised as the function_call_output string)
};

class Tools
{
public:
    static QJsonArray definitions();
    static bool isKnown(const QString &name);
    // Parses and validates `arguments` (JSON text) against the tool's schema. Returns an error message or
    // empty; on success *args holds the object.
    static QString validate(const QString &name, const QString &arguments, QJsonObject *args);
    // Database tools: lookup_order, find_orders_for_caller, create_ticket, get_ticket_status.
    static QFuture<ToolResult> runDatabaseTool(db::DbWorker *worker, const QString &name,
                                               const QJsonObject &args, const ToolContext &context);
    static ToolResult error(const QString &message);
    static QJsonObject describeOrder(const db::Order &o);
};

} // namespace vaani
