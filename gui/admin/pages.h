#pragma once
// The pages of vaani-admin. Each is a QWidget with a refresh(), the table view CSV export uses, and a
// "has unsaved changes" answer the main window checks before leaving it. Widgets carry objectNames that the
// widget tests (and accessibility tools) use.

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

class OrdersPage : public AdminPage
{
    Q_OBJECT
public:
    OrdersPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    void selectOrderCode(const QString &code);

private:
    void onSelection();
    void saveStatus();
    RecordModel<db::Order> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_search;
    QComboBox *m_status;
    QPushButton *m_save;
    QLabel *m_detail;
    QLabel *m_message;
    std::optional<db::Order> m_current;
};

class CustomersPage : public AdminPage
{
    Q_OBJECT
public:
    CustomersPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    bool hasUnsavedChanges() const override;
    void discardChanges() override;

protected:
    bool saveChanges() override;

private:
    void load(const db::Customer &c);
    RecordModel<db::Customer> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_search;
    QLineEdit *m_name;
    QLineEdit *m_phone;
    QLineEdit *m_email;
    QLineEdit *m_city;
    QLabel *m_message;
    db::Customer m_current;
};

class TicketsPage : public AdminPage
{
    Q_OBJECT
public:
    TicketsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    bool hasUnsavedChanges() const override;
    void discardChanges() override;
    void selectTicket(qint64 id);

Q_SIGNALS:
    void openCall(qint64 callId);

protected:
    bool saveChanges() override;

private:
    void load(const db::Ticket &t);
    void addNote();
    void createTicket();
    RecordModel<db::Ticket> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QComboBox *m_statusFilter;
    QComboBox *m_priorityFilter;
    QLineEdit *m_assigneeFilter;
    QLineEdit *m_textFilter;
    QLabel *m_title;
    QLabel *m_summary;
    QComboBox *m_status;
    QLineEdit *m_assignee;
    QPlainTextEdit *m_note;
    QListWidget *m_history;
    QPushButton *m_openCall;
    QLabel *m_message;
    QComboBox *m_newCategory;
    QComboBox *m_newPriority;
    QLineEdit *m_newOrder;
    QLineEdit *m_newSummary;
    std::optional<db::Ticket> m_current;
    qint64 m_pendingSelect = 0;
};

class PromptsPage : public AdminPage
{
    Q_OBJECT
public:
    PromptsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    bool hasUnsavedChanges() const override;
    void discardChanges() override;
    static QString diffHtml(const QString &before, const QString &after);

protected:
    bool saveChanges() override;

private:
    void load(const db::AgentPrompt &p);
    db::AgentPrompt edited() const;
    void showDiff();
    RecordModel<db::AgentPrompt> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_name;
    QPlainTextEdit *m_instructions;
    QPlainTextEdit *m_greeting;
    QComboBox *m_voice;
    QDoubleSpinBox *m_threshold;
    QSpinBox *m_prefix;
    QSpinBox *m_silence;
    QSpinBox *m_idle;
    QLineEdit *m_note;
    QComboBox *m_diffAgainst;
    QTextBrowser *m_diff;
    QLabel *m_message;
    db::AgentPrompt m_loaded;
    bool m_saving = false; // a new version is being saved: refreshes do not reload the editor meanwhile
};

class CallsPage : public AdminPage
{
    Q_OBJECT
public:
    CallsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    void openCall(qint64 callId);

Q_SIGNALS:
    void openTicket(qint64 ticketId);
    void openOrder(const QString &code);

private:
    void showDetail(const db::CallRecord &c);
    RecordModel<db::CallRecord> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QDateEdit *m_from;
    QDateEdit *m_to;
    QLineEdit *m_caller;
    QComboBox *m_outcome;
    QComboBox *m_hasTicket;
    QLabel *m_summary;
    QTextBrowser *m_transcript;
    QTableView *m_tools;
    RecordModel<db::ToolInvocation> *m_toolsModel;
    qint64 m_pendingOpen = 0;
};

class LiveCallsPage : public AdminPage
{
    Q_OBJECT
public:
    LiveCallsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    void setPollInterval(int ms);

private:
    void showNote(qsizetype calls);
    struct Live
    {
        db::CallRecord call;
        QStringList lastLines;
    };
    RecordModel<Live> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLabel *m_note;
    QTimer m_poll{this};
    bool m_inFlight = false;
};

class DashboardPage : public AdminPage
{
    Q_OBJECT
public:
    DashboardPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }

    struct Day
    {
        QDate date;
        int calls = 0;
        int resolved = 0;
        int transferred = 0;
        int dropped = 0;
        int other = 0;
        double cost = 0;
        QList<int> firstAudio;
        QList<int> turnP50;
        QList<int> turnP95;
    };
    static QList<Day> aggregate(const QList<db::CallRecord> &calls, QDate from, QDate to);

private:
    QDateEdit *m_from;
    QDateEdit *m_to;
    QLabel *m_totals;
    QChartView *m_callsChart;
    QChartView *m_latencyChart;
    QChartView *m_costChart;
    QChartView *m_ticketsChart;
    RecordModel<Day> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
};

} // namespace vaani::admin
