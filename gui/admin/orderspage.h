#pragma once
// Orders: search by code, phone, name, status or tracking number; change an order's status along the
// workflow. Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and
// its answers come back as queued continuations on this page; the page owns its widgets and models (Qt parent
// chain), the main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

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

} // namespace vaani::admin
