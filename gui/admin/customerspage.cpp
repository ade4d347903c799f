// The Customers page.
#include "customerspage.h"

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
    if (!m_ctx->access.editCustomers()) {
        // Agents see numbers masked and change nothing here (the database allows them neither).
        const QString why = needsRole(m_ctx->access, db::StaffAccess::Role::Supervisor);
        for (QLineEdit *field : {m_name, m_phone, m_email, m_city}) {
            field->setReadOnly(true);
            field->setToolTip(why);
        }
        for (QPushButton *b : {save, add}) {
            b->setEnabled(false);
            b->setToolTip(why);
        }
        m_message->setText(tr("Full numbers and customer changes: %1").arg(why));
    }
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
