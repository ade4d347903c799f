#include "csvexport.h"

#include <QAbstractItemModel>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
QString field(const QString &v)
{
    QString s = v;
    // Spreadsheet formula injection: a leading = + - @ would run as a formula in Excel/LibreOffice.
    if (!s.isEmpty() && QStringLiteral("=+-@").contains(s.at(0)) &&
        !(s.at(0) == u'-' && s.size() > 1 && s.at(1).isDigit()))
        s.prepend(u'\'');
    if (s.contains(u',') || s.contains(u'"') || s.contains(u'\n') || s.contains(u'\r'))
        return u'"' + s.replace(u'"', u"\"\""_s) + u'"';
    return s;
}
} // namespace

QString toCsv(const QAbstractItemModel *model)
{
    QString out;
    QStringList header;
    for (int c = 0; c < model->columnCount(); ++c)
        header << field(model->headerData(c, Qt::Horizontal).toString());
    out += header.join(u',') + u"\r\n"_s;
    for (int r = 0; r < model->rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < model->columnCount(); ++c)
            row << field(model->index(r, c).data().toString());
        out += row.join(u',') + u"\r\n"_s;
    }
    return out;
}

bool exportCsv(const QAbstractItemModel *model, const QString &path, QString *error)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        *error = f.errorString();
        return false;
    }
    f.write("\xEF\xBB\xBF"); // UTF-8 BOM so spreadsheets read Hindi names correctly
    f.write(toCsv(model).toUtf8());
    if (!f.commit()) {
        *error = f.errorString();
        return false;
    }
    return true;
}

} // namespace vaani::admin
