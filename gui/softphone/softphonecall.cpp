#include "softphonecall.h"

#include "logging.h"
#include "mulaw.h"
#include "twiliomessages.h"
#include "twiliosignature.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QRandomGenerator>

#include <cmath>

using namespace Qt::StringLiterals;

namespace vaani::softphone {

namespace {
double level(const std::int16_t *s, qsizetype n)
{
    if (n <= 0)
        return 0;
    double sum = 0;
    for (qsizetype i = 0; i < n; ++i)
        sum += double(s[i]) * double(s[i]);
    return std::min(1.0, std::sqrt(sum / double(n)) / 10000.0);
}
} // namespace

SoftphoneCall::SoftphoneCall(Settings settings, QObject *parent)
    : QObject(parent)
    , m_settings(std::move(settings))
    , m_nam(this)
{
    QByteArray raw(16, Qt::Uninitialized);
    QRandomGenerator::global()->generate(reinterpret_cast<quint32 *>(raw.data()),
                                         reinterpret_cast<quint32 *>(raw.data() + raw.size()));
    m_callSid = u"CA"_s + QString::fromLatin1(raw.toHex());
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(10);
    connect(&m_timer, &QTimer::timeout, this, &SoftphoneCall::tick);
    connect(&m_ws, &QWebSocket::connected, this, [this] {
        m_streamSid = u"MZ"_s + m_callSid.mid(2);
        m_ws.sendTextMessage(QString::fromUtf8(twilio::connectedMessage()));
        twilio::StartInfo s;
        s.streamSid = m_streamSid;
        s.accountSid = m_settings.accountSid;
        s.callSid = m_callSid;
        s.tracks = {u"inbound"_s};
        s.customParameters = m_twiml.parameters;
        s.encoding = u"audio/x-mulaw"_s;
        s.sampleRate = 8000;
        s.channels = 1;
        m_ws.sendTextMessage(QString::fromUtf8(twilio::startMessage(++m_seq, s)));
        m_clock.start();
        m_ticks = 0;
        m_timer.start();
        setState(State::InCall);
        Q_EMIT protocolEvent(u"start"_s, m_streamSid);
    });
    connect(&m_ws, &QWebSocket::disconnected, this, [this] {
        if (m_state == State::Ended)
            return;
        const int code = int(m_ws.closeCode());
        const QString reason = m_ws.closeReason();
        Q_EMIT protocolEvent(u"closed"_s, u"%1 %2"_s.arg(code).arg(reason));
        if (m_hungUp) {
            finish(u"hung up"_s, false);
            return;
        }
        // The server ended the stream: Twilio would now run the TwiML after </Connect>.
        const bool normal = code == int(QWebSocketProtocol::CloseCodeNormal);
        finish(u"stream ended by the server (%1%2)"_s.arg(code).arg(reason.isEmpty() ? QString()
                                                                                     : u", "_s + reason),
               !normal || !m_sawAgentAudio);
    });
    connect(&m_ws, &QWebSocket::textMessageReceived, this, &SoftphoneCall::onText);
    connect(&m_ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (m_state == State::Connecting) {
                    const QString why = m_ws.errorString();
                    m_ws.abort(); // Qt 6.4 leaves a refused upgrade "connecting"
                    finish(u"cannot open the media stream: "_s + why, true);
                }
            });
}

SoftphoneCall::~SoftphoneCall()
{
    m_timer.stop();
    m_ws.disconnect(this);
    m_ws.abort();
}

void SoftphoneCall::setState(State s)
{
    if (m_state == s)
        return;
    m_state = s;
    Q_EMIT stateChanged(s);
}

void SoftphoneCall::dial()
{
    if (m_state != State::Idle)
        return;
    setState(State::Dialing);
    QUrl url = m_settings.serverUrl;
    url.setPath(url.path().chopped(url.path().endsWith(u'/') ? 1 : 0) + u"/incoming-call"_s);
    const twilio::FormParams params = {{u"AccountSid"_s, m_settings.accountSid},
                                       {u"ApiVersion"_s, u"2010-04-01"_s},
                                       {u"CallSid"_s, m_callSid},
                                       {u"CallStatus"_s, u"ringing"_s},
                                       {u"Called"_s, m_settings.to},
                                       {u"Caller"_s, m_settings.from},
                                       {u"Direction"_s, u"inbound"_s},
                                       {u"From"_s, m_settings.from},
                                       {u"To"_s, m_settings.to}};
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    req.setRawHeader("User-Agent", "vaani-softphone");
    req.setTransferTimeout(15000); // Twilio gives up after 15 s too
    if (!m_settings.authToken.isEmpty())
        req.setRawHeader("X-Twilio-Signature",
                         twilio::computeSignature(m_settings.authToken, url.toString(), params));
    Q_EMIT protocolEvent(u"webhook"_s, u"POST "_s + url.toString());
    QNetworkReply *reply = m_nam.post(req, twilio::encodeForm(params));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        onWebhookReply(status, reply->readAll(),
                       reply->error() == QNetworkReply::NoError ? QString() : reply->errorString());
    });
}

