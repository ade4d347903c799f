// vaani-admin: the support staff's desktop app. The pages arrive with issue #6; this main already reads
// the shared configuration (database location) so --help/--version work and the settings are documented.
#include "config.h"
#include "db/database.h"
#include "logging.h"

#include <QApplication>
#include <QLabel>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    vaani::Config config;
    if (const int rc =
            config.loadForMain(vaani::App::Admin, u"vaani-admin"_s,
                               u"Vaani admin: orders, tickets, agent prompts and call logs."_s, argc, argv);
        rc >= 0)
        return rc;
    vaani::installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? vaani::LogFormat::Json
                                                                      : vaani::LogFormat::Text,
                          config.string(u"LOG_LEVEL"_s), config.secrets());
    QApplication app(argc, argv);
    QString error;
    const auto db = vaani::db::DatabaseConfig::fromUrl(config.string(u"DATABASE_URL"_s),
                                                       config.string(u"VAANI_DATA_DIR"_s), &error);
    QLabel label(error.isEmpty()
                     ? QCoreApplication::translate("Admin", "Vaani admin — database: %1").arg(db.describe())
                     : error);
    label.setObjectName(u"statusLabel"_s);
    label.setMinimumSize(480, 120);
    label.show();
    return app.exec();
}
