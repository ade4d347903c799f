#include "twiliosimulator.h"

#include "base64.h"
#include "mulaw.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QtMath>

using namespace Qt::StringLiterals;

namespace vaani::test {

TwilioSimulator::TwilioSimulator(QObject *parent)
    : QObject(parent)
    , m_nam(this)
{
    QByteArray hex(16, Qt::Uninitialized);
    QRandomGenerator::global()->generate(reinterpret_cast<quint32 *>(hex.data()),
                                         reinterpret_cast<quint32 *>(hex.data() + 16));
    callSid = u"CA"_s + QString::fromLatin1(hex.toHex());
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(20);
    connect(&m_timer, &QTimer::timeout, this, &TwilioSimulator::tick);
    connect(&m_ws, &QWebSocket::connected, this, [this] {
        streamOpen = true;
        streamSid = u"MZ"_s + callSid.mid(2);
        m_ws.sendTextMessage(QString::fromUtf8(twilio::connectedMessage()));
        twilio::StartInfo s;
        s.streamSid = streamSid;
        s.accountSid = accountSid;
        s.callSid = callSid;
        s.tracks = {u"inbound"_s};
        s.customParameters = twiml.parameters;
        s.encoding = u"audio/x-mulaw"_s;
        s.sampleRate = 8000;
        s.channels = 1;
        m_ws.sendTextMessage(QString::fromUtf8(twilio::startMessage(++m_seq, s)));
        m_clock.start();
        m_framesDue = 0;
        m_timer.start();
        Q_EMIT streamConnected();
    });
    connect(&m_ws, &QWebSocket::disconnected, this, [this] {
        streamOpen = false;
        closeCode = int(m_ws.closeCode());
        closeReason = m_ws.closeReason();
        m_timer.stop();
        Q_EMIT streamClosed();
    });
    connect(&m_ws, &QWebSocket::textMessageReceived, this, &TwilioSimulator::onText);
    connect(&m_ws, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this](QAbstractSocket::SocketError) {
                if (m_ws.state() == QAbstractSocket::ConnectingState) {
                    closeReason = m_ws.errorString();
                    m_ws.abort();
                    Q_EMIT streamClosed();
                }
            });
}

TwilioSimulator::~TwilioSimulator()
{
    m_timer.stop();
    m_ws.disconnect(this);
    m_ws.abort();
}

QByteArray TwilioSimulator::loudSpeech(int ms)
{
    QList<std::int16_t> pcm(ms * 8);
    for (qsizetype i = 0; i < pcm.size(); ++i)
        pcm[i] = std::int16_t(9000 * std::sin(2 * M_PI * 220.0 * double(i) / 8000.0));
    return mulaw::encode(pcm);
}

void TwilioSimulator::placeCall()
{
    const twilio::FormParams params = {{u"AccountSid"_s, accountSid},
                                       {u"ApiVersion"_s, u"2010-04-01"_s},
                                       {u"CallSid"_s, callSid},
                                       {u"CallStatus"_s, u"ringing"_s},
                                       {u"Called"_s, to},
                                       {u"CalledCity"_s, QString()},
                                       {u"CalledCountry"_s, u"IN"_s},
                                       {u"Caller"_s, from},
                                       {u"CallerCity"_s, u"MUMBAI"_s},
                                       {u"CallerCountry"_s, u"IN"_s},
                                       {u"Direction"_s, u"inbound"_s},
                                       {u"From"_s, from},
                                       {u"FromCity"_s, u"MUMBAI"_s},
                                       {u"FromCountry"_s, u"IN"_s},
                                       {u"To"_s, to},
                                       {u"ToCountry"_s, u"IN"_s},
                                       {u"CallToken"_s, u"%7B%22parentCallInfoToken%22%3A%22x%22%7D"_s}};
    QNetworkRequest req(webhookUrl);
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    req.setRawHeader("User-Agent", "TwilioProxy/1.1");
    req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false); // Twilio's webhooks are HTTP/1.1
    if (!tls.isNull())
        req.setSslConfiguration(tls);
    if (signRequests && !authToken.isEmpty())
        req.setRawHeader("X-Twilio-Signature",
                         twilio::computeSignature(authToken, webhookUrl.toString(), params));
    QNetworkReply *reply = m_nam.post(req, twilio::encodeForm(params));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        webhookStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        webhookBody = reply->readAll();
        if (webhookStatus == 200)
            twiml = TwimlDocument::parse(webhookBody);
        Q_EMIT webhookAnswered(webhookStatus);
    });
}