void SoftphoneCall::onWebhookReply(int status, const QByteArray &body, const QString &error)
{
    if (m_state != State::Dialing)
        return;
    if (status != 200) {
        finish(status ? u"the server answered the webhook with HTTP %1: %2"_s.arg(status).arg(
                            QString::fromUtf8(body.left(200)).trimmed())
                      : u"cannot reach the server: "_s + error,
               true);
        return;
    }
    m_twiml = twilio::TwimlDocument::parse(body);
    if (!m_twiml.valid) {
        finish(u"the server's TwiML is not valid: "_s + m_twiml.error, true);
        return;
    }
    if (!m_twiml.hasConnect || m_twiml.streamUrl.isEmpty()) {
        Q_EMIT protocolEvent(u"twiml"_s, u"no <Connect><Stream>; Twilio would: "_s +
                                             m_twiml.verbsAfterConnect.join(u" → "_s));
        finish(u"the server did not connect a stream (it answered: %1)"_s.arg(
                   m_twiml.verbsAfterConnect.join(u", "_s)),
               true);
        return;
    }
    Q_EMIT protocolEvent(u"twiml"_s, u"stream "_s + m_twiml.streamUrl + u", then: "_s +
                                         m_twiml.verbsAfterConnect.join(u" → "_s));
    openStream();
}

void SoftphoneCall::openStream()
{
    setState(State::Connecting);
    QNetworkRequest req{QUrl(m_twiml.streamUrl)};
    if (!m_settings.authToken.isEmpty())
        req.setRawHeader("x-twilio-signature",
                         twilio::computeSignature(m_settings.authToken, m_twiml.streamUrl));
    m_ws.open(req);
}

void SoftphoneCall::hangUp()
{
    if (m_state == State::Ended)
        return;
    m_hungUp = true;
    if (m_state != State::InCall) {
        m_ws.abort();
        finish(u"hung up"_s, false);
        return;
    }
    m_ws.sendTextMessage(
        QString::fromUtf8(twilio::stopMessage(++m_seq, m_streamSid, m_settings.accountSid, m_callSid)));
    Q_EMIT protocolEvent(u"stop"_s, {});
    m_ws.close();
    finish(u"hung up"_s, false);
}

void SoftphoneCall::sendDtmf(const QString &digits)
{
    if (m_state != State::InCall)
        return;
    for (QChar d : digits) {
        if (!QStringLiteral("0123456789*#").contains(d))
            continue;
        m_ws.sendTextMessage(QString::fromUtf8(twilio::dtmfMessage(++m_seq, m_streamSid, QString(d))));
        Q_EMIT protocolEvent(u"dtmf"_s, QString(d));
    }
}

void SoftphoneCall::pushCallerAudio(const QList<std::int16_t> &pcm8k)
{
    m_callerQueue.insert(m_callerQueue.end(), pcm8k.begin(), pcm8k.end());
}

qint64 SoftphoneCall::msSinceAgentAudio() const
{
    return m_lastAgentAudio.isValid() ? m_lastAgentAudio.elapsed() : -1;
}

QList<std::int16_t> SoftphoneCall::pullAgentAudio(qsizetype count)
{
    const qsizetype n = std::min<qsizetype>(count, qsizetype(m_playback.size()));
    QList<std::int16_t> out(m_playback.begin(), m_playback.begin() + n);
    m_playback.erase(m_playback.begin(), m_playback.begin() + n);
    m_played += n;
    if (n > 0)
        m_lastAgentAudio.start();
    if (!m_virtualPlayback)
        m_agentRecentlyPlayed.insert(m_agentRecentlyPlayed.end(), out.begin(), out.end());
    echoPlayedMarks();
    return out;
}

void SoftphoneCall::echoPlayedMarks()
{
    while (!m_marks.empty() && m_marks.front().first <= m_played) {
        m_ws.sendTextMessage(
            QString::fromUtf8(twilio::markEchoMessage(++m_seq, m_streamSid, m_marks.front().second)));
        Q_EMIT protocolEvent(u"mark"_s, m_marks.front().second);
        m_marks.pop_front();
    }
}

