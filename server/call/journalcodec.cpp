#include "journalcodec.h"

namespace vaani::journal {

namespace {
quint16 crcOf(QByteArrayView json)
{
    return qChecksum(json, Qt::ChecksumIso3309);
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}
} // namespace

QByteArray encode(QByteArrayView json)
{
    if (json.isEmpty() || json.size() + 6 > kMaxRecordBytes || json.contains('\n'))
        return {};
    QByteArray line = QByteArray::number(crcOf(json), 16).rightJustified(4, '0');
    line.reserve(json.size() + 6);
    line += ' ';
    line += json;
    line += '\n';
    return line;
}

Decoded decode(QByteArrayView data)
{
    Decoded out;
    qsizetype at = 0;
    while (at < data.size()) {
        const qsizetype nl = data.indexOf('\n', at);
        if (nl < 0)
            break; // torn tail
        const QByteArrayView line = data.sliced(at, nl - at);
        at = nl + 1;
        out.goodBytes = at;
        // "xxxx p": at least the checksum, a space and one byte.
        if (line.size() < 6 || line.size() > kMaxRecordBytes || line[4] != ' ') {
            ++out.corrupt;
            continue;
        }
        int crc = 0;
        bool hexOk = true;
        for (int i = 0; i < 4 && hexOk; ++i) {
            const int d = hexDigit(line[i]);
            hexOk = d >= 0;
            crc = crc * 16 + d;
        }
        const QByteArrayView json = line.sliced(5);
        if (!hexOk || crcOf(json) != crc) {
            ++out.corrupt;
            continue;
        }
        out.payloads.append(json.toByteArray());
    }
    return out;
}

} // namespace vaani::journal
