#pragma once
// Staff accounts (admins, PostgreSQL): each staff member is their own database user in one of the roles
// agent, supervisor or admin. Create an account, change its role or password, disable or enable it. The
// database does the work through the owner's vaani_staff_* functions, which only admins may call; the
// password leaves the app only as a SCRAM-SHA-256 verifier and is never shown or stored. Threads: the GUI
// thread only; database work goes to the DbWorker thread (AdminContext::db).

#include "adminpage.h"

namespace vaani::admin {

class StaffPage : public AdminPage
{
    Q_OBJECT
public:
    StaffPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }

private:
    void save();
    void setCanLogin(bool canLogin);
    RecordModel<db::StaffMember> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_login;
    QComboBox *m_role;
    QLineEdit *m_password;
    QLabel *m_message;
};

} // namespace vaani::admin
