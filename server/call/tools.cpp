#include "tools.h"

#include "pii.h"

#include <QJsonDocument>
#include <QJsonParseError>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
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

using db::DbError;

// The digits of an answer as the model passed it on ("4321", "43 21", "४३२१").
QString digitsOf(const QString &s)
{
    QString out;
    for (QChar c : s) {
        if (c.isDigit() && c.digitValue() >= 0)
            out += QChar(u'0' + c.digitValue());
    }
    return out;
}

enum class Verdict {
    Verified,    // the caller's number is the customer's, or they proved it earlier in the call or just now
    NeedsAnswer, // ask for the last four digits of the registered number
    WrongAnswer,
    Locked,  // too many wrong answers in this call
    NoOwner, // the record belongs to no customer: only what is safe for anyone
};

// Checks the caller against the customer who owns a record. Records a verification or a wrong answer in
// *result for the session to keep.
Verdict verifyCaller(db::Repositories &r, std::optional<qint64> customerId, const QJsonObject &args,
                     const ToolContext &context, ToolResult *result)
{
    if (!customerId)
        return Verdict::NoOwner;
    if (context.verifiedCustomers.contains(*customerId))
        return Verdict::Verified;
    const auto customer = r.customers.get(*customerId);
    if (!customer.ok())
        return Verdict::NoOwner;
    const QString registered = db::CustomerRepository::normalizePhone(customer.value.phone);
    if (!registered.isEmpty() && db::CustomerRepository::normalizePhone(context.callerNumber) == registered) {
        result->verifiedCustomer = *customerId;
        return Verdict::Verified;
    }
    const QString answer = digitsOf(args.value(u"verification"_s).toString());
    if (answer.isEmpty())
        return Verdict::NeedsAnswer;
    if (context.failedVerifications >= kMaxVerificationAttempts)
        return Verdict::Locked;
    const bool right = answer.size() == 4 ? registered.endsWith(answer)
                                          : answer.size() >= 10 &&
                                                db::CustomerRepository::normalizePhone(answer) == registered;
    if (right) {
        result->verifiedCustomer = *customerId;
        return Verdict::Verified;
    }
    result->verificationFailed = true;
    return Verdict::WrongAnswer;
}

// What an unverified caller hears about a record that exists.
QJsonObject unverified(Verdict v, const QString &what)
{
    QString message;
    switch (v) {
    case Verdict::NeedsAnswer:
        message = u"%1 exists, but its details are shared only with its owner. Ask the caller for the last "
                  "four digits of the phone number registered on it, then call this tool again with those "
                  "digits in 'verification'. Do not give any detail before that."_s.arg(what);
        break;
    case Verdict::WrongAnswer:
        message = u"Those digits do not match the registered number. Say so politely; the caller may try "
                  "again. Do not give any detail of %1."_s.arg(what);
        break;
    case Verdict::Locked:
        message =
            u"Too many wrong answers in this call: no more checks. Do not give any detail of %1; offer a "
            "support ticket or a transfer to a colleague."_s.arg(what);
        break;
    case Verdict::Verified:
    case Verdict::NoOwner:
        break;
    }
    return {{u"ok"_s, true}, {u"found"_s, true}, {u"verified"_s, false}, {u"message"_s, message}};
}

ToolResult dbFailure(const DbError &e)
{
    return Tools::error(
        e.kind == DbError::Kind::Unreachable
            ? u"The order system is not reachable right now. Apologise and offer a ticket or a "
              "call back."_s
            : u"The order system had a problem with that request."_s);
}

