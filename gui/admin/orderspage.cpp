// AdminPage helpers, the Orders page and the Customers page.
#include "pages.h"

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

QString statusLabel(const QString &status); // defined in mainwindow.cpp (translated status names)
QString rupees(qint64 paise);

bool AdminPage::maybeLeave()
{
    if (!hasUnsavedChanges())
        return true;
    switch (m_ctx->askUnsaved(this, tr("You have unsaved changes. Save them?"))) {
    case QMessageBox::Save:
        return saveChanges();
    case QMessageBox::Discard:
        discardChanges();
        return true;
    default:
        return false;
    }
}

QTableView *AdminPage::makeTable(const QString &objectName, QAbstractItemModel *model,
                                 QSortFilterProxyModel **proxy)
{
    auto *view = new QTableView(this);
    view->setObjectName(objectName);
    *proxy = new QSortFilterProxyModel(this);
    (*proxy)->setSourceModel(model);
    (*proxy)->setSortCaseSensitivity(Qt::CaseInsensitive);
    view->setModel(*proxy);
    view->setSortingEnabled(true);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view->setAlternatingRowColors(true);
    view->horizontalHeader()->setStretchLastSection(true);
    view->verticalHeader()->hide();
    view->setTabKeyNavigation(false);
    return view;
}

void AdminPage::guardSelection(QTableView *view, QSortFilterProxyModel *proxy,
                               std::function<bool(int)> isLoaded, std::function<void(int)> load)
{
    connect(view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this, view, proxy, isLoaded, load](const QModelIndex &current, const QModelIndex &previous) {
                const QModelIndex i = proxy->mapToSource(current);
                if (!i.isValid() || isLoaded(i.row()))
                    return;
                if (!maybeLeave()) {
                    QSignalBlocker block(view->selectionModel());
                    view->setCurrentIndex(previous);
                    return;
                }
                load(i.row());
            });
}

void AdminPage::refreshWhileTyping(const QList<QLineEdit *> &fields)
{
    auto *debounce = new QTimer(this);
    debounce->setSingleShot(true);
    debounce->setInterval(250);
    for (QLineEdit *e : fields)
        connect(e, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
    connect(debounce, &QTimer::timeout, this, &AdminPage::refresh);
}

QLabel *AdminPage::makeMessageLabel(const QString &objectName)
{
    auto *label = new QLabel(this);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    return label;
}

void AdminPage::showResult(QLabel *label, const db::DbError &error, const QString &success)
{
    if (!error) {
        label->setStyleSheet(u"color: #1b5e20"_s);
        label->setText(success);
        return;
    }
    label->setStyleSheet(u"color: #b71c1c"_s);
    switch (error.kind) {
    case db::DbError::Kind::Conflict:
        label->setText(
            tr("Someone else changed this record in the meantime. It has been reloaded; please check and "
               "try again."));
        refresh();
        return;
    case db::DbError::Kind::Unreachable:
        label->setText(tr("The database is not reachable. Nothing was saved; try again in a moment."));
        return;
    case db::DbError::Kind::Constraint:
        label->setText(tr("That would duplicate an existing record (for example the same phone number)."));
        return;
    default:
        label->setText(error.message);
    }
}

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
    m_status->setEnabled(m_current.has_value());
    m_save->setEnabled(m_current.has_value());
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

CustomersPage::CustomersPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::Customer>(
        {{tr("Name"), [](const db::Customer &c) { return c.name; }},
         {tr("Phone"), [](const db::Customer &c) { return c.phone; }},
         {tr("E-mail"), [](const db::Customer &c) { return c.email; }},
         {tr("City"), [](const db::Customer &c) { return c.city; }},
         {tr("Since"), [](const db::Customer &c) { return c.createdAt.toLocalTime().date(); }}},
        this);
    m_search = new QLineEdit(this);
    m_search->setObjectName(u"customerSearch"_s);
    m_search->setPlaceholderText(tr("Search by name, phone, e-mail or city"));
    m_search->setClearButtonEnabled(true);
    m_table = makeTable(u"customersTable"_s, m_model, &m_proxy);
    m_name = new QLineEdit(this);
    m_name->setObjectName(u"customerName"_s);
    m_phone = new QLineEdit(this);
    m_phone->setObjectName(u"customerPhone"_s);
    m_email = new QLineEdit(this);
    m_email->setObjectName(u"customerEmail"_s);
    m_city = new QLineEdit(this);
    m_city->setObjectName(u"customerCity"_s);
    auto *save = new QPushButton(tr("&Save"), this);
    save->setObjectName(u"saveCustomer"_s);
    auto *add = new QPushButton(tr("&New customer"), this);
    add->setObjectName(u"newCustomer"_s);
    m_message = makeMessageLabel(u"customerMessage"_s);
    auto *side = new QWidget(this);
    auto *form = new QFormLayout(side);
    form->addRow(tr("&Name"), m_name);
    form->addRow(tr("&Phone"), m_phone);
    form->addRow(tr("&E-mail"), m_email);
    form->addRow(tr("&City"), m_city);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(save);
    buttons->addWidget(add);
    form->addRow(buttons);
    form->addRow(m_message);
    auto *split = new QSplitter(this);
    split->addWidget(m_table);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_search);
    layout->addWidget(split, 1);
    refreshWhileTyping({m_search});
    guardSelection(
        m_table, m_proxy, [this](int row) { return m_model->at(row).id == m_current.id; },
        [this](int row) { load(m_model->at(row)); });
    connect(save, &QPushButton::clicked, this, &CustomersPage::saveChanges);
    connect(add, &QPushButton::clicked, this, [this] {
        if (maybeLeave())
            load(db::Customer{});
        m_name->setFocus();
    });
}

