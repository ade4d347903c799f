// The Tickets page: filters, list, detail with history and notes, status workflow, assignment, new tickets.
#include "ticketspage.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

TicketsPage::TicketsPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::Ticket>(
        {{tr("Ticket"), [](const db::Ticket &t) { return t.code; }},
         {tr("Status"), [](const db::Ticket &t) { return statusLabel(t.status); }},
         {tr("Priority"), [](const db::Ticket &t) { return priorityLabel(t.priority); }},
         {tr("Category"), [](const db::Ticket &t) { return t.category; }},
         {tr("Order"), [](const db::Ticket &t) { return t.orderCode; }},
         {tr("Assignee"), [](const db::Ticket &t) { return t.assignee; }},
         {tr("Opened"), [](const db::Ticket &t) { return t.createdAt.toLocalTime(); }},
         {tr("Summary"), [](const db::Ticket &t) { return t.summary.section(u'\n', 0, 0); }}},
        this);
    m_statusFilter = new QComboBox(this);
    m_statusFilter->setObjectName(u"ticketStatusFilter"_s);
    m_statusFilter->addItem(tr("Any status"), QString());
    for (const QString &s : db::Ticket::statuses())
        m_statusFilter->addItem(statusLabel(s), s);
    m_priorityFilter = new QComboBox(this);
    m_priorityFilter->setObjectName(u"ticketPriorityFilter"_s);
    m_priorityFilter->addItem(tr("Any priority"), QString());
    for (const QString &p : db::Ticket::priorities())
        m_priorityFilter->addItem(priorityLabel(p), p);
    m_assigneeFilter = new QLineEdit(this);
    m_assigneeFilter->setObjectName(u"ticketAssigneeFilter"_s);
    m_assigneeFilter->setPlaceholderText(tr("Assignee"));
    m_textFilter = new QLineEdit(this);
    m_textFilter->setObjectName(u"ticketSearch"_s);
    m_textFilter->setPlaceholderText(tr("Search ticket, order or summary"));
    m_textFilter->setClearButtonEnabled(true);
    auto *filters = new QHBoxLayout;
    filters->addWidget(m_statusFilter);
    filters->addWidget(m_priorityFilter);
    filters->addWidget(m_assigneeFilter);
    filters->addWidget(m_textFilter, 1);
    m_table = makeTable(u"ticketsTable"_s, m_model, &m_proxy);

    // Detail
    auto *detail = new QGroupBox(tr("Ticket"), this);
    m_title = new QLabel(tr("Select a ticket."), detail);
    m_title->setObjectName(u"ticketTitle"_s);
    m_summary = new QLabel(detail);
    m_summary->setObjectName(u"ticketSummary"_s);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status = new QComboBox(detail);
    m_status->setObjectName(u"ticketStatus"_s);
    for (const QString &s : db::Ticket::statuses())
        m_status->addItem(statusLabel(s), s);
    m_assignee = new QLineEdit(detail);
    m_assignee->setObjectName(u"ticketAssignee"_s);
    auto *save = new QPushButton(tr("&Save changes"), detail);
    save->setObjectName(u"saveTicket"_s);
    m_note = new QPlainTextEdit(detail);
    m_note->setObjectName(u"ticketNote"_s);
    m_note->setPlaceholderText(tr("Add a note for the team…"));
    m_note->setMaximumHeight(70);
    m_note->setTabChangesFocus(true);
    auto *addNote = new QPushButton(tr("Add &note"), detail);
    addNote->setObjectName(u"addTicketNote"_s);
    m_history = new QListWidget(detail);
    m_history->setObjectName(u"ticketHistory"_s);
    m_openCall = new QPushButton(tr("Open the call"), detail);
    m_openCall->setObjectName(u"openTicketCall"_s);
    m_message = makeMessageLabel(u"ticketMessage"_s);
    auto *form = new QFormLayout(detail);
    form->addRow(m_title);
    form->addRow(m_summary);
    form->addRow(tr("S&tatus"), m_status);
    form->addRow(tr("Assi&gnee"), m_assignee);
    form->addRow(save);
    form->addRow(m_note);
    form->addRow(addNote);
    form->addRow(tr("History"), m_history);
    form->addRow(m_openCall);
    form->addRow(m_message);

    // New ticket
    auto *create = new QGroupBox(tr("New ticket"), this);
    m_newCategory = new QComboBox(create);
    m_newCategory->setObjectName(u"newTicketCategory"_s);
    for (const QString &c : {u"delivery"_s, u"damaged_item"_s, u"wrong_item"_s, u"refund"_s, u"payment"_s,
                             u"return"_s, u"cancellation"_s, u"callback"_s, u"other"_s})
        m_newCategory->addItem(c, c);
    m_newPriority = new QComboBox(create);
    m_newPriority->setObjectName(u"newTicketPriority"_s);
    for (const QString &p : db::Ticket::priorities())
        m_newPriority->addItem(priorityLabel(p), p);
    m_newPriority->setCurrentIndex(1);
    m_newOrder = new QLineEdit(create);
    m_newOrder->setObjectName(u"newTicketOrder"_s);
    m_newOrder->setPlaceholderText(tr("Order ID (optional)"));
    m_newSummary = new QLineEdit(create);
    m_newSummary->setObjectName(u"newTicketSummary"_s);
    m_newSummary->setPlaceholderText(tr("What is the problem?"));
    auto *createButton = new QPushButton(tr("&Create ticket"), create);
    createButton->setObjectName(u"createTicket"_s);
    auto *cform = new QFormLayout(create);
    cform->addRow(tr("Category"), m_newCategory);
    cform->addRow(tr("Priority"), m_newPriority);
    cform->addRow(tr("Order"), m_newOrder);
    cform->addRow(tr("Summary"), m_newSummary);
    cform->addRow(createButton);

    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->addWidget(detail, 1);
    rightLayout->addWidget(create);
    auto *split = new QSplitter(this);
    split->addWidget(m_table);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(split, 1);

    for (QComboBox *c : {m_statusFilter, m_priorityFilter})
        connect(c, &QComboBox::currentIndexChanged, this, &TicketsPage::refresh);
    refreshWhileTyping({m_assigneeFilter, m_textFilter});
    guardSelection(
        m_table, m_proxy, [this](int row) { return m_current && m_model->at(row).id == m_current->id; },
        [this](int row) { load(m_model->at(row)); });
    connect(save, &QPushButton::clicked, this, &TicketsPage::saveChanges);
    connect(addNote, &QPushButton::clicked, this, &TicketsPage::addNote);
    connect(createButton, &QPushButton::clicked, this, &TicketsPage::createTicket);
    connect(m_openCall, &QPushButton::clicked, this, [this] {
        if (m_current && m_current->callId)
            Q_EMIT openCall(*m_current->callId);
    });
    m_openCall->setEnabled(false);
}

