#pragma once
// The secrets that may change while the server runs: SIGHUP re-reads the .env file and the *_FILE secrets
// and replaces them here (Server::reloadSecrets), without dropping a call. Whoever needs one reads it when
// it is used — a webhook's signature check, a Realtime connection, a stream's Twilio REST account — so the
// next use after a reload sees the new value; a connection already open keeps what it opened with.
//
// Threads: read on any thread (a copy under a read lock: the strings are implicitly shared), replaced on the
// main thread. Owned by Server; the ServerContext points at it.

#include "settings.h"

#include <QReadWriteLock>
#include <QString>

namespace vaani {

struct SecretSet
{
    QString twilioAuthToken;
    QString twilioAuthTokenSecondary;
    QString openaiApiKey;
    QString streamTokenKey;
    QString streamTokenKeyPrevious;
    // What stream tokens are signed with: STREAM_TOKEN_KEY, else TWILIO_AUTH_TOKEN (empty: a random key).
    QByteArray streamTokenSecret() const
    {
        return (streamTokenKey.isEmpty() ? twilioAuthToken : streamTokenKey).toUtf8();
    }
};

// The secrets a configuration names.
inline SecretSet secretsOf(const ServerSettings &s)
{
    return {s.twilioAuthToken, s.twilioAuthTokenSecondary, s.realtime.apiKey, s.streamTokenKey,
            s.streamTokenKeyPrevious};
}

class SecretStore
{
public:
    explicit SecretStore(SecretSet initial)
        : m_current(std::move(initial))
    {}
    SecretSet get() const
    {
        QReadLocker lock(&m_lock);
        return m_current;
    }
    void set(SecretSet next)
    {
        QWriteLocker lock(&m_lock);
        m_current = std::move(next);
    }

private:
    mutable QReadWriteLock m_lock;
    SecretSet m_current;
};

} // namespace vaani
