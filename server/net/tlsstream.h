#pragma once
// TLS for the client side of the audio path's WebSocket (wss://: the OpenAI Realtime API), driven with
// OpenSSL directly on the connection's own non-blocking descriptor. QSslSocket cost about twice what the
// cryptography did at 50 small records a second each way per call (ring-buffer copies, a signal per read, a
// queued flush per write, an FIONREAD per read; docs/performance.md); here a record is one SSL_write on the
// bytes the WebSocket framed and one SSL_read into the per-thread scratch buffer the plain path reads into.
//
// Security: the peer's certificate chain is verified against the system's trust store (plus extra PEM
// certificates, OPENAI_CA_FILE) and must name the host (DNS name, or the IP address of an IP literal);
// TLS 1.2 at least; SNI and ALPN "http/1.1" are sent; renegotiation is refused (TLS 1.3 key updates are
// handled inside read()). Buffers are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS).
//
// Non-blocking: every operation returns WantRead/WantWrite when the socket cannot go on; the caller waits for
// that readiness and calls the same operation again. A write that returned WantRead/WantWrite must be
// repeated with at least the same bytes (they may have moved: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); writes
// may be partial (SSL_MODE_ENABLE_PARTIAL_WRITE). One stream is used by one thread at a time.

#include <QByteArray>
#include <QString>

#include <memory>

struct ssl_ctx_st;
struct ssl_st;

namespace vaani::net {

// Client settings shared by every connection that trusts the same certificates.
class TlsClientContext
{
public:
    // The context for the system's trust store plus `extraCaPem` (PEM certificates, may be empty), shared
    // process-wide while in use. Null, with *error set, when the PEM holds no certificate or OpenSSL fails.
    static std::shared_ptr<TlsClientContext> get(const QByteArray &extraCaPem, QString *error);
    ~TlsClientContext();
    TlsClientContext(const TlsClientContext &) = delete;
    TlsClientContext &operator=(const TlsClientContext &) = delete;
    ssl_ctx_st *native() const { return m_ctx; }

private:
    TlsClientContext() = default;
    ssl_ctx_st *m_ctx = nullptr;
};

class TlsStream
{
public:
    enum class Result {
        Done,      // the operation completed (for read/write: *count bytes)
        WantRead,  // wait until the descriptor is readable, then repeat
        WantWrite, // wait until the descriptor is writable, then repeat
        Closed,    // the peer closed the TLS session (close_notify)
        Failed,    // errorString() says why; the stream is unusable
    };

    explicit TlsStream(std::shared_ptr<TlsClientContext> context);
    ~TlsStream();
    TlsStream(const TlsStream &) = delete;
    TlsStream &operator=(const TlsStream &) = delete;

    // Binds the stream to a connected non-blocking descriptor (not owned) and the host name (or IP literal)
    // the certificate must match.
    bool attach(int fd, const QString &host);
    Result handshake();
    Result read(char *buffer, qsizetype capacity, qsizetype *count);
    Result write(const char *data, qsizetype size, qsizetype *count);
    // Decrypted or undecrypted bytes are held inside (read() would give more without the socket).
    bool hasBuffered() const;
    // Sends close_notify if the session is up and the socket takes it now; never waits for the peer's.
    void shutdown();
    QString errorString() const { return m_error; }
    QString protocol() const; // "TLSv1.3", for diagnostics

private:
    Result failure(int ret, const char *during);

    std::shared_ptr<TlsClientContext> m_context;
    ssl_st *m_ssl = nullptr;
    QString m_host;
    QString m_error;
    bool m_established = false;
    bool m_fatal = false;
    bool m_shutdownSent = false;
};

} // namespace vaani::net
