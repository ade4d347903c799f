#pragma once
// A read-only table model over a list of value records (orders, tickets, calls, …) with typed column
// definitions; the pages fill it from DbWorker results. Sorting goes through a QSortFilterProxyModel.

#include <QAbstractTableModel>
#include <QList>
#include <QVariant>

#include <functional>

namespace vaani::admin {

template<typename T> struct Column
{
    QString title;
    std::function<QVariant(const T &)> display;
    Qt::Alignment alignment = Qt::AlignLeft | Qt::AlignVCenter;
};

template<typename T> class RecordModel : public QAbstractTableModel
{
public:
    explicit RecordModel(QList<Column<T>> columns, QObject *parent = nullptr)
        : QAbstractTableModel(parent)
        , m_columns(std::move(columns))
    {}

    void setRecords(QList<T> records)
    {
        beginResetModel();
        m_records = std::move(records);
        endResetModel();
    }
    const QList<T> &records() const { return m_records; }
    const T &at(int row) const { return m_records.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_records.size());
    }
    int columnCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_columns.size());
    }
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
            return {};
        const Column<T> &c = m_columns.at(index.column());
        if (role == Qt::DisplayRole || role == Qt::EditRole)
            return c.display(m_records.at(index.row()));
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(c.alignment);
        return {};
    }
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override
    {
        if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 &&
            section < m_columns.size())
            return m_columns.at(section).title;
        return QAbstractTableModel::headerData(section, orientation, role);
    }

private:
    QList<Column<T>> m_columns;
    QList<T> m_records;
};

} // namespace vaani::admin