db::DbResult<ToolResult> lookupOrder(db::Repositories &r, const QJsonObject &args, const ToolContext &context)
{
    const QString code = args.value(u"order_id"_s).toString();
    auto o = r.orders.findByCode(code);
    if (o.ok()) {
        ToolResult result(true, {});
        const Verdict v = verifyCaller(r, o.value.customerId, args, context, &result);
        result.output = v == Verdict::Verified || v == Verdict::NoOwner
                            ? QJsonObject{{u"ok"_s, true},
                                          {u"found"_s, true},
                                          {u"verified"_s, true},
                                          {u"order"_s, Tools::describeOrder(o.value)}}
                            : unverified(v, u"An order with ID %1"_s.arg(o.value.code));
        return result;
    }
    if (o.error.kind == DbError::Kind::NotFound)
        return ToolResult{
            true, QJsonObject{{u"ok"_s, true},
                              {u"found"_s, false},
                              {u"message"_s, u"No order found with ID '%1'. Read the ID back "
                                             "and ask the caller to check it."_s.arg(code.left(32))}}};
    return dbFailure(o.error);
}

db::DbResult<ToolResult> findOrdersForCaller(db::Repositories &r, const QJsonObject &,
                                             const ToolContext &context)
{
    auto list = r.orders.forPhone(context.callerNumber, 5);
    if (!list.ok())
        return dbFailure(list.error);
    QJsonArray orders;
    ToolResult result;
    for (const auto &o : list.value) {
        orders.append(Tools::describeOrder(o));
        result.verifiedCustomer = o.customerId; // the calling number is the registered one
    }
    result.ok = true;
    result.output = QJsonObject{
        {u"ok"_s, true},
        {u"orders"_s, orders},
        {u"message"_s, orders.isEmpty() ? u"No orders are registered to this phone number."_s : QString()}};
    return result;
}

