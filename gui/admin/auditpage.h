#pragma once
// Audit log (admins): who changed what and when — order and ticket changes, prompt versions and activations,
// customer edits, exports, staff accounts, erasure and retention — newest first, filterable by text. The
// rows are written by the database's triggers and the server's privacy jobs, never by this page.
// Threads: the GUI thread only; database work goes to the DbWorker thread (AdminContext::db).

#include "adminpage.h"

namespace vaani::admin {

class AuditPage : public AdminPage
{
    Q_OBJECT
public:
    AuditPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }

private:
    RecordModel<db::AuditEntry> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_filter;
    QLabel *m_message;
};

} // namespace vaani::admin
