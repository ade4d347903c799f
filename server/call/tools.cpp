#include "tools.h"

#include <QJsonDocument>
#include <QJsonParseError>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
QJsonObject fn(const QString &name, const QString &description, const QJsonObject &properties,
               const QStringList &required)
{
    QJsonArray req;
    for (const QString &r : required)
        req.append(r);
    return {{u"type"_s, u"function"_s},
            {u"name"_s, name},
            {u"description"_s, description},
            {u"parameters"_s, QJsonObject{{u"type"_s, u"object"_s},
                                          {u"properties"_s, properties},
                                          {u"required"_s, req},
                                          {u"additionalProperties"_s, false}}}};
}

QJsonObject str(const QString &description, int maxLength, const QStringList &choices = {})
{
    QJsonObject o{{u"type"_s, u"string"_s}, {u"description"_s, description}, {u"maxLength"_s, maxLength}};
    if (!choices.isEmpty())
        o.insert(u"enum"_s, QJsonArray::fromStringList(choices));
    return o;
}

const QStringList kCategories = {u"delivery"_s, u"damaged_item"_s, u"wrong_item"_s,   u"refund"_s,
                                 u"payment"_s,  u"return"_s,       u"cancellation"_s, u"other"_s};

QString statusText(const QString &s)
{
    static const QHash<QString, QString> t = {{u"placed"_s, u"Order placed, not yet packed"_s},
                                              {u"packed"_s, u"Packed, waiting for pickup by the courier"_s},
                                              {u"shipped"_s, u"Shipped, on the way"_s},
                                              {u"out_for_delivery"_s, u"Out for delivery today"_s},
                                              {u"delivered"_s, u"Delivered"_s},
                                              {u"cancelled"_s, u"Cancelled"_s},
                                              {u"returned"_s, u"Returned"_s}};
    return t.value(s, s);
}

QString day(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().date().toString(Qt::ISODate) : QString();
}
} // namespace

QJsonArray Tools::definitions()
{
    return {
        fn(u"lookup_order"_s,
           u"Look up one order by its order ID (three letters and three digits, e.g. ABC123). Use when the "
           u"caller "
           "gives an order ID. Returns status, items, amount in rupees, dates, courier and tracking number."_s,
           {{u"order_id"_s, str(u"The order ID as the caller said it, e.g. ABC123"_s, 32)}}, {u"order_id"_s}),
        fn(u"find_orders_for_caller"_s,
           u"List the most recent orders placed from the caller's phone number. Use when the caller does not "
           u"know "
           "the order ID."_s,
           {}, {}),
        fn(u"create_ticket"_s,
           u"Open a support ticket. Only call after summarising the problem and the caller has agreed."_s,
           {{u"order_id"_s, str(u"Related order ID, if any"_s, 32)},
            {u"category"_s, str(u"Kind of problem"_s, 32, kCategories)},
            {u"summary"_s, str(u"One or two sentences describing the problem, in English"_s, 1000)},
            {u"priority"_s, str(u"How urgent it is"_s, 16, db::Ticket::priorities())}},
           {u"category"_s, u"summary"_s, u"priority"_s}),
        fn(u"get_ticket_status"_s, u"Check the status of a support ticket by its number, e.g. TKT-1004."_s,
           {{u"ticket_id"_s, str(u"Ticket number as the caller said it, e.g. TKT-1004 or 1004"_s, 32)}},
           {u"ticket_id"_s}),
        fn(u"transfer_to_human"_s,
           u"Transfer the caller to a human colleague. Tell the caller you are connecting them first."_s,
           {{u"reason"_s, str(u"Why the caller needs a human"_s, 500)}}, {u"reason"_s}),
        fn(u"end_call"_s, u"Hang up after you have said goodbye."_s,
           {{u"reason"_s, str(u"Why the call is ending"_s, 300)}}, {u"reason"_s}),
    };
}

bool Tools::isKnown(const QString &name)
{
    for (const QJsonValue v : definitions()) {
        if (v.toObject().value(u"name"_s).toString() == name)
            return true;
    }
    return false;
}

