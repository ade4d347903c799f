#pragma once
// Live calls: calls in progress with their last lines (PostgreSQL notifications, else a light poll).
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

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

} // namespace vaani::admin
