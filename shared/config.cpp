#include "config.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
constexpr unsigned S = App::Server;
constexpr unsigned A = App::Admin;
constexpr unsigned P = App::Softphone;
} // namespace

bool Config::hasFileVariant(const SettingDef &d)
{
    return d.type == SettingType::Secret || qstrcmp(d.key, "DATABASE_URL") == 0 ||
           qstrcmp(d.key, "REDIS_URL") == 0;
}

const QList<SettingDef> &Config::table()
{
    static const QList<SettingDef> defs = {
        {"PORT", "port", SettingType::Port, "8080",
         "TCP port for HTTP webhooks and the Media Streams WebSocket", S, 0, 65535},
        {"HOST", "host", SettingType::String, "0.0.0.0", "Address to listen on", S},
        {"METRICS_HOST", "metrics-host", SettingType::String, "127.0.0.1",
         "Address of the listener for /metrics, /readyz and /healthz (keep it private; the public port "
         "serves "
         "only Twilio's paths and /healthz)",
         S},
        {"METRICS_PORT", "metrics-port", SettingType::Port, "9464",
         "Port of the metrics and probes listener (0 = any free port, logged at start)", S, 0, 65535},
        {"TRUSTED_PROXIES", "trusted-proxies", SettingType::String, "",
         "Load balancers (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For and "
         "X-Forwarded-Proto are believed, for rate limits, logs and signature URLs; from anyone else they "
         "are "
         "ignored",
         S},
        {"PUBLIC_URL", "public-url", SettingType::Url, "",
         "The https URL Twilio reaches (stream URL and signatures derive from it); empty = derive from Host "
         "header",
         S, 0, 0, "http,https"},
        {"OPENAI_API_KEY", "openai-api-key", SettingType::Secret, "", "OpenAI (or Azure OpenAI) API key", S},
        {"OPENAI_REALTIME_URL", "openai-realtime-url", SettingType::Url, "wss://api.openai.com/v1/realtime",
         "Realtime WebSocket endpoint (Azure: wss://<res>.openai.azure.com/openai/v1/realtime)", S, 0, 0,
         "ws,wss"},
        {"OPENAI_CA_FILE", "openai-ca-file", SettingType::Path, "",
         "PEM file of extra certificate authorities trusted for OPENAI_REALTIME_URL (a private endpoint or a "
         "TLS-inspecting proxy), besides the system's",
         S},
        {"OPENAI_MODEL", "openai-model", SettingType::String, "gpt-realtime",
         "Realtime model (Azure: deployment)", S},
        {"OPENAI_PROVIDER", "openai-provider", SettingType::Choice, "openai",
         "openai (Authorization: Bearer) or azure (api-key header)", S, 0, 0, "openai,azure"},
        {"TWILIO_ACCOUNT_SID", "twilio-account-sid", SettingType::String, "", "Twilio Account SID (AC…)",
         S | P},
        {"TWILIO_AUTH_TOKEN", "twilio-auth-token", SettingType::Secret, "",
         "Twilio Auth Token; signs webhooks. Empty = signatures NOT checked (development only)", S | P},
        {"TWILIO_AUTH_TOKEN_SECONDARY", "twilio-auth-token-secondary", SettingType::Secret, "",
         "Twilio's secondary Auth Token during a token rotation: webhooks signed with either token are "
         "accepted",
         S},
        {"STREAM_TOKEN_KEY", "stream-token-key", SettingType::Secret, "",
         "Key that signs the single-use stream tokens (the same on every server); empty = derived from "
         "TWILIO_AUTH_TOKEN, or random per process without one",
         S},
        {"STREAM_TOKEN_KEY_PREVIOUS", "stream-token-key-previous", SettingType::Secret, "",
         "The stream-token key before a rotation: tokens it signed are still accepted (they live "
         "STREAM_TOKEN_TTL seconds)",
         S},
        {"TWILIO_API_BASE", "twilio-api-base", SettingType::Url, "https://api.twilio.com",
         "Twilio REST API base URL", S, 0, 0, "http,https"},
        {"VAANI_DATA_DIR", "data-dir", SettingType::Path, "./data",
         "Directory for the SQLite file and other data", S | A},
        {"DATABASE_URL", "database-url", SettingType::String, "",
         "Database: empty = vaani.db in the data dir; sqlite:///abs/path.db; "
         "postgresql://user:pass@host:port/db[?sslmode=verify-full&sslrootcert=/path/ca.pem&…] (libpq's TLS, "
         "timeout and keepalive parameters, and statement_timeout in ms, default 30000)",
         S | A},
        {"JOURNAL_DIR", "journal-dir", SettingType::Path, "",
         "Directory of this server's call-record journal: every record write is fsynced there first and "
         "applied to the database in order, later if the database is away, and replayed after a crash; "
         "empty = <VAANI_DATA_DIR>/journal/<VAANI_INSTANCE>. Local disk, one per server",
         S},
        {"JOURNAL_MAX_MB", "journal-max-mb", SettingType::Int, "256",
         "Call-record writes that may wait for the database (in memory and in the journal) before new ones "
         "are dropped (logged, counted in vaani_journal_dropped_total, /readyz 503)",
         S, 1, 100000},
        {"REDIS_URL", "redis-url", SettingType::String, "",
         "Redis shared by several servers behind one load balancer: "
         "redis://[[user]:password@]host[:port][/db]; "
         "stream tokens single-use, MAX_CALLS and the webhook rate limits deployment-wide, a registry of "
         "live "
         "servers and calls; empty = one server, everything in this process",
         S},
        {"REDIS_TIMEOUT_MS", "redis-timeout-ms", SettingType::Int, "500",
         "Milliseconds a Redis answer may take before this server decides alone (rate limits by its own "
         "limiter, calls by its share of MAX_CALLS, stream tokens by its own memory) and reconnects (at most "
         "4000: a webhook waits for it)",
         S, 50, 4000},
        {"MODEL_CONNECT_TIMEOUT_MS", "model-connect-timeout-ms", SettingType::Int, "4000",
         "Milliseconds the model may take to accept a call's session (connect, session.created, "
         "session.updated); past it, or at once when it refuses (401, 429, 5xx, connection refused), the "
         "caller hears the fallback: a Hinglish apology and a keypad menu (1: a callback ticket, 2: "
         "HUMAN_AGENT_NUMBER)",
         S, 500, 30000},
        {"BACKCHANNEL_MS", "backchannel-ms", SettingType::Int, "500",
         "Caller speech over the agent shorter than this, or whose transcript is only a backchannel (haan, "
         "haan ji, acha, hmm, ok, theek hai, right, yes), does not stop the agent; longer speech does "
         "(Twilio's "
         "audio cleared, the answer cut where the caller stopped hearing it). The bridge, not the model, "
         "decides when to answer. 0 = every sound from the caller interrupts (the model's own barge-in)",
         S, 0, 3000},
        {"RECORD_CALLS", "record-calls", SettingType::Bool, "false",
         "Record calls (stereo 8 kHz: caller left, agent right as played) under RECORDINGS_DIR, mode 0600, "
         "sealed with the data key when VAANI_DATA_KEY_FILE is set, linked from the call record, deleted by "
         "RETENTION_DAYS and a caller's erasure. The greeting adds the prompt's recording notice; a caller "
         "who declines is not recorded (what was recorded is deleted)",
         S},
        {"RECORDINGS_DIR", "recordings-dir", SettingType::Path, "",
         "Where recordings are written (and where vaani-admin finds them): <UTC "
         "date>/<CallSid>.wav[.sealed]; "
         "empty = <VAANI_DATA_DIR>/recordings. Shared storage when admins replay calls recorded by several "
         "servers",
         S | A},
        {"SILENCE_PROMPT_S", "silence-prompt-s", SettingType::Int, "8",
         "Seconds of silence from the caller after the agent has finished before it gently asks, in the "
         "caller's language, whether they are still there; after a second such silence it offers a callback "
         "(a ticket for the caller's number), says goodbye and hangs up (outcome no_response). Never while a "
         "tool runs or the agent speaks. 0 = off",
         S, 0, 120},
        {"MODEL_RECONNECT_ATTEMPTS", "model-reconnect-attempts", SettingType::Int, "3",
         "When the model's connection drops mid-call (or its session expires), attempts to continue the call "
         "on a new session (a warm one first) with the conversation so far, the caller's audio held "
         "meanwhile; after this many failed attempts in a row the caller hears the fallback. 0 = no "
         "resume",
         S, 0, 10},
        {"HUMAN_AGENT_NUMBER", "human-agent-number", SettingType::String, "",
         "E.164 number calls are transferred to", S},
        {"MAX_CALLS", "max-calls", SettingType::Int, "1000",
         "Concurrent call limit (with REDIS_URL: for all servers together); above it callers get the "
         "fallback",
         S, 1, 100000},
        {"MAX_CALL_MINUTES", "max-call-minutes", SettingType::Int, "30",
         "Longest call: 20 s before it the agent tells the caller, in their language, that the call must end "
         "and says goodbye; at the limit the call is hung up (outcome time_limit). 0 = no limit",
         S, 0, 1440},
        {"MAX_CALLS_PER_CALLER", "max-calls-per-caller", SettingType::Int, "3",
         "Calls one phone number may have in progress at once (with REDIS_URL: on all servers together); "
         "beyond it the caller gets the fallback. Withheld or non-E.164 numbers are not limited. 0 = no "
         "limit",
         S, 0, 1000},
        {"DAILY_SPEND_CAP_USD", "daily-spend-cap-usd", SettingType::Double, "0",
         "Model spend per day (all servers on the database, priced with the PRICE_* settings; the day runs "
         "from midnight in the server's time zone) beyond which new calls go straight to the fallback "
         "(apology, then HUMAN_AGENT_NUMBER or a hang-up); calls in progress go on. 0 = no cap",
         S, 0, 1e9},
        {"WORKER_THREADS", "worker-threads", SettingType::Int, "0", "Call worker threads (0 = one per core)",
         S, 0, 256},
        {"OPENAI_WARM_SESSIONS", "openai-warm-sessions", SettingType::Int, "2",
         "Realtime sessions kept connected and idle (spread over the workers) so a call skips the connect "
         "and "
         "its greeting is ready sooner; idle ones cost no tokens and are replaced every 10 min (0 = off)",
         S, 0, 1000},
        {"SHUTDOWN_GRACE", "shutdown-grace", SettingType::Int, "30",
         "Seconds live calls may go on after SIGTERM before they are ended (with a goodbye, or a transfer "
         "to HUMAN_AGENT_NUMBER); new calls get the fallback meanwhile",
         S, 0, 3600},
        {"RETENTION_DAYS", "retention-days", SettingType::Int, "90",
         "Days a call's conversation (transcript, tool arguments and results) is kept; older ones are purged "
         "daily, the call's outcome, costs and latencies stay (0 = keep forever)",
         S, 0, 36500},
        {"VAANI_DATA_KEY_FILE", "data-key-file", SettingType::Path, "",
         "File with the key(s) that seal personal data at rest (numbers, transcripts, tool calls, ticket "
         "summaries): lines \"<id> <base64 of 32 random bytes>\", the first one current; empty = stored in "
         "clear (the server warns). Re-read on SIGHUP",
         S | A},
        {"REENCRYPT", "reencrypt", SettingType::Bool, "false",
         "Seal every personal value with the current data key (after adding a key, or to encrypt an existing "
         "database), print what changed and exit; safe while servers run",
         S},
        {"MIGRATE_ONLY", "migrate", SettingType::Bool, "false",
         "Apply the schema migrations and, on PostgreSQL, the staff roles and grants (as the tables' owner "
         "with CREATEROLE), then exit (with --seed-demo also the demo data); for servers that run as the "
         "minimal vaani_server role",
         S},
        {"ERASE_CALLER", "erase-caller", SettingType::String, "",
         "Erase this caller's personal data (give the phone number) from the database, print what was erased "
         "and exit; an audit row records it",
         S},
        {"STREAM_TOKEN_TTL", "stream-token-ttl", SettingType::Int, "60",
         "Seconds a stream token from the webhook stays valid", S, 5, 3600},
        {"RATE_LIMIT_PER_MINUTE", "rate-limit", SettingType::Int, "120",
         "Webhook requests per source IP per minute (with REDIS_URL: for all servers together; 0 = off)", S,
         0, 1000000},
        {"PRICE_AUDIO_IN_PER_MTOK", "price-audio-in", SettingType::Double, "32",
         "USD per million audio input tokens", S, 0, 1e6},
        {"PRICE_AUDIO_OUT_PER_MTOK", "price-audio-out", SettingType::Double, "64",
         "USD per million audio output tokens", S, 0, 1e6},
        {"PRICE_TEXT_IN_PER_MTOK", "price-text-in", SettingType::Double, "4",
         "USD per million text input tokens", S, 0, 1e6},
        {"PRICE_TEXT_OUT_PER_MTOK", "price-text-out", SettingType::Double, "16",
         "USD per million text output tokens", S, 0, 1e6},
        {"PRICE_CACHED_IN_PER_MTOK", "price-cached-in", SettingType::Double, "0.4",
         "USD per million cached input tokens", S, 0, 1e6},
        {"VAANI_INSTANCE", "instance", SettingType::String, "",
         "Name of this server instance (default: host name)", S},
        {"SEED_DEMO", "seed-demo", SettingType::Bool, "false",
         "Load the demo data (the default embedded database gets it when empty; a DATABASE_URL database "
         "only with this; existing rows are kept)",
         S},
        {"LOG_FORMAT", "log-format", SettingType::Choice, "text", "Log line format: text or json", S | A | P,
         0, 0, "text,json"},
        {"LOG_LEVEL", "log-level", SettingType::Choice, "info", "Lowest level logged: debug, info, warning",
         S | A | P, 0, 0, "debug,info,warning"},
        {"VAANI_SERVER_URL", "server-url", SettingType::Url, "http://127.0.0.1:8080",
         "Server the softphone calls", P, 0, 0, "http,https"},
        {"VAANI_CALLER", "caller", SettingType::String, "+919876543210",
         "Caller number the softphone presents", P},
        {"VAANI_CALLED", "called", SettingType::String, "+918000000000",
         "Number the softphone dials (Twilio's To)", P},
        {"SOFTPHONE_HEADLESS", "headless", SettingType::Bool, "false",
         "Call without a window or audio devices (implied by --play and --script)", P},
        {"SOFTPHONE_PLAY", "play", SettingType::Path, "", "Headless: send this WAV (any rate) as the caller",
         P},
        {"SOFTPHONE_SCRIPT", "script", SettingType::Path, "",
         "Headless: run this caller script (wait, play, say, rate, dtmf, wait-for-agent, wait-agent-quiet, "
         "wait-for-hangup, hangup; resources/softphone/)",
         P},
        {"SOFTPHONE_RECORD", "record", SettingType::Path, "",
         "Write both sides to this WAV (stereo 8 kHz: caller left, agent right)", P},
        {"SOFTPHONE_EVENTS", "events", SettingType::Path, "",
         "Write protocol events as JSON lines to this file", P},
        {"SOFTPHONE_DIAL", "dial", SettingType::Bool, "false", "Window: place the call as soon as it opens",
         P},
        {"SOFTPHONE_SCREENSHOT", "screenshot", SettingType::Path, "",
         "Window: save it as a PNG and exit (after 4 s with --dial)", P},
        {"VAANI_LANGUAGE", "language", SettingType::Choice, "", "UI language: en or hi (empty = system)",
         A | P, 0, 0, ",en,hi"},
    };
    return defs;
}

