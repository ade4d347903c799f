#pragma once
// vaani-admin's main window: a page list on the left (Dashboard, Live calls, Call logs, Orders, Customers,
// Tickets, Agent prompts, Audit log, Staff accounts; what the signed-in role cannot use is greyed out with
// the reason), the page on the right, File → Export CSV / Connect to database, View → Refresh, Settings →
// Language. Leaving a page or closing the window asks about unsaved changes. Threads: the GUI thread only.
// Owns its pages (Qt parent chain); the AdminContext is its creator's and outlives it.

#include "admincontext.h"

#include <QMainWindow>

class QListWidget;
class QStackedWidget;

namespace vaani::admin {

class AdminPage;
class CallsPage;
class OrdersPage;
class TicketsPage;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(AdminContext *ctx, const QString &databaseDescription, QWidget *parent = nullptr);
    AdminPage *page(const QString &objectName) const;
    AdminPage *currentPage() const;
    bool showPage(const QString &objectName);
    bool exportCurrent(const QString &path, QString *error);
    // Why a page is not available to the signed-in role; empty when it is.
    QString blockedReason(const QString &objectName) const { return m_blocked.value(page(objectName)); }

Q_SIGNALS:
    void exportRecorded(bool ok);

public Q_SLOTS:
    void refreshCurrent();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    AdminContext *m_ctx;
    QListWidget *m_nav;
    QStackedWidget *m_stack;
    QList<AdminPage *> m_pages;
    int m_currentRow = 0;
    QHash<AdminPage *, QString> m_blocked;
};

// Remembered connections ("recent") and the connection dialog: SQLite file or PostgreSQL.
QString askDatabaseUrl(QWidget *parent, const QString &current);
QStringList recentConnections();
void rememberConnection(const QString &url);

} // namespace vaani::admin
