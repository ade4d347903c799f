#include "server.h"

#include "callregistry.h"
#include "config.h"
#include "db/dbworker.h"
#include "deployment.h"
#include "epolldispatcher.h"
#include "logging.h"
#include "metrics.h"
#include "ratelimiter.h"
#include "realtimepool.h"
#include "recordingstore.h"
#include "recordjournal.h"
#include "secrets.h"
#include "streamtokens.h"
#include "worker.h"

#include <QDir>
#include <QHostInfo>
#include <QRegularExpression>
#include <QSslCertificate>

#include <cerrno>
#include <fcntl.h>
#include <malloc.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vaani {

Listener::Listener(QObject *parent)
    : QObject(parent)
{
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
    });
    m_reserveFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Listener::~Listener()
{
    close();
    if (m_reserveFd >= 0)
        ::close(m_reserveFd);
}

bool Listener::listen(const QHostAddress &host, quint16 port)
{
    m_server.setListenBacklogSize(
        4096); // Qt's default of 50 drops a burst of connections (the kernel caps it)
    if (!m_server.listen(host, port))
        return false;
    m_server.pauseAccepting(); // QTcpServer only binds; accepting (with back-off) is ours
    m_notifier = new QSocketNotifier(m_server.socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &Listener::onReadable);
    return true;
}

void Listener::close()
{
    if (m_notifier) {
        m_notifier->setEnabled(false);
        delete m_notifier;
        m_notifier = nullptr;
    }
    m_backoff.stop();
    m_server.close();
}

