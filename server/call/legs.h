#pragma once
// The transport seams of a call. A CallSession talks to the caller's side (TelephonyLeg: Twilio Media
// Streams in production) and to the model (ModelLeg: OpenAI Realtime) only through these interfaces, so
// tests and the benchmark can put loopback fakes on either side. Both live on the session's thread.

#include "realtimemessages.h"
#include "twiliomessages.h"

#include <QObject>

#include <functional>

namespace vaani {

class TelephonyLeg : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    // Agent audio, followed by a mark of that name when `mark` is not empty (one write for both).
    virtual void sendMedia(QByteArrayView payloadBase64, const QString &mark) = 0;
    virtual void sendMark(const QString &name) = 0;
    virtual void sendClear() = 0;
    // Ends the stream from our side; Twilio then runs the TwiML after </Connect>.
    virtual void close(const QString &reason) = 0;
    // Asks Twilio to run this TwiML on the call now (a transfer, a goodbye); done(ok, message) once Twilio
    // answered. A leg without access to Twilio's REST API answers done(false) at once: the session then
    // closes the stream, and Twilio runs the TwiML after </Connect> instead.
    virtual void redirect(const QByteArray &twiml, std::function<void(bool ok, const QString &message)> done)
    {
        Q_UNUSED(twiml);
        done(false, QStringLiteral("no access to Twilio's REST API"));
    }
    virtual bool isStarted() const = 0;
    virtual QString streamSid() const = 0;
    // The session is connected to our signals: start delivering caller audio (held audio first).
    virtual void beginForwarding() {}

Q_SIGNALS:
    void media(const QByteArray &payloadBase64, qint64 timestampMs);
    void markPlayed(const QString &name);
    void dtmf(const QString &digit);
    void stopped(const QString &reason); // `stop`, socket closed, or protocol failure; emitted once
};

class ModelLeg : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    // Connects and configures; emits ready() after session.updated confirmed the formats.
    virtual void start(const realtime::SessionConfig &config) = 0;
    virtual void send(const QByteArray &clientEvent) = 0;
    virtual void close() = 0;
    virtual bool isReady() const = 0;
    // Milliseconds since the model created this session (the API ends a session after 60 minutes; a warm
    // session has been open a while before a call takes it). 0 when unknown.
    virtual qint64 sessionAgeMs() const { return 0; }

Q_SIGNALS:
    void ready();
    void event(const vaani::realtime::Event &event);
    void failed(const QString &reason); // could not connect, refused, rejected session, or dropped; once
};

// Where a call's model leg comes from: a warm session from a pool, else a new connection on demand. One per
// worker thread (made there by ServerContext::modelProvider, owned by the worker); used on that thread only.
class ModelProvider
{
public:
    virtual ~ModelProvider() = default;
    // Never null; the caller owns the leg.
    virtual ModelLeg *takeModel() = 0;
    // Credentials changed: legs kept ready (warm sessions) are replaced by new ones.
    virtual void refresh() {}

    // The provider of the calling thread (set by its worker), for a session that needs a new leg mid-call
    // (sessions move between workers, so they look it up where they run); null on other threads.
    static ModelProvider *forThisThread() { return slot(); }
    static void setForThisThread(ModelProvider *provider) { slot() = provider; }

private:
    static ModelProvider *&slot()
    {
        thread_local ModelProvider *provider = nullptr;
        return provider;
    }
};

} // namespace vaani