const SettingDef *Config::find(const QString &key)
{
    for (const auto &d : table()) {
        if (key == QLatin1String(d.key))
            return &d;
    }
    return nullptr;
}

QString Config::validate(const SettingDef &def, const QString &value)
{
    const QString name = QLatin1String(def.key);
    switch (def.type) {
    case SettingType::String:
    case SettingType::Secret:
    case SettingType::Path:
        return {};
    case SettingType::Port:
    case SettingType::Int: {
        bool ok = false;
        const qlonglong v = value.trimmed().toLongLong(&ok);
        if (!ok)
            return u"%1: '%2' is not a whole number"_s.arg(name, value);
        if (v < qlonglong(def.minValue) || v > qlonglong(def.maxValue))
            return u"%1: %2 is out of range (%3–%4)"_s.arg(name)
                .arg(v)
                .arg(qlonglong(def.minValue))
                .arg(qlonglong(def.maxValue));
        return {};
    }
    case SettingType::Double: {
        bool ok = false;
        const double v = value.trimmed().toDouble(&ok);
        if (!ok)
            return u"%1: '%2' is not a number"_s.arg(name, value);
        if (v < def.minValue || v > def.maxValue)
            return u"%1: %2 is out of range (%3–%4)"_s.arg(name).arg(v).arg(def.minValue).arg(def.maxValue);
        return {};
    }
    case SettingType::Bool: {
        static const QStringList ok = {u"1"_s,   u"0"_s,  u"true"_s, u"false"_s,
                                       u"yes"_s, u"no"_s, u"on"_s,   u"off"_s};
        if (!ok.contains(value.trimmed().toLower()))
            return u"%1: '%2' is not a boolean (true/false)"_s.arg(name, value);
        return {};
    }
    case SettingType::Url: {
        if (value.isEmpty())
            return {};
        const QUrl url(value, QUrl::StrictMode);
        const QStringList schemes = QString::fromLatin1(def.choices).split(u',');
        if (!url.isValid() || url.host().isEmpty() || !schemes.contains(url.scheme()))
            return u"%1: '%2' is not a valid URL (expected %3://host…)"_s.arg(
                name, value, schemes.join(u"://host… or "_s));
        return {};
    }
    case SettingType::Choice: {
        const QStringList choices = QString::fromLatin1(def.choices).split(u',');
        if (!choices.contains(value))
            return u"%1: '%2' is not one of: %3"_s.arg(name, value, choices.join(u", "_s));
        return {};
    }
    }
    return {};
}

