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

protected:
    void incomingConnection(qintptr fd) override;

private:
    void adopt(int fd);
    void onText(ws::WebSocket *socket, QByteArrayView text);

    http::Handler m_handler;
    std::atomic<int> m_open{0};
    QByteArray m_delta; // reused for each echoed frame
    int m_connections = 0;
    int m_ids = 0;
};

} // namespace vaani::test
