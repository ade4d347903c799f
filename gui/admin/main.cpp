// vaani-admin: the desktop app support staff run the business from.
#include "config.h"
#include "logging.h"
#include "mainwindow.h"
#include "notificationlistener.h"
#include "pages.h"
#include "screenshottour.h"

#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QLibraryInfo>
#include <QMessageBox>
#include <QSettings>
#include <QTableView>
#include <QTimer>
#include <QTranslator>

#include <cstdio>

using namespace Qt::StringLiterals;
using namespace vaani;

int main(int argc, char **argv)
{
    Config config;
    if (const int rc = config.loadForMain(
            App::Admin, u"vaani-admin"_s,
            u"Vaani admin: orders, tickets, agent prompts, call logs and live calls."_s, argc, argv);
        rc >= 0)
        return rc;
    installLogging(config.string(u"LOG_FORMAT"_s) == u"json"_s ? LogFormat::Json : LogFormat::Text,
                   config.string(u"LOG_LEVEL"_s), config.secrets());
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(u"Vaani"_s);
    QCoreApplication::setApplicationName(u"vaani-admin"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(VAANI_VERSION));

    QString language = config.string(u"VAANI_LANGUAGE"_s);
    if (language.isEmpty())
        language = QSettings().value(u"language"_s).toString();
    QTranslator translator;
    QTranslator qtTranslator;
    if (language == u"hi"_s) {
        if (translator.load(u":/i18n/vaani_admin_hi.qm"_s))
            QCoreApplication::installTranslator(&translator);
        if (qtTranslator.load(u"qtbase_hi"_s, QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
            QCoreApplication::installTranslator(&qtTranslator);
    }

    // DATABASE_URL (or --database-url) wins; otherwise the connection chosen in the app; otherwise the local
    // file.
    QString url = config.string(u"DATABASE_URL"_s);
    if (config.source(u"DATABASE_URL"_s) == u"default"_s)
        url = QSettings().value(u"databaseUrl"_s, url).toString();
    QString error;
    const db::DatabaseConfig dbConfig = db::DatabaseConfig::load(
        url, config.string(u"VAANI_DATA_DIR"_s), config.string(u"VAANI_DATA_KEY_FILE"_s), &error);
    if (!error.isEmpty()) {
        std::fprintf(stderr, "vaani-admin: %s\n", qPrintable(error));
        return 2;
    }
    db::DbWorker worker(dbConfig);
    admin::AdminContext ctx;
    ctx.db = &worker;
    ctx.postgres = dbConfig.isPostgres();
    ctx.author = QSettings().value(u"author"_s, qEnvironmentVariable("USER", u"staff"_s)).toString();
    ctx.askUnsaved = [](QWidget *parent, const QString &question) {
        return QMessageBox::question(
            parent, QCoreApplication::translate("vaani::admin::MainWindow", "Unsaved changes"), question,
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    };
    ctx.tell = [](QWidget *parent, const QString &message) {
        QMessageBox::information(parent, u"Vaani"_s, message);
    };
    ctx.recordingsDir = config.string(u"RECORDINGS_DIR"_s);
    if (ctx.recordingsDir.isEmpty()) {
        const QString dataDir = config.string(u"VAANI_DATA_DIR"_s);
        ctx.recordingsDir = QDir(dataDir.isEmpty() ? u"./data"_s : dataDir).absoluteFilePath(u"recordings"_s);
    }
    ctx.askSavePath = [](QWidget *parent, const QString &suggestedName) {
        return QFileDialog::getSaveFileName(
            parent, QCoreApplication::translate("vaani::admin::RecordingPlayer", "Export recording"),
            suggestedName, QCoreApplication::translate("vaani::admin::RecordingPlayer", "WAV audio (*.wav)"));
    };

    std::unique_ptr<admin::MainWindow> window;
    admin::NotificationListener listener(dbConfig);
    auto ready = worker.initialise(false, false).then(&app, [&](db::DbResult<int> r) {
        if (!r.ok())
            return QtFuture::makeReadyFuture(db::DbResult<db::StaffAccess>(r.error));
        return worker.access();
    });
    ready.unwrap().then(&app, [&](db::DbResult<db::StaffAccess> r) {
        if (!r.ok()) {
            QMessageBox::critical(
                nullptr, u"Vaani admin"_s,
                QCoreApplication::translate("vaani::admin::MainWindow",
                                            "Cannot open the database (%1):\n%2\n\nChoose another one "
                                            "with File → Connect to database, or set DATABASE_URL.")
                    .arg(dbConfig.describe(), r.error.message));
            const QString chosen = admin::askDatabaseUrl(nullptr, {});
            if (!chosen.isEmpty())
                QMessageBox::information(
                    nullptr, u"Vaani admin"_s,
                    QCoreApplication::translate("vaani::admin::MainWindow",
                                                "Start vaani-admin again to use the new database."));
            QCoreApplication::exit(1);
            return;
        }
        ctx.access = r.value;
        if (ctx.postgres)
            ctx.author = r.value.user; // edits are signed with the database user that made them
        window = std::make_unique<admin::MainWindow>(&ctx, dbConfig.describe());
        if (ctx.postgres) {
            auto *live = window->page(u"livePage"_s);
            QObject::connect(&listener, &admin::NotificationListener::callsChanged, live,
                             &admin::AdminPage::refresh);
            listener.start();
        }
        window->show();
        const QString shot = qEnvironmentVariable("VAANI_ADMIN_SCREENSHOT");
        if (!shot.isEmpty()) {
            // VAANI_ADMIN_SCREENSHOT=dir: saves each page as dir/admin-<page>.png once it has loaded, and
            // quits.
            // Every page the signed-in role may open (the others are greyed out in the list).
            QStringList pages;
            for (const QString &p :
                 {u"dashboardPage"_s, u"livePage"_s, u"callsPage"_s, u"ordersPage"_s, u"customersPage"_s,
                  u"ticketsPage"_s, u"promptsPage"_s, u"auditPage"_s, u"staffPage"_s}) {
                if (window->blockedReason(p).isEmpty())
                    pages << p;
            }
            auto *tour = new admin::ScreenshotTour(window.get(), shot, pages, window.get());
            tour->setFilePrefix(u"admin-"_s);
            QObject::connect(tour, &admin::ScreenshotTour::finished, qApp,
                             [tour](bool ok, const QString &why) {
                                 for (const QString &p : tour->saved())
                                     std::fprintf(stderr, "saved %s\n", qPrintable(p));
                                 if (!ok)
                                     std::fprintf(stderr, "screenshots failed: %s\n", qPrintable(why));
                                 QCoreApplication::exit(ok ? 0 : 1);
                             });
            tour->start();
        }
    });
    return app.exec();
}