void Listener::onReadable()
{
    const int listenFd = int(m_server.socketDescriptor());
    for (int i = 0; i < 64; ++i) {
        const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (m_exhausted) {
                m_exhausted = false;
                qCInfo(lcServer) << "accepting connections again";
            }
            onDescriptor(qintptr(fd));
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        // Out of descriptors (or memory): the listening socket stays readable, so retrying now would spin.
        // Shed one waiting connection with the reserve descriptor (its client sees a close, not a hang) and
        // pause; the limit is logged once per episode.
        const int err = errno;
        if (m_reserveFd >= 0 && (err == EMFILE || err == ENFILE)) {
            ::close(m_reserveFd);
            const int shed = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (shed >= 0)
                ::close(shed);
            m_reserveFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        if (!m_exhausted) {
            m_exhausted = true;
            qCWarning(lcServer).noquote()
                << "cannot accept connections:" << QString::fromLocal8Bit(strerror(err))
                << u"(pausing %1 ms at a time until descriptors are free)"_s.arg(kBackoffMs);
        }
        if (onExhausted)
            onExhausted();
        m_notifier->setEnabled(false);
        m_backoff.start(kBackoffMs);
        return;
    }
}

ServerOptions ServerOptions::fromConfig(const Config &c)
{
    ServerOptions o;
    const QString host = c.string(u"HOST"_s);
    o.host = host == u"0.0.0.0"_s ? QHostAddress(QHostAddress::AnyIPv4)
             : host == u"::"_s    ? QHostAddress(QHostAddress::Any)
                                  : QHostAddress(host);
    o.port = quint16(c.integer(u"PORT"_s));
    o.metricsHost = QHostAddress(c.string(u"METRICS_HOST"_s));
    if (o.metricsHost.isNull())
        o.configError = u"METRICS_HOST: '%1' is not an IP address"_s.arg(c.string(u"METRICS_HOST"_s));
    o.metricsPort = quint16(c.integer(u"METRICS_PORT"_s));
    o.workerThreads = c.integer(u"WORKER_THREADS"_s);
    o.maxCalls = c.integer(u"MAX_CALLS"_s);
    o.rateLimitPerMinute = c.integer(u"RATE_LIMIT_PER_MINUTE"_s);
    o.databaseUrl = c.string(u"DATABASE_URL"_s);
    o.dataDir = c.string(u"VAANI_DATA_DIR"_s);
    o.dataKeyFile = c.string(u"VAANI_DATA_KEY_FILE"_s);
    o.redisUrl = c.string(u"REDIS_URL"_s);
    o.journalDir = c.string(u"JOURNAL_DIR"_s);
    o.journalMaxBytes = qint64(c.integer(u"JOURNAL_MAX_MB"_s)) * 1024 * 1024;
    o.recordCalls = c.boolean(u"RECORD_CALLS"_s);
    o.recordingsDir = c.string(u"RECORDINGS_DIR"_s);
    o.redisTimeoutMs = c.integer(u"REDIS_TIMEOUT_MS"_s);
    o.forceDemo = c.boolean(u"SEED_DEMO"_s);
    // Demo data only where asked: the embedded default database gets it when empty (a first `scripts/vaani
    // run`); a database named by DATABASE_URL (production PostgreSQL, say) only with SEED_DEMO.
    o.seedDemoIfEmpty = o.databaseUrl.isEmpty();
    ServerSettings &s = o.settings;
    s.publicUrl = c.url(u"PUBLIC_URL"_s);
    QString proxiesError;
    if (auto proxies = TrustedProxies::parse(c.string(u"TRUSTED_PROXIES"_s), &proxiesError))
        s.trustedProxies = *proxies;
    else
        o.configError = proxiesError;
    s.retentionDays = c.integer(u"RETENTION_DAYS"_s);
    s.twilioAuthToken = c.string(u"TWILIO_AUTH_TOKEN"_s);
    s.twilioAuthTokenSecondary = c.string(u"TWILIO_AUTH_TOKEN_SECONDARY"_s);
    s.streamTokenKey = c.string(u"STREAM_TOKEN_KEY"_s);
    s.streamTokenKeyPrevious = c.string(u"STREAM_TOKEN_KEY_PREVIOUS"_s);
    s.twilio = {c.url(u"TWILIO_API_BASE"_s), c.string(u"TWILIO_ACCOUNT_SID"_s), s.twilioAuthToken};
    s.humanAgentNumber = c.string(u"HUMAN_AGENT_NUMBER"_s);
    s.realtime.url = c.url(u"OPENAI_REALTIME_URL"_s);
    s.realtime.model = c.string(u"OPENAI_MODEL"_s);
    s.realtime.apiKey = c.string(u"OPENAI_API_KEY"_s);
    s.realtime.azure = c.string(u"OPENAI_PROVIDER"_s) == u"azure"_s;
    s.realtime.handshakeTimeoutMs = c.integer(u"MODEL_CONNECT_TIMEOUT_MS"_s);
    if (const QString caFile = c.string(u"OPENAI_CA_FILE"_s); !caFile.isEmpty()) {
        const QList<QSslCertificate> certificates = QSslCertificate::fromPath(caFile, QSsl::Pem);
        for (const QSslCertificate &certificate : certificates)
            s.realtime.extraCaPem += certificate.toPem();
        if (certificates.isEmpty())
            o.configError = u"OPENAI_CA_FILE: no PEM certificate could be read from %1"_s.arg(caFile);
    }
    s.prices = {c.number(u"PRICE_AUDIO_IN_PER_MTOK"_s), c.number(u"PRICE_AUDIO_OUT_PER_MTOK"_s),
                c.number(u"PRICE_TEXT_IN_PER_MTOK"_s), c.number(u"PRICE_TEXT_OUT_PER_MTOK"_s),
                c.number(u"PRICE_CACHED_IN_PER_MTOK"_s)};
    s.instance =
        c.string(u"VAANI_INSTANCE"_s).isEmpty() ? QHostInfo::localHostName() : c.string(u"VAANI_INSTANCE"_s);
    s.streamTokenTtlS = c.integer(u"STREAM_TOKEN_TTL"_s);
    s.prewarmTimeoutMs = s.streamTokenTtlS * 1000;
    s.warmSessions = c.integer(u"OPENAI_WARM_SESSIONS"_s);
    s.shutdownGraceMs = c.integer(u"SHUTDOWN_GRACE"_s) * 1000;
    s.maxCallMs = c.integer(u"MAX_CALL_MINUTES"_s) * 60 * 1000;
    s.modelReconnectAttempts = c.integer(u"MODEL_RECONNECT_ATTEMPTS"_s);
    s.backchannelMs = c.integer(u"BACKCHANNEL_MS"_s);
    s.silencePromptMs = c.integer(u"SILENCE_PROMPT_S"_s) * 1000;
    s.dailySpendCapUsd = c.number(u"DAILY_SPEND_CAP_USD"_s);
    s.maxCallsPerCaller = c.integer(u"MAX_CALLS_PER_CALLER"_s);
    return o;
}

Server::Server(ServerOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    const db::DatabaseConfig dbConfig = db::DatabaseConfig::load(m_options.databaseUrl, m_options.dataDir,
                                                                 m_options.dataKeyFile, &m_configError);
    m_db = std::make_unique<db::DbWorker>(dbConfig);
    if (dbConfig.cipher)
        m_dataKeyIds = dbConfig.cipher->keyIds();
    m_metrics = std::make_unique<Metrics>();
    const ServerSettings &set = m_options.settings;
    m_tokens = std::make_unique<StreamTokens>(secretsOf(set).streamTokenSecret(),
                                              set.streamTokenKeyPrevious.toUtf8(), set.streamTokenTtlS);
    m_rateLimiter = std::make_unique<RateLimiter>(m_options.rateLimitPerMinute);
    m_failureLimiter = std::make_unique<RateLimiter>(m_options.rateLimitPerMinute);
    m_registry = std::make_unique<CallRegistry>(m_options.maxCalls);
    // Shutdown waits for the last call: told when it ends, from whichever worker ended it.
    m_registry->setOnIdle([this] {
        if (m_ctx.draining.load())
            QMetaObject::invokeMethod(this, &Server::checkShutdown, Qt::QueuedConnection);
    });
    m_secrets = std::make_unique<SecretStore>(secretsOf(m_options.settings));
    m_ctx.settings = m_options.settings;
    m_ctx.secrets = m_secrets.get();
    m_ctx.settings.realtime.currentApiKey = [store = m_secrets.get()] { return store->get().openaiApiKey; };
    m_ctx.db = m_db.get();
    {
        RecordJournal::Options j;
        QString instance = set.instance;
        instance.replace(QRegularExpression(u"[^A-Za-z0-9._-]"_s), u"_"_s);
        j.dir = !m_options.journalDir.isEmpty()
                    ? m_options.journalDir
                    : QDir(m_options.dataDir.isEmpty() ? u"./data"_s : m_options.dataDir)
                          .absoluteFilePath(u"journal/"_s + instance);
        j.maxBytes = m_options.journalMaxBytes;
        j.cipher = dbConfig.cipher;
        m_journal = std::make_unique<RecordJournal>(m_db.get(), j);
        m_journalDir = j.dir;
    }
    m_ctx.journal = m_journal.get();
    m_metrics->journal = [j = m_journal.get()] {
        const RecordJournal::Status s = j->status();
        return Metrics::JournalFigures{s.backlog,      s.backlogBytes, s.oldestAgeMs, s.databaseTakesWrites,
                                       s.fileWritable, s.applied,      s.replayed,    s.dropped,
                                       s.rejected,     s.fileErrors};
    };
    m_ctx.metrics = m_metrics.get();
    if (m_options.recordCalls) {
        RecordingStore::Options r;
        r.dir = !m_options.recordingsDir.isEmpty()
                    ? m_options.recordingsDir
                    : QDir(m_options.dataDir.isEmpty() ? u"./data"_s : m_options.dataDir)
                          .absoluteFilePath(u"recordings"_s);
        r.cipher = dbConfig.cipher;
        m_recordings = std::make_unique<RecordingStore>(r, m_metrics.get(), m_journal.get());
        m_ctx.recordings = m_recordings.get();
    }
    m_ctx.tokens = m_tokens.get();
    m_ctx.rateLimiter = m_rateLimiter.get();
    m_ctx.failureLimiter = m_failureLimiter.get();
    m_ctx.registry = m_registry.get();
    m_ctx.lifecycle = &m_lifecycle;
    if (!m_options.redisUrl.isEmpty()) {
        QString error;
        if (auto address = cluster::RedisAddress::parse(m_options.redisUrl, &error)) {
            cluster::DeploymentOptions d;
            d.instance = set.instance;
            d.maxCalls = m_options.maxCalls;
            d.ratePerMinute = m_options.rateLimitPerMinute;
            d.heartbeatMs = set.heartbeatMs;
            d.redis.commandTimeoutMs = m_options.redisTimeoutMs;
            d.redis.connectTimeoutMs = std::max(2000, m_options.redisTimeoutMs);
            m_deployment =
                std::make_unique<cluster::Deployment>(*address, d, m_metrics.get(), m_registry.get());
            m_ctx.deployment = m_deployment.get();
            // Ends of calls leave the deployment's count at once (not only at expiry).
            m_registry->setOnRelease([d = m_deployment.get()](const QString &sid) { d->releaseCall(sid); });
        } else {
            m_configError = error;
        }
    }
    if (!m_ctx.modelProvider) {
        // OPENAI_WARM_SESSIONS shared out over the workers; without an API key none are kept warm.
        m_ctx.modelProvider = [this](int index) -> std::unique_ptr<ModelProvider> {
            const int workers = m_ctx.workerCount, total = m_ctx.settings.warmSessions;
            int warm = total / workers + (index < total % workers ? 1 : 0);
            if (m_ctx.settings.realtime.apiKey.isEmpty())
                warm = 0;
            return std::make_unique<RealtimePool>(m_ctx.settings.realtime, m_ctx.metrics, warm);
        };
    }
    m_listener.onDescriptor = [this](qintptr fd) {
        Worker *w = m_workers[m_next++ % m_workers.size()];
        qCDebug(lcServer) << "connection" << fd << "to worker" << w->index();
        QMetaObject::invokeMethod(
            w, [w, fd] { w->takeSocket(fd); }, Qt::QueuedConnection);
    };
    m_listener.onExhausted = [this] { m_metrics->webhookError(u"descriptors_exhausted"_s); };
    // Probes and metrics: few, small requests; the first worker answers them.
    m_metricsListener.onDescriptor = [this](qintptr fd) {
        Worker *w = m_workers.front();
        QMetaObject::invokeMethod(
            w, [w, fd] { w->takeSocket(fd, Worker::Listener::Metrics); }, Qt::QueuedConnection);
    };
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &Server::heartbeat);
    connect(&m_spendTimer, &QTimer::timeout, this, &Server::refreshSpend);
    m_healthTimer.setInterval(5000);
    connect(&m_healthTimer, &QTimer::timeout, this, [this] {
        // After a burst of calls, hand freed memory back to the system so RSS returns to its baseline.
        const int active = m_registry->active();
        if (active == 0 && m_lastActive > 0)
            malloc_trim(0);
        m_lastActive = active;
        m_db->ping().then(this, [this](db::DbResult<bool> r) {
            if (m_ctx.databaseHealthy.exchange(r.ok()) != r.ok())
                qCWarning(lcDb) << (r.ok() ? "database reachable again" : "database unreachable:")
                                << r.error.message;
        });
    });
}

