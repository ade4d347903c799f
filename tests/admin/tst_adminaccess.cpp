// vaani-admin and who may see what (issue #15): staff roles on a real PostgreSQL (the window as an agent and
// as an admin), and sealed personal data read with and without the data key.
#include "adminfixture.h"
#include "db/datacipher.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTextBrowser>
#include <QUuid>

using namespace vaani;
using namespace vaani::admin;
using namespace Qt::StringLiterals;

class TestAdminAccess : public vaani::admin::testing::AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpWindow(); }
    void cleanup() { tearDownWindow(); }

    // Staff roles on a real PostgreSQL: the window shows who is signed in with which role, greys out what the
    // role cannot do and says why; an admin manages staff accounts and reads the audit log, where exports
    // appear.
    void staffRolesOnPostgres()
    {
        window.reset();
        worker.reset();
        QString error;
        const db::DatabaseConfig owner = test::freshDatabase(u"postgresql"_s, u"adminroles"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        worker = std::make_unique<db::DbWorker>(owner);
        QVERIFY(worker->initialise(true, false).result().ok());
        const QString suffix = QUuid::createUuid().toString(QUuid::Id128).left(6);
        const QString agent = u"asha_"_s + suffix, admin = u"meera_"_s + suffix;
        const QString password = u"a long staff password"_s;
        QVERIFY(db([&](db::Repositories &r) { return r.staff.save(admin, u"admin"_s, password); }).ok());
        QVERIFY(db([&](db::Repositories &r) { return r.staff.save(agent, u"agent"_s, password); }).ok());

        auto openAs = [&](const QString &user) {
            window.reset();
            db::DatabaseConfig c = owner;
            c.user = user;
            c.password = password;
            worker = std::make_unique<db::DbWorker>(c);
            QVERIFY(worker->initialise(false, false).result().ok());
            const auto access = worker->access().result();
            QVERIFY(access.ok());
            ctx->db = worker.get();
            ctx->access = access.value;
            ctx->postgres = true;
            window = std::make_unique<MainWindow>(ctx.get(), c.describe());
            window->show();
            QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        };

        openAs(agent);
        QCOMPARE(ctx->access.role, db::StaffAccess::Role::Agent);
        QVERIFY2(w<QLabel>(u"signedInAs"_s)->text().contains(agent) &&
                     w<QLabel>(u"signedInAs"_s)->text().contains(u"agent"_s),
                 qPrintable(w<QLabel>(u"signedInAs"_s)->text()));
        for (const QString &page : {u"promptsPage"_s, u"auditPage"_s, u"staffPage"_s}) {
            QVERIFY2(window->blockedReason(page).contains(u"role"_s), qPrintable(page));
            QVERIFY(!window->showPage(page));
        }
        auto *nav = w<QListWidget>(u"navigation"_s);
        QVERIFY(!(nav->item(6)->flags() & Qt::ItemIsEnabled));
        QVERIFY(nav->item(6)->toolTip().contains(u"supervisor"_s));
        // Orders: readable, status locked with the reason.
        QVERIFY(window->showPage(u"ordersPage"_s));
        w<QLineEdit>(u"orderSearch"_s)->setText(u"ABC123"_s);
        selectRowWhere(u"ordersTable"_s, 0, u"ABC123"_s);
        QVERIFY(!w<QPushButton>(u"saveOrderStatus"_s)->isEnabled());
        QVERIFY(w<QPushButton>(u"saveOrderStatus"_s)->toolTip().contains(u"supervisor"_s));
        // Customers: masked numbers, nothing to edit.
        QVERIFY(window->showPage(u"customersPage"_s));
        w<QLineEdit>(u"customerSearch"_s)->setText(u"Aarav"_s);
        QTRY_VERIFY(rows(u"customersTable"_s) >= 1);
        static const QRegularExpression masked(u"^\\+\\*{8}\\d{4}$"_s);
        for (int r = 0; r < rows(u"customersTable"_s); ++r) {
            const QString phone = w<QTableView>(u"customersTable"_s)->model()->index(r, 1).data().toString();
            QVERIFY2(masked.match(phone).hasMatch(), qPrintable(phone));
        }
        QVERIFY(!w<QPushButton>(u"saveCustomer"_s)->isEnabled());
        // Calls: the call is there, its transcript is not.
        QVERIFY(window->showPage(u"callsPage"_s));
        QTRY_VERIFY(rows(u"callsTable"_s) > 100);
        QSignalSpy detail(window->page(u"callsPage"_s), &AdminPage::detailLoaded);
        w<QTableView>(u"callsTable"_s)->setCurrentIndex(w<QTableView>(u"callsTable"_s)->model()->index(0, 0));
        QTRY_VERIFY(detail.count() >= 1);
        QVERIFY2(w<QTextBrowser>(u"callTranscript"_s)->toPlainText().contains(u"supervisor"_s),
                 qPrintable(w<QTextBrowser>(u"callTranscript"_s)->toPlainText()));
        // Exports: refused, with the reason.
        QVERIFY(!window->findChild<QAction *>(u"exportCsvAction"_s)->isEnabled());
        QVERIFY(window->showPage(u"ordersPage"_s));
        QVERIFY(!window->exportCurrent(test::tempDir(u"csv"_s) + u"/agent.csv"_s, &error));
        QVERIFY(error.contains(u"admin"_s));

        openAs(admin);
        QCOMPARE(ctx->access.role, db::StaffAccess::Role::Admin);
        QVERIFY(window->blockedReason(u"staffPage"_s).isEmpty());
        QVERIFY(window->showPage(u"staffPage"_s));
        QTRY_VERIFY(rows(u"staffTable"_s) >= 2);
        const QString newcomer = u"ravi_"_s + suffix;
        w<QLineEdit>(u"staffLogin"_s)->setText(newcomer);
        auto *role = w<QComboBox>(u"staffRole"_s);
        role->setCurrentIndex(role->findData(u"supervisor"_s));
        w<QLineEdit>(u"staffPassword"_s)->setText(u"ravi's long password"_s);
        w<QPushButton>(u"saveStaff"_s)->click();
        QVERIFY(w<QLineEdit>(u"staffPassword"_s)->text().isEmpty()); // not left on screen
        selectRowWhere(u"staffTable"_s, 0, newcomer);
        QVERIFY(w<QLabel>(u"staffMessage"_s)->text().contains(newcomer));
        // The new account signs in with its password and gets its role.
        {
            db::DatabaseConfig c = owner;
            c.user = newcomer;
            c.password = u"ravi's long password"_s;
            db::DbWorker ravi(c);
            const auto access = ravi.access().result();
            QVERIFY2(access.ok(), qPrintable(access.error.message));
            QCOMPARE(access.value.role, db::StaffAccess::Role::Supervisor);
        }
        // An export is recorded; the audit log shows it and the account change, by the admin.
        QVERIFY(window->showPage(u"ordersPage"_s));
        QTRY_VERIFY(rows(u"ordersTable"_s) > 0);
        QSignalSpy recorded(window.get(), &MainWindow::exportRecorded);
        QVERIFY2(window->exportCurrent(test::tempDir(u"csv"_s) + u"/admin.csv"_s, &error), qPrintable(error));
        QTRY_COMPARE(recorded.count(), 1);
        QCOMPARE(recorded.at(0).at(0).toBool(), true);
        QVERIFY(window->showPage(u"auditPage"_s));
        QTRY_VERIFY(rows(u"auditTable"_s) >= 2);
        QAbstractItemModel *audit = w<QTableView>(u"auditTable"_s)->model();
        QStringList seen;
        for (int r = 0; r < audit->rowCount(); ++r)
            seen << audit->index(r, 1).data().toString() + u' ' + audit->index(r, 2).data().toString() +
                        u' ' + audit->index(r, 3).data().toString();
        QVERIFY2(seen.contains(admin + u" export orders"_s), qPrintable(seen.join(u'\n')));
        QVERIFY2(seen.contains(admin + u" staff.create staff "_s + newcomer), qPrintable(seen.join(u'\n')));
        window.reset();
        worker.reset();
    }

    // VAANI_DATA_KEY_FILE in the admin app: with the key, sealed ticket summaries and transcripts read as
    // text; without it, each says which key it needs (never ciphertext).
    void sealedDataOpensWithTheKey()
    {
        window.reset();
        worker.reset();
        QString error;
        db::DatabaseConfig cfg = db::DatabaseConfig::fromUrl(
            u"sqlite://"_s + test::tempDir(u"adminkey"_s) + u"/vaani.db"_s, {}, &error);
        cfg.cipher = db::DataCipher::fromText("k1 " + QByteArray(32, 'k').toBase64(), &error);
        QVERIFY2(cfg.cipher, qPrintable(error));
        auto open = [&](const db::DatabaseConfig &c) {
            window.reset();
            worker = std::make_unique<db::DbWorker>(c);
            QVERIFY(worker->initialise(true, false).result().ok());
            ctx->db = worker.get();
            window = std::make_unique<MainWindow>(ctx.get(), c.describe());
            window->show();
            QVERIFY(QTest::qWaitForWindowExposed(window.get()));
            QVERIFY(window->showPage(u"ticketsPage"_s));
            QTRY_VERIFY(rows(u"ticketsTable"_s) >= 5);
        };
        auto summaries = [&] {
            QStringList out;
            for (int r = 0; r < rows(u"ticketsTable"_s); ++r)
                out << w<QTableView>(u"ticketsTable"_s)->model()->index(r, 7).data().toString();
            return out;
        };
        open(cfg);
        // The file holds no summary in clear, the window shows them all.
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"raw-admin"_s);
            db.setDatabaseName(cfg.sqlitePath);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec(u"SELECT COUNT(*) FROM tickets WHERE summary NOT LIKE 'enc:v1:k1:%'"_s) &&
                    q.next());
            QCOMPARE(q.value(0).toInt(), 0);
        }
        QSqlDatabase::removeDatabase(u"raw-admin"_s);
        for (const QString &s : summaries())
            QVERIFY2(!s.isEmpty() && !s.startsWith(u"enc:"_s) && !s.startsWith(u"[encrypted"_s),
                     qPrintable(s));
        QVERIFY(window->showPage(u"callsPage"_s));
        QTRY_VERIFY(rows(u"callsTable"_s) > 100);
        QSignalSpy detail(window->page(u"callsPage"_s), &AdminPage::detailLoaded);
        w<QTableView>(u"callsTable"_s)->setCurrentIndex(w<QTableView>(u"callsTable"_s)->model()->index(0, 0));
        QTRY_VERIFY(detail.count() >= 1);
        QVERIFY(!w<QTextBrowser>(u"callTranscript"_s)->toPlainText().contains(u"enc:v1"_s));

        db::DatabaseConfig noKey = cfg;
        noKey.cipher = {};
        open(noKey);
        for (const QString &s : summaries())
            QVERIFY2(s.contains(u"encrypted with key k1, which is not loaded"_s), qPrintable(s));
        window.reset();
        worker.reset();
    }
};

QTEST_MAIN(TestAdminAccess)
#include "tst_adminaccess.moc"
