#pragma once
// vaani-server's top level: resolves settings, owns the shared services (database worker, metrics, tokens,
// rate limiter, call registry), the listening socket on the main thread and the worker threads it hands
// accepted connections to, round-robin. The main thread never touches a call.

#include "secrets.h"
#include "servercontext.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QThread>
#include <QTimer>

#include <memory>
#include <vector>

namespace vaani {

class Config;
class Worker;
class CallRegistry;
class Metrics;
class RateLimiter;
class StreamTokens;
class RecordJournal;
namespace cluster {
class Deployment;
}
namespace db {
class DbWorker;
}

struct ServerOptions
{
    QHostAddress host = QHostAddress::Any;
    quint16 port = 8080;
    int workerThreads = 0; // 0: one per core
    int maxCalls = 1000;
    int rateLimitPerMinute = 120;
    ServerSettings settings;
    QString databaseUrl;
    QString dataDir = QStringLiteral("./data");
    QString dataKeyFile; // VAANI_DATA_KEY_FILE
    QString redisUrl;    // REDIS_URL: empty = one server
    QString journalDir;  // JOURNAL_DIR: empty = <dataDir>/journal/<instance>
    qint64 journalMaxBytes = 256LL * 1024 * 1024;
    bool recordCalls = false; // RECORD_CALLS
    QString recordingsDir;    // RECORDINGS_DIR: empty = <dataDir>/recordings
    int redisTimeoutMs = 500;
    // /metrics, /readyz (and /healthz) on their own listener, loopback by default; port 0: any free port.
    QHostAddress metricsHost = QHostAddress::LocalHost;
    quint16 metricsPort = 9464;
    QString configError; // a setting that could not be used (the server refuses to start)
    bool seedDemoIfEmpty = true;
    bool forceDemo = false;

    static ServerOptions fromConfig(const Config &config);
};

// vaani-server --erase-caller <number>: erases one caller's personal data from the configured database
// (PrivacyRepository::eraseCaller), prints what was erased. Returns the exit code: 0 done, 3 no such caller,
// 1 the database failed.
int eraseCaller(const ServerOptions &options, const QString &number);
// vaani-server --reencrypt: seals every personal value with the current data key. 0 done (all values under
// the current key), 3 some values are sealed with a key that is not loaded, 1 failure.
int reencrypt(const ServerOptions &options);
// vaani-server --migrate: migrations and (PostgreSQL) staff roles, then exit. 0 done, 1 failure.
int migrateOnly(const ServerOptions &options);

// The listening socket (bound by QTcpServer, accepted here). When the process runs out of descriptors,
// accepting backs off instead of spinning: one pending connection is closed with a reserve descriptor so the
// client is not left waiting, the listener pauses for `kBackoffMs`, and the condition is logged once per
// episode (metric vaani_webhook_errors_total{kind="descriptors_exhausted"}). Main thread.
class Listener : public QObject
{
    Q_OBJECT
public:
    explicit Listener(QObject *parent = nullptr);
    ~Listener() override;
    bool listen(const QHostAddress &host, quint16 port);
    void close();
    quint16 serverPort() const { return m_server.serverPort(); }
    QString errorString() const { return m_server.errorString(); }

    std::function<void(qintptr)> onDescriptor;
    std::function<void()> onExhausted; // each time accepting pauses for lack of descriptors
    static constexpr int kBackoffMs = 100;

private:
    void onReadable();
    QTcpServer m_server;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_backoff;
    int m_reserveFd = -1;
    bool m_exhausted = false;
};

class Server : public QObject
{
    Q_OBJECT
public:
    explicit Server(ServerOptions options, QObject *parent = nullptr);
    ~Server() override;