Server::~Server()
{
    m_listener.close();
    m_metricsListener.close();
    for (size_t i = 0; i < m_threads.size(); ++i) {
        Worker *w = m_workers[i];
        QMetaObject::invokeMethod(
            w, [w] { delete w; }, Qt::BlockingQueuedConnection);
        m_threads[i]->quit();
        m_threads[i]->wait();
    }
}

void Server::start()
{
    if (!m_configError.isEmpty()) {
        Q_EMIT failed(m_configError); // never fall back to another database than the one asked for
        return;
    }
    if (!m_options.configError.isEmpty()) {
        Q_EMIT failed(m_options.configError);
        return;
    }
    if (m_ctx.settings.twilioAuthToken.isEmpty())
        qCWarning(lcServer).noquote()
            << "\n*** TWILIO_AUTH_TOKEN is not set: Twilio signatures are NOT checked. Anyone who can reach "
               "this port "
               "can start calls.\n*** Set TWILIO_AUTH_TOKEN before exposing the server. ***";
    if (!m_db->config().cipher || !m_db->config().cipher->enabled())
        qCWarning(lcServer).noquote()
            << "VAANI_DATA_KEY_FILE is not set: callers' numbers, transcripts, tool calls and ticket "
               "summaries "
               "are stored in clear; anyone with a copy of the database reads them (docs/security.md)";
    else
        qCInfo(lcServer).noquote() << "personal data is sealed with data key"
                                   << m_db->config().cipher->currentKeyId();
    if (m_ctx.settings.realtime.apiKey.isEmpty())
        qCWarning(lcServer)
            << "OPENAI_API_KEY is not set: calls will get the fallback (apology, transfer or hang-up)";
    if (!m_ctx.settings.publicUrl.isValid() || m_ctx.settings.publicUrl.isEmpty())
        qCWarning(lcServer)
            << "PUBLIC_URL is not set: stream URLs and signatures derive from the Host header";
    qCInfo(lcDb) << "database:" << m_db->config().describe();
    if (m_deployment) {
        qCInfo(lcServer).noquote() << "deployment state in Redis at"
                                   << m_deployment->findChild<cluster::RedisClient *>()->address().display()
                                   << "as instance" << m_ctx.settings.instance;
        m_deployment->start();
    }
    m_db->initialise(m_options.seedDemoIfEmpty, m_options.forceDemo).then(this, [this](db::DbResult<int> r) {
        if (!r.ok()) {
            Q_EMIT failed(u"database: "_s + r.error.message);
            return;
        }
        qCInfo(lcDb) << "schema version" << r.value;
        // The journal after the migrations (its writes need the schema); what an earlier run left is applied
        // before this run's own writes.
        QString journalError;
        if (!m_journal->open(&journalError)) {
            Q_EMIT failed(u"journal: "_s + journalError);
            return;
        }
        qCInfo(lcDb).noquote() << "call-record journal in" << m_journalDir;
        if (m_recordings) {
            QString recordingsError;
            if (!m_recordings->open(&recordingsError)) {
                Q_EMIT failed(u"RECORD_CALLS: "_s + recordingsError);
                return;
            }
            qCInfo(lcServer).noquote() << "recording calls in" << m_recordings->dir()
                                       << (m_db->config().cipher && m_db->config().cipher->enabled()
                                               ? "(sealed with the data key)"
                                               : "(in clear: set VAANI_DATA_KEY_FILE to seal them)");
        }
        heartbeat(); // at once: calls a killed earlier run of this server left behind are closed first
        m_heartbeatTimer.start(m_ctx.settings.heartbeatMs);
        if (m_recordings)
            m_recordingSweepTimer.start(kRecordingSweepMs);
        if (m_ctx.settings.dailySpendCapUsd > 0) {
            refreshSpend();
            m_spendTimer.start(m_ctx.settings.spendRefreshMs);
        }
        listen();
    });
}