QHash<QString, QString> Config::parseDotenv(const QByteArray &content, QString *error)
{
    QHash<QString, QString> out;
    int lineNo = 0;
    for (const QByteArray &raw : content.split('\n')) {
        ++lineNo;
        QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u"export "_s))
            line = line.mid(7).trimmed();
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0) {
            if (error && error->isEmpty())
                *error = u".env line %1: expected NAME=value"_s.arg(lineNo);
            continue;
        }
        const QString key = line.left(eq).trimmed();
        QString value = line.mid(eq + 1).trimmed();
        if (value.size() >= 2 && ((value.startsWith(u'"') && value.endsWith(u'"')) ||
                                  (value.startsWith(u'\'') && value.endsWith(u'\''))))
            value = value.mid(1, value.size() - 2);
        out.insert(key, value);
    }
    return out;
}

Config::LoadResult Config::load(unsigned app, const QStringList &args, const QProcessEnvironment &env,
                                const QString &dotenvPath, const QString &binaryDir)
{
    m_values.clear();
    m_sources.clear();
    for (const auto &d : table()) {
        m_values.insert(QLatin1String(d.key), QLatin1String(d.defaultValue));
        m_sources.insert(QLatin1String(d.key), u"default"_s);
    }

    QString envFile = dotenvPath;
    if (envFile.isEmpty() && env.contains(u"VAANI_ENV_FILE"_s))
        envFile = env.value(u"VAANI_ENV_FILE"_s);
    if (envFile.isEmpty())
        envFile = (!QFile::exists(u".env"_s) && !binaryDir.isEmpty()) ? binaryDir + u"/.env"_s : u".env"_s;
    QHash<QString, QString> dotenv;
    if (QFile f(envFile); f.open(QIODevice::ReadOnly)) {
        QString err;
        dotenv = parseDotenv(f.readAll(), &err);
        if (!err.isEmpty())
            return {Status::Error, envFile + u": "_s + err};
    } else if (!dotenvPath.isEmpty() || env.contains(u"VAANI_ENV_FILE"_s)) {
        return {Status::Error, u"cannot read env file %1"_s.arg(envFile)};
    }

    auto apply = [&](const SettingDef &d, const QString &value, const QString &source) -> QString {
        const QString e = set(QLatin1String(d.key), value, source);
        return e.isEmpty() ? QString() : e + u" (from "_s + source + u')';
    };
    // Secrets (and DATABASE_URL, which carries a password) may come from files instead: KEY_FILE names a
    // file whose content is the value (systemd credentials, container secrets); one trailing newline is
    // dropped.
    auto fromFile = [&](const SettingDef &d, const QString &path, const QString &where) -> QString {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return u"%1_FILE (from %2): cannot read %3: %4"_s.arg(QLatin1String(d.key), where, path,
                                                                  f.errorString());
        QByteArray content = f.read(64 * 1024);
        if (content.endsWith('\n'))
            content.chop(1);
        if (content.endsWith('\r'))
            content.chop(1);
        return apply(d, QString::fromUtf8(content), u"file "_s + path);
    };
    for (const auto &d : table()) {
        if (!(d.apps & app))
            continue;
        const QString key = QLatin1String(d.key);
        const QString fileKey = key + u"_FILE"_s;
        const bool fileAllowed = hasFileVariant(d);
        // The .env file first, then the environment (which wins).
        QHash<QString, QString> environment;
        for (const QString &k : {key, fileKey}) {
            if (env.contains(k))
                environment.insert(k, env.value(k));
        }
        for (const auto &[values, where] :
             {std::pair{&dotenv, u".env"_s}, std::pair{&environment, u"environment"_s}}) {
            const bool direct = values->contains(key);
            const bool file = fileAllowed && values->contains(fileKey);
            if (direct && file)
                return {Status::Error, u"%1 and %1_FILE are both set (in %2): set one"_s.arg(key, where)};
            const QString e = direct ? apply(d, values->value(key), where)
                              : file ? fromFile(d, values->value(fileKey), where)
                                     : QString();
            if (!e.isEmpty())
                return {Status::Error, e};
        }
    }

    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &arg = args.at(i);
        if (arg == u"--help"_s || arg == u"-h"_s)
            return {Status::Help, {}};
        if (arg == u"--version"_s || arg == u"-v"_s)
            return {Status::Version, {}};
        if (arg == u"--config-markdown"_s)
            return {Status::Markdown, {}};
        if (!arg.startsWith(u"--"_s))
            return {Status::Error, u"unexpected argument '%1' (see --help)"_s.arg(arg)};
        QString name = arg.mid(2);
        QString value;
        bool hasValue = false;
        if (const qsizetype eq = name.indexOf(u'='); eq >= 0) {
            value = name.mid(eq + 1);
            name = name.left(eq);
            hasValue = true;
        }
        const SettingDef *def = nullptr;
        for (const auto &d : table()) {
            if ((d.apps & app) && name == QLatin1String(d.flag))
                def = &d;
        }
        if (!def)
            return {Status::Error, u"unknown option --%1 (see --help)"_s.arg(name)};
        if (!hasValue) {
            if (def->type == SettingType::Bool) {
                value = u"true"_s;
            } else if (i + 1 < args.size()) {
                value = args.at(++i);
            } else {
                return {Status::Error, u"option --%1 needs a value"_s.arg(name)};
            }
        }
        if (const QString e = apply(*def, value, u"--"_s + name); !e.isEmpty())
            return {Status::Error, e};
    }
    return {};
}

