// The Staff accounts page.
#include "staffpage.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
QString staffRoleLabel(const QString &role)
{
    db::StaffAccess a;
    a.postgres = true;
    a.role = role == u"admin"_s        ? db::StaffAccess::Role::Admin
             : role == u"supervisor"_s ? db::StaffAccess::Role::Supervisor
                                       : db::StaffAccess::Role::Agent;
    return roleLabel(a);
}
} // namespace

StaffPage::StaffPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::StaffMember>(
        {{tr("Login"), [](const db::StaffMember &m) { return m.login; }},
         {tr("Role"), [](const db::StaffMember &m) { return staffRoleLabel(m.role); }},
         {tr("May sign in"),
          [](const db::StaffMember &m) { return m.canLogin ? tr("yes") : tr("no (disabled)"); }}},
        this);
    m_table = makeTable(u"staffTable"_s, m_model, &m_proxy);
    m_login = new QLineEdit(this);
    m_login->setObjectName(u"staffLogin"_s);
    m_login->setPlaceholderText(tr("e.g. priya.s"));
    m_role = new QComboBox(this);
    m_role->setObjectName(u"staffRole"_s);
    for (const QString &r : {u"agent"_s, u"supervisor"_s, u"admin"_s})
        m_role->addItem(staffRoleLabel(r), r);
    m_password = new QLineEdit(this);
    m_password->setObjectName(u"staffPassword"_s);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setPlaceholderText(tr("at least 12 characters; empty keeps the current one"));
    auto *save = new QPushButton(tr("&Save account"), this);
    save->setObjectName(u"saveStaff"_s);
    auto *disable = new QPushButton(tr("&Disable sign-in"), this);
    disable->setObjectName(u"disableStaff"_s);
    auto *enable = new QPushButton(tr("&Enable sign-in"), this);
    enable->setObjectName(u"enableStaff"_s);
    m_message = makeMessageLabel(u"staffMessage"_s);
    auto *roles = new QLabel(
        tr("<b>Agent</b>: orders and tickets, numbers masked, no transcripts or "
           "prompts.<br><b>Supervisor</b>: "
           "+ full numbers, transcripts, order status, prompt drafts.<br><b>Admin</b>: + activating prompts, "
           "staff accounts, exports, the audit log."),
        this);
    roles->setWordWrap(true);

    auto *side = new QWidget(this);
    auto *form = new QFormLayout(side);
    form->addRow(tr("&Login"), m_login);
    form->addRow(tr("&Role"), m_role);
    form->addRow(tr("&Password"), m_password);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(save);
    buttons->addWidget(disable);
    buttons->addWidget(enable);
    form->addRow(buttons);
    form->addRow(roles);
    form->addRow(m_message);
    auto *split = new QSplitter(this);
    split->addWidget(m_table);
    split->addWidget(side);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        const QModelIndex i = m_proxy->mapToSource(m_table->currentIndex());
        if (!i.isValid())
            return;
        const db::StaffMember &m = m_model->at(i.row());
        m_login->setText(m.login);
        m_role->setCurrentIndex(m_role->findData(m.role));
        m_password->clear();
    });
    connect(save, &QPushButton::clicked, this, &StaffPage::save);
    connect(disable, &QPushButton::clicked, this, [this] { setCanLogin(false); });
    connect(enable, &QPushButton::clicked, this, [this] { setCanLogin(true); });
}

void StaffPage::refresh()
{
    m_ctx->db->submit([](db::Repositories &r) { return r.staff.list(); })
        .then(this, [this](db::DbResult<QList<db::StaffMember>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            m_model->setRecords(res.value);
        });
}

void StaffPage::save()
{
    const QString login = m_login->text().trimmed().toLower();
    const QString role = m_role->currentData().toString();
    const QString password = m_password->text();
    m_password->clear(); // not kept on screen or in memory longer than the save
    m_ctx->db
        ->submit([login, role, password](db::Repositories &r) { return r.staff.save(login, role, password); })
        .then(this, [this, login](db::DbResult<bool> res) {
            showResult(m_message, res.error, tr("Saved %1.").arg(login));
            if (res.ok())
                refresh();
        });
}

void StaffPage::setCanLogin(bool canLogin)
{
    const QString login = m_login->text().trimmed().toLower();
    m_ctx->db->submit([login, canLogin](db::Repositories &r) { return r.staff.setCanLogin(login, canLogin); })
        .then(this, [this, login, canLogin](db::DbResult<bool> res) {
            showResult(m_message, res.error,
                       canLogin ? tr("%1 may sign in again.").arg(login)
                                : tr("%1 can no longer sign in.").arg(login));
            if (res.ok())
                refresh();
        });
}

} // namespace vaani::admin
