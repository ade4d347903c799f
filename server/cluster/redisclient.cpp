#include "redisclient.h"

#include "logging.h"

#include <QDateTime>
#include <QHostAddress>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QSocketNotifier>
#include <QUrl>
#include <QUrlQuery>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::cluster {

namespace {

// One hiredis connection's socket notifiers (hiredis's ev.data). Deleted by hiredis's cleanup hook, before
// the context itself is freed; the context's own data is the client.
struct Link
{
    QSocketNotifier *read = nullptr;
    QSocketNotifier *write = nullptr;
};

RedisReply convert(const redisReply *r, int depth = 0)
{
    RedisReply out;
    if (!r)
        return RedisReply::failed("connection lost");
    switch (r->type) {
    case REDIS_REPLY_NIL:
        out.type = RedisReply::Type::Nil;
        break;
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::Integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out.type = r->type == REDIS_REPLY_STRING   ? RedisReply::Type::String
                   : r->type == REDIS_REPLY_STATUS ? RedisReply::Type::Status
                                                   : RedisReply::Type::Error;
        out.string = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::Array;
        if (depth < 4) { // our scripts answer flat arrays; deeper nesting is not ours
            out.elements.reserve(qsizetype(r->elements));
            for (size_t i = 0; i < r->elements; ++i)
                out.elements.append(convert(r->element[i], depth + 1));
        }
        break;
    default:
        return RedisReply::failed("unexpected reply type");
    }
    return out;
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace

RedisReply RedisReply::failed(const QByteArray &why)
{
    RedisReply r;
    r.type = Type::Failed;
    r.string = why;
    return r;
}

std::optional<RedisAddress> RedisAddress::parse(const QString &text, QString *error)
{
    const QUrl url(text, QUrl::StrictMode);
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (!url.isValid())
        return fail(u"REDIS_URL is not a valid URL"_s);
    if (url.scheme() == u"rediss"_s)
        return fail(
            u"REDIS_URL: rediss:// (TLS) is not supported by hiredis 0.14 (Debian bookworm); reach Redis "
            "over a private network or a local TLS tunnel (stunnel) and use redis://"_s);
    if (url.scheme() != u"redis"_s)
        return fail(u"REDIS_URL must start with redis://"_s);
    RedisAddress a;
    a.host = url.host();
    if (a.host.isEmpty())
        return fail(u"REDIS_URL names no host"_s);
    const int port = url.port(6379);
    if (port <= 0 || port > 65535)
        return fail(u"REDIS_URL: bad port"_s);
    a.port = quint16(port);
    a.user = url.userName(QUrl::FullyDecoded).toUtf8();
    a.password = url.password(QUrl::FullyDecoded).toUtf8();
    if (!a.user.isEmpty() && a.password.isEmpty())
        return fail(u"REDIS_URL names a user without a password"_s);
    QString path = url.path();
    if (path.startsWith(u'/'))
        path.remove(0, 1);
    if (!path.isEmpty()) {
        bool ok = false;
        a.db = path.toInt(&ok);
        if (!ok || a.db < 0 || a.db > 1000000)
            return fail(u"REDIS_URL: the path must be a database number (/0)"_s);
    }
    if (url.hasQuery() || url.hasFragment())
        return fail(u"REDIS_URL takes no query or fragment"_s);
    return a;
}

QString RedisAddress::display() const
{
    const QString h = host.contains(u':') ? u'[' + host + u']' : host;
    return u"%1:%2/%3"_s.arg(h).arg(port).arg(db);
}

RedisClient::RedisClient(RedisAddress address, Options options, QObject *parent)
    : QObject(parent)
    , m_address(std::move(address))
    , m_options(options)
{
    m_connectDeadline.setSingleShot(true);
    m_commandTimer.setSingleShot(true);
    m_reconnect.setSingleShot(true);
    connect(&m_connectDeadline, &QTimer::timeout, this,
            [this] { lost(u"no answer within %1 ms of connecting"_s.arg(m_options.connectTimeoutMs)); });
    connect(&m_commandTimer, &QTimer::timeout, this, &RedisClient::onCommandTimeout);
    connect(&m_reconnect, &QTimer::timeout, this, &RedisClient::open);
}

RedisClient::~RedisClient()
{
    m_destroying = true;
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    if (redisAsyncContext *ac = std::exchange(m_ac, nullptr))
        redisAsyncFree(ac); // pending callbacks are dropped (m_destroying)
}

void RedisClient::open()
{
    if (m_ac || m_lookupId >= 0)
        return;
    if (!QHostAddress(m_address.host).isNull()) {
        connectTo(m_address.host);
        return;
    }
    // Never block the event loop on DNS.
    m_lookupId = QHostInfo::lookupHost(m_address.host, this, [this](const QHostInfo &info) {
        m_lookupId = -1;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            lost(u"cannot resolve %1: %2"_s.arg(m_address.host, info.errorString()));
            return;
        }
        connectTo(info.addresses().constFirst().toString());
    });
}

void RedisClient::connectTo(const QString &ip)
{
    redisAsyncContext *ac = redisAsyncConnect(ip.toUtf8().constData(), m_address.port);
    if (!ac) {
        lost(u"out of memory"_s);
        return;
    }
    if (ac->err) {
        const QString why = QString::fromUtf8(ac->errstr);
        redisAsyncFree(ac);
        lost(why);
        return;
    }
    m_ac = ac;
    auto *link = new Link;
    const int fd = ac->c.fd;
    link->read = new QSocketNotifier(qintptr(fd), QSocketNotifier::Read);
    link->write = new QSocketNotifier(qintptr(fd), QSocketNotifier::Write);
    link->read->setEnabled(false);
    link->write->setEnabled(false);
    // The context outlives no notifier: cleanup() disables both before the context is freed.
    QObject::connect(link->read, &QSocketNotifier::activated, link->read, [ac] { redisAsyncHandleRead(ac); });
    QObject::connect(link->write, &QSocketNotifier::activated, link->write,
                     [ac] { redisAsyncHandleWrite(ac); });
    ac->data = this;
    ac->ev.data = link;
    ac->ev.addRead = &RedisClient::addRead;
    ac->ev.delRead = &RedisClient::delRead;
    ac->ev.addWrite = &RedisClient::addWrite;
    ac->ev.delWrite = &RedisClient::delWrite;
    ac->ev.cleanup = &RedisClient::cleanup;
    redisAsyncSetDisconnectCallback(ac, &RedisClient::onDisconnectThunk);
    redisAsyncSetConnectCallback(ac, &RedisClient::onConnectThunk); // arms the write notifier
    m_connectDeadline.start(m_options.connectTimeoutMs);

    // The hand-shake, queued now and sent once connected: credentials, database, then a PING that marks the
    // connection up.
    auto step = [this](const QString &what) {
        return [this, what](const RedisReply &r) {
            if (!r.ok() && m_ac)
                lost(u"%1: %2"_s.arg(what, QString::fromUtf8(r.string)));
        };
    };
    if (!m_address.password.isEmpty()) {
        QList<QByteArray> auth{"AUTH"};
        if (!m_address.user.isEmpty())
            auth.append(m_address.user);
        auth.append(m_address.password);
        send(auth, step(u"Redis refused the credentials"_s));
    }
    if (m_address.db != 0)
        send({"SELECT", QByteArray::number(m_address.db)}, step(u"Redis refused the database number"_s));
    send({"PING"}, [this](const RedisReply &r) {
        if (!m_ac)
            return;
        if (!r.ok()) {
            lost(u"Redis did not answer PING: %1"_s.arg(QString::fromUtf8(r.string)));
            return;
        }
        m_connectDeadline.stop();
        m_up = true;
        m_backoffMs = 0;
        m_announcedDown = false;
        qCInfo(lcServer) << "Redis connected:" << m_address.display();
        Q_EMIT up();
    });
}

void RedisClient::command(const QList<QByteArray> &args, Callback callback)
{
    if (!m_up || !m_ac) {
        deliver(std::move(callback), RedisReply::failed("Redis is not connected"));
        return;
    }
    if (m_pending.size() >= size_t(kMaxPending)) {
        deliver(std::move(callback), RedisReply::failed("too many Redis commands waiting"));
        return;
    }
    send(args, std::move(callback));
}

void RedisClient::send(const QList<QByteArray> &args, Callback callback)
{
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        lengths.push_back(size_t(a.size()));
    }
    const quint64 id = m_nextId++;
    if (redisAsyncCommandArgv(m_ac, &RedisClient::onReplyThunk, reinterpret_cast<void *>(quintptr(id)),
                              int(argv.size()), argv.data(), lengths.data()) != REDIS_OK) {
        deliver(std::move(callback), RedisReply::failed("the command could not be sent"));
        return;
    }
    m_pending.push_back({id, std::move(callback), nowMs() + m_options.commandTimeoutMs});
    armCommandTimer();
}

