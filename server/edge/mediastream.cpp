#include "mediastream.h"

#include "logging.h"
#include "metrics.h"
#include "streamtokens.h"
#include "twiliorest.h"

#include <QDateTime>

#include <cstring>

using namespace Qt::StringLiterals;

namespace vaani {

MediaStream::MediaStream(std::unique_ptr<ws::WebSocket> socket, StreamTokens *tokens, Metrics *metrics,
                         StreamLimits limits, QObject *parent)
    : TelephonyLeg(parent)
    , m_socket(std::move(socket))
    , m_tokens(tokens)
    , m_metrics(metrics)
    , m_limits(limits)
{
    m_socket->setMaxMessageBytes(m_limits.maxMessageBytes);
    m_socket->setTextHandler([this](QByteArrayView text) { onText(text); });
    m_socket->setBinaryHandler([this](QByteArrayView) {
        m_metrics->streamError(u"binary_frame"_s);
        if (++m_malformed > m_limits.malformedBudget)
            fail(ws::UnsupportedData, u"binary frames are not part of Media Streams"_s,
                 u"malformed_budget"_s);
    });
    connect(m_socket.get(), &ws::WebSocket::disconnected, this, &MediaStream::onDisconnected);

    m_startDeadline.setSingleShot(true);
    connect(&m_startDeadline, &QTimer::timeout, this,
            [this] { fail(ws::PolicyViolated, u"no start message in time"_s, u"start_timeout"_s); });
    m_startDeadline.start(m_limits.startDeadlineMs);
    // A coarse periodic check instead of restarting a timer on every message (50+ a second per call).
    m_lastActivity.start();
    connect(&m_idle, &QTimer::timeout, this, [this] {
        if (m_lastActivity.elapsed() >= m_limits.idleTimeoutMs)
            fail(ws::GoingAway, u"stream idle"_s, u"idle_timeout"_s);
    });
    m_idle.start(std::max(250, m_limits.idleTimeoutMs / 4));
}

MediaStream::~MediaStream()
{
    m_socket.release()->dispose(); // closing handshake (if not yet done) runs on without this object
}

void MediaStream::redirect(const QByteArray &twiml, std::function<void(bool ok, const QString &message)> done)
{
    if (!(m_currentToken ? !m_account.accountSid.isEmpty() && m_account.apiBase.isValid()
                         : m_account.usable()) ||
        !m_started) {
        done(false, u"no access to Twilio's REST API"_s);
        return;
    }
    TwilioAccount account = m_account;
    if (m_currentToken)
        account.authToken = m_currentToken();
    auto *rest = new TwilioRest(account, this);
    connect(rest, &TwilioRest::done, this, [rest, done = std::move(done)](bool ok, const QString &message) {
        rest->deleteLater();
        done(ok, message);
    });
    rest->updateCall(m_start.callSid, twiml);
}

bool MediaStream::tryFastMedia(QByteArrayView text)
{
    // Hot path: ~50 media frames a second per call. A targeted scan of the UTF-8 instead of a JSON document
    // (twilio::scanMedia); any message that does not look exactly like Twilio's media frame goes to the full
    // parser instead.
    QByteArrayView payload, ts;
    if (!m_started || !twilio::scanMedia(text, &payload, &ts))
        return false;
    qint64 timestamp = 0;
    if (!ts.isEmpty()) {
        bool ok = false;
        timestamp = ts.toLongLong(&ok);
        if (!ok || timestamp < 0)
            return false;
    }
    // Reuses the buffer unless a receiver kept the previous frame (then that one stays theirs).
    m_payload.resize(payload.size());
    std::memcpy(m_payload.data(), payload.data(), size_t(payload.size()));
    deliverMedia(m_payload, timestamp);
    return true;
}

void MediaStream::deliverMedia(const QByteArray &payload, qint64 timestampMs)
{
    m_metrics->framesIn.fetch_add(1, std::memory_order_relaxed);
    if (m_attached)
        Q_EMIT media(payload, timestampMs);
    else if (m_preAttach.size() < m_limits.preAttachFrames)
        m_preAttach.append({payload, timestampMs});
    else
        m_metrics->callerFramesDropped.fetch_add(1, std::memory_order_relaxed);
}

void MediaStream::onText(QByteArrayView utf8)
{
    if (m_finished)
        return;
    m_lastActivity.start();
    if (tryFastMedia(utf8))
        return;
    const twilio::ParseResult r = twilio::parse(utf8, m_limits.maxMessageBytes);
    if (!r.ok()) {
        // A media payload that is not strict base64 is never forwarded: it is a protocol error of its own.
        m_metrics->streamError(r.status == twilio::ParseStatus::BadPayload ? u"invalid_payload"_s
                                                                           : u"malformed_message"_s);
        qCWarning(lcStream) << "malformed Media Streams message:" << r.error;
        if (++m_malformed > m_limits.malformedBudget)
            fail(ws::ProtocolError, u"too many malformed messages"_s, u"malformed_budget"_s);
        return;
    }
    const twilio::Message &m = r.message;
    switch (m.event) {
    case twilio::Event::Connected:
        qCDebug(lcStream) << "connected" << m.protocol << m.version;
        return;
    case twilio::Event::Start: {
        if (m_started) {
            m_metrics->streamError(u"duplicate_start"_s);
            return;
        }
        m_startDeadline.stop();
        const QString token = m.start.customParameters.value(u"streamToken"_s);
        const StreamTokens::Verdict v = m_tokens->verify(
            token, m.start.callSid, QDateTime::currentMSecsSinceEpoch(), &m_numbers, &m_ticket);
        if (v != StreamTokens::Verdict::Ok) {
            m_metrics->signatureRejected(u"stream_token_"_s + StreamTokens::verdictName(v));
            fail(ws::PolicyViolated, u"stream token "_s + StreamTokens::verdictName(v), u"stream_token"_s);
            return;
        }
        if (m.start.encoding != u"audio/x-mulaw"_s || m.start.sampleRate != 8000) {
            fail(ws::PolicyViolated, u"unsupported media format"_s, u"media_format"_s);
            return;
        }
        m_start = m.start;
        m_started = true;
        m_plainSid = twilio::isPlainJsonToken(m_start.streamSid);
        m_sidLatin1 = m_start.streamSid.toLatin1();
        qCInfo(lcStream) << "stream started" << m_start.streamSid << "call" << m_start.callSid;
        Q_EMIT started(m_start);
        return;
    }
    case twilio::Event::Media:
        if (!m_started) {
            m_metrics->streamError(u"media_before_start"_s);
            return;
        }
        deliverMedia(m.payload, m.timestamp);
        return;
    case twilio::Event::Mark:
        if (m_started)
            Q_EMIT markPlayed(m.markName);
        return;
    case twilio::Event::Dtmf:
        if (m_started)
            Q_EMIT dtmf(m.digit);
        return;
    case twilio::Event::Stop:
        qCInfo(lcStream) << "stream stopped by Twilio" << m_start.streamSid;
        finish(u"stop"_s);
        m_socket->close(ws::Normal, "stopped");
        return;
    case twilio::Event::Unknown:
        qCDebug(lcStream) << "ignoring unknown Media Streams event" << m.eventName;
        return;
    }
}

void MediaStream::beginForwarding()
{
    if (m_attached)
        return;
    m_attached = true;
    const auto pending = std::exchange(m_preAttach, {});
    for (const auto &[payload, ts] : pending) {
        if (m_finished)
            break;
        Q_EMIT media(payload, ts);
    }
}

void MediaStream::sendMedia(QByteArrayView payloadBase64, const QString &mark)
{
    if (!m_started || m_finished)
        return;
    // Only strict base64 reaches Twilio (the Realtime parser lets nothing else through; checked again where
    // the bytes are pasted into JSON).
    m_message.resize(0);
    const bool valid = m_plainSid
                           ? twilio::appendMediaMessage(m_message, m_sidLatin1, payloadBase64)
                           : !(m_message = twilio::mediaMessage(m_start.streamSid, payloadBase64)).isEmpty();
    if (!valid) {
        m_metrics->realtimeError(u"invalid_audio"_s);
        return;
    }
    m_socket->queueText(m_message);
    m_metrics->framesOut.fetch_add(1, std::memory_order_relaxed);
    if (!mark.isEmpty())
        queueMark(mark);
    m_socket->flush();
}

void MediaStream::sendMark(const QString &name)
{
    if (!m_started || m_finished)
        return;
    queueMark(name);
    m_socket->flush();
}

void MediaStream::queueMark(const QString &name)
{
    if (m_plainSid && twilio::isPlainJsonToken(name)) {
        m_message.resize(0);
        twilio::appendMarkMessage(m_message, m_sidLatin1, name.toLatin1());
        m_socket->queueText(m_message);
    } else {
        m_socket->queueText(twilio::markMessage(m_start.streamSid, name));
    }
    m_metrics->marksOut.fetch_add(1, std::memory_order_relaxed);
}

void MediaStream::sendClear()
{
    if (!m_started || m_finished)
        return;
    m_socket->sendText(twilio::clearMessage(m_start.streamSid));
    m_metrics->clearsOut.fetch_add(1, std::memory_order_relaxed);
}

void MediaStream::close(const QString &reason)
{
    if (m_finished)
        return;
    finish(reason);
    m_socket->close(ws::Normal, reason.left(100).toUtf8());
}

void MediaStream::fail(ws::CloseCode code, const QString &reason, const QString &metricKind)
{
    if (m_finished)
        return;
    m_metrics->streamError(metricKind);
    qCWarning(lcStream) << "closing Media Stream:" << reason;
    finish(reason);
    m_socket->close(code, reason.left(100).toUtf8());
}

void MediaStream::onDisconnected()
{
    finish(u"socket closed"_s);
}

void MediaStream::finish(const QString &reason)
{
    if (m_finished)
        return;
    m_finished = true;
    m_startDeadline.stop();
    m_idle.stop();
    m_preAttach.clear();
    Q_EMIT stopped(reason);
    deleteLater();
}

} // namespace vaani