void Server::listen()
{
    int n = m_options.workerThreads > 0 ? m_options.workerThreads : std::max(1, QThread::idealThreadCount());
    m_ctx.workerCount = n;
    for (int i = 0; i < n; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(u"vaani-worker-%1"_s.arg(i));
        // epoll instead of poll() over every socket on each wake-up; VAANI_EVENT_DISPATCHER=qt uses Qt's own.
        if (qEnvironmentVariable("VAANI_EVENT_DISPATCHER") != u"qt"_s)
            thread->setEventDispatcher(new EpollEventDispatcher);
        auto *w = new Worker(&m_ctx, i);
        w->moveToThread(thread.get());
        thread->start();
        QMetaObject::invokeMethod(
            w, [w] { w->init(); }, Qt::BlockingQueuedConnection);
        m_workers.push_back(w);
        m_threads.push_back(std::move(thread));
    }
    if (!m_listener.listen(m_options.host, m_options.port)) {
        Q_EMIT failed(u"cannot listen on %1:%2: %3"_s.arg(m_options.host.toString())
                          .arg(m_options.port)
                          .arg(m_listener.errorString()));
        return;
    }
    if (!m_metricsListener.listen(m_options.metricsHost, m_options.metricsPort)) {
        Q_EMIT failed(
            u"cannot listen for metrics on %1:%2: %3 (METRICS_PORT)"_s.arg(m_options.metricsHost.toString())
                .arg(m_options.metricsPort)
                .arg(m_metricsListener.errorString()));
        return;
    }
    qCInfo(lcServer).noquote() << u"metrics and probes on http://%1:%2 (/metrics, /readyz, /healthz)"_s
                                      .arg(m_options.metricsHost.toString())
                                      .arg(m_metricsListener.serverPort());
    m_healthTimer.start();
    // Retention: a minute after start (not in the way of the first calls), then daily.
    connect(&m_retentionTimer, &QTimer::timeout, this, &Server::purgeOldConversations);
    // Recordings erased in the database (a caller's erasure from vaani-admin) are deleted within a minute.
    connect(&m_recordingSweepTimer, &QTimer::timeout, this, &Server::sweepRecordings);
    m_retentionTimer.start(kRetentionFirstRunMs);
    qCInfo(lcServer).noquote() << u"vaani-server listening on http://%1:%2 (%3 worker threads)"_s
                                      .arg(m_options.host.toString())
                                      .arg(m_listener.serverPort())
                                      .arg(n);
    Q_EMIT ready(m_listener.serverPort());
}

