#include "wshandshake.h"

#include <QCryptographicHash>

namespace vaani::ws {

namespace {
constexpr QByteArrayView kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
} // namespace

QByteArray acceptKey(QByteArrayView key)
{
    QCryptographicHash sha(QCryptographicHash::Sha1);
    sha.addData(key);
    sha.addData(kGuid);
    return sha.result().toBase64();
}

QByteArray HttpHead::value(QByteArrayView name) const
{
    for (const auto &[k, v] : headers) {
        if (QByteArrayView(k).compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

QList<QByteArray> HttpHead::values(QByteArrayView name) const
{
    QList<QByteArray> out;
    for (const auto &[k, v] : headers) {
        if (QByteArrayView(k).compare(name, Qt::CaseInsensitive) == 0)
            out.append(v);
    }
    return out;
}

bool HttpHead::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const auto &[k, v] : headers) {
        if (QByteArrayView(k).compare(name, Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &part : v.split(',')) {
            if (QByteArrayView(part).trimmed().compare(token, Qt::CaseInsensitive) == 0)
                return true;
        }
    }
    return false;
}

bool parseHead(QByteArrayView text, HttpHead *head)
{
    const qsizetype end = text.indexOf("\r\n\r\n");
    if (end < 0)
        return false;
    const QList<QByteArray> lines = text.first(end).toByteArray().split('\n');
    head->headers.clear();
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (!line.endsWith('\r') && i + 1 < lines.size())
            return false; // bare LF
        if (line.endsWith('\r'))
            line.chop(1);
        if (i == 0) {
            if (line.isEmpty())
                return false;
            head->startLine = line;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.startsWith(' ') || line.startsWith('\t'))
            return false; // no name, or obsolete line folding
        head->headers.append({line.first(colon), line.sliced(colon + 1).trimmed()});
    }
    return true;
}

bool acceptUpgrade(const HttpHead &request, QByteArray *response, int *status, QByteArray *why)
{
    const QList<QByteArray> parts = request.startLine.split(' ');
    if (parts.size() != 3 || parts[0] != "GET" || !parts[2].startsWith("HTTP/1.1")) {
        *status = 400;
        *why = "an upgrade must be GET … HTTP/1.1";
        return false;
    }
    if (!request.hasToken("Upgrade", "websocket") || !request.hasToken("Connection", "upgrade")) {
        *status = 426;
        *why = "WebSocket upgrade required";
        return false;
    }
    if (request.value("Sec-WebSocket-Version").trimmed() != "13") {
        *status = 426;
        *why = "unsupported WebSocket version (13 is)";
        return false;
    }
    const QByteArray key = request.value("Sec-WebSocket-Key");
    if (QByteArray::fromBase64(key).size() != 16) {
        *status = 400;
        *why = "missing or malformed Sec-WebSocket-Key";
        return false;
    }
    *response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: " +
                acceptKey(key) + "\r\n\r\n";
    return true;
}

} // namespace vaani::ws