void TicketsPage::refresh()
{
    db::TicketFilter f;
    f.status = m_statusFilter->currentData().toString();
    f.priority = m_priorityFilter->currentData().toString();
    f.assignee = m_assigneeFilter->text().trimmed();
    f.text = m_textFilter->text().trimmed();
    m_ctx->db->submit([f](db::Repositories &r) { return r.tickets.list(f); })
        .then(this, [this](db::DbResult<QList<db::Ticket>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            m_model->setRecords(res.value);
            const qint64 want = m_pendingSelect ? m_pendingSelect : (m_current ? m_current->id : 0);
            m_pendingSelect = 0;
            for (int r = 0; want && r < m_proxy->rowCount(); ++r) {
                const QModelIndex i = m_proxy->index(r, 0);
                if (m_model->at(m_proxy->mapToSource(i).row()).id == want) {
                    m_table->setCurrentIndex(i);
                    load(m_model->at(m_proxy->mapToSource(i).row()));
                }
            }
        });
}

void TicketsPage::selectTicket(qint64 id)
{
    m_pendingSelect = id;
    m_statusFilter->setCurrentIndex(0);
    m_priorityFilter->setCurrentIndex(0);
    m_assigneeFilter->clear();
    m_textFilter->clear();
    refresh();
}

void TicketsPage::load(const db::Ticket &t)
{
    m_current = t;
    m_title->setText(tr("<b>%1</b> · %2 · %3").arg(t.code, priorityLabel(t.priority), t.category));
    m_summary->setText(t.summary + (t.orderCode.isEmpty() ? QString() : tr("\nOrder: %1").arg(t.orderCode)));
    m_status->setCurrentIndex(m_status->findData(t.status));
    m_assignee->setText(t.assignee);
    m_openCall->setEnabled(t.callId.has_value());
    const qint64 id = t.id;
    m_ctx->db->submit([id](db::Repositories &r) { return r.tickets.history(id); })
        .then(this, [this, id](db::DbResult<QList<db::TicketEvent>> res) {
            const LoadDone done{this, true};
            if (!m_current || m_current->id != id)
                return;
            m_history->clear();
            for (const db::TicketEvent &e : res.value) {
                QString line = QLocale().toString(e.createdAt.toLocalTime(), QLocale::ShortFormat) + u"  "_s +
                               e.author + u": "_s;
                if (e.kind == u"created"_s)
                    line += tr("opened the ticket");
                else if (e.kind == u"status"_s)
                    line +=
                        tr("changed status %1 → %2").arg(statusLabel(e.fromStatus), statusLabel(e.toStatus));
                else if (e.kind == u"assigned"_s)
                    line += tr("assigned to %1").arg(e.note.isEmpty() ? tr("nobody") : e.note);
                else
                    line += tr("note: %1").arg(e.note);
                if (e.kind == u"status"_s && !e.note.isEmpty())
                    line += u" — "_s + e.note;
                m_history->addItem(line);
            }
        });
}