db::DbResult<ToolResult> createTicket(db::Repositories &r, const QJsonObject &args,
                                      const ToolContext &context)
{
    db::NewTicket t;
    t.category = args.value(u"category"_s).toString();
    t.summary = pii::redact(args.value(u"summary"_s).toString());
    t.priority = args.value(u"priority"_s).toString();
    t.author = u"vaani-agent"_s;
    const QString code = args.value(u"order_id"_s).toString();
    if (!code.trimmed().isEmpty()) {
        auto o = r.orders.findByCode(code);
        if (!o.ok() && o.error.kind == DbError::Kind::NotFound)
            return Tools::error(u"No order with ID '%1'; confirm the ID with the caller or create the ticket "
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

db::DbResult<ToolResult> getTicketStatus(db::Repositories &r, const QJsonObject &args,
                                         const ToolContext &context)
{
    auto t = r.tickets.findByCode(args.value(u"ticket_id"_s).toString());
    if (!t.ok())
        return t.error.kind == DbError::Kind::NotFound
                   ? ToolResult(
                         true,
                         QJsonObject{{u"ok"_s, true}, {u"found"_s, false}, {u"message"_s, t.error.message}})
                   : dbFailure(t.error);
    ToolResult result(true, {});
    const Verdict v = verifyCaller(r, t.value.customerId, args, context, &result);
    if (v != Verdict::Verified && v != Verdict::NoOwner) {
        result.output = unverified(v, u"Ticket %1"_s.arg(t.value.code));
        return result;
    }
    QJsonObject d{{u"ticket_id"_s, t.value.code},           {u"status"_s, t.value.status},
                  {u"priority"_s, t.value.priority},        {u"category"_s, t.value.category},
                  {u"opened_on"_s, day(t.value.createdAt)}, {u"last_update"_s, day(t.value.updatedAt)}};
    // The owner hears what the ticket is about: its first paragraph. A transfer ticket's later paragraphs are
    // the conversation, which is not read back; a ticket that belongs to no customer says nothing about it.
    if (v == Verdict::Verified)
        d.insert(u"summary"_s, t.value.summary.section(u"\n\n"_s, 0, 0).left(300));
    if (!t.value.orderCode.isEmpty() && v == Verdict::Verified)
        d.insert(u"order_id"_s, t.value.orderCode);
    result.output = QJsonObject{
        {u"ok"_s, true}, {u"found"_s, true}, {u"verified"_s, v == Verdict::Verified}, {u"ticket"_s, d}};
    return result;
}

ToolParam param(const QString &name, const QString &description, int maxLength, bool required,
                const QStringList &choices = {})
{
    return {name, description, maxLength, choices, required};
}

QJsonObject definitionOf(const ToolSpec &t)
{
    QJsonObject properties;
    QJsonArray required;
    for (const ToolParam &p : t.params) {
        QJsonObject o{
            {u"type"_s, u"string"_s}, {u"description"_s, p.description}, {u"maxLength"_s, p.maxLength}};
        if (!p.choices.isEmpty())
            o.insert(u"enum"_s, QJsonArray::fromStringList(p.choices));
        properties.insert(p.name, o);
        if (p.required)
            required.append(p.name);
    }
    return {{u"type"_s, u"function"_s},
            {u"name"_s, t.name},
            {u"description"_s, t.description},
            {u"parameters"_s, QJsonObject{{u"type"_s, u"object"_s},
                                          {u"properties"_s, properties},
                                          {u"required"_s, required},
                                          {u"additionalProperties"_s, false}}}};
}
} // namespace

ToolRegistry::ToolRegistry()
{
    m_tools = {
        {u"lookup_order"_s,
         u"Look up one order by its order ID (three letters and three digits, e.g. ABC123). Use when the "
         "caller gives an order ID. Returns status, items, amount in rupees, dates, courier and tracking "
         "number "
         "— only to the order's owner: when it answers verified=false, ask for the last four digits of the "
         "phone number registered on the order and call again with them in 'verification'."_s,
         {param(u"order_id"_s, u"The order ID as the caller said it, e.g. ABC123"_s, 32, true),
          param(u"verification"_s,
                u"Only when asked for: the last four digits of the registered phone number, as the caller "
                "said them, in digits"_s,
                32, false)},
         ToolKind::Database,
         lookupOrder,
         {}},
        {u"find_orders_for_caller"_s,
         u"List the most recent orders placed from the caller's phone number. Use when the caller does not "
         u"know "
         "the order ID."_s,
         {},
         ToolKind::Database,
         findOrdersForCaller,
         {}},
        {u"create_ticket"_s,
         u"Open a support ticket. Only call after summarising the problem and the caller has agreed."_s,
         {param(u"order_id"_s, u"Related order ID, if any"_s, 32, false),
          param(u"category"_s, u"Kind of problem"_s, 32, true, kCategories),
          param(u"summary"_s, u"One or two sentences describing the problem, in English"_s, 1000, true),
          param(u"priority"_s, u"How urgent it is"_s, 16, true, db::Ticket::priorities())},
         ToolKind::Database,
         createTicket,
         {}},
        {u"get_ticket_status"_s,
         u"Check the status of a support ticket by its number, e.g. TKT-48213907. Details go only to the "
         "ticket's owner: when it answers verified=false, ask for the last four digits of the registered "
         "phone "
         "number and call again with them in 'verification'."_s,
         {param(u"ticket_id"_s, u"Ticket number as the caller said it, e.g. TKT-48213907 or 48213907"_s, 32,
                true),
          param(u"verification"_s,
                u"Only when asked for: the last four digits of the registered phone number, as the caller "
                "said them, in digits"_s,
                32, false)},
         ToolKind::Database,
         getTicketStatus,
         {}},
        {u"transfer_to_human"_s,
         u"Transfer the caller to a human colleague. Tell the caller you are connecting them first."_s,
         {param(u"reason"_s, u"Why the caller needs a human"_s, 500, true)},
         ToolKind::Transfer,
         {},
         {}},
        {u"decline_recording"_s,
         u"The caller does not want this call recorded (they said so after the recording notice, or at any "
         "time): stops the recording and deletes what was recorded. Then tell them briefly that the call is "
         "no longer being recorded and carry on."_s,
         {},
         ToolKind::DeclineRecording,
         {},
         {}},
        {u"end_call"_s,
         u"Hang up after you have said goodbye."_s,
         {param(u"reason"_s, u"Why the call is ending"_s, 300, true)},
         ToolKind::EndCall,
         {},
         {}},
    };
    for (qsizetype i = 0; i < m_tools.size(); ++i) {
        m_tools[i].definition = definitionOf(m_tools[i]);
        m_definitions.append(m_tools[i].definition);
        m_index.insert(m_tools[i].name, i);
    }
}

const ToolRegistry &ToolRegistry::instance()
{
    static const ToolRegistry registry;
    return registry;
}

const ToolSpec *ToolRegistry::find(QStringView name) const
{
    const auto it = m_index.constFind(name.toString());
    return it == m_index.cend() ? nullptr : &m_tools.at(*it);
}

QString ToolRegistry::validate(const ToolSpec &tool, const QString &arguments, QJsonObject *args)
{
    if (arguments.size() > 16 * 1024)
        return u"arguments too long"_s;
    QJsonParseError err{};
    const QJsonDocument doc =
        QJsonDocument::fromJson(arguments.trimmed().isEmpty() ? "{}" : arguments.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return u"arguments are not a JSON object"_s;
    const QJsonObject a = doc.object();
    for (const ToolParam &p : tool.params) {
        if (p.required && (!a.contains(p.name) ||
                           (a.value(p.name).isString() && a.value(p.name).toString().trimmed().isEmpty())))
            return u"missing required argument '%1'"_s.arg(p.name);
    }
    for (auto it = a.begin(); it != a.end(); ++it) {
        const auto p = std::find_if(tool.params.cbegin(), tool.params.cend(),
                                    [&it](const ToolParam &x) { return x.name == it.key(); });
        if (p == tool.params.cend())
            return u"unexpected argument '%1'"_s.arg(it.key().left(64));
        if (it.value().isNull())
            continue;
        if (!it.value().isString())
            return u"argument '%1' must be a string"_s.arg(it.key());
        const QString v = it.value().toString();
        if (v.size() > p->maxLength)
            return u"argument '%1' is too long"_s.arg(it.key());
        if (!p->choices.isEmpty() && !p->choices.contains(v))
            return u"argument '%1' must be one of: %2"_s.arg(it.key(), p->choices.join(u", "_s));
    }
    *args = a;
    return {};
}

QFuture<ToolResult> ToolRegistry::run(db::DbWorker *worker, const ToolSpec &tool, const QJsonObject &args,
                                      const ToolContext &context)
{
    const ToolSpec::Handler handler = tool.handler;
    if (tool.kind != ToolKind::Database || !handler)
        return QtFuture::makeReadyFuture(Tools::error(u"not a database tool"_s));
    return worker->submit([handler, args, context](db::Repositories &r) { return handler(r, args, context); })
        .then([](db::DbResult<ToolResult> r) {
            // An unreachable database arrives here as an error result of the job itself.
            if (!r.ok())
                return Tools::error(
                    u"The order system is not reachable right now. Apologise and offer a call back."_s);
            return r.value;
        });
}

QString Tools::validate(const QString &name, const QString &arguments, QJsonObject *args)
{
    const ToolSpec *tool = ToolRegistry::instance().find(name);
    if (!tool)
        return u"unknown tool '%1'"_s.arg(name.left(64));
    return ToolRegistry::validate(*tool, arguments, args);
}

QFuture<ToolResult> Tools::runDatabaseTool(db::DbWorker *worker, const QString &name, const QJsonObject &args,
                                           const ToolContext &context)
{
    const ToolSpec *tool = ToolRegistry::instance().find(name);
    if (!tool)
        return QtFuture::makeReadyFuture(Tools::error(u"unknown tool"_s));
    return ToolRegistry::run(worker, *tool, args, context);
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

} // namespace vaani
