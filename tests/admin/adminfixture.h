#pragma once
// What the vaani-admin widget tests share: a main window over a real SQLite database (migrated, demo data)
// with its dialogs pre-answered, and helpers that find widgets by objectName and run database jobs.
#include "db/dbworker.h"
#include "mainwindow.h"
#include "pages.h"
#include "testenv.h"

#include <QMessageBox>
#include <QObject>
#include <QTableView>
#include <QTest>

namespace vaani::admin::testing {

using namespace Qt::StringLiterals;

class AdminFixture : public QObject
{
protected:
    std::unique_ptr<db::DbWorker> worker;
    std::unique_ptr<AdminContext> ctx;
    std::unique_ptr<MainWindow> window;
    QList<QString> told;
    QList<QString> asked;
    QMessageBox::StandardButton answer = QMessageBox::Cancel;

    template<typename T> T *w(const QString &name)
    {
        T *found = window->findChild<T *>(name);
        if (!found)
            qFatal("no widget %s", qPrintable(name));
        return found;
    }
    // Runs a job on the database thread and waits for it (tests only).
    template<typename F> auto db(F fn)
    {
        auto f = worker->submit(fn);
        f.waitForFinished();
        return f.result();
    }
    int rows(const QString &table) { return w<QTableView>(table)->model()->rowCount(); }
    void selectRowWhere(const QString &table, int column, const QString &text)
    {
        // Pages load from the database thread: wait for the row rather than read a table mid-reload.
        QTableView *v = w<QTableView>(table);
        int row = -1;
        (void)QTest::qWaitFor(
            [&] {
                for (int r = 0; r < v->model()->rowCount(); ++r) {
                    if (v->model()->index(r, column).data().toString() == text) {
                        row = r;
                        return true;
                    }
                }
                return false;
            },
            5000);
        if (row < 0)
            QFAIL(qPrintable(u"no row %1 in %2"_s.arg(text, table)));
        v->setCurrentIndex(v->model()->index(row, column));
    }

    // Called from each test class's init() and cleanup() slots.
    void setUpWindow()
    {
        QString error;
        const auto cfg = db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"admin"_s) + u"/vaani.db"_s, {}, &error);
        worker = std::make_unique<db::DbWorker>(cfg);
        QVERIFY(worker->initialise(true, false).result().ok());
        ctx = std::make_unique<AdminContext>();
        ctx->db = worker.get();
        ctx->author = u"meena"_s;
        ctx->askUnsaved = [this](QWidget *, const QString &q) {
            asked << q;
            return answer;
        };
        ctx->tell = [this](QWidget *, const QString &m) { told << m; };
        window = std::make_unique<MainWindow>(ctx.get(), cfg.describe());
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    }
    void tearDownWindow()
    {
        window.reset();
        ctx.reset();
        worker.reset();
        asked.clear();
        told.clear();
    }
};

} // namespace vaani::admin::testing