QString Config::set(const QString &key, const QString &value, const QString &source)
{
    const SettingDef *def = find(key);
    if (!def)
        return u"unknown setting %1"_s.arg(key);
    QString v = value;
    if (def->type != SettingType::Secret && def->type != SettingType::String)
        v = v.trimmed();
    if (const QString e = validate(*def, v); !e.isEmpty())
        return e;
    m_values.insert(key, v);
    m_sources.insert(key, source);
    return {};
}

int Config::loadForMain(unsigned app, const QString &program, const QString &summary, int argc, char **argv)
{
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    const QString binaryDir =
        argc > 0 ? QFileInfo(QString::fromLocal8Bit(argv[0])).absolutePath() : QString();
    const LoadResult r = load(app, args, QProcessEnvironment::systemEnvironment(), {}, binaryDir);
    switch (r.status) {
    case Status::Ok:
        return -1;
    case Status::Help:
        std::fputs(helpText(app, program, summary).toLocal8Bit().constData(), stdout);
        return 0;
    case Status::Version:
        std::printf("%s %s\n", program.toLocal8Bit().constData(), VAANI_VERSION);
        return 0;
    case Status::Markdown:
        std::fputs(markdownTable().toUtf8().constData(), stdout);
        return 0;
    case Status::Error:
        std::fprintf(stderr, "%s: %s\n", program.toLocal8Bit().constData(),
                     r.error.toLocal8Bit().constData());
        return 2;
    }
    return 2;
}

