#pragma once
// The HTTP/1.1 side of the WebSocket opening handshake (RFC 6455 §4): request/response heads, the server's
// checks of an upgrade request, Sec-WebSocket-Accept. Used by ws::WebSocket (client) and StreamUpgrade
// (server).

#include <QByteArray>
#include <QList>
#include <QPair>

namespace vaani::ws {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (SHA-1 + base64, from Qt).
QByteArray acceptKey(QByteArrayView key);

// An HTTP/1.1 request or response head ("GET /path HTTP/1.1" or "HTTP/1.1 101 …" plus headers).
struct HttpHead
{
    QByteArray startLine;
    QList<QPair<QByteArray, QByteArray>> headers;        // names as sent, values trimmed
    QByteArray value(QByteArrayView name) const;         // first header of that name (case-insensitive)
    QList<QByteArray> values(QByteArrayView name) const; // every header of that name, in order
    bool hasToken(QByteArrayView name, QByteArrayView token) const; // comma-separated, case-insensitive
};
// Parses a complete head (up to and including the blank line). False when malformed.
bool parseHead(QByteArrayView text, HttpHead *head);

// Server side of the opening handshake: checks a GET upgrade request (RFC 6455 §4.2.1). On success returns
// true and the 101 response to send; otherwise *status (400/426) and a short reason.
bool acceptUpgrade(const HttpHead &request, QByteArray *response, int *status, QByteArray *why);

} // namespace vaani::ws
