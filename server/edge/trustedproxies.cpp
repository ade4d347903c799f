#include "trustedproxies.h"

#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
// IPv4-mapped IPv6 (::ffff:10.0.0.1) compares as the IPv4 address it carries.
QHostAddress canonical(const QHostAddress &a)
{
    bool mapped = false;
    const quint32 v4 = a.toIPv4Address(&mapped);
    return mapped ? QHostAddress(v4) : a;
}
} // namespace

std::optional<TrustedProxies> TrustedProxies::parse(const QString &spec, QString *error)
{
    TrustedProxies t;
    static const QRegularExpression separators(u"[,\\s]+"_s);
    for (const QString &item : spec.split(separators, Qt::SkipEmptyParts)) {
        QPair<QHostAddress, int> subnet;
        if (item.contains(u'/')) {
            subnet = QHostAddress::parseSubnet(item);
        } else {
            const QHostAddress a(item);
            subnet = {a, a.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32};
        }
        if (subnet.first.isNull() || subnet.second < 0) {
            if (error)
                *error = u"TRUSTED_PROXIES: '%1' is not an IP address or CIDR block"_s.arg(item.left(60));
            return std::nullopt;
        }
        subnet.first = canonical(subnet.first);
        t.m_subnets.append(subnet);
    }
    return t;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    const QHostAddress a = canonical(address);
    for (const auto &subnet : m_subnets) {
        if (a.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress TrustedProxies::client(const QHostAddress &peer, const QList<QByteArray> &forwardedFor) const
{
    if (forwardedFor.isEmpty() || !contains(peer))
        return peer;
    QList<QByteArray> hops;
    for (const QByteArray &header : forwardedFor) {
        for (const QByteArray &part : header.split(','))
            hops.append(part.trimmed());
    }
    QHostAddress client = peer;
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        QByteArray hop = hops.at(i);
        // "[2001:db8::1]:4711" and "203.0.113.7:4711" carry a port some proxies add; strip it.
        if (hop.startsWith('[') && hop.contains(']'))
            hop = hop.mid(1, hop.indexOf(']') - 1);
        else if (hop.count(':') == 1)
            hop.truncate(hop.indexOf(':'));
        const QHostAddress address(QString::fromLatin1(hop.left(64)));
        if (address.isNull())
            break; // malformed: the last good address stands
        client = canonical(address);
        if (!contains(client))
            break;
    }
    return client;
}

QByteArray TrustedProxies::scheme(const QHostAddress &peer, QByteArrayView forwardedProto) const
{
    if (forwardedProto.isEmpty() || !contains(peer))
        return {};
    const QByteArrayView first = forwardedProto.first(
        forwardedProto.indexOf(',') < 0 ? forwardedProto.size() : forwardedProto.indexOf(','));
    const QByteArray s = first.trimmed().toByteArray().toLower();
    return s == "https" || s == "http" ? s : QByteArray();
}

} // namespace vaani
