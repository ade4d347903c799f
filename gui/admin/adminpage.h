#pragma once
// The base of every vaani-admin page: a QWidget with a refresh(), the table view CSV export uses, a "has
// unsaved changes" answer the main window checks before leaving it, and loaded()/detailLoaded() when an
// asynchronous load has reached the screen. Widgets carry objectNames that the widget tests (and
// accessibility tools) use. Also the translated labels the pages share.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "admincontext.h"
#include "db/models.h"
#include "recordmodel.h"

#include <QDateEdit>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <functional>

class QTableView;
class QLineEdit;
class QComboBox;
class QPushButton;
class QLabel;
class QPlainTextEdit;
class QTextBrowser;
class QListWidget;
class QDoubleSpinBox;
class QSpinBox;
class QSortFilterProxyModel;
class QChartView;

namespace vaani::admin {

// Stored codes shown by their translated names (mainwindow.cpp); unknown codes as they are.
QString statusLabel(const QString &status);
QString priorityLabel(const QString &priority);
QString outcomeLabel(const QString &outcome);
QString rupees(qint64 paise);
// "mm:ss" of a time offset in a call, and a call's length so far (to now while it is in progress).
QString callOffset(qint64 ms);
QString callDuration(const db::CallRecord &call);

class AdminPage : public QWidget
{
    Q_OBJECT
public:
    AdminPage(AdminContext *ctx, QWidget *parent)
        : QWidget(parent)
        , m_ctx(ctx)
    {}
    virtual void refresh() = 0;
    virtual QTableView *exportView() const = 0;
    virtual bool hasUnsavedChanges() const { return false; }
    virtual void discardChanges() {}
    // Asks Save/Discard/Cancel when there are unsaved changes; true when it is fine to leave.
    bool maybeLeave();

Q_SIGNALS:
    // A load the page started has been answered (its list after refresh(), or the detail of the selected
    // row) and is on screen — also when the answer was an error, which the page then shows.
    void loaded();
    // The detail of the selected row (a call's transcript, a ticket's history) is on screen.
    void detailLoaded();

protected:
    // Put at the top of a load's continuation: emits loaded() (detailLoaded()) on every way out of it.
    struct LoadDone
    {
        AdminPage *page;
        bool detail = false;
        ~LoadDone()
        {
            if (detail)
                Q_EMIT page->detailLoaded();
            else
                Q_EMIT page->loaded();
        }
    };
    virtual bool saveChanges() { return true; }
    QTableView *makeTable(const QString &objectName, QAbstractItemModel *model,
                          QSortFilterProxyModel **proxy);
    // When the selection moves to another row: asks about unsaved changes first (moving back if the user
    // cancels), then calls load(sourceRow). isLoaded(sourceRow) says the row is already in the editor.
    void guardSelection(QTableView *view, QSortFilterProxyModel *proxy, std::function<bool(int)> isLoaded,
                        std::function<void(int)> load);
    // refresh() a moment after the user stops typing in any of these fields.
    void refreshWhileTyping(const QList<QLineEdit *> &fields);
    QLabel *makeMessageLabel(const QString &objectName);
    void showResult(QLabel *label, const db::DbError &error, const QString &success);
    AdminContext *m_ctx;
};

} // namespace vaani::admin