void RedisClient::deliver(Callback callback, RedisReply reply)
{
    if (!callback)
        return;
    QMetaObject::invokeMethod(
        this, [callback = std::move(callback), reply = std::move(reply)] { callback(reply); },
        Qt::QueuedConnection);
}

void RedisClient::onReply(quint64 id, const RedisReply &reply)
{
    // Redis answers in order; an id we no longer hold was failed already (deadline or connection loss).
    while (!m_pending.empty() && m_pending.front().id < id)
        m_pending.pop_front(); // cannot happen with an ordered protocol; never leak a slot if it does
    if (m_pending.empty() || m_pending.front().id != id)
        return;
    Callback callback = std::move(m_pending.front().callback);
    m_pending.pop_front();
    armCommandTimer();
    if (callback)
        callback(reply);
}

void RedisClient::armCommandTimer()
{
    if (m_pending.empty()) {
        m_commandTimer.stop();
        return;
    }
    const qint64 wait = std::max<qint64>(0, m_pending.front().deadlineMs - nowMs());
    m_commandTimer.start(int(std::min<qint64>(wait, 60000)));
}

void RedisClient::onCommandTimeout()
{
    if (m_pending.empty())
        return;
    if (m_pending.front().deadlineMs > nowMs()) {
        armCommandTimer();
        return;
    }
    lost(u"no answer within %1 ms"_s.arg(m_options.commandTimeoutMs));
}

