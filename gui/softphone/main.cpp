// vaani-softphone: call vaani-server as Twilio would, from a window (microphone and speaker) or headless
// from a WAV file or a caller script.
#include "callscript.h"
#include "config.h"
#include "logging.h"
#include "softphonecall.h"
#include "softphonewindow.h"

#include <QApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

using namespace Qt::StringLiterals;
using namespace vaani;
using namespace vaani::softphone;

namespace {
int runHeadless(const Config &config, const SoftphoneCall::Settings &settings)
{
    QList<ScriptStep> steps;
    if (!config.string(u"SOFTPHONE_SCRIPT"_s).isEmpty()) {
        QFile f(config.string(u"SOFTPHONE_SCRIPT"_s));
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "vaani-softphone: cannot read script %s\n", qPrintable(f.fileName()));
            return 2;
        }
        QString error;
        steps = CallScript::parse(QString::fromUtf8(f.readAll()), &error);
        if (!error.isEmpty()) {
            std::fprintf(stderr, "vaani-softphone: %s: %s\n", qPrintable(f.fileName()), qPrintable(error));
            return 2;
        }
    } else if (!config.string(u"SOFTPHONE_PLAY"_s).isEmpty()) {
        steps = CallScript::playFile(config.string(u"SOFTPHONE_PLAY"_s));
    } else {
        QString error;
        steps = CallScript::parse(u"wait-for-agent 15s\nwait-agent-quiet 30s\nhangup\n"_s, &error);
    }

    SoftphoneCall call(settings);
    call.setVirtualPlayback(true);
    CallScript script(steps, &call);
    QFile events(config.string(u"SOFTPHONE_EVENTS"_s));
    if (!events.fileName().isEmpty() && !events.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        std::fprintf(stderr, "vaani-softphone: cannot write %s\n", qPrintable(events.fileName()));
        return 2;
    }
    QObject::connect(
        &call, &SoftphoneCall::protocolEvent, &call, [&](const QString &name, const QString &detail) {
            std::fprintf(stdout, "%8.3f  %-8s %s\n", double(call.elapsedMs()) / 1000.0, qPrintable(name),
                         qPrintable(detail));
            std::fflush(stdout);
            if (events.isOpen()) {
                const QJsonObject o{{u"t_ms"_s, call.elapsedMs()}, {u"event"_s, name}, {u"detail"_s, detail}};
                events.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
                events.flush();
            }
        });
    QObject::connect(&call, &SoftphoneCall::stateChanged, &script, [&](SoftphoneCall::State s) {
        if (s == SoftphoneCall::State::InCall)
            script.start();
    });
    int exitCode = 1;
    auto done = [&](bool ok, const QString &message) {
        std::fprintf(ok ? stdout : stderr, "vaani-softphone: %s: %s\n", ok ? "call finished" : "call failed",
                     qPrintable(message));
        exitCode = ok ? 0 : 1;
        const QString record = config.string(u"SOFTPHONE_RECORD"_s);
        QString error;
        if (!record.isEmpty() && !call.recording().save(record, &error)) {
            std::fprintf(stderr, "vaani-softphone: %s\n", qPrintable(error));
            exitCode = 1;
        }
        QTimer::singleShot(0, QCoreApplication::instance(), [] { QCoreApplication::quit(); });
    };
    QObject::connect(&script, &CallScript::finished, &call, done);
    QObject::connect(&call, &SoftphoneCall::ended, &call, [&](const QString &reason, bool failed) {
        if (call.elapsedMs() == 0) // never got a stream: the script never started
            done(!failed, reason);
    });
    call.dial();
    QCoreApplication::exec();
    return exitCode;
}
} // namespace

int main(int argc, char **argv)
{
    Config config;
    if (const int rc =
            config.loadForMain(App::Softphone, u"vaani-softphone"_s,
                               u"Vaani softphone: call vaani-server exactly as Twilio would."_s, argc, argv);
        rc >= 0)
        return rc;
    installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? LogFormat::Json : LogFormat::Text,
                   config.string(u"LOG_LEVEL"_s), config.secrets());
    SoftphoneCall::Settings settings;
    settings.serverUrl = config.url(u"VAANI_SERVER_URL"_s);
    settings.authToken = config.string(u"TWILIO_AUTH_TOKEN"_s);
    if (!config.string(u"TWILIO_ACCOUNT_SID"_s).isEmpty())
        settings.accountSid = config.string(u"TWILIO_ACCOUNT_SID"_s);
    settings.from = config.string(u"VAANI_CALLER"_s);
    settings.to = config.string(u"VAANI_CALLED"_s);

    const bool headless = config.boolean(u"SOFTPHONE_HEADLESS"_s) ||
                          !config.string(u"SOFTPHONE_PLAY"_s).isEmpty() ||
                          !config.string(u"SOFTPHONE_SCRIPT"_s).isEmpty();
    if (headless) {
        QCoreApplication app(argc, argv);
        return runHeadless(config, settings);
    }
    QApplication app(argc, argv);
    SoftphoneWindow window(settings);
    window.show();
    if (config.boolean(u"SOFTPHONE_DIAL"_s))
        QTimer::singleShot(0, &window, &SoftphoneWindow::startCall);
    const QString shot = config.string(u"SOFTPHONE_SCREENSHOT"_s);
    if (!shot.isEmpty()) {
        QTimer::singleShot(config.boolean(u"SOFTPHONE_DIAL"_s) ? 4000 : 300, &window, [&] {
            const bool ok = window.grab().save(shot);
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "saved" : "cannot save", qPrintable(shot));
            QCoreApplication::exit(ok ? 0 : 1);
        });
    }
    return app.exec();
}
