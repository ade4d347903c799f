#include "streamtokens.h"

#include "twiliosignature.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
constexpr auto kB64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
}

StreamTokens::StreamTokens(const QByteArray &secret, int ttlSeconds)
    : m_ttlMs(qint64(ttlSeconds) * 1000)
{
    if (secret.isEmpty()) {
        m_key.resize(32);
        QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(m_key.data()),
                                             reinterpret_cast<quint32 *>(m_key.data() + m_key.size()));
    } else {
        m_key = QMessageAuthenticationCode::hash("vaani-stream-token-v1", secret, QCryptographicHash::Sha256);
    }
}

QByteArray StreamTokens::sign(const QByteArray &payload) const
{
    return QMessageAuthenticationCode::hash(payload, m_key, QCryptographicHash::Sha256).toBase64(kB64);
}

QString StreamTokens::mint(const QString &callSid, qint64 nowMs)
{
    QByteArray nonce(12, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(nonce.data()),
                                         reinterpret_cast<quint32 *>(nonce.data() + nonce.size()));
    const QByteArray payload =
        callSid.toUtf8() + '|' + QByteArray::number(nowMs + m_ttlMs) + '|' + nonce.toBase64(kB64);
    const QByteArray encoded = payload.toBase64(kB64);
    return QString::fromLatin1(encoded + '.' + sign(encoded));
}

StreamTokens::Verdict StreamTokens::verify(const QString &token, const QString &callSid, qint64 nowMs)
{
    if (token.size() > 512)
        return Verdict::Malformed;
    const QByteArray raw = token.toLatin1();
    const qsizetype dot = raw.indexOf('.');
    if (dot <= 0)
        return Verdict::Malformed;
    const QByteArray encoded = raw.left(dot);
    if (!twilio::constantTimeEquals(sign(encoded), raw.mid(dot + 1)))
        return Verdict::BadSignature;
    const auto decoded = QByteArray::fromBase64Encoding(encoded, kB64);
    if (!decoded)
        return Verdict::Malformed;
    const QList<QByteArray> parts = decoded.decoded.split('|');
    if (parts.size() != 3)
        return Verdict::Malformed;
    const qint64 expiry = parts.at(1).toLongLong();
    if (nowMs > expiry)
        return Verdict::Expired;
    if (QString::fromUtf8(parts.at(0)) != callSid)
        return Verdict::WrongCall;
    QMutexLocker lock(&m_mutex);
    for (auto it = m_used.begin(); it != m_used.end();) {
        if (it.value() < nowMs)
            it = m_used.erase(it);
        else
            ++it;
    }
    if (m_used.contains(parts.at(2)))
        return Verdict::Replayed;
    m_used.insert(parts.at(2), expiry);
    return Verdict::Ok;
}

QString StreamTokens::verdictName(Verdict v)
{
    switch (v) {
    case Verdict::Ok:
        return u"ok"_s;
    case Verdict::Malformed:
        return u"malformed"_s;
    case Verdict::BadSignature:
        return u"bad_signature"_s;
    case Verdict::Expired:
        return u"expired"_s;
    case Verdict::WrongCall:
        return u"wrong_call"_s;
    case Verdict::Replayed:
        return u"replayed"_s;
    }
    return u"unknown"_s;
}

} // namespace vaani