void TwilioSimulator::openStream(const QString &overrideToken)
{
    if (!overrideToken.isNull())
        twiml.parameters.insert(u"streamToken"_s, overrideToken);
    QNetworkRequest req{QUrl(twiml.streamUrl)};
    if (signRequests && !authToken.isEmpty())
        req.setRawHeader("x-twilio-signature", twilio::computeSignature(authToken, twiml.streamUrl));
    if (!tls.isNull())
        m_ws.setSslConfiguration(tls);
    m_ws.open(req);
}

void TwilioSimulator::hangUp()
{
    if (!streamOpen)
        return;
    m_ws.sendTextMessage(QString::fromUtf8(twilio::stopMessage(++m_seq, streamSid, accountSid, callSid)));
    m_timer.stop();
    m_ws.close();
}

void TwilioSimulator::sendDtmf(const QString &digit)
{
    m_ws.sendTextMessage(QString::fromUtf8(twilio::dtmfMessage(++m_seq, streamSid, digit)));
}

void TwilioSimulator::sendRaw(const QString &text)
{
    m_ws.sendTextMessage(text);
}

void TwilioSimulator::queueCallerAudio(const QByteArray &mulaw)
{
    m_callerAudio += mulaw;
}

void TwilioSimulator::tick()
{
    // Real-time pacing from a monotonic clock: send every frame that is due, without drift.
    const qint64 due = m_clock.elapsed() / 20 + 1;
    while (m_framesDue < due && streamOpen) {
        QByteArray frame = m_callerAudio.left(160);
        m_callerAudio.remove(0, frame.size());
        if (frame.size() < 160)
            frame += mulaw::silence(160 - frame.size());
        ++m_chunk;
        m_ws.sendTextMessage(QString::fromUtf8(
            twilio::inboundMediaMessage(++m_seq, streamSid, m_chunk, (m_chunk - 1) * 20, frame.toBase64())));
        ++framesSent;
        // Playback of agent audio: 160 bytes per 20 ms.
        const qint64 n = std::min<qint64>(160, m_playback.size());
        m_playback.remove(0, n);
        agentBytesPlayed += n;
        echoMarksUpTo(m_queuedTotal - m_playback.size());
        ++m_framesDue;
    }
}

void TwilioSimulator::echoMarksUpTo(qint64 playedPosition)
{
    while (!m_marks.empty() && m_marks.front().first <= playedPosition) {
        m_ws.sendTextMessage(
            QString::fromUtf8(twilio::markEchoMessage(++m_seq, streamSid, m_marks.front().second)));
        ++marksEchoed;
        m_marks.pop_front();
    }
}

void TwilioSimulator::onText(const QString &text)
{
    QJsonParseError err{};
    const QJsonObject o = QJsonDocument::fromJson(text.toUtf8(), &err).object();
    const QString event = o.value(u"event"_s).toString();
    events << event;
    // What Twilio would refuse: not one JSON object, or a media payload that is not strict base64.
    if (err.error != QJsonParseError::NoError ||
        (event == u"media"_s &&
         !base64::isStrict(o.value(u"media"_s).toObject().value(u"payload"_s).toString().toLatin1())))
        invalidMessages << text;
    if (o.value(u"streamSid"_s).toString() != streamSid)
        events << u"wrong-streamSid"_s;
    if (event == u"media"_s) {
        const QByteArray audio =
            QByteArray::fromBase64(o.value(u"media"_s).toObject().value(u"payload"_s).toString().toLatin1());
        if (firstAudioAfterStartMs < 0)
            firstAudioAfterStartMs = m_clock.elapsed();
        m_playback += audio;
        m_queuedTotal += audio.size();
        agentBytesReceived += audio.size();
        agentAudioKept += audio.left(std::max<qsizetype>(0, keepAgentAudio - agentAudioKept.size()));
        Q_EMIT agentAudio();
    } else if (event == u"mark"_s) {
        const QString name = o.value(u"mark"_s).toObject().value(u"name"_s).toString();
        m_marks.emplace_back(m_queuedTotal, name);
        echoMarksUpTo(m_queuedTotal - m_playback.size()); // nothing buffered: echo at once
    } else if (event == u"clear"_s) {
        ++clears;
        playedAtLastClear = agentBytesPlayed;
        agentBytesCleared += m_playback.size();
        m_queuedTotal -= m_playback.size();
        m_playback.clear();
        // Every pending mark is echoed at once.
        while (!m_marks.empty()) {
            m_ws.sendTextMessage(
                QString::fromUtf8(twilio::markEchoMessage(++m_seq, streamSid, m_marks.front().second)));
            ++marksEchoed;
            m_marks.pop_front();
        }
        Q_EMIT clearReceived();
    }
}

} // namespace vaani::test
