// The Audit log page.
#include "auditpage.h"

#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

AuditPage::AuditPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::AuditEntry>(
        {{tr("When"),
          [](const db::AuditEntry &a) {
              return QLocale().toString(a.at.toLocalTime(), QLocale::ShortFormat);
          }},
         {tr("Who"), [](const db::AuditEntry &a) { return a.actor; }},
         {tr("Action"), [](const db::AuditEntry &a) { return a.action; }},
         {tr("Record"), [](const db::AuditEntry &a) { return a.subject; }},
         {tr("Change (old → new)"), [](const db::AuditEntry &a) { return a.detail; }}},
        this);
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(u"auditFilter"_s);
    m_filter->setPlaceholderText(tr("Filter by person, action or record"));
    m_filter->setClearButtonEnabled(true);
    m_table = makeTable(u"auditTable"_s, m_model, &m_proxy);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_message = makeMessageLabel(u"auditMessage"_s);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_filter);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_message);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
}

void AuditPage::refresh()
{
    m_ctx->db->submit([](db::Repositories &r) { return r.privacy.audit(2000); })
        .then(this, [this](db::DbResult<QList<db::AuditEntry>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            m_model->setRecords(res.value);
            m_message->setStyleSheet({});
            m_message->setText(tr("%n entries (newest first, up to 2,000).", nullptr, int(res.value.size())));
        });
}

} // namespace vaani::admin
