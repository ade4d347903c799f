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

namespace {
QByteArray deriveKey(const QByteArray &secret)
{
    return QMessageAuthenticationCode::hash("vaani-stream-token-v1", secret, QCryptographicHash::Sha256);
}
} // namespace

StreamTokens::StreamTokens(const QByteArray &secret, const QByteArray &previousSecret, int ttlSeconds)
    : m_ttlMs(qint64(ttlSeconds) * 1000)
{
    if (!previousSecret.isEmpty())
        m_previousKey = deriveKey(previousSecret);
    if (secret.isEmpty()) {
        m_key.resize(32);
        QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(m_key.data()),
                                             reinterpret_cast<quint32 *>(m_key.data() + m_key.size()));
    } else {
        m_key = deriveKey(secret);
    }
}

void StreamTokens::rekey(const QByteArray &secret, const QByteArray &previousSecret)
{
    if (secret.isEmpty())
        return; // a random per-process key stays (nothing to rotate to)
    QMutexLocker lock(&m_mutex);
    m_key = deriveKey(secret);
    m_previousKey = previousSecret.isEmpty() ? QByteArray() : deriveKey(previousSecret);
}

QByteArray StreamTokens::sign(const QByteArray &payload, const QByteArray &key)
{
    return QMessageAuthenticationCode::hash(payload, key, QCryptographicHash::Sha256).toBase64(kB64);
}

QString StreamTokens::mint(const QString &callSid, const Bound &numbers, qint64 nowMs)
{
    QByteArray nonce(12, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(nonce.data()),
                                         reinterpret_cast<quint32 *>(nonce.data() + nonce.size()));
    // Each text field base64url-encoded, so none can contain the separator.
    const QByteArray payload = callSid.toUtf8().toBase64(kB64) + '|' + QByteArray::number(nowMs + m_ttlMs) +
                               '|' + nonce.toBase64(kB64) + '|' + numbers.caller.toUtf8().toBase64(kB64) +
                               '|' + numbers.called.toUtf8().toBase64(kB64);
    const QByteArray encoded = payload.toBase64(kB64);
    QByteArray key;
    {
        QMutexLocker lock(&m_mutex);
        key = m_key;
    }
    return QString::fromLatin1(encoded + '.' + sign(encoded, key));
}

StreamTokens::Verdict StreamTokens::verify(const QString &token, const QString &callSid, qint64 nowMs,
                                           Bound *numbers, Ticket *ticket)
{
    if (token.size() > 1024)
        return Verdict::Malformed;
    const QByteArray raw = token.toLatin1();
    const qsizetype dot = raw.indexOf('.');
    if (dot <= 0)
        return Verdict::Malformed;
    const QByteArray encoded = raw.left(dot);
    const QByteArray signature = raw.mid(dot + 1);
    QByteArray key, previousKey;
    {
        QMutexLocker lock(&m_mutex);
        key = m_key;
        previousKey = m_previousKey;
    }
    if (!twilio::constantTimeEquals(sign(encoded, key), signature) &&
        (previousKey.isEmpty() || !twilio::constantTimeEquals(sign(encoded, previousKey), signature)))
        return Verdict::BadSignature;
    const auto decoded = QByteArray::fromBase64Encoding(encoded, kB64);
    if (!decoded)
        return Verdict::Malformed;
    const QList<QByteArray> parts = decoded.decoded.split('|');
    if (parts.size() != 5)
        return Verdict::Malformed;
    auto text = [](const QByteArray &field, QString *out) {
        const auto d = QByteArray::fromBase64Encoding(field, kB64 | QByteArray::AbortOnBase64DecodingErrors);
        if (!d)
            return false;
        *out = QString::fromUtf8(d.decoded);
        return true;
    };
    QString sid;
    Bound bound;
    bool ok = false;
    const qint64 expiry = parts.at(1).toLongLong(&ok);
    if (!ok || !text(parts.at(0), &sid) || !text(parts.at(3), &bound.caller) ||
        !text(parts.at(4), &bound.called))
        return Verdict::Malformed;
    if (nowMs > expiry)
        return Verdict::Expired;
    if (sid != callSid)
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
    if (numbers)
        *numbers = std::move(bound);
    if (ticket)
        *ticket = {parts.at(2), expiry};
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
