// vaani-server: Twilio voice webhook + Media Streams bridge to the OpenAI Realtime API.
#include "config.h"
#include "logging.h"
#include "server.h"
#include "signalwatcher.h"

#include <QCoreApplication>

#include <csignal>
#include <sys/resource.h>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    vaani::Config config;
    if (const int rc = config.loadForMain(
            vaani::App::Server, u"vaani-server"_s,
            u"Vaani server: answers a Twilio number with an AI agent that speaks Hinglish."_s, argc, argv);
        rc >= 0)
        return rc;
    // Qt's own UNIX event dispatcher instead of GLib's: measurably lower latency under many sockets
    // (docs/performance.md). An explicit QT_NO_GLIB in the environment still wins.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"vaani-server"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(VAANI_VERSION));
    vaani::installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? vaani::LogFormat::Json
                                                                      : vaani::LogFormat::Text,
                          config.string(u"LOG_LEVEL"_s), config.secrets());
    if (const QString number = config.string(u"ERASE_CALLER"_s); !number.isEmpty())
        return vaani::eraseCaller(vaani::ServerOptions::fromConfig(config), number);
    if (config.boolean(u"REENCRYPT"_s))
        return vaani::reencrypt(vaani::ServerOptions::fromConfig(config));
    if (config.boolean(u"MIGRATE_ONLY"_s))
        return vaani::migrateOnly(vaani::ServerOptions::fromConfig(config));
    std::signal(SIGPIPE, SIG_IGN);
    // Every call holds two sockets: use all the descriptors the system allows (the soft limit is often 1024).
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
    // SIGTERM/SIGINT arrive through a signalfd (no code runs in a signal handler). Blocked before the
    // database and worker threads start, so they inherit the mask and the main thread's signalfd receives
    // them.
    if (!vaani::SignalWatcher::block())
        qCWarning(lcServer) << "cannot block SIGTERM/SIGINT; they will stop the server at once";
    vaani::SignalWatcher watcher;

    vaani::Server server(vaani::ServerOptions::fromConfig(config));
    const int graceMs = config.integer(u"SHUTDOWN_GRACE"_s) * 1000;
    QObject::connect(
        &watcher, &vaani::SignalWatcher::received, &server, [&server, &config, graceMs, argc, argv](int sig) {
            if (sig == SIGHUP) {
                // Re-read the configuration (the .env file and the *_FILE secrets; the
                // environment of a running process cannot change) and take its secrets;
                // everything else needs a restart.
                qCInfo(lcServer) << "SIGHUP received: reloading secrets";
                QStringList args;
                for (int i = 1; i < argc; ++i)
                    args << QString::fromLocal8Bit(argv[i]);
                vaani::Config fresh;
                const auto loaded =
                    fresh.load(vaani::App::Server, args, QProcessEnvironment::systemEnvironment(), {},
                               QCoreApplication::applicationDirPath());
                if (loaded.status != vaani::Config::Status::Ok) {
                    qCWarning(lcServer).noquote() << "secrets not reloaded:" << loaded.error;
                    return;
                }
                // The log redactor masks the new secrets and, for what is still in flight, the old ones.
                vaani::installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? vaani::LogFormat::Json
                                                                                  : vaani::LogFormat::Text,
                                      config.string(u"LOG_LEVEL"_s), fresh.secrets() + config.secrets());
                server.reloadSecrets(vaani::ServerOptions::fromConfig(fresh).settings);
                server.reloadDataKeys(fresh.string(u"VAANI_DATA_KEY_FILE"_s));
                return;
            }
            qCInfo(lcServer) << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << "received";
            server.shutdown(server.isStopping() ? 0 : graceMs);
        });
    // Queued: start() may fail before the event loop runs, and exit() before exec() would be lost.
    QObject::connect(
        &server, &vaani::Server::stopped, &app, [] { QCoreApplication::exit(0); }, Qt::QueuedConnection);
    QObject::connect(
        &server, &vaani::Server::failed, &app,
        [](const QString &reason) {
            qCCritical(lcServer).noquote() << "cannot start:" << reason;
            QCoreApplication::exit(1);
        },
        Qt::QueuedConnection);
    server.start();
    return app.exec();
}
