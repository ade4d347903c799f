#pragma once
// A Redis connection on the Qt event loop: hiredis's asynchronous API driven by QSocketNotifiers (the Qt
// adapter Debian ships with hiredis 0.14 is written for Qt 5's string-based connections and cannot be used
// with Qt 6), with the deadlines hiredis 0.14 does not have.
//
// - Connecting never blocks: a host name is resolved with QHostInfo first, hiredis connects non-blocking;
//   the connection counts as up once AUTH/SELECT (when configured) and a PING have been answered within
//   Options::connectTimeoutMs.
// - Lost or refused connections are retried with exponential back-off (backoffMinMs doubling up to
//   backoffMaxMs, with jitter), for as long as the client lives.
// - Every command has a deadline (commandTimeoutMs). Redis answers in order, so when the oldest command
//   misses its deadline every command behind it fails too, and the connection is dropped and reopened (a
//   Redis that hangs must not hold the callers).
// - While the connection is not up, commands are not queued: their callbacks get a transport error, so the
//   caller applies its own fallback at once.
// - Callbacks always run later on this object's thread, never inside command(); none runs after the
//   client is destroyed.
//
// Threads: lives on the thread that created it (or was moved to before open()); use it there only.

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <deque>
#include <functional>
#include <optional>

struct redisAsyncContext;
class QSocketNotifier;

namespace vaani::cluster {

// REDIS_URL: redis://[[user]:password@]host[:port][/db]. No TLS: hiredis 0.14 has none (rediss:// is
// refused with an explanation).
struct RedisAddress
{
    QString host;
    quint16 port = 6379;
    QByteArray user;     // Redis 6 ACL user; empty: the default user
    QByteArray password; // empty: no AUTH
    int db = 0;
    static std::optional<RedisAddress> parse(const QString &url, QString *error);
    QString display() const; // host:port/db, never the password
};

struct RedisReply
{
    enum class Type {
        Failed, // not sent, no answer in time, or the connection was lost: `string` says which
        Nil,
        Integer,
        String,
        Status,
        Error, // Redis answered with an error
        Array
    };
    Type type = Type::Failed;
    qint64 integer = 0;
    QByteArray string;
    QList<RedisReply> elements;
    bool answered() const { return type != Type::Failed; }
    bool ok() const { return type != Type::Failed && type != Type::Error; }
    static RedisReply failed(const QByteArray &why);
};

class RedisClient : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int connectTimeoutMs = 2000;
        int commandTimeoutMs = 500;
        int backoffMinMs = 200;
        int backoffMaxMs = 10000;
    };
    using Callback = std::function<void(const RedisReply &)>;

    RedisClient(RedisAddress address, Options options, QObject *parent = nullptr);
    ~RedisClient() override;

    void open();
    bool isUp() const { return m_up; }
    const RedisAddress &address() const { return m_address; }
    // Sends the command (binary-safe arguments). `callback` gets the reply, or a Failed reply.
    void command(const QList<QByteArray> &args, Callback callback);
    // Pending commands at most; beyond it a command fails at once (Redis stuck and callers piling up).
    static constexpr int kMaxPending = 10000;

Q_SIGNALS:
    void up();
    void down(const QString &reason); // once per outage, when an up connection is lost or a reconnect fails

private:
    struct Pending
    {
        quint64 id;
        Callback callback;
        qint64 deadlineMs;
    };
    void connectTo(const QString &ip);
    void send(const QList<QByteArray> &args, Callback callback);
    void onReply(quint64 id, const RedisReply &reply);
    void lost(const QString &reason);
    void scheduleReconnect();
    void armCommandTimer();
    void onCommandTimeout();
    void failAllPending(const QByteArray &why);
    void deliver(Callback callback, RedisReply reply);

    static void onConnectThunk(const redisAsyncContext *ac, int status);
    static void onDisconnectThunk(const redisAsyncContext *ac, int status);
    static void onReplyThunk(redisAsyncContext *ac, void *reply, void *privdata);
    static void addRead(void *data);
    static void delRead(void *data);
    static void addWrite(void *data);
    static void delWrite(void *data);
    static void cleanup(void *data);

    const RedisAddress m_address;
    const Options m_options;
    redisAsyncContext *m_ac = nullptr;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
    bool m_up = false;
    bool m_announcedDown = false;
    bool m_destroying = false;
    int m_backoffMs = 0;
    quint64 m_nextId = 1;
    std::deque<Pending> m_pending;
    QTimer m_connectDeadline;
    QTimer m_commandTimer;
    QTimer m_reconnect;
    int m_lookupId = -1;
};

} // namespace vaani::cluster
