#pragma once
// Dashboard: calls per day by outcome, latency, cost and open tickets over a date range.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

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
