// The Orders page.
#include "orderspage.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

OrdersPage::OrdersPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::Order>(
        {{tr("Order"), [](const db::Order &o) { return o.code; }},
         {tr("Customer"), [](const db::Order &o) { return o.customerName; }},
         {tr("Status"), [](const db::Order &o) { return statusLabel(o.status); }},
         {tr("Items"), [](const db::Order &o) { return o.items; }},
         {tr("Amount"), [](const db::Order &o) { return rupees(o.amountPaise); },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Placed"), [](const db::Order &o) { return o.placedAt.toLocalTime().date(); }},
         {tr("Expected"), [](const db::Order &o) { return o.expectedDelivery.toLocalTime().date(); }},
         {tr("Courier"), [](const db::Order &o) { return o.carrier; }},
         {tr("Tracking"), [](const db::Order &o) { return o.trackingNumber; }}},
        this);
    m_search = new QLineEdit(this);
    m_search->setObjectName(u"orderSearch"_s);
    m_search->setPlaceholderText(tr("Search by order ID, customer name, phone, status or tracking number"));
    m_search->setClearButtonEnabled(true);
    m_table = makeTable(u"ordersTable"_s, m_model, &m_proxy);
    m_detail = new QLabel(tr("Select an order."), this);
    m_detail->setObjectName(u"orderDetail"_s);
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status = new QComboBox(this);
    m_status->setObjectName(u"orderStatus"_s);
    for (const QString &s : db::Order::statuses())
        m_status->addItem(statusLabel(s), s);
    m_save = new QPushButton(tr("&Save status"), this);
    m_save->setObjectName(u"saveOrderStatus"_s);
    m_message = makeMessageLabel(u"orderMessage"_s);

    auto *side = new QWidget(this);
    auto *form = new QFormLayout(side);
    form->addRow(m_detail);
    form->addRow(tr("S&tatus"), m_status);
    form->addRow(m_save);
    form->addRow(m_message);
    auto *split = new QSplitter(this);
    split->addWidget(m_table);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_search);
    layout->addWidget(split, 1);

    refreshWhileTyping({m_search});
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &OrdersPage::onSelection);
    connect(m_save, &QPushButton::clicked, this, &OrdersPage::saveStatus);
    onSelection();
}

void OrdersPage::refresh()
{
    const QString text = m_search->text();
    m_ctx->db->submit([text](db::Repositories &r) { return r.orders.search(text, 1000); })
        .then(this, [this](db::DbResult<QList<db::Order>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            const QString keep = m_current ? m_current->code : QString();
            m_model->setRecords(res.value);
            if (!keep.isEmpty())
                selectOrderCode(keep);
            onSelection();
        });
}

void OrdersPage::selectOrderCode(const QString &code)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        const QModelIndex i = m_proxy->index(r, 0);
        if (i.data().toString() == code) {
            m_table->setCurrentIndex(i);
            m_table->scrollTo(i);
            return;
        }
    }
    if (m_search->text() != code)
        m_search->setText(code); // not loaded yet: search for it
}

void OrdersPage::onSelection()
{
    const QModelIndex i = m_proxy->mapToSource(m_table->currentIndex());
    m_current.reset();
    if (i.isValid())
        m_current = m_model->at(i.row());
    // Order status changes need a supervisor (the database refuses an agent's UPDATE too).
    const bool mayChange = m_ctx->access.changeOrders();
    m_status->setEnabled(m_current.has_value() && mayChange);
    m_save->setEnabled(m_current.has_value() && mayChange);
    if (!mayChange) {
        const QString why = needsRole(m_ctx->access, db::StaffAccess::Role::Supervisor);
        m_save->setToolTip(why);
        m_status->setToolTip(why);
        m_message->setText(tr("Changing an order's status: %1").arg(why));
    }
    if (!m_current) {
        m_detail->setText(tr("Select an order."));
        return;
    }
    const db::Order &o = *m_current;
    m_detail->setText(tr("<b>%1</b> — %2<br>%3<br>%4, placed %5")
                          .arg(o.code.toHtmlEscaped(), o.customerName.toHtmlEscaped(),
                               o.items.toHtmlEscaped(), rupees(o.amountPaise),
                               QLocale().toString(o.placedAt.toLocalTime().date())));
    m_status->setCurrentIndex(m_status->findData(o.status));
}

void OrdersPage::saveStatus()
{
    if (!m_current)
        return;
    const QString to = m_status->currentData().toString();
    if (to == m_current->status) {
        m_message->setText(tr("The status is unchanged."));
        return;
    }
    if (!db::Order::canTransition(m_current->status, to)) {
        showResult(m_message,
                   db::DbError::make(db::DbError::Kind::Invalid,
                                     tr("An order cannot go from “%1” to “%2”.")
                                         .arg(statusLabel(m_current->status), statusLabel(to))),
                   {});
        return;
    }
    const qint64 id = m_current->id;
    const int version = m_current->rowVersion;
    m_ctx->db
        ->submit([id, to, version](db::Repositories &r) { return r.orders.updateStatus(id, to, version); })
        .then(this, [this](db::DbResult<db::Order> res) {
            showResult(m_message, res.error,
                       tr("Saved: %1 is now “%2”.").arg(res.value.code, statusLabel(res.value.status)));
            if (res.ok()) {
                m_current = res.value;
                refresh();
            }
        });
}

} // namespace vaani::admin