quint16 Server::port() const
{
    return m_listener.serverPort();
}

quint16 Server::metricsPort() const
{
    return m_metricsListener.serverPort();
}

void Server::shutdown(int graceMs)
{
    if (m_stopping) {
        // A second request (another SIGTERM, Ctrl+C twice): end the calls now.
        qCWarning(lcServer) << "shutting down now: ending" << m_ctx.registry->active() << "live calls";
        endCalls();
        return;
    }
    m_stopping = true;
    m_ctx.draining = true;
    m_healthTimer.stop();
    const int live = m_ctx.registry ? m_ctx.registry->active() : 0;
    qCInfo(lcServer).noquote() << u"shutting down: /readyz says 503, new calls get the fallback; %1 live "
                                  "call(s) may go on for up to %2 s"_s.arg(live)
                                      .arg(graceMs / 1000.0);
    m_shutdownClock.start();
    m_graceMs = graceMs;
    // No polling: the registry reports the last call's end; these two timers mark the grace period's end and
    // the moment ended calls are overdue.
    m_graceTimer.setSingleShot(true);
    m_graceTimer.setTimerType(Qt::PreciseTimer); // a coarse timer may fire up to 5 % early
    m_overdueTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_graceTimer, &QTimer::timeout, this, &Server::checkShutdown, Qt::UniqueConnection);
    m_graceTimer.start(graceMs);
    m_overdueTimer.setSingleShot(true);
    connect(&m_overdueTimer, &QTimer::timeout, this, &Server::checkShutdown, Qt::UniqueConnection);
    m_overdueTimer.start(graceMs + m_ctx.settings.hangupDrainTimeoutMs + 2000);
    checkShutdown();
}

