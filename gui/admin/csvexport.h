#pragma once
// CSV export of any table view's model (what the user sees: visible columns, current sort and filter).

#include <QString>

class QAbstractItemModel;

namespace vaani::admin {

QString toCsv(const QAbstractItemModel *model);
bool exportCsv(const QAbstractItemModel *model, const QString &path, QString *error);

} // namespace vaani::admin
