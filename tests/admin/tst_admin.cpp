// Issue #6: vaani-admin's pages driven by objectName against a real SQLite database (migrated, demo data),
// with dialogs pre-answered; models checked with QAbstractItemModelTester; CSV export; Hindi translation.
#include "adminfixture.h"
#include "csvexport.h"
#include "db/datacipher.h"
#include "db/dbworker.h"
#include "mainwindow.h"
#include "notificationlistener.h"
#include "pages.h"
#include "screenshottour.h"
#include "testenv.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCategoryAxis>
#include <QChartView>
#include <QComboBox>
#include <QDateEdit>
#include <QDoubleSpinBox>
#include <QFile>
#include <QGlyphRun>
#include <QImage>
#include <QLabel>
#include <QLibraryInfo>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>
#include <QTextLayout>
#include <QTranslator>
#include <QUuid>
#include <QXmlStreamReader>

using namespace vaani;
using namespace vaani::admin;
using namespace Qt::StringLiterals;

class TestAdmin : public vaani::admin::testing::AdminFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpWindow(); }
    void cleanup() { tearDownWindow(); }

    void modelsPassTheModelTester()
    {
        for (const QString &page : {u"ordersPage"_s, u"customersPage"_s, u"ticketsPage"_s, u"promptsPage"_s,
                                    u"callsPage"_s, u"dashboardPage"_s}) {
            QVERIFY(window->showPage(page));
            QAbstractItemModel *m = window->page(page)->exportView()->model();
            QAbstractItemModelTester tester(m, QAbstractItemModelTester::FailureReportingMode::QtTest);
            window->refreshCurrent();
            QTRY_VERIFY2(m->rowCount() > 0 || page == u"callsPage"_s, qPrintable(page));
            // Sorting every column keeps the model consistent.
            for (int c = 0; c < m->columnCount(); ++c)
                window->page(page)->exportView()->sortByColumn(c, Qt::DescendingOrder);
        }
    }

    void ordersSearchAndEditStatus()
    {
        QVERIFY(window->showPage(u"ordersPage"_s));
        w<QLineEdit>(u"orderSearch"_s)->setText(u"abc123"_s);
        QTRY_COMPARE(rows(u"ordersTable"_s), 1);
        selectRowWhere(u"ordersTable"_s, 0, u"ABC123"_s);
        QVERIFY(w<QLabel>(u"orderDetail"_s)->text().contains(u"ABC123"_s));
        auto *status = w<QComboBox>(u"orderStatus"_s);
        // Invalid transition: refused with a clear message, nothing written.
        status->setCurrentIndex(status->findData(u"placed"_s));
        QTest::mouseClick(w<QPushButton>(u"saveOrderStatus"_s), Qt::LeftButton);
        QVERIFY(w<QLabel>(u"orderMessage"_s)->text().contains(u"cannot go from"_s));
        QCOMPARE(db([](db::Repositories &r) { return r.orders.findByCode(u"ABC123"_s); }).value.status,
                 u"shipped"_s);
        status->setCurrentIndex(status->findData(u"out_for_delivery"_s));
        QTest::mouseClick(w<QPushButton>(u"saveOrderStatus"_s), Qt::LeftButton);
        QTRY_COMPARE(db([](db::Repositories &r) { return r.orders.findByCode(u"ABC123"_s); }).value.status,
                     u"out_for_delivery"_s);
        QTRY_VERIFY(w<QLabel>(u"orderMessage"_s)->text().startsWith(u"Saved"_s));
    }

    void concurrentEditIsNotSilentlyOverwritten()
    {
        QVERIFY(window->showPage(u"ordersPage"_s));
        w<QLineEdit>(u"orderSearch"_s)->setText(u"XYZ789"_s);
        QTRY_COMPARE(rows(u"ordersTable"_s), 1);
        selectRowWhere(u"ordersTable"_s, 0, u"XYZ789"_s);
        // Another staff member returns the order meanwhile.
        auto o = db([](db::Repositories &r) { return r.orders.findByCode(u"XYZ789"_s); });
        QVERIFY(db([&](db::Repositories &r) {
                    return r.orders.updateStatus(o.value.id, u"returned"_s, o.value.rowVersion);
                }).ok());
        auto *status = w<QComboBox>(u"orderStatus"_s);
        status->setCurrentIndex(status->findData(u"returned"_s));
        // This page still holds the old version ("delivered"): delivered → returned is allowed, but stale.
        QTest::mouseClick(w<QPushButton>(u"saveOrderStatus"_s), Qt::LeftButton);
        QTRY_VERIFY(w<QLabel>(u"orderMessage"_s)->text().contains(u"Someone else changed"_s));
        QCOMPARE(db([](db::Repositories &r) { return r.orders.findByCode(u"XYZ789"_s); }).value.rowVersion,
                 o.value.rowVersion + 1);
    }

    void customersCreateAndValidate()
    {
        QVERIFY(window->showPage(u"customersPage"_s));
        QTest::mouseClick(w<QPushButton>(u"newCustomer"_s), Qt::LeftButton);
        w<QLineEdit>(u"customerName"_s)->setText(u"Kavita Menon"_s);
        w<QLineEdit>(u"customerPhone"_s)->setText(u"12"_s);
        QTest::mouseClick(w<QPushButton>(u"saveCustomer"_s), Qt::LeftButton);
        QVERIFY(w<QLabel>(u"customerMessage"_s)->text().contains(u"valid phone"_s));
        w<QLineEdit>(u"customerPhone"_s)->setText(u"98470 12345"_s);
        w<QLineEdit>(u"customerCity"_s)->setText(u"Kochi"_s);
        QTest::mouseClick(w<QPushButton>(u"saveCustomer"_s), Qt::LeftButton);
        QTRY_VERIFY(db([](db::Repositories &r) { return r.customers.findByPhone(u"+919847012345"_s); }).ok());
        QCOMPARE(
            db([](db::Repositories &r) { return r.customers.findByPhone(u"+919847012345"_s); }).value.city,
            u"Kochi"_s);
        w<QLineEdit>(u"customerSearch"_s)->setText(u"Kavita"_s);
        QTRY_COMPARE(rows(u"customersTable"_s), 1);
    }

    void ticketWorkflowHistoryAndNotes()
    {
        QVERIFY(window->showPage(u"ticketsPage"_s));
        auto *statusFilter = w<QComboBox>(u"ticketStatusFilter"_s);
        QTRY_VERIFY(rows(u"ticketsTable"_s) >= 5); // all demo tickets
        const int all = rows(u"ticketsTable"_s);
        statusFilter->setCurrentIndex(statusFilter->findData(u"open"_s));
        QTRY_VERIFY(rows(u"ticketsTable"_s) >= 1 && rows(u"ticketsTable"_s) < all);
        for (int r = 0; r < rows(u"ticketsTable"_s); ++r)
            QCOMPARE(w<QTableView>(u"ticketsTable"_s)->model()->index(r, 1).data().toString(), u"Open"_s);
        const QString code = w<QTableView>(u"ticketsTable"_s)->model()->index(0, 0).data().toString();
        selectRowWhere(u"ticketsTable"_s, 0, code);
        QTRY_VERIFY(w<QLabel>(u"ticketTitle"_s)->text().contains(code));
        auto *status = w<QComboBox>(u"ticketStatus"_s);
        status->setCurrentIndex(status->findData(u"in_progress"_s));
        w<QLineEdit>(u"ticketAssignee"_s)->setText(u"Ravi"_s);
        w<QPlainTextEdit>(u"ticketNote"_s)->setPlainText(u"Courier contacted"_s);
        QTest::mouseClick(w<QPushButton>(u"saveTicket"_s), Qt::LeftButton);
        auto ticket = [&] {
            return db([&](db::Repositories &r) { return r.tickets.findByCode(code); }).value;
        };
        QTRY_COMPARE(ticket().status, u"in_progress"_s);
        QCOMPARE(ticket().assignee, u"Ravi"_s);
        const qint64 ticketId = ticket().id;
        const auto history = db([&](db::Repositories &r) { return r.tickets.history(ticketId); }).value;
        QVERIFY(std::any_of(history.begin(), history.end(), [](const db::TicketEvent &e) {
            return e.kind == u"status"_s && e.note == u"Courier contacted"_s && e.author == u"meena"_s;
        }));
        QVERIFY(std::any_of(history.begin(), history.end(),
                            [](const db::TicketEvent &e) { return e.kind == u"assigned"_s; }));
        statusFilter->setCurrentIndex(0);
        QTRY_VERIFY(rows(u"ticketsTable"_s) >= 5); // the unfiltered list is back
        selectRowWhere(u"ticketsTable"_s, 0, code);
        QTRY_VERIFY(w<QListWidget>(u"ticketHistory"_s)->count() >= 3);
        w<QPlainTextEdit>(u"ticketNote"_s)->setPlainText(u"Customer called again"_s);
        QTest::mouseClick(w<QPushButton>(u"addTicketNote"_s), Qt::LeftButton);
        QTRY_VERIFY(w<QLabel>(u"ticketMessage"_s)->text().contains(u"Note added"_s));
        // New ticket linked to an order.
        w<QLineEdit>(u"newTicketOrder"_s)->setText(u"pqr 456"_s);
        w<QLineEdit>(u"newTicketSummary"_s)->setText(u"Delivery partner asked for extra money"_s);
        QTest::mouseClick(w<QPushButton>(u"createTicket"_s), Qt::LeftButton);
        QTRY_VERIFY(w<QLabel>(u"ticketMessage"_s)->text().startsWith(u"Created TKT-"_s));
        const QString created = w<QLabel>(u"ticketMessage"_s)->text().mid(8).chopped(1);
        QCOMPARE(db([&](db::Repositories &r) { return r.tickets.findByCode(created); }).value.orderCode,
                 u"PQR456"_s);
        w<QLineEdit>(u"newTicketOrder"_s)->setText(u"NOPE99"_s);
        w<QLineEdit>(u"newTicketSummary"_s)->setText(u"Another problem here"_s);
        QTest::mouseClick(w<QPushButton>(u"createTicket"_s), Qt::LeftButton);
        QTRY_VERIFY(w<QLabel>(u"ticketMessage"_s)->text().contains(u"no order"_s));
    }

    void promptSaveActivateDiffAndRollback()
    {
        QVERIFY(window->showPage(u"promptsPage"_s));
        QTRY_VERIFY(w<QPlainTextEdit>(u"promptGreeting"_s)->toPlainText().startsWith(u"Namaste"_s));
        w<QPlainTextEdit>(u"promptGreeting"_s)
            ->setPlainText(u"Namaste! Vaani bol rahi hoon. Kya madad karun?"_s);
        w<QLineEdit>(u"promptNote"_s)->setText(u"Shorter greeting"_s);
        QTest::mouseClick(w<QPushButton>(u"savePromptVersion"_s), Qt::LeftButton);
        QTRY_COMPARE(db([](db::Repositories &r) { return r.prompts.versions(u"default"_s); }).value.size(),
                     2);
        const auto v2 =
            db([](db::Repositories &r) { return r.prompts.versions(u"default"_s); }).value.first();
        QCOMPARE(v2.version, 2);
        QVERIFY(!v2.active);
        QCOMPARE(v2.author, u"meena"_s);
        // Diff against version 1, once the page shows the saved version 2.
        QTRY_VERIFY(w<QLabel>(u"promptMessage"_s)->text().contains(u"version 2"_s));
        QTRY_COMPARE(w<QComboBox>(u"diffAgainst"_s)->count(), 2);
        QCOMPARE(w<QPlainTextEdit>(u"promptGreeting"_s)->toPlainText(),
                 u"Namaste! Vaani bol rahi hoon. Kya madad karun?"_s);
        auto *against = w<QComboBox>(u"diffAgainst"_s);
        against->setCurrentIndex(against->findText(u"default v1"_s, Qt::MatchStartsWith));
        QTest::mouseClick(w<QPushButton>(u"showPromptDiff"_s), Qt::LeftButton);
        const QString diff = w<QTextBrowser>(u"promptDiff"_s)->toPlainText();
        QVERIFY2(diff.contains(u"- Greeting: Namaste! Main Vaani hoon"_s), qPrintable(diff));
        QVERIFY(diff.contains(u"+ Greeting: Namaste! Vaani bol rahi hoon"_s));
        // Activate v2: the server's next call reads it.
        selectRowWhere(u"promptVersions"_s, 1, u"2"_s);
        QTest::mouseClick(w<QPushButton>(u"activatePrompt"_s), Qt::LeftButton);
        QTRY_COMPARE(db([](db::Repositories &r) { return r.prompts.active(); }).value.version, 2);
        QTest::mouseClick(w<QPushButton>(u"rollbackPrompt"_s), Qt::LeftButton);
        QTRY_COMPARE(db([](db::Repositories &r) { return r.prompts.active(); }).value.version, 1);
        QTRY_VERIFY(w<QLabel>(u"promptMessage"_s)->text().contains(u"Rolled back"_s));
        // Validation.
        w<QPlainTextEdit>(u"promptGreeting"_s)->setPlainText(QString());
        QTest::mouseClick(w<QPushButton>(u"savePromptVersion"_s), Qt::LeftButton);
        QVERIFY(w<QLabel>(u"promptMessage"_s)->text().contains(u"greeting cannot be empty"_s));
    }

    void unsavedChangesAreAskedAbout()
    {
        QVERIFY(window->showPage(u"promptsPage"_s));
        QTRY_VERIFY(!w<QPlainTextEdit>(u"promptInstructions"_s)->toPlainText().isEmpty());
        w<QPlainTextEdit>(u"promptInstructions"_s)->appendPlainText(u"Always say the order ID twice."_s);
        answer = QMessageBox::Cancel;
        QVERIFY(!window->showPage(u"ordersPage"_s)); // stays, nothing lost
        QCOMPARE(asked.size(), 1);
        QVERIFY(w<QPlainTextEdit>(u"promptInstructions"_s)->toPlainText().contains(u"twice"_s));
        answer = QMessageBox::Save;
        QVERIFY(window->showPage(u"ordersPage"_s));
        QTRY_COMPARE(db([](db::Repositories &r) { return r.prompts.versions(u"default"_s); }).value.size(),
                     2);
        QVERIFY(db([](db::Repositories &r) { return r.prompts.versions(u"default"_s); })
                    .value.first()
                    .instructions.contains(u"twice"_s));
    }

    void callTranscriptToolsAndLinks()
    {
        // A call as the server records it.
        const auto call = db([](db::Repositories &r) -> db::DbResult<db::CallRecord> {
            db::CallStart s{u"CAadmin000000000000000000000000001"_s,
                            u"+919876543210"_s,
                            u"+918000000000"_s,
                            u"test"_s,
                            1,
                            1,
                            {}};
            auto c = r.calls.start(s);
            r.calls.addTranscript(
                {0, c.value.id, 1, u"agent"_s, u"Namaste! Main Vaani hoon."_s, 100, false, {}});
            r.calls.addTranscript(
                {0, c.value.id, 2, u"caller"_s, u"Mera order ABC123 kahan hai?"_s, 2500, false, {}});
            r.calls.addTranscript(
                {0, c.value.id, 3, u"agent"_s, u"Aapka order ship ho gaya hai."_s, 4100, true, {}});
            r.calls.addToolInvocation({0,
                                       c.value.id,
                                       u"lookup_order"_s,
                                       u"{\"order_id\":\"abc 123\"}"_s,
                                       u"{\"ok\":true,\"found\":true}"_s,
                                       3,
                                       true,
                                       {},
                                       1});
            r.calls.addTurn({c.value.id, 1, 640, 3100});
            realtime::Usage u;
            u.inputAudioTokens = 500;
            u.outputAudioTokens = 300;
            r.calls.setUsage(c.value.id, u, 0.0352);
            db::NewTicket t{std::nullopt, c.value.customerId, c.value.id, u"delivery"_s,
                            u"high"_s,    u"Late delivery"_s, u"agent"_s};
            r.tickets.create(t);
            r.calls.end(c.value.id, {u"resolved"_s, u"done"_s, 180, {640}, {}});
            return r.calls.get(c.value.id);
        });
        QVERIFY(call.ok());
        QVERIFY(window->showPage(u"callsPage"_s));
        auto *outcome = w<QComboBox>(u"callsOutcome"_s);
        outcome->setCurrentIndex(outcome->findData(u"resolved"_s));
        QTRY_VERIFY(rows(u"callsTable"_s) > 100);                    // the demo month
        w<QDateEdit>(u"callsFrom"_s)->setDate(QDate::currentDate()); // the demo history ends yesterday
        QTRY_COMPARE(rows(u"callsTable"_s), 1);
        w<QTableView>(u"callsTable"_s)->setCurrentIndex(w<QTableView>(u"callsTable"_s)->model()->index(0, 0));
        QTRY_VERIFY(
            w<QTextBrowser>(u"callTranscript"_s)->toPlainText().contains(u"Mera order ABC123 kahan hai?"_s));
        const QString transcript = w<QTextBrowser>(u"callTranscript"_s)->toPlainText();
        QVERIFY(transcript.contains(u"Caller"_s));
        QVERIFY(transcript.contains(u"00:02"_s));
        QVERIFY(transcript.contains(u"(interrupted)"_s));
        QTRY_COMPARE(w<QTableView>(u"callTools"_s)->model()->rowCount(), 1);
        const QString summary = w<QLabel>(u"callSummary"_s)->text();
        QVERIFY(summary.contains(u"0.0352"_s));
        QVERIFY(summary.contains(u"640"_s));
        QVERIFY(summary.contains(u"order:ABC123"_s));
        QVERIFY(summary.contains(u"TKT-"_s));
        // The ticket link opens the ticket; the ticket's button opens the call again.
        const qint64 ticketId =
            db([&](db::Repositories &r) { return r.tickets.forCall(call.value.id); }).value.first().id;
        Q_EMIT w<QLabel>(u"callSummary"_s)->linkActivated(u"ticket:%1"_s.arg(ticketId));
        QTRY_VERIFY(w<QLabel>(u"ticketTitle"_s)->text().contains(u"TKT-"_s));
        QTRY_VERIFY(w<QPushButton>(u"openTicketCall"_s)->isEnabled());
        // Filter: with a ticket.
        QVERIFY(window->showPage(u"callsPage"_s));
        auto *hasTicket = w<QComboBox>(u"callsHasTicket"_s);
        hasTicket->setCurrentIndex(2);
        QTRY_COMPARE(rows(u"callsTable"_s), 0);
        hasTicket->setCurrentIndex(1);
        QTRY_COMPARE(rows(u"callsTable"_s), 1);
        // Live calls: an in-progress call appears with its last lines.
        db([](db::Repositories &r) -> db::DbResult<bool> {
            auto c = r.calls.start(
                {u"CAlive0000000000000000000000000001"_s, u"+919000000001"_s, {}, u"test"_s, {}, {}, {}});
            return r.calls.addTranscript(
                {0, c.value.id, 1, u"caller"_s, u"Refund kab milega?"_s, 900, false, {}});
        });
        QVERIFY(window->showPage(u"livePage"_s));
        QTRY_COMPARE(rows(u"liveCallsTable"_s), 1);
        QVERIFY(w<QTableView>(u"liveCallsTable"_s)
                    ->model()
                    ->index(0, 4)
                    .data()
                    .toString()
                    .contains(u"Refund kab milega?"_s));
        QCOMPARE(w<QTableView>(u"liveCallsTable"_s)->model()->index(0, 0).data().toString(),
                 u"+********0001"_s);
    }

    void csvExportOfTheVisibleTable()
    {
        QVERIFY(window->showPage(u"ordersPage"_s));
        w<QLineEdit>(u"orderSearch"_s)->setText(u"ABC123"_s);
        QTRY_COMPARE(rows(u"ordersTable"_s), 1);
        const QString path = test::tempDir(u"csv"_s) + u"/orders.csv"_s;
        QString error;
        QVERIFY2(window->exportCurrent(path, &error), qPrintable(error));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString csv = QString::fromUtf8(f.readAll());
        const QStringList lines = csv.split(u"\r\n"_s, Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines.at(0).contains(u"Order,Customer,Status"_s));
        QVERIFY(lines.at(1).startsWith(u"ABC123,"_s));
        // Quoting and formula-injection guard.
        RecordModel<QStringList> m({{u"a"_s, [](const QStringList &r) { return r.at(0); }},
                                    {u"b"_s, [](const QStringList &r) { return r.at(1); }}});
        m.setRecords({{u"x, y"_s, u"say \"hi\""_s}, {u"=HYPERLINK(1)"_s, u"-5"_s}});
        QCOMPARE(toCsv(&m), u"a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n'=HYPERLINK(1),-5\r\n"_s);
    }

    void dashboardAggregatesAndCharts()
    {
        db::CallRecord a, b, c;
        const QDate today = QDate::currentDate();
        a.startedAt = QDateTime(today, QTime(10, 0));
        a.outcome = u"resolved"_s;
        a.costUsd = 0.5;
        a.firstAudioMs = 100;
        a.turnLatencyP50Ms = 400;
        a.turnLatencyP95Ms = 900;
        b = a;
        b.outcome = u"transferred"_s;
        b.firstAudioMs = 300;
        c = a;
        c.startedAt = QDateTime(today.addDays(-1), QTime(9, 0));
        c.outcome = u"dropped"_s;
        const auto days = DashboardPage::aggregate({a, b, c}, today.addDays(-2), today);
        QCOMPARE(days.size(), 3);
        QCOMPARE(days.at(2).calls, 2);
        QCOMPARE(days.at(2).resolved, 1);
        QCOMPARE(days.at(2).transferred, 1);
        QCOMPARE(days.at(1).dropped, 1);
        QCOMPARE(days.at(2).cost, 1.0);
        QVERIFY(window->showPage(u"dashboardPage"_s));
        window->refreshCurrent();
        QTRY_VERIFY(w<QLabel>(u"dashTotals"_s)->text().contains(u"open tickets"_s));
        QTRY_VERIFY(!w<QChartView>(u"ticketsChart"_s)->chart()->series().isEmpty());
        QVERIFY(!w<QChartView>(u"callsChart"_s)->chart()->series().isEmpty());
        QVERIFY(!w<QChartView>(u"latencyChart"_s)->chart()->series().isEmpty());
        QVERIFY(!w<QChartView>(u"costChart"_s)->chart()->series().isEmpty());

        // The demo month: dates on the x axes, days without calls (the demo's quiet days 9 and 18 days ago)
        // are gaps in the lines and blank in the table, not zeros. (Today holds this test's own calls.)
        QCOMPARE(w<QDateEdit>(u"dashFrom"_s)->date(), today.addDays(-29));
        QTRY_VERIFY(w<QLabel>(u"dashTotals"_s)->text().contains(u"open tickets"_s));
        QChart *latency = w<QChartView>(u"latencyChart"_s)->chart();
        const auto xs = latency->axes(Qt::Horizontal);
        QCOMPARE(xs.size(), 1);
        auto *x = qobject_cast<QCategoryAxis *>(xs.first());
        QVERIFY(x);
        QVERIFY2(x->categoriesLabels().contains(QLocale().toString(today.addDays(-29), u"d MMM"_s)),
                 qPrintable(x->categoriesLabels().join(u'|')));
        for (QChartView *v : {w<QChartView>(u"callsChart"_s), w<QChartView>(u"costChart"_s)})
            QVERIFY(qobject_cast<QCategoryAxis *>(v->chart()->axes(Qt::Horizontal).value(0)));
        int greetingRuns = 0;
        for (QAbstractSeries *s : latency->series()) {
            auto *line = qobject_cast<QLineSeries *>(s);
            QVERIFY(line);
            for (const QPointF &p : line->points())
                QVERIFY2(p.y() > 0, qPrintable(line->name())); // no 0 ms points
            if (line->name().startsWith(u"First greeting"_s)) {
                ++greetingRuns;
                for (const QPointF &p : line->points())
                    QVERIFY(int(p.x()) != 29 - 9 && int(p.x()) != 29 - 18);
            }
        }
        QCOMPARE(greetingRuns, 3);
        QAbstractItemModel *table = w<QTableView>(u"dashTable"_s)->model();
        QCOMPARE(table->rowCount(), 30);
        int checked = 0;
        for (int r = 0; r < table->rowCount(); ++r) {
            const QDate day = table->index(r, 0).data().toDate();
            if (day == today)
                continue;
            const bool quiet = day == today.addDays(-9) || day == today.addDays(-18);
            QCOMPARE(table->index(r, 1).data().toInt() == 0, quiet);
            for (int col = 5; col < table->columnCount(); ++col)
                QCOMPARE(table->index(r, col).data().isValid(), !quiet);
            ++checked;
        }
        QCOMPARE(checked, 29);
    }

    void postgresNotificationsReachTheListener()
    {
        // The server's call writes NOTIFY admin desktops on PostgreSQL; the live page refreshes on them.
        QString error;
        const db::DatabaseConfig pg = test::freshDatabase(u"postgresql"_s, u"adminlisten"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        db::DbWorker server(pg);
        QVERIFY(server.initialise(false, false).result().ok());
        NotificationListener listener(pg);
        QSignalSpy listening(&listener, &NotificationListener::listening);
        QSignalSpy changed(&listener, &NotificationListener::callsChanged);
        listener.start();
        QVERIFY(listening.wait(5000));
        QCOMPARE(listening.first().at(0).toBool(), true);
        auto started = server.submit([](db::Repositories &r) {
            return r.calls.start(
                {u"CApg00000000000000000000000000001"_s, u"+919000000002"_s, {}, u"test"_s, {}, {}, {}});
        });
        started.waitForFinished();
        QVERIFY(started.result().ok());
        QTRY_VERIFY(changed.size() >= 1);
        const auto before = changed.size();
        server.submit([id = started.result().value.id](db::Repositories &r) {
            return r.calls.addTranscript({0, id, 1, u"caller"_s, u"Hello"_s, 10, false, {}});
        });
        QTRY_VERIFY(changed.size() > before);
    }

    void screenshotTourWaitsForEachPage()
    {
        // Each page is saved once its data (and on Call logs / Tickets the first row's detail) has loaded,
        // under the name of the page on screen: seven different pictures, none of an empty table.
        QTemporaryDir dir;
        const QStringList pages = {u"dashboardPage"_s, u"livePage"_s,    u"callsPage"_s,  u"ordersPage"_s,
                                   u"customersPage"_s, u"ticketsPage"_s, u"promptsPage"_s};
        for (const QString &p : pages) // a fresh start: nothing selected
            window->page(p)->exportView()->setCurrentIndex({});
        ScreenshotTour tour(window.get(), dir.path(), pages);
        QSignalSpy finished(&tour, &ScreenshotTour::finished);
        tour.start();
        QVERIFY(finished.wait(30000));
        QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
        QCOMPARE(tour.saved().size(), pages.size());
        QSet<QByteArray> distinct;
        for (const QString &p : pages) {
            QFile f(dir.filePath(p + u".png"_s));
            QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
            const QByteArray png = f.readAll();
            QVERIFY(!QImage::fromData(png).isNull());
            distinct.insert(png);
        }
        QCOMPARE(distinct.size(), pages.size());
        // The detail pages were captured with their detail loaded (nothing changed since).
        QVERIFY(!w<QTextBrowser>(u"callTranscript"_s)->toPlainText().isEmpty());
        QVERIFY(w<QTableView>(u"ticketsTable"_s)->currentIndex().isValid());
        QVERIFY(w<QListWidget>(u"ticketHistory"_s)->count() > 0);
        // An unknown page fails the tour with a reason instead of hanging.
        ScreenshotTour bad(window.get(), dir.path(), {u"nosuchPage"_s});
        QSignalSpy badDone(&bad, &ScreenshotTour::finished);
        bad.start();
        QCOMPARE(badDone.size(), 1);
        QVERIFY(!badDone.first().at(0).toBool());
        QVERIFY(badDone.first().at(1).toString().contains(u"nosuchPage"_s));
    }

    void pagesSayWhenTheyHaveLoaded()
    {
        for (const QString &p : {u"callsPage"_s, u"ordersPage"_s, u"ticketsPage"_s, u"dashboardPage"_s}) {
            QVERIFY(window->showPage(p));
            AdminPage *page = window->page(p);
            QSignalSpy loaded(page, &AdminPage::loaded);
            int rowsThen = -1;
            auto c = connect(page, &AdminPage::loaded, this,
                             [&] { rowsThen = page->exportView()->model()->rowCount(); });
            page->refresh();
            QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), 10000);
            disconnect(c);
            QVERIFY2(rowsThen > 0, qPrintable(p));
        }
    }

    void mnemonicLabelsHaveBuddies()
    {
        // A label whose text has a mnemonic ('&') but no buddy shows the '&' itself (as "&Voice" did on the
        // Agent prompts page): every such label on every page must have one.
        const QList<QLabel *> labels = window->findChildren<QLabel *>();
        QVERIFY(labels.size() > 20);
        int mnemonics = 0;
        for (QLabel *label : labels) {
            QString text = label->text();
            text.remove(u"&&"_s);
            if (!text.contains(u'&') || label->textFormat() == Qt::RichText || text.contains(u'<'))
                continue;
            ++mnemonics;
            QVERIFY2(label->buddy() != nullptr,
                     qPrintable(u"label without buddy shows its '&': "_s + label->text()));
        }
        QVERIFY(mnemonics > 5);
    }

    void hindiTranslationIsComplete()
    {
        // Every message in the Linguist file has a Hindi translation …
        QFile ts(QStringLiteral(VAANI_SOURCE_DIR "/translations/vaani_admin_hi.ts"));
        QVERIFY(ts.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&ts);
        int messages = 0, unfinished = 0;
        while (!xml.atEnd()) {
            xml.readNext();
            if (xml.isStartElement() && xml.name() == u"translation"_s) {
                ++messages;
                const bool isUnfinished = xml.attributes().value(u"type"_s) == u"unfinished"_s;
                if (isUnfinished ||
                    xml.readElementText(QXmlStreamReader::IncludeChildElements).trimmed().isEmpty())
                    ++unfinished;
            }
        }
        QVERIFY(messages > 150);
        QCOMPARE(unfinished, 0);
        // … and the file is current: lupdate over today's sources finds no text it lacks.
        QTemporaryDir dir;
        const QString fresh = dir.filePath(u"fresh.ts"_s);
        QVERIFY(QFile::copy(ts.fileName(), fresh));
        QFile::setPermissions(fresh, QFile::ReadOwner | QFile::WriteOwner);
        QProcess lupdate;
        lupdate.start(QLibraryInfo::path(QLibraryInfo::BinariesPath) + u"/lupdate"_s,
                      {u"-no-obsolete"_s, QStringLiteral(VAANI_SOURCE_DIR "/gui/admin"), u"-ts"_s, fresh});
        QVERIFY(lupdate.waitForFinished(60000));
        QCOMPARE(lupdate.exitCode(), 0);
        QFile updated(fresh);
        QVERIFY(updated.open(QIODevice::ReadOnly));
        const QByteArray after = updated.readAll();
        QVERIFY2(!after.contains("type=\"unfinished\""),
                 "translations/vaani_admin_hi.ts lacks texts from the sources: build the "
                 "vaani_admin_core_lupdate target and translate them");
        // … and the compiled translation switches the UI.
        window.reset();
        QTranslator hi;
        QVERIFY(hi.load(u":/i18n/vaani_admin_hi.qm"_s));
        QCoreApplication::installTranslator(&hi);
        window = std::make_unique<MainWindow>(ctx.get(), u"x"_s);
        QCOMPARE(window->windowTitle(), u"वाणी एडमिन"_s);
        auto *nav = window->findChild<QListWidget *>(u"navigation"_s);
        QCOMPARE(nav->item(5)->text(), u"टिकट"_s);
        QCOMPARE(w<QPushButton>(u"savePromptVersion"_s)->text(), u"नए संस्करण के रूप में सहेजें(&N)"_s);
        // … and renders as glyphs, not boxes: every Devanagari character of every label, button, list entry
        // and tab is in the font Qt picks for that script with the widget's font.
        QStringList texts;
        QList<QFont> fonts;
        for (QWidget *widget : window->findChildren<QWidget *>()) {
            if (auto *label = qobject_cast<QLabel *>(widget))
                texts << label->text(), fonts << label->font();
            else if (auto *button = qobject_cast<QAbstractButton *>(widget))
                texts << button->text(), fonts << button->font();
            else if (auto *list = qobject_cast<QListWidget *>(widget)) {
                for (int i = 0; i < list->count(); ++i)
                    texts << list->item(i)->text(), fonts << list->font();
            } else if (auto *tabs = qobject_cast<QTabWidget *>(widget)) {
                for (int i = 0; i < tabs->count(); ++i)
                    texts << tabs->tabText(i), fonts << tabs->font();
            }
        }
        // Laid out as Qt draws it (with its font fallback): every glyph comes from a real font (one with a
        // character map) and none is the missing-glyph box (index 0).
        int devanagari = 0;
        for (qsizetype i = 0; i < texts.size(); ++i) {
            if (!std::any_of(texts[i].cbegin(), texts[i].cend(),
                             [](QChar c) { return c.unicode() >= 0x0900 && c.unicode() <= 0x097F; }))
                continue;
            ++devanagari;
            QTextLayout layout(texts[i], fonts[i]);
            layout.beginLayout();
            layout.createLine();
            layout.endLayout();
            for (const QGlyphRun &run : layout.glyphRuns()) {
                const bool realFont = !run.rawFont().fontTable("cmap").isEmpty();
                const QList<quint32> glyphs = run.glyphIndexes();
                QVERIFY2(realFont && !glyphs.contains(0u),
                         qPrintable(
                             u"\"%1\" renders as boxes (widget font %2)"_s.arg(texts[i], fonts[i].family())));
            }
        }
        QVERIFY2(devanagari > 50, qPrintable(QString::number(devanagari)));
        QCoreApplication::removeTranslator(&hi);
    }
};

QTEST_MAIN(TestAdmin)
#include "tst_admin.moc"
