#pragma once
// Tickets: filters, detail with history and notes, status and assignee changes, new tickets.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

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

} // namespace vaani::admin
