// vaani-softphone: plays Twilio's part against a running vaani-server. The window and headless modes arrive
// with issue #7; this main reads the shared configuration so --help/--version work.
#include "config.h"
#include "logging.h"

#include <QApplication>
#include <QLabel>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    vaani::Config config;
    if (const int rc =
            config.loadForMain(vaani::App::Softphone, u"vaani-softphone"_s,
                               u"Vaani softphone: call vaani-server as Twilio would."_s, argc, argv);
        rc >= 0)
        return rc;
    vaani::installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? vaani::LogFormat::Json
                                                                      : vaani::LogFormat::Text,
                          config.string(u"LOG_LEVEL"_s), config.secrets());
    QApplication app(argc, argv);
    QLabel label(QCoreApplication::translate("Softphone", "Vaani softphone — server %1")
                     .arg(config.string(u"VAANI_SERVER_URL"_s)));
    label.setObjectName(u"statusLabel"_s);
    label.setMinimumSize(420, 120);
    label.show();
    return app.exec();
}