QString Tools::validate(const QString &name, const QString &arguments, QJsonObject *args)
{
    QJsonObject schema;
    for (const QJsonValue v : definitions()) {
        if (v.toObject().value(u"name"_s).toString() == name)
            schema = v.toObject().value(u"parameters"_s).toObject();
    }
    if (schema.isEmpty())
        return u"unknown tool '%1'"_s.arg(name.left(64));
    if (arguments.size() > 16 * 1024)
        return u"arguments too long"_s;
    QJsonParseError err{};
    const QJsonDocument doc =
        QJsonDocument::fromJson(arguments.trimmed().isEmpty() ? "{}" : arguments.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return u"arguments are not a JSON object"_s;
    const QJsonObject a = doc.object();
    const QJsonObject props = schema.value(u"properties"_s).toObject();
    for (const QJsonValue r : schema.value(u"required"_s).toArray()) {
        const QString key = r.toString();
        if (!a.contains(key) || (a.value(key).isString() && a.value(key).toString().trimmed().isEmpty()))
            return u"missing required argument '%1'"_s.arg(key);
    }
    for (auto it = a.begin(); it != a.end(); ++it) {
        if (!props.contains(it.key()))
            return u"unexpected argument '%1'"_s.arg(it.key().left(64));
        const QJsonObject p = props.value(it.key()).toObject();
        if (it.value().isNull())
            continue;
        if (!it.value().isString())
            return u"argument '%1' must be a string"_s.arg(it.key());
        const QString v = it.value().toString();
        if (v.size() > p.value(u"maxLength"_s).toInt(1000))
            return u"argument '%1' is too long"_s.arg(it.key());
        const QJsonArray choices = p.value(u"enum"_s).toArray();
        if (!choices.isEmpty() && !choices.contains(v)) {
            QStringList allowed;
            for (const QJsonValue c : choices)
                allowed << c.toString();
            return u"argument '%1' must be one of: %2"_s.arg(it.key(), allowed.join(u", "_s));
        }
    }
    *args = a;
    return {};
}

ToolResult Tools::error(const QString &message)
{
    return {false, QJsonObject{{u"ok"_s, false}, {u"error"_s, message}}};
}

QJsonObject Tools::describeOrder(const db::Order &o)
{
    QJsonObject d{{u"order_id"_s, o.code},
                  {u"status"_s, o.status},
                  {u"status_text"_s, statusText(o.status)},
                  {u"items"_s, o.items},
                  {u"amount_inr"_s, double(o.amountPaise) / 100.0},
                  {u"placed_on"_s, day(o.placedAt)},
                  {u"customer_name"_s, o.customerName}};
    if (o.expectedDelivery.isValid() && o.status != u"delivered"_s)
        d.insert(u"expected_delivery"_s, day(o.expectedDelivery));
    if (o.deliveredAt.isValid())
        d.insert(u"delivered_on"_s, day(o.deliveredAt));
    if (!o.carrier.isEmpty())
        d.insert(u"courier"_s, o.carrier);
    if (!o.trackingNumber.isEmpty())
        d.insert(u"tracking_number"_s, o.trackingNumber);
    return d;
}

QFuture<ToolResult> Tools::runDatabaseTool(db::DbWorker *worker, const QString &name, const QJsonObject &args,
                                           const ToolContext &context)
{
    // Each runs as one job on the database thread; failures become outputs the model can talk about.
    auto job = [name, args, context](db::Repositories &r) -> db::DbResult<ToolResult> {
        using db::DbError;
        auto dbFailure = [](const DbError &e) {
            return Tools::error(
                e.kind == DbError::Kind::Unreachable
                    ? u"The order system is not reachable right now. Apologise and offer a ticket or a "
                      "call back."_s
                    : u"The order system had a problem with that request."_s);
        };
        if (name == u"lookup_order"_s) {
            const QString code = args.value(u"order_id"_s).toString();
            auto o = r.orders.findByCode(code);
            if (o.ok())
                return ToolResult{
                    true,
                    QJsonObject{{u"ok"_s, true}, {u"found"_s, true}, {u"order"_s, describeOrder(o.value)}}};
            if (o.error.kind == DbError::Kind::NotFound)
                return ToolResult{
                    true,
                    QJsonObject{{u"ok"_s, true},
                                {u"found"_s, false},
                                {u"message"_s, u"No order found with ID '%1'. Read the ID back "
                                               "and ask the caller to check it."_s.arg(code.left(32))}}};
            return dbFailure(o.error);
        }
        if (name == u"find_orders_for_caller"_s) {
            auto list = r.orders.forPhone(context.callerNumber, 5);
            if (!list.ok())
                return dbFailure(list.error);
            QJsonArray orders;
            for (const auto &o : list.value)
                orders.append(describeOrder(o));
            return ToolResult{true,
                              QJsonObject{{u"ok"_s, true},
                                          {u"orders"_s, orders},
                                          {u"message"_s, orders.isEmpty() ? u"No orders are registered to "
                                                                            "this phone number."_s
                                                                          : QString()}}};
        }
        if (name == u"create_ticket"_s) {
            db::NewTicket t;
            t.category = args.value(u"category"_s).toString();
            t.summary = args.value(u"summary"_s).toString();
            t.priority = args.value(u"priority"_s).toString();
            t.author = u"vaani-agent"_s;
            const QString code = args.value(u"order_id"_s).toString();
            if (!code.trimmed().isEmpty()) {
                auto o = r.orders.findByCode(code);
                if (!o.ok() && o.error.kind == DbError::Kind::NotFound)
                    return Tools::error(
                        u"No order with ID '%1'; confirm the ID with the caller or create the ticket "
                        "without one."_s.arg(code.left(32)));
                if (!o.ok())
                    return dbFailure(o.error);
                t.orderId = o.value.id;
                t.customerId = o.value.customerId;
            }
            if (!t.customerId) {
                if (auto c = r.customers.findByPhone(context.callerNumber); c.ok())
                    t.customerId = c.value.id;
            }
            if (auto call = r.calls.findBySid(context.callSid); call.ok())
                t.callId = call.value.id;
            auto created = r.tickets.create(t);
            if (!created.ok())
                return created.error.kind == DbError::Kind::Invalid ? Tools::error(created.error.message)
                                                                    : dbFailure(created.error);
            return ToolResult{true, QJsonObject{{u"ok"_s, true},
                                                {u"ticket_id"_s, created.value.code},
                                                {u"status"_s, created.value.status},
                                                {u"priority"_s, created.value.priority}}};
        }
        if (name == u"get_ticket_status"_s) {
            auto t = r.tickets.findByCode(args.value(u"ticket_id"_s).toString());
            if (!t.ok())
                return t.error.kind == DbError::Kind::NotFound
                           ? ToolResult{true, QJsonObject{{u"ok"_s, true},
                                                          {u"found"_s, false},
                                                          {u"message"_s, t.error.message}}}
                           : dbFailure(t.error);
            QJsonObject d{{u"ticket_id"_s, t.value.code},
                          {u"status"_s, t.value.status},
                          {u"priority"_s, t.value.priority},
                          {u"category"_s, t.value.category},
                          {u"summary"_s, t.value.summary},
                          {u"opened_on"_s, day(t.value.createdAt)},
                          {u"last_update"_s, day(t.value.updatedAt)}};
            if (!t.value.orderCode.isEmpty())
                d.insert(u"order_id"_s, t.value.orderCode);
            return ToolResult{true, QJsonObject{{u"ok"_s, true}, {u"found"_s, true}, {u"ticket"_s, d}}};
        }
        return Tools::error(u"unknown tool"_s);
    };
    return worker->submit(job).then([](db::DbResult<ToolResult> r) {
        // An unreachable database arrives here as an error result of the job itself.
        if (!r.ok())
            return Tools::error(
                u"The order system is not reachable right now. Apologise and offer a call back."_s);
        return r.value;
    });
}

} // namespace vaani