void SoftphoneCall::tick()
{
    if (m_state != State::InCall)
        return;
    // Frames are due every 20 ms of the monotonic clock; late ticks catch up, never drift.
    const qint64 due = m_clock.elapsed() / 20 + 1;
    while (m_ticks < due && m_state == State::InCall) {
        ++m_ticks;
        std::int16_t frame[160];
        const qsizetype have = std::min<qsizetype>(160, qsizetype(m_callerQueue.size()));
        std::copy(m_callerQueue.begin(), m_callerQueue.begin() + have, frame);
        m_callerQueue.erase(m_callerQueue.begin(), m_callerQueue.begin() + have);
        std::fill(frame + have, frame + 160, std::int16_t(0));
        if (m_muted)
            std::fill(frame, frame + 160, std::int16_t(0));
        QByteArray codes(160, Qt::Uninitialized);
        mulaw::encode(frame, 160, reinterpret_cast<std::uint8_t *>(codes.data()));
        ++m_chunk;
        m_ws.sendTextMessage(QString::fromUtf8(twilio::inboundMediaMessage(
            ++m_seq, m_streamSid, m_chunk, (m_chunk - 1) * 20, codes.toBase64())));
        m_recCaller.append(QList<std::int16_t>(frame, frame + 160));

        QList<std::int16_t> agent;
        if (m_virtualPlayback) {
            agent = pullAgentAudio(160);
        } else {
            const qsizetype n = std::min<qsizetype>(160, qsizetype(m_agentRecentlyPlayed.size()));
            agent = QList<std::int16_t>(m_agentRecentlyPlayed.begin(), m_agentRecentlyPlayed.begin() + n);
            m_agentRecentlyPlayed.erase(m_agentRecentlyPlayed.begin(), m_agentRecentlyPlayed.begin() + n);
        }
        agent.resize(160);
        m_recAgent.append(agent);
        Q_EMIT levels(level(frame, 160), level(agent.constData(), 160));
    }
}

void SoftphoneCall::onText(const QString &text)
{
    const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString event = o.value(u"event"_s).toString();
    if (o.value(u"streamSid"_s).toString() != m_streamSid) {
        Q_EMIT protocolEvent(u"error"_s, u"message with a foreign streamSid: "_s + text.left(120));
        return;
    }
    if (event == u"media"_s) {
        const QByteArray codes =
            QByteArray::fromBase64(o.value(u"media"_s).toObject().value(u"payload"_s).toString().toLatin1());
        const auto pcm = mulaw::decode(codes);
        m_playback.insert(m_playback.end(), pcm.begin(), pcm.end());
        m_queuedEnd += pcm.size();
        m_agentSamplesReceived += pcm.size();
        if (!m_sawAgentAudio)
            Q_EMIT protocolEvent(u"media"_s, u"first agent audio"_s);
        m_sawAgentAudio = true;
        m_lastAgentAudio.start();
    } else if (event == u"mark"_s) {
        m_marks.emplace_back(m_queuedEnd, o.value(u"mark"_s).toObject().value(u"name"_s).toString());
        echoPlayedMarks(); // nothing buffered: echoed at once, as Twilio does
    } else if (event == u"clear"_s) {
        const qsizetype dropped = qsizetype(m_playback.size());
        m_playback.clear();
        m_queuedEnd = m_played;
        m_agentRecentlyPlayed.clear();
        // Twilio echoes every pending mark at once after a clear.
        while (!m_marks.empty()) {
            m_ws.sendTextMessage(
                QString::fromUtf8(twilio::markEchoMessage(++m_seq, m_streamSid, m_marks.front().second)));
            m_marks.pop_front();
        }
        Q_EMIT protocolEvent(u"clear"_s, u"dropped %1 ms of agent audio"_s.arg(dropped / 8));
    } else {
        Q_EMIT protocolEvent(u"unknown"_s, text.left(120));
    }
}

void SoftphoneCall::finish(const QString &reason, bool failed)
{
    if (m_state == State::Ended)
        return;
    m_timer.stop();
    m_failed = failed;
    m_endReason = reason;
    setState(State::Ended);
    if (!m_twiml.verbsAfterConnect.isEmpty() && !m_hungUp && m_twiml.hasConnect)
        Q_EMIT protocolEvent(u"twiml"_s, u"Twilio would now: "_s + m_twiml.verbsAfterConnect.join(u" → "_s));
    Q_EMIT ended(reason, failed);
}

Wav SoftphoneCall::recording() const
{
    const qsizetype n = std::min(m_recCaller.size(), m_recAgent.size());
    QList<std::int16_t> interleaved(n * 2);
    for (qsizetype i = 0; i < n; ++i) {
        interleaved[2 * i] = m_recCaller.at(i);
        interleaved[2 * i + 1] = m_recAgent.at(i);
    }
    return Wav::pcm16(interleaved, 8000, 2);
}

} // namespace vaani::softphone
