// AdminPage: the helpers every page uses (tables, selection guard, messages).
#include "adminpage.h"

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

QString callOffset(qint64 ms)
{
    return u"%1:%2"_s.arg(ms / 60000, 2, 10, QChar(u'0')).arg((ms / 1000) % 60, 2, 10, QChar(u'0'));
}

QString callDuration(const db::CallRecord &call)
{
    const QDateTime end = call.endedAt.isValid() ? call.endedAt : QDateTime::currentDateTimeUtc();
    return callOffset(call.startedAt.msecsTo(end));
}

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
    case db::DbError::Kind::Forbidden:
        label->setText(tr("The database refused this for your role (%1). Nothing was changed.")
                           .arg(roleLabel(m_ctx->access)));
        return;
    default:
        label->setText(error.message);
    }
}

} // namespace vaani::admin
