#pragma once
// One simulated Twilio call for the benchmark: signed webhook, TwiML, signed WebSocket, `connected` and
// `start`, then 20 ms frames whose first bytes carry a sequence number, marks echoed at once. Echoed frames
// give the round-trip time; missing ones are losses. Lives on a load thread; LoadThread paces all of its
// calls.

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkAccessManager>
#include <QObject>
#include <QSslConfiguration>
#include <QUrl>

#include "websocket.h"

#include <vector>

namespace vaani::bench {

struct CallResult
{
    bool ok = false;
    QString error;
    qint64 framesSent = 0;
    qint64 framesEchoed = 0;
    qint64 lostAtStart = 0; // of the first 50 frames (first second)
    qint64 lostMidStream = 0;
    qint64 firstMediaAfterStartNs = -1;
    std::vector<qint64> rttNs;
    std::vector<qint64> sendLagNs;
    // Silences in the echo longer than 60 ms once it had begun (3 frames: the agent unavailable, as when the
    // model's connection drops).
    std::vector<qint64> echoGapsNs;
};

class BenchCall : public QObject
{
    Q_OBJECT
public:
    BenchCall(int index, QUrl server, QString authToken, int durationMs, QNetworkAccessManager *nam,
              QObject *parent = nullptr);
    // https:// and wss:// (the production-shaped mode): whom to trust. Before start().
    void setTls(const QSslConfiguration &tls)
    {
        m_tls = tls;
        QByteArray pem;
        for (const QSslCertificate &certificate : tls.caCertificates())
            pem += certificate.toPem();
        m_ws.setExtraCaCertificates(pem);
    }
    void start();
    // Sends every frame due by `nowNs`; returns false once the call is over.
    bool pump(qint64 nowNs);
    bool finished() const { return m_finished; }
    CallResult &result() { return m_result; }
    static qint64 nowNs();

Q_SIGNALS:
    void done();

private:
    void openStream(const QString &url, const QString &token);
    void onText(QByteArrayView text);
    void finish(const QString &error = {});

    int m_index;
    QUrl m_server;
    QString m_token;
    int m_durationMs;
    QNetworkAccessManager *m_nam;
    QSslConfiguration m_tls;
    ws::WebSocket m_ws{this}; // the server's own lean WebSocket: the harness should not be the bottleneck
    QString m_callSid;
    QString m_streamSid;
    QHash<QString, QString> m_startParams;
    bool m_streaming = false;
    bool m_finished = false;
    qint64 m_startNs = 0;
    qint64 m_seq = 0; // protocol sequenceNumber
    qint64 m_frame = 0;
    qint64 m_totalFrames = 0;
    std::vector<qint64> m_sentAt; // by frame
    std::vector<bool> m_echoed;
    CallResult m_result;
    qint64 m_lastEchoNs = 0;
};

} // namespace vaani::bench