void RedisClient::failAllPending(const QByteArray &why)
{
    std::deque<Pending> pending;
    pending.swap(m_pending);
    m_commandTimer.stop();
    for (Pending &p : pending)
        deliver(std::move(p.callback), RedisReply::failed(why));
}

void RedisClient::lost(const QString &reason)
{
    if (m_destroying)
        return;
    const bool wasUp = std::exchange(m_up, false);
    m_connectDeadline.stop();
    failAllPending(reason.toUtf8());
    if (redisAsyncContext *ac = std::exchange(m_ac, nullptr))
        redisAsyncFree(ac); // inside a hiredis callback this completes when the callback returns
    if (wasUp || !m_announcedDown) {
        m_announcedDown = true;
        qCWarning(lcServer).noquote() << "Redis" << m_address.display() << (wasUp ? "lost:" : "unreachable:")
                                      << reason << "- retrying with back-off";
        Q_EMIT down(reason);
    }
    scheduleReconnect();
}

void RedisClient::scheduleReconnect()
{
    m_backoffMs =
        m_backoffMs == 0 ? m_options.backoffMinMs : std::min(m_backoffMs * 2, m_options.backoffMaxMs);
    // ±20 % so that several servers that lost Redis together do not come back in lock-step.
    const int jitter = m_backoffMs / 5;
    const int wait =
        m_backoffMs + (jitter > 0 ? int(QRandomGenerator::global()->bounded(2 * jitter + 1)) - jitter : 0);
    m_reconnect.start(std::max(1, wait));
}

// hiredis callbacks. A context the client no longer holds (it gave up on it, or is being destroyed) is
// ignored.

void RedisClient::onConnectThunk(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisClient *>(ac->data);
    if (!self || self->m_destroying || self->m_ac != ac)
        return;
    if (status != REDIS_OK) {
        // hiredis frees the context after this callback.
        self->m_ac = nullptr;
        self->lost(u"connection failed: %1"_s.arg(QString::fromUtf8(ac->errstr)));
    }
}

void RedisClient::onDisconnectThunk(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisClient *>(ac->data);
    if (!self || self->m_destroying || self->m_ac != ac)
        return;
    self->m_ac = nullptr; // hiredis frees it after this callback
    self->lost(status == REDIS_OK ? u"connection closed"_s
                                  : u"connection lost: %1"_s.arg(QString::fromUtf8(ac->errstr)));
}

void RedisClient::onReplyThunk(redisAsyncContext *ac, void *reply, void *privdata)
{
    auto *self = static_cast<RedisClient *>(ac->data);
    if (!self || self->m_destroying || self->m_ac != ac)
        return;
    self->onReply(quint64(reinterpret_cast<quintptr>(privdata)), convert(static_cast<redisReply *>(reply)));
}

void RedisClient::addRead(void *data)
{
    static_cast<Link *>(data)->read->setEnabled(true);
}

void RedisClient::delRead(void *data)
{
    static_cast<Link *>(data)->read->setEnabled(false);
}

void RedisClient::addWrite(void *data)
{
    static_cast<Link *>(data)->write->setEnabled(true);
}

void RedisClient::delWrite(void *data)
{
    static_cast<Link *>(data)->write->setEnabled(false);
}

void RedisClient::cleanup(void *data)
{
    auto *link = static_cast<Link *>(data);
    // Possibly inside one of these notifiers' own activation: disable now, delete later.
    for (QSocketNotifier *n : {link->read, link->write}) {
        n->setEnabled(false);
        n->deleteLater();
    }
    delete link;
}

} // namespace vaani::cluster
