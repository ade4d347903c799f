#include "benchcall.h"

#include "twiliomessages.h"
#include "twiliosignature.h"
#include "twimlreader.h"

#include <QNetworkReply>
#include <QTimer>

#include <chrono>

using namespace Qt::StringLiterals;

namespace vaani::bench {

qint64 BenchCall::nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

BenchCall::BenchCall(int index, QUrl server, QString authToken, int durationMs, QNetworkAccessManager *nam,
                     QObject *parent)
    : QObject(parent)
    , m_index(index)
    , m_server(std::move(server))
    , m_token(std::move(authToken))
    , m_durationMs(durationMs)
    , m_nam(nam)
{
    m_callSid = u"CA%1"_s.arg(index, 32, 16, QChar(u'0'));
    m_totalFrames = durationMs / 20;
    m_sentAt.assign(size_t(m_totalFrames), 0);
    m_echoed.assign(size_t(m_totalFrames), false);
    m_result.rttNs.reserve(size_t(m_totalFrames));
    m_result.sendLagNs.reserve(size_t(m_totalFrames));
    m_ws.setTextHandler([this](QByteArrayView text) { onText(text); });
    connect(&m_ws, &ws::WebSocket::connected, this, [this] {
        m_streamSid = u"MZ"_s + m_callSid.mid(2);
        m_ws.sendText(twilio::connectedMessage());
        twilio::StartInfo s;
        s.streamSid = m_streamSid;
        s.accountSid = u"AC00000000000000000000000000000000"_s;
        s.callSid = m_callSid;
        s.tracks = {u"inbound"_s};
        s.customParameters = m_startParams;
        s.encoding = u"audio/x-mulaw"_s;
        s.sampleRate = 8000;
        s.channels = 1;
        m_ws.sendText(twilio::startMessage(++m_seq, s));
        m_startNs = nowNs();
        m_streaming = true;
    });
    connect(&m_ws, &ws::WebSocket::disconnected, this, [this] {
        if (!m_finished)
            finish(m_streaming && m_frame >= m_totalFrames
                       ? QString()
                       : u"stream closed early: %1 %2 %3"_s.arg(int(m_ws.closeCode()))
                             .arg(m_ws.closeReason(), m_ws.errorString()));
    });
}

void BenchCall::start()
{
    QUrl url = m_server;
    url.setPath(u"/incoming-call"_s);
    const twilio::FormParams params = {{u"AccountSid"_s, u"AC00000000000000000000000000000000"_s},
                                       {u"CallSid"_s, m_callSid},
                                       {u"CallStatus"_s, u"ringing"_s},
                                       {u"Direction"_s, u"inbound"_s},
                                       {u"From"_s, u"+9198%1"_s.arg(m_index, 8, 10, QChar(u'0'))},
                                       {u"To"_s, u"+918000000000"_s}};
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    req.setRawHeader("X-Twilio-Signature", twilio::computeSignature(m_token, url.toString(), params));
    req.setAttribute(QNetworkRequest::Http2AllowedAttribute, false); // Twilio's webhooks are HTTP/1.1
    if (!m_tls.isNull())
        req.setSslConfiguration(m_tls);
    QNetworkReply *reply = m_nam->post(req, twilio::encodeForm(params));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const auto twiml = twilio::TwimlDocument::parse(reply->readAll());
        if (reply->error() != QNetworkReply::NoError || !twiml.hasConnect) {
            finish(u"webhook failed: "_s + reply->errorString());
            return;
        }
        m_startParams = twiml.parameters;
        openStream(twiml.streamUrl, twiml.parameters.value(u"streamToken"_s));
    });
}

void BenchCall::openStream(const QString &url, const QString &)
{
    m_ws.open(QUrl(url), {{"X-Twilio-Signature", twilio::computeSignature(m_token, url)}});
}

bool BenchCall::pump(qint64 now)
{
    if (m_finished)
        return false;
    if (!m_streaming)
        return true;
    while (m_frame < m_totalFrames) {
        const qint64 due = m_startNs + m_frame * 20'000'000;
        if (due > now)
            return true;
        QByteArray payload(160, char(0xFF));
        const quint32 seq = quint32(m_frame);
        payload[0] = char(seq >> 24);
        payload[1] = char(seq >> 16);
        payload[2] = char(seq >> 8);
        payload[3] = char(seq);
        const qint64 sent = nowNs();
        m_ws.sendText(
            twilio::inboundMediaMessage(++m_seq, m_streamSid, m_frame + 1, m_frame * 20, payload.toBase64()));
        m_sentAt[size_t(m_frame)] = sent;
        m_result.sendLagNs.push_back(sent - due);
        ++m_frame;
        ++m_result.framesSent;
    }
    // All frames sent: wait a moment for the last echoes, then hang up.
    if (now - (m_startNs + m_totalFrames * 20'000'000) > 500'000'000) {
        m_ws.sendText(twilio::stopMessage(++m_seq, m_streamSid, u"AC0"_s, m_callSid));
        m_ws.close(ws::Normal, {});
        finish();
        return false;
    }
    return true;
}

void BenchCall::onText(QByteArrayView text)
{
    // Fast path: only the payload's first 8 base64 characters are needed (6 bytes: the sequence number).
    constexpr QByteArrayView payloadKey = "\"payload\":\"";
    if (text.contains("\"event\":\"media\"")) {
        const qsizetype p = text.indexOf(payloadKey);
        if (p < 0 || p + payloadKey.size() + 8 > text.size())
            return;
        const QByteArray head = QByteArray::fromBase64(text.sliced(p + payloadKey.size(), 8).toByteArray());
        if (head.size() < 4)
            return;
        const qint64 seq = (quint32(quint8(head[0])) << 24) | (quint32(quint8(head[1])) << 16) |
                           (quint32(quint8(head[2])) << 8) | quint32(quint8(head[3]));
        const qint64 now = nowNs();
        if (m_result.firstMediaAfterStartNs < 0)
            m_result.firstMediaAfterStartNs = now - m_startNs;
        if (m_lastEchoNs > 0 && now - m_lastEchoNs > 60'000'000)
            m_result.echoGapsNs.push_back(now - m_lastEchoNs);
        m_lastEchoNs = now;
        if (seq >= 0 && seq < m_totalFrames && !m_echoed[size_t(seq)] && m_sentAt[size_t(seq)] > 0) {
            m_echoed[size_t(seq)] = true;
            ++m_result.framesEchoed;
            m_result.rttNs.push_back(now - m_sentAt[size_t(seq)]);
        }
        return;
    }
    if (text.contains("\"event\":\"mark\"")) {
        // Twilio echoes a mark once the audio before it has played; the echo runs in real time, so at once.
        const qsizetype n = text.indexOf("\"name\":\"");
        const qsizetype e = n < 0 ? -1 : text.indexOf('"', n + 8);
        if (e > n)
            m_ws.sendText(twilio::markEchoMessage(++m_seq, m_streamSid,
                                                  QString::fromUtf8(text.sliced(n + 8, e - n - 8))));
    }
}

void BenchCall::finish(const QString &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result.ok = error.isEmpty();
    m_result.error = error;
    for (qint64 f = 0; f < m_frame; ++f) {
        if (!m_echoed[size_t(f)])
            ++(f < 50 ? m_result.lostAtStart : m_result.lostMidStream);
    }
    Q_EMIT done();
}

} // namespace vaani::bench