QString Config::helpText(unsigned app, const QString &program, const QString &summary) const
{
    QString out;
    QTextStream ts(&out);
    ts << "Usage: " << program << " [options]\n" << summary << "\n\n";
    ts << "Every option can also be set by the environment variable shown, or in a .env file\n"
          "(VAANI_ENV_FILE, the working directory, or beside the program). Flags win over the environment, "
          "which wins over .env.\n\n";
    ts << "Options:\n";
    for (const auto &d : table()) {
        if (!(d.apps & app))
            continue;
        QString flag = u"  --"_s + QLatin1String(d.flag);
        if (d.type != SettingType::Bool)
            flag += u" <value>"_s;
        ts << flag.leftJustified(32) << ' ' << QString::fromUtf8(d.doc) << '\n';
        ts << QString(34, u' ') << "env " << QLatin1String(d.key);
        if (d.type == SettingType::Secret)
            ts << ", secret";
        else if (*d.defaultValue)
            ts << ", default " << QLatin1String(d.defaultValue);
        ts << '\n';
    }
    ts << "  --help                           Show this help\n";
    ts << "  --version                        Show the version\n";
    ts << "  --config-markdown                Print every setting as a Markdown table\n";
    return out;
}

QString Config::markdownTable()
{
    QString out = u"| Variable | Flag | Default | Used by | Meaning |\n|---|---|---|---|---|\n"_s;
    for (const auto &d : table()) {
        QStringList apps;
        if (d.apps & App::Server)
            apps << u"server"_s;
        if (d.apps & App::Admin)
            apps << u"admin"_s;
        if (d.apps & App::Softphone)
            apps << u"softphone"_s;
        out += u"| `%1`%2 | `--%3` | %4 | %5 | %6 |\n"_s.arg(
            QLatin1String(d.key),
            hasFileVariant(d) ? u" (or `%1_FILE`)"_s.arg(QLatin1String(d.key)) : QString(),
            QLatin1String(d.flag),
            *d.defaultValue ? u"`"_s + QLatin1String(d.defaultValue) + u"`"_s : QString(), apps.join(u", "_s),
            QString::fromUtf8(d.doc));
    }
    return out;
}

QString Config::string(const QString &key) const
{
    Q_ASSERT_X(find(key), "Config", "unknown key");
    return m_values.value(key);
}

int Config::integer(const QString &key) const
{
    return string(key).toInt();
}

double Config::number(const QString &key) const
{
    return string(key).toDouble();
}

bool Config::boolean(const QString &key) const
{
    const QString v = string(key).toLower();
    return v == u"1"_s || v == u"true"_s || v == u"yes"_s || v == u"on"_s;
}

QUrl Config::url(const QString &key) const
{
    return QUrl(string(key), QUrl::StrictMode);
}

QString Config::source(const QString &key) const
{
    return m_sources.value(key);
}

QStringList Config::secrets() const
{
    QStringList out;
    for (const auto &d : table()) {
        const QString v = m_values.value(QLatin1String(d.key));
        if (d.type == SettingType::Secret && v.size() >= 4)
            out << v;
    }
    // Passwords inside a database URL are secrets too.
    for (const QString &key : {u"DATABASE_URL"_s, u"REDIS_URL"_s}) {
        const QUrl url(m_values.value(key));
        if (url.isValid() && !url.password().isEmpty())
            out << url.password();
    }
    return out;
}

} // namespace vaani
