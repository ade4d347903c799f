#pragma once
// Customers: search, add and edit customers with validation; a concurrent edit is refused and reloaded.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

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

} // namespace vaani::admin