bool TicketsPage::hasUnsavedChanges() const
{
    return m_current && (m_status->currentData().toString() != m_current->status ||
                         m_assignee->text().trimmed() != m_current->assignee ||
                         !m_note->toPlainText().trimmed().isEmpty());
}

void TicketsPage::discardChanges()
{
    m_note->clear();
    if (m_current)
        load(*m_current);
}

bool TicketsPage::saveChanges()
{
    if (!m_current)
        return true;
    const db::Ticket t = *m_current;
    const QString status = m_status->currentData().toString();
    const QString assignee = m_assignee->text().trimmed();
    const QString note = m_note->toPlainText().trimmed();
    if (status != t.status && !db::Ticket::canTransition(t.status, status)) {
        showResult(
            m_message,
            db::DbError::make(
                db::DbError::Kind::Invalid,
                tr("A ticket cannot go from “%1” to “%2”.").arg(statusLabel(t.status), statusLabel(status))),
            {});
        return false;
    }
    const QString author = m_ctx->author;
    m_ctx->db
        ->submit([t, status, assignee, note, author](db::Repositories &r) -> db::DbResult<db::Ticket> {
            db::DbResult<db::Ticket> cur(t);
            if (assignee != t.assignee) {
                cur = r.tickets.assign(t.id, assignee, author, cur.value.rowVersion);
                if (!cur.ok())
                    return cur;
            }
            if (status != t.status) {
                cur = r.tickets.changeStatus(t.id, status, author, note, cur.value.rowVersion);
                if (!cur.ok())
                    return cur;
            } else if (!note.isEmpty()) {
                cur = r.tickets.addNote(t.id, note, author);
            }
            return cur;
        })
        .then(this, [this](db::DbResult<db::Ticket> res) {
            showResult(m_message, res.error, tr("Saved %1.").arg(res.value.code));
            if (res.ok()) {
                m_note->clear();
                load(res.value);
                refresh();
            }
        });
    m_current->status = status;
    m_current->assignee = assignee;
    m_note->clear();
    return true;
}

void TicketsPage::addNote()
{
    if (!m_current)
        return;
    const QString note = m_note->toPlainText().trimmed();
    if (note.isEmpty()) {
        showResult(m_message, db::DbError::make(db::DbError::Kind::Invalid, tr("Write the note first.")), {});
        return;
    }
    const qint64 id = m_current->id;
    const QString author = m_ctx->author;
    m_ctx->db->submit([id, note, author](db::Repositories &r) { return r.tickets.addNote(id, note, author); })
        .then(this, [this](db::DbResult<db::Ticket> res) {
            showResult(m_message, res.error, tr("Note added."));
            if (res.ok()) {
                m_note->clear();
                load(res.value);
            }
        });
}

void TicketsPage::createTicket()
{
    const QString summary = m_newSummary->text().trimmed();
    if (summary.size() < 5) {
        showResult(m_message,
                   db::DbError::make(db::DbError::Kind::Invalid, tr("Describe the problem in a few words.")),
                   {});
        return;
    }
    db::NewTicket t;
    t.category = m_newCategory->currentData().toString();
    t.priority = m_newPriority->currentData().toString();
    t.summary = summary;
    t.author = m_ctx->author;
    const QString order = m_newOrder->text().trimmed();
    m_ctx->db
        ->submit([t, order](db::Repositories &r) mutable -> db::DbResult<db::Ticket> {
            if (!order.isEmpty()) {
                auto o = r.orders.findByCode(order);
                if (!o.ok())
                    return db::DbError::make(
                        db::DbError::Kind::Invalid,
                        QCoreApplication::translate("vaani::admin::TicketsPage", "There is no order “%1”.")
                            .arg(order));
                t.orderId = o.value.id;
                t.customerId = o.value.customerId;
            }
            return r.tickets.create(t);
        })
        .then(this, [this](db::DbResult<db::Ticket> res) {
            showResult(m_message, res.error, tr("Created %1.").arg(res.value.code));
            if (res.ok()) {
                m_newSummary->clear();
                m_newOrder->clear();
                selectTicket(res.value.id);
            }
        });
}

} // namespace vaani::admin
