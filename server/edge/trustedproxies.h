#pragma once
// TRUSTED_PROXIES: the load balancers whose X-Forwarded-For and X-Forwarded-Proto headers are believed.
// From any other peer those headers are the client's own claim and are ignored: the client is the connecting
// address, and the scheme is the one the request arrived on. Behind a trusted proxy the client is the
// rightmost X-Forwarded-For address that is not itself a trusted proxy (everything left of it was written by
// the client and proves nothing); a malformed entry ends the walk at the last good address.
// Immutable after parse(); shared read-only by every worker thread.

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace vaani {

class TrustedProxies
{
public:
    // "10.0.0.0/8, 127.0.0.1, ::1, fd00::/8" (commas or spaces). Empty: trust no one.
    static std::optional<TrustedProxies> parse(const QString &spec, QString *error);
    bool isEmpty() const { return m_subnets.isEmpty(); }
    bool contains(const QHostAddress &address) const;
    // forwardedFor: every X-Forwarded-For value of the request, in order (several headers count as one list).
    QHostAddress client(const QHostAddress &peer, const QList<QByteArray> &forwardedFor) const;
    // "https" or "http" from a trusted peer's X-Forwarded-Proto (its first entry), else empty.
    QByteArray scheme(const QHostAddress &peer, QByteArrayView forwardedProto) const;

private:
    QList<QPair<QHostAddress, int>> m_subnets;
};

} // namespace vaani