void Server::checkShutdown()
{
    const int live = m_ctx.registry ? m_ctx.registry->active() : 0;
    if (m_stopped)
        return;
    const qint64 spent = m_shutdownClock.elapsed();
    if (live > 0 && !m_ctx.endingCalls.load() && spent < m_graceMs && !m_graceTimer.isActive())
        m_graceTimer.start(int(m_graceMs - spent)); // woken early: wait for the rest of the grace
    if (live > 0 && !m_ctx.endingCalls.load() && spent >= m_graceMs) {
        qCInfo(lcServer) << "grace period over: ending" << live << "live call(s)";
        endCalls();
    }
    // Ended calls still play their goodbye or wait for Twilio; after the hang-up drain time they are gone.
    const qint64 overdueAt = m_graceMs + m_ctx.settings.hangupDrainTimeoutMs + 2000;
    if (live > 0 && spent < overdueAt) {
        if (!m_overdueTimer.isActive())
            m_overdueTimer.start(int(overdueAt - spent));
        return;
    }
    if (live > 0)
        qCWarning(lcServer) << live << "call(s) did not end in time; stopping anyway";
    m_stopped = true;
    m_graceTimer.stop();
    m_overdueTimer.stop();
    m_listener.close();
    m_metricsListener.close();
    if (m_deployment)
        m_deployment->leave(); // the other servers see one server fewer at once
    // The database thread runs jobs in order: once this ping is answered, every record write queued by the
    // calls before it has been done.
    if (!m_db) {
        Q_EMIT stopped();
        return;
    }
    m_heartbeatTimer.stop();
    m_db->submit(
        [instance = m_ctx.settings.instance](db::Repositories &r) { return r.calls.forget(instance); });
    // Every record write queued by the calls is tried once more; what the database does not take now stays
    // in the journal, fsynced, for the next start.
    m_journal->whenTried([this] {
        QMetaObject::invokeMethod(
            this,
            [this] {
                const RecordJournal::Status s = m_journal->status();
                if (s.backlog == 0)
                    qCInfo(lcServer) << "shut down: every call record is complete";
                else
                    qCWarning(lcServer).noquote() << u"shut down: %1 call-record write(s) wait in the "
                                                     u"journal (%2) for the database; the "
                                                     "next start applies them"_s.arg(s.backlog)
                                                         .arg(m_journalDir);
                Q_EMIT stopped();
            },
            Qt::QueuedConnection);
    });
}

