#pragma once
// The fake Realtime API's echo mode for vaani-bench (and `vaani-fake-realtime --echo`): GA handshake
// (session.created, session.update → session.updated with the merged session), then every
// input_audio_buffer.append is answered at once by a response.output_audio.delta carrying the same audio.
// Built on the server's lean WebSocket so the load generator, which shares the machine with the server
// under test, spends as little CPU as it can; the call-flow tests use FakeRealtimeServer (Qt's WebSocket
// server, an independent implementation).

#include "httpconnection.h"
#include "websocket.h"

#include <atomic>

#include <QTcpServer>

namespace vaani::test {

class EchoRealtimeServer : public QTcpServer
{
public:
    explicit EchoRealtimeServer(QObject *parent = nullptr);
    bool listenOn(quint16 port);
    QUrl url() const;
    int connections() const { return m_connections; }
    // Drop mode (vaani-bench --model-drops): every session's connection is reset this long after its
    // session.updated. Responses are then played (response.created, response.done after 3 s on
    // odd-numbered sessions, 0.5 s on even ones): those asked for with response.create, and on odd sessions
    // one started by the fake a second before the drop (as server VAD does when the caller speaks), so
    // those drops come in the middle of a response and the others in silence.
    void setDropAfterMs(int ms) { m_dropAfterMs = ms; }
    // The network's round trip to the model: session.created and session.updated are sent this late.
    void setHandshakeDelayMs(int ms) { m_handshakeDelayMs = ms; }
    std::atomic<int> dropsMidResponse{0};
    std::atomic<int> dropsInSilence{0};

protected:
    void incomingConnection(qintptr fd) override;

private:
    void adopt(int fd);
    void onText(ws::WebSocket *socket, QByteArrayView text);
    void respond(ws::WebSocket *socket);

    http::Handler m_handler;
    std::atomic<int> m_open{0};
    QByteArray m_delta; // reused for each echoed frame
    int m_connections = 0;
    int m_ids = 0;
    int m_dropAfterMs = 0;
    int m_handshakeDelayMs = 0;
    void sendLater(ws::WebSocket *socket, const QByteArray &text);
};

} // namespace vaani::test
