#pragma once
// Single-use, short-lived stream tokens: minted by the voice webhook, bound to the CallSid and to the caller
// and called numbers of that signed webhook, passed to Twilio as a <Parameter>, and checked when the Media
// Stream says `start`. The numbers a call uses come from the verified token only, never from the stream.
// HMAC-SHA256 signed with a key derived from STREAM_TOKEN_KEY or TWILIO_AUTH_TOKEN (so any instance behind a
// load balancer can verify) or a random per-process key; tokens signed with the previous key
// (STREAM_TOKEN_KEY_PREVIOUS) are accepted too, so a rotation drops no call. Thread-safe.

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>

namespace vaani {

class StreamTokens
{
public:
    enum class Verdict { Ok, Malformed, BadSignature, Expired, WrongCall, Replayed };

    struct Bound
    {
        QString caller; // Twilio's From, from the signed webhook
        QString called; // Twilio's To
    };

    // What makes a token single-use across servers (REDIS_URL): its random nonce (signed, base64url) and
    // expiry.
    struct Ticket
    {
        QByteArray nonce;
        qint64 expiresAtMs = 0;
    };

    // `previousSecret`: a key rotated out, still accepted for verification (empty: none).
    StreamTokens(const QByteArray &secret, const QByteArray &previousSecret, int ttlSeconds);
    StreamTokens(const QByteArray &secret, int ttlSeconds)
        : StreamTokens(secret, {}, ttlSeconds)
    {}
    // A new key (and the one it replaces, still accepted); from any thread. An empty secret changes nothing.
    void rekey(const QByteArray &secret, const QByteArray &previousSecret);
    QString mint(const QString &callSid, const Bound &numbers, qint64 nowMs);
    // Ok: *numbers (when given) holds what the token was minted with, *ticket its nonce and expiry. A nonce
    // seen before by this process is Replayed (other servers: see cluster/deployment.h).
    Verdict verify(const QString &token, const QString &callSid, qint64 nowMs, Bound *numbers = nullptr,
                   Ticket *ticket = nullptr);
    static QString verdictName(Verdict v);

private:
    static QByteArray sign(const QByteArray &payload, const QByteArray &key);
    QByteArray m_key;         // guarded by m_mutex (rekey may run while tokens are checked)
    QByteArray m_previousKey; // ditto
    const qint64 m_ttlMs;
    QMutex m_mutex;
    QHash<QByteArray, qint64> m_used; // nonce -> expiry
};

} // namespace vaani