QStringList Server::reloadSecrets(const ServerSettings &fresh)
{
    const SecretSet now = m_secrets->get();
    const SecretSet next = secretsOf(fresh);
    if (next.twilioAuthToken.isEmpty() && !now.twilioAuthToken.isEmpty()) {
        // Never switch signature checks off by accident (an unreadable or emptied file).
        qCWarning(lcServer) << "secrets not reloaded: TWILIO_AUTH_TOKEN would become empty, which turns off "
                               "Twilio signature checks; restart to do that on purpose";
        return {};
    }
    QStringList changed;
    if (next.twilioAuthToken != now.twilioAuthToken)
        changed << u"TWILIO_AUTH_TOKEN"_s;
    if (next.twilioAuthTokenSecondary != now.twilioAuthTokenSecondary)
        changed << u"TWILIO_AUTH_TOKEN_SECONDARY"_s;
    if (next.openaiApiKey != now.openaiApiKey)
        changed << u"OPENAI_API_KEY"_s;
    if (next.streamTokenKey != now.streamTokenKey)
        changed << u"STREAM_TOKEN_KEY"_s;
    if (next.streamTokenKeyPrevious != now.streamTokenKeyPrevious)
        changed << u"STREAM_TOKEN_KEY_PREVIOUS"_s;
    if (changed.isEmpty()) {
        qCInfo(lcServer) << "secrets reloaded: none changed";
        return changed;
    }
    m_secrets->set(next);
    if (changed.contains(u"STREAM_TOKEN_KEY"_s) || changed.contains(u"STREAM_TOKEN_KEY_PREVIOUS"_s) ||
        (next.streamTokenKey.isEmpty() && changed.contains(u"TWILIO_AUTH_TOKEN"_s))) {
        // Tokens minted a moment ago (with the old key) must still work: the old key stays accepted unless a
        // previous key is named.
        const QByteArray oldSecret = now.streamTokenSecret();
        const QByteArray newSecret = next.streamTokenSecret();
        m_tokens->rekey(newSecret, next.streamTokenKeyPrevious.isEmpty()
                                       ? oldSecret
                                       : next.streamTokenKeyPrevious.toUtf8());
    }
    if (changed.contains(u"OPENAI_API_KEY"_s)) {
        for (Worker *w : m_workers)
            QMetaObject::invokeMethod(
                w, [w] { w->refreshModels(); }, Qt::QueuedConnection);
    }
    qCInfo(lcServer).noquote()
        << u"secrets reloaded; changed: %1 (calls in progress keep their connections)"_s.arg(
               changed.join(u", "_s));
    return changed;
}

bool Server::reloadDataKeys(const QString &dataKeyFile)
{
    QString error;
    auto cipher = db::DataCipher::fromFile(dataKeyFile, &error);
    if (!error.isEmpty()) {
        qCWarning(lcServer).noquote() << "data keys not reloaded (the loaded ones stay in use):" << error;
        return false;
    }
    const QStringList ids = cipher->keyIds();
    if (ids == m_dataKeyIds)
        return false;
    if (ids.isEmpty() && !m_dataKeyIds.isEmpty()) {
        qCWarning(lcServer) << "data keys not reloaded: VAANI_DATA_KEY_FILE is now empty, which would store "
                               "personal data in clear; restart to do that on purpose";
        return false;
    }
    m_db->setCipher(cipher);
    m_journal->setCipher(cipher);
    if (m_recordings)
        m_recordings->setCipher(cipher);
    qCInfo(lcServer).noquote()
        << u"data keys reloaded: %1 (sealing with %2); run vaani-server --reencrypt to "
           "move older values to it"_s.arg(ids.join(u", "_s), cipher->currentKeyId());
    m_dataKeyIds = ids;
    return true;
}

void Server::endCalls()
{
    m_ctx.endingCalls = true;
    Q_EMIT m_lifecycle.endCalls(u"server shutting down"_s); // queued to each session's thread
}

} // namespace vaani