void CustomersPage::refresh()
{
    const QString text = m_search->text();
    m_ctx->db->submit([text](db::Repositories &r) { return r.customers.search(text, 1000); })
        .then(this, [this](db::DbResult<QList<db::Customer>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            m_model->setRecords(res.value);
        });
}

void CustomersPage::load(const db::Customer &c)
{
    m_current = c;
    m_name->setText(c.name);
    m_phone->setText(c.phone);
    m_email->setText(c.email);
    m_city->setText(c.city);
    m_message->clear();
}

bool CustomersPage::hasUnsavedChanges() const
{
    return m_name->text() != m_current.name || m_phone->text() != m_current.phone ||
           m_email->text() != m_current.email || m_city->text() != m_current.city;
}

void CustomersPage::discardChanges()
{
    load(m_current);
}

bool CustomersPage::saveChanges()
{
    db::Customer c = m_current;
    c.name = m_name->text().trimmed();
    c.phone = m_phone->text().trimmed();
    c.email = m_email->text().trimmed();
    c.city = m_city->text().trimmed();
    if (c.name.isEmpty()) {
        showResult(m_message,
                   db::DbError::make(db::DbError::Kind::Invalid, tr("Please enter the customer's name.")),
                   {});
        return false;
    }
    if (db::CustomerRepository::normalizePhone(c.phone).size() < 11) {
        showResult(m_message,
                   db::DbError::make(db::DbError::Kind::Invalid,
                                     tr("Please enter a valid phone number, e.g. +91 98765 43210.")),
                   {});
        return false;
    }
    if (!c.email.isEmpty() && !c.email.contains(u'@')) {
        showResult(m_message,
                   db::DbError::make(db::DbError::Kind::Invalid, tr("That e-mail address is not valid.")),
                   {});
        return false;
    }
    const bool create = c.id == 0;
    m_ctx->db
        ->submit([c, create](db::Repositories &r) {
            return create ? r.customers.create(c) : r.customers.update(c);
        })
        .then(this, [this](db::DbResult<db::Customer> res) {
            showResult(m_message, res.error, tr("Saved %1.").arg(res.value.name));
            if (res.ok()) {
                load(res.value);
                refresh();
            }
        });
    // Saving is asynchronous; the form counts as saved once the fields are handed over.
    m_current = c;
    return true;
}

} // namespace vaani::admin
