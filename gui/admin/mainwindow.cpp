#include "mainwindow.h"

#include "csvexport.h"
#include "pages.h"

#include <QActionGroup>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTableView>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
// Stored codes (shipped, in_progress, …) shown by their translated names; unknown codes as they are.
QString translatedName(const QHash<QString, const char *> &names, const QString &code)
{
    const char *n = names.value(code);
    return n ? QCoreApplication::translate("vaani::admin::Labels", n) : code;
}
} // namespace

QString statusLabel(const QString &s)
{
    static const QHash<QString, const char *> names = {
        {u"placed"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Placed")},
        {u"packed"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Packed")},
        {u"shipped"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Shipped")},
        {u"out_for_delivery"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Out for delivery")},
        {u"delivered"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Delivered")},
        {u"cancelled"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Cancelled")},
        {u"returned"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Returned")},
        {u"open"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Open")},
        {u"in_progress"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "In progress")},
        {u"resolved"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Resolved")},
        {u"closed"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Closed")}};
    return translatedName(names, s);
}

QString priorityLabel(const QString &p)
{
    static const QHash<QString, const char *> names = {
        {u"low"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Low")},
        {u"normal"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Normal")},
        {u"high"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "High")},
        {u"urgent"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Urgent")}};
    return translatedName(names, p);
}

QString outcomeLabel(const QString &o)
{
    static const QHash<QString, const char *> names = {
        {u"in_progress"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "In progress")},
        {u"resolved"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Resolved by the agent")},
        {u"transferred"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Transferred")},
        {u"dropped"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Caller hung up")},
        {u"failed"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Failed")},
        {u"rejected"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Rejected (busy)")},
        {u"no_stream"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Never connected")},
        {u"shutdown"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Ended by a server shutdown")},
        {u"interrupted"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Interrupted (the server stopped)")},
        {u"time_limit"_s, QT_TRANSLATE_NOOP("vaani::admin::Labels", "Ended at the call time limit")}};
    return translatedName(names, o);
}

QString roleLabel(const db::StaffAccess &access)
{
    using Role = db::StaffAccess::Role;
    switch (access.role) {
    case Role::Owner:
        return access.postgres
                   ? QCoreApplication::translate("vaani::admin::Labels", "database owner")
                   : QCoreApplication::translate("vaani::admin::Labels", "owner of the local file");
    case Role::Admin:
        return QCoreApplication::translate("vaani::admin::Labels", "admin");
    case Role::Supervisor:
        return QCoreApplication::translate("vaani::admin::Labels", "supervisor");
    case Role::Agent:
        return QCoreApplication::translate("vaani::admin::Labels", "agent");
    case Role::Server:
        return QCoreApplication::translate("vaani::admin::Labels", "the server's account");
    case Role::None:
        return QCoreApplication::translate("vaani::admin::Labels", "no Vaani role");
    }
    return {};
}

QString needsRole(const db::StaffAccess &access, db::StaffAccess::Role needed)
{
    db::StaffAccess wanted;
    wanted.role = needed;
    wanted.postgres = access.postgres;
    return QCoreApplication::translate("vaani::admin::Labels", "Needs the %1 role (you are signed in as %2).")
        .arg(roleLabel(wanted), roleLabel(access));
}

QString rupees(qint64 paise)
{
    return u"₹"_s + QLocale(QLocale::English, QLocale::India).toString(double(paise) / 100.0, 'f', 2);
}

MainWindow::MainWindow(AdminContext *ctx, const QString &databaseDescription, QWidget *parent)
    : QMainWindow(parent)
    , m_ctx(ctx)
{
    setWindowTitle(tr("Vaani admin"));
    m_nav = new QListWidget(this);
    m_nav->setObjectName(u"navigation"_s);
    m_nav->setMaximumWidth(190);
    m_stack = new QStackedWidget(this);
    auto add = [this](AdminPage *p, const QString &name, const QString &title) {
        p->setObjectName(name);
        m_pages << p;
        m_stack->addWidget(p);
        m_nav->addItem(title);
    };
    auto *dashboard = new DashboardPage(ctx, this);
    auto *live = new LiveCallsPage(ctx, this);
    auto *calls = new CallsPage(ctx, this);
    auto *orders = new OrdersPage(ctx, this);
    auto *customers = new CustomersPage(ctx, this);
    auto *tickets = new TicketsPage(ctx, this);
    auto *prompts = new PromptsPage(ctx, this);
    auto *audit = new AuditPage(ctx, this);
    auto *staff = new StaffPage(ctx, this);
    add(dashboard, u"dashboardPage"_s, tr("Dashboard"));
    add(live, u"livePage"_s, tr("Live calls"));
    add(calls, u"callsPage"_s, tr("Call logs"));
    add(orders, u"ordersPage"_s, tr("Orders"));
    add(customers, u"customersPage"_s, tr("Customers"));
    add(tickets, u"ticketsPage"_s, tr("Tickets"));
    add(prompts, u"promptsPage"_s, tr("Agent prompts"));
    add(audit, u"auditPage"_s, tr("Audit log"));
    add(staff, u"staffPage"_s, tr("Staff accounts"));
    // Pages the signed-in role cannot use are greyed out and say why (the database would refuse them).
    using Role = db::StaffAccess::Role;
    const db::StaffAccess &access = ctx->access;
    const QList<std::tuple<AdminPage *, bool, QString>> gates = {
        {prompts, access.prompts(), needsRole(access, Role::Supervisor)},
        {audit, access.auditLog(), needsRole(access, Role::Admin)},
        {staff, access.staffAccounts(),
         !access.postgres ? tr("Staff accounts exist on PostgreSQL. On this computer, access is the database "
                               "file's permissions (only its owner can open it).")
         : !access.rolesInstalled
             ? tr("The staff roles are not set up on this database (see docs/security.md).")
             : needsRole(access, Role::Admin)}};
    for (const auto &[page, allowed, why] : gates) {
        if (allowed)
            continue;
        QListWidgetItem *item = m_nav->item(int(m_pages.indexOf(page)));
        item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
        item->setToolTip(why);
        m_blocked.insert(page, why);
    }
    connect(tickets, &TicketsPage::openCall, this, [this, calls](qint64 id) {
        if (showPage(u"callsPage"_s))
            calls->openCall(id);
    });
    connect(calls, &CallsPage::openTicket, this, [this, tickets](qint64 id) {
        if (showPage(u"ticketsPage"_s))
            tickets->selectTicket(id);
    });
    connect(calls, &CallsPage::openOrder, this, [this, orders](const QString &code) {
        if (showPage(u"ordersPage"_s))
            orders->selectOrderCode(code);
    });
    connect(m_nav, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row == m_currentRow || row < 0)
            return;
        if (m_blocked.contains(m_pages.at(row))) {
            QSignalBlocker block(m_nav);
            m_nav->setCurrentRow(m_currentRow);
            statusBar()->showMessage(m_blocked.value(m_pages.at(row)), 8000);
            return;
        }
        if (!m_pages.at(m_currentRow)->maybeLeave()) {
            QSignalBlocker block(m_nav);
            m_nav->setCurrentRow(m_currentRow);
            return;
        }
        m_currentRow = row;
        m_stack->setCurrentIndex(row);
        m_pages.at(row)->refresh();
    });
    auto *split = new QSplitter(this);
    split->addWidget(m_nav);
    split->addWidget(m_stack);
    split->setStretchFactor(1, 1);
    split->setSizes({170, 1100});
    setCentralWidget(split);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *exportAction = file->addAction(tr("&Export table as CSV…"), this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export CSV"), {}, tr("CSV files (*.csv)"));
        if (path.isEmpty())
            return;
        QString error;
        if (!exportCurrent(path, &error))
            m_ctx->tell(this, tr("Could not export: %1").arg(error));
        else
            statusBar()->showMessage(tr("Exported to %1").arg(path), 5000);
    });
    exportAction->setObjectName(u"exportCsvAction"_s);
    if (!ctx->access.exports()) {
        exportAction->setEnabled(false);
        exportAction->setToolTip(needsRole(ctx->access, db::StaffAccess::Role::Admin));
        exportAction->setStatusTip(
            tr("Exports: %1").arg(needsRole(ctx->access, db::StaffAccess::Role::Admin)));
    }
    exportAction->setShortcut(QKeySequence(u"Ctrl+E"_s));
    file->addAction(tr("&Connect to database…"), this, [this] {
        const QString url = askDatabaseUrl(this, {});
        if (!url.isEmpty())
            m_ctx->tell(this,
                        tr("Restart vaani-admin to use %1 (it is now remembered as the default).").arg(url));
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    QAction *refresh =
        view->addAction(tr("&Refresh"), QKeySequence::Refresh, this, &MainWindow::refreshCurrent);
    refresh->setObjectName(u"refreshAction"_s);
    for (int i = 0; i < m_pages.size(); ++i) {
        view->addAction(m_nav->item(i)->text(), QKeySequence(u"Ctrl+%1"_s.arg(i + 1)), this,
                        [this, i] { m_nav->setCurrentRow(i); });
    }
    QMenu *settings = menuBar()->addMenu(tr("&Settings"));
    QMenu *language = settings->addMenu(tr("&Language"));
    auto *group = new QActionGroup(this);
    const QString current = QSettings().value(u"language"_s).toString();
    for (const auto &[code, name] : {std::pair{u"en"_s, u"English"_s}, std::pair{u"hi"_s, u"हिन्दी"_s}}) {
        QAction *a = language->addAction(name);
        a->setObjectName(u"language_"_s + code);
        a->setCheckable(true);
        a->setChecked(current == code || (current.isEmpty() && code == u"en"_s));
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, c = code] {
            QSettings().setValue(u"language"_s, c);
            m_ctx->tell(this, tr("The language changes the next time vaani-admin starts."));
        });
    }
    // Who is signed in, with which role, stays in view.
    auto *who = new QLabel(
        tr("Signed in as %1 · %2")
            .arg(ctx->access.user.isEmpty() ? ctx->author : ctx->access.user, roleLabel(ctx->access)),
        this);
    who->setObjectName(u"signedInAs"_s);
    statusBar()->addPermanentWidget(who);
    statusBar()->showMessage(tr("Database: %1").arg(databaseDescription));
    if (ctx->access.role == db::StaffAccess::Role::None || ctx->access.role == db::StaffAccess::Role::Server)
        m_ctx->tell(this,
                    tr("%1 has no Vaani staff role on this database, so it will refuse most of what this app "
                       "shows. Ask an admin for an account (agent, supervisor or admin).")
                        .arg(ctx->access.user));
    m_nav->setCurrentRow(0);
    dashboard->refresh();
    resize(1280, 800);
}

AdminPage *MainWindow::page(const QString &objectName) const
{
    for (AdminPage *p : m_pages) {
        if (p->objectName() == objectName)
            return p;
    }
    return nullptr;
}

AdminPage *MainWindow::currentPage() const
{
    return m_pages.value(m_currentRow);
}

bool MainWindow::showPage(const QString &objectName)
{
    for (int i = 0; i < m_pages.size(); ++i) {
        if (m_pages.at(i)->objectName() == objectName) {
            m_nav->setCurrentRow(i);
            return m_currentRow == i;
        }
    }
    return false;
}

bool MainWindow::exportCurrent(const QString &path, QString *error)
{
    if (!m_ctx->access.exports()) {
        *error = needsRole(m_ctx->access, db::StaffAccess::Role::Admin);
        return false;
    }
    AdminPage *page = m_pages.at(m_currentRow);
    QTableView *view = page->exportView();
    if (!exportCsv(view->model(), path, error))
        return false;
    // Every export leaves an audit row (on PostgreSQL the actor is the signed-in database user).
    const QString what = page->objectName().chopped(4); // "ordersPage" → "orders"
    const int rows = view->model()->rowCount();
    m_ctx->db->submit([what, rows](db::Repositories &r) { return r.staff.recordExport(what, rows); })
        .then(this, [this](db::DbResult<bool> res) {
            if (!res.ok())
                statusBar()->showMessage(
                    tr("The export was not recorded in the audit log: %1").arg(res.error.message));
            Q_EMIT exportRecorded(res.ok());
        });
    return true;
}

void MainWindow::refreshCurrent()
{
    m_pages.at(m_currentRow)->refresh();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    for (AdminPage *p : m_pages) {
        if (!p->maybeLeave()) {
            event->ignore();
            return;
        }
    }
    event->accept();
}

QStringList recentConnections()
{
    return QSettings().value(u"recentConnections"_s).toStringList();
}

void rememberConnection(const QString &url)
{
    QStringList list = recentConnections();
    list.removeAll(url);
    list.prepend(url);
    QSettings().setValue(u"recentConnections"_s, list.mid(0, 8));
}

QString askDatabaseUrl(QWidget *parent, const QString &current)
{
    QDialog d(parent);
    d.setWindowTitle(QCoreApplication::translate("vaani::admin::MainWindow", "Connect to database"));
    auto *form = new QFormLayout(&d);
    auto *recent = new QComboBox(&d);
    recent->setObjectName(u"recentConnections"_s);
    recent->setEditable(true);
    // Passwords are never shown back: recent PostgreSQL entries keep user, host and database only.
    recent->addItems(recentConnections());
    if (!current.isEmpty())
        recent->setEditText(current);
    auto *password = new QLineEdit(&d);
    password->setEchoMode(QLineEdit::Password);
    form->addRow(new QLabel(
        QCoreApplication::translate("vaani::admin::MainWindow",
                                    "sqlite:///path/to/vaani.db or postgresql://user@host:5432/vaani "
                                    "(TLS: add ?sslmode=verify-full&sslrootcert=/path/to/ca.pem)"),
        &d));
    form->addRow(QCoreApplication::translate("vaani::admin::MainWindow", "Database"), recent);
    form->addRow(QCoreApplication::translate("vaani::admin::MainWindow", "Password"), password);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    form->addRow(buttons);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    if (d.exec() != QDialog::Accepted)
        return {};
    QUrl url(recent->currentText().trimmed());
    const QString remembered = url.toString(QUrl::RemovePassword);
    rememberConnection(remembered);
    QSettings().setValue(u"databaseUrl"_s, remembered);
    if (!password->text().isEmpty())
        url.setPassword(password->text());
    return url.toString();
}

} // namespace vaani::admin
