#include "twiliosignature.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QUrlQuery>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::twilio {

FormParams parseForm(QByteArrayView body)
{
    FormParams out;
    const QByteArray copy = body.toByteArray();
    for (const QByteArray &pair : copy.split('&')) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        QByteArray name = eq < 0 ? pair : pair.left(eq);
        QByteArray value = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        name.replace('+', ' ');
        value.replace('+', ' ');
        out.append({QString::fromUtf8(QByteArray::fromPercentEncoding(name)),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(value))});
    }
    return out;
}

QByteArray encodeForm(const FormParams &params)
{
    QByteArray out;
    for (const auto &[k, v] : params) {
        if (!out.isEmpty())
            out.append('&');
        out.append(k.toUtf8().toPercentEncoding());
        out.append('=');
        out.append(v.toUtf8().toPercentEncoding());
    }
    return out;
}

QString signedString(const QString &url, const FormParams &params)
{
    // Byte-wise (UTF-8) sort of names; repeated names contribute their de-duplicated, sorted values.
    QList<QPair<QByteArray, QByteArray>> items;
    items.reserve(params.size());
    for (const auto &[k, v] : params)
        items.append({k.toUtf8(), v.toUtf8()});
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    QByteArray data = url.toUtf8();
    for (const auto &[k, v] : items) {
        data.append(k);
        data.append(v);
    }
    return QString::fromUtf8(data);
}

QByteArray computeSignature(const QString &authToken, const QString &url, const FormParams &params)
{
    return QMessageAuthenticationCode::hash(signedString(url, params).toUtf8(), authToken.toUtf8(),
                                            QCryptographicHash::Sha1)
        .toBase64();
}

QStringList urlPortVariants(const QString &url)
{
    QStringList out{url};
    const qsizetype schemeEnd = url.indexOf(u"://"_s);
    if (schemeEnd <= 0)
        return out;
    const QString scheme = url.left(schemeEnd).toLower();
    const qsizetype authStart = schemeEnd + 3;
    qsizetype authEnd = url.size();
    for (QChar stop : {u'/', u'?', u'#'}) {
        const qsizetype i = url.indexOf(stop, authStart);
        if (i >= 0 && i < authEnd)
            authEnd = i;
    }
    const QString authority = url.mid(authStart, authEnd - authStart);
    const qsizetype at = authority.lastIndexOf(u'@');
    const QString userinfo = at >= 0 ? authority.left(at + 1) : QString();
    const QString hostport = authority.mid(at + 1);
    const qsizetype bracket = hostport.lastIndexOf(u']');
    const qsizetype colon = hostport.lastIndexOf(u':');
    const bool hasPort = colon > bracket;
    const QString host = hasPort ? hostport.left(colon) : hostport;
    const QString prefix = url.left(authStart) + userinfo;
    const QString rest = url.mid(authEnd);
    if (hasPort) {
        out << prefix + host + rest;
    } else {
        QString defaultPort;
        if (scheme == u"https"_s || scheme == u"wss"_s)
            defaultPort = u"443"_s;
        else if (scheme == u"http"_s || scheme == u"ws"_s)
            defaultPort = u"80"_s;
        if (!defaultPort.isEmpty())
            out << prefix + host + u':' + defaultPort + rest;
    }
    return out;
}

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool validateSignature(const QString &authToken, const QString &url, const FormParams &params,
                       QByteArrayView signature)
{
    if (signature.isEmpty() || authToken.isEmpty())
        return false;
    bool match = false;
    for (const QString &variant : urlPortVariants(url))
        match = constantTimeEquals(computeSignature(authToken, variant, params), signature) || match;
    return match;
}

QByteArray bodySha256Hex(QByteArrayView body)
{
    return QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex();
}

bool validateJsonBody(const QString &authToken, const QString &url, QByteArrayView body,
                      QByteArrayView signature)
{
    const qsizetype q = url.indexOf(u'?');
    if (q < 0)
        return false;
    const QUrlQuery query(url.mid(q + 1));
    const QByteArray expected = query.queryItemValue(u"bodySHA256"_s).toLatin1();
    if (expected.isEmpty() || !constantTimeEquals(expected, bodySha256Hex(body)))
        return false;
    return validateSignature(authToken, url, {}, signature);
}

} // namespace vaani::twilio