    // Opens the database (migrate, seed) asynchronously, then listens. Emits ready() or failed().
    void start();
    quint16 port() const;
    quint16 metricsPort() const;
    ServerContext *context() { return &m_ctx; }
    // Graceful shutdown (SIGTERM): /readyz answers 503 and new calls get the fallback TwiML at once (the
    // port stays open, so streams of calls already answered still connect); live calls go on for up to
    // graceMs, then end — transferred to HUMAN_AGENT_NUMBER when set, else with a goodbye — and stopped() is
    // emitted once every call record is written. A second call ends the live calls at once.
    void shutdown(int graceMs);
    // RETENTION_DAYS: deletes conversations older than the retention period (run a minute after start, then
    // daily; public for tests). Emits retentionPurged when the database has answered.
    void purgeOldConversations();
    // RECORD_CALLS: deletes the recording files of this server whose calls the database marks erased (a
    // caller's erasure, RETENTION_DAYS); every minute, and after each retention run.
    void sweepRecordings();
    // SIGHUP: takes the secrets of a freshly loaded configuration (Twilio tokens, the OpenAI key,
    // stream-token keys) without dropping a call: the next signature check, Realtime connection and stream
    // use them; warm model sessions are replaced; stream tokens minted with the old key stay valid. Refused
    // (with a warning) when TWILIO_AUTH_TOKEN would become empty. Returns the names of the secrets that
    // changed.
    QStringList reloadSecrets(const ServerSettings &fresh);
    // SIGHUP: re-reads VAANI_DATA_KEY_FILE; a new first key seals from now on, the others still open. An
    // unreadable or malformed file keeps the keys in use (and says so). True when the keys changed.
    bool reloadDataKeys(const QString &dataKeyFile);
    bool isStopping() const { return m_stopping; }

Q_SIGNALS:
    void ready(quint16 port);
    void failed(const QString &reason);
    void stopped();
    void retentionPurged(int transcriptLines, int toolCalls);

private:
    void listen();
    void checkShutdown();
    void endCalls();

    ServerOptions m_options;
    ServerContext m_ctx;
    std::unique_ptr<db::DbWorker> m_db;
    std::unique_ptr<RecordJournal> m_journal; // after m_db: destroyed first
    QString m_journalDir;
    QStringList m_dataKeyIds; // VAANI_DATA_KEY_FILE's keys now in use (first: sealing)
    // Liveness in a shared database: this process's heartbeat, and recovery of dead servers' calls.
    void heartbeat();
    // DAILY_SPEND_CAP_USD: reads today's spend into the context (every spendRefreshMs).
    void refreshSpend();
    QTimer m_spendTimer;
    bool m_spendCapWarned = false;
    QTimer m_heartbeatTimer;
    QDateTime m_processStarted = QDateTime::currentDateTimeUtc();
    bool m_twinWarned = false;
    QString m_twinSeenAt; // the other row's seen_at at the last beat: unchanged next time = it is dead
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<RecordingStore> m_recordings; // RECORD_CALLS (before the workers: destroyed after them)
    std::unique_ptr<StreamTokens> m_tokens;
    std::unique_ptr<RateLimiter> m_rateLimiter;
    std::unique_ptr<RateLimiter> m_failureLimiter;
    std::unique_ptr<CallRegistry> m_registry;
    std::unique_ptr<cluster::Deployment> m_deployment; // REDIS_URL
    Listener m_listener;
    Listener m_metricsListener;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<Worker *> m_workers; // deleted on their threads
    size_t m_next = 0;
    int m_lastActive = 0;
    QTimer m_healthTimer;
    bool m_stopping = false;
    QString m_configError; // DATABASE_URL could not be used
    std::unique_ptr<SecretStore> m_secrets;
    int m_graceMs = 0;
    QElapsedTimer m_shutdownClock;
    static constexpr int kRetentionFirstRunMs = 60 * 1000;
    QTimer m_retentionTimer;
    static constexpr int kRecordingSweepMs = 60 * 1000;
    QTimer m_recordingSweepTimer;
    QTimer m_graceTimer;
    QTimer m_overdueTimer;
    bool m_stopped = false; // stopped() emitted or on its way
    Lifecycle m_lifecycle;
};

} // namespace vaani
