#include "tlsstream.h"

#include <QHostAddress>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <signal.h>

using namespace Qt::StringLiterals;

namespace vaani::net {

namespace {
// "http/1.1" as an ALPN protocol list (length-prefixed): the WebSocket upgrade is an HTTP/1.1 request.
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
// TLS 1.3 suites in the order browsers offer them: AES-128-GCM first (fewer rounds per record than AES-256,
// both with AES-NI; the records of the audio path are small and many).
constexpr const char *kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

QString opensslError()
{
    const unsigned long e = ERR_peek_last_error();
    if (e == 0)
        return u"unknown TLS error"_s;
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    return QString::fromLatin1(text);
}

// Adds every certificate of `pem` to the context's store; the number added, -1 on a malformed PEM.
int addCertificates(SSL_CTX *ctx, const QByteArray &pem)
{
    BIO *bio = BIO_new_mem_buf(pem.constData(), int(pem.size()));
    if (!bio)
        return -1;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (X509 *cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        // A certificate the system already trusts is reported as a duplicate: not an error.
        if (X509_STORE_add_cert(store, cert) == 1 ||
            ERR_GET_REASON(ERR_peek_last_error()) == X509_R_CERT_ALREADY_IN_HASH_TABLE)
            ++added;
        X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error(); // the end of the PEM data is reported as an error too
    return added;
}
} // namespace

std::shared_ptr<TlsClientContext> TlsClientContext::get(const QByteArray &extraCaPem, QString *error)
{
    // OpenSSL writes to the socket with write(), which raises SIGPIPE when the peer has gone (the plain path
    // sends with MSG_NOSIGNAL). vaani-server ignores SIGPIPE; other programs using this class get the same,
    // as Qt does for QProcess: only when the signal is still at its default (fatal) disposition.
    struct sigaction current = {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
        ::signal(SIGPIPE, SIG_IGN);
    static std::mutex mutex;
    static std::map<QByteArray, std::weak_ptr<TlsClientContext>> contexts;
    const std::lock_guard lock(mutex);
    if (auto existing = contexts[extraCaPem].lock())
        return existing;

    ERR_clear_error();
    std::shared_ptr<TlsClientContext> context(new TlsClientContext);
    context->m_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX *ctx = context->m_ctx;
    if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_default_verify_paths(ctx) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn) != 0 ||
        SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
        *error = u"cannot set up TLS: "_s + opensslError();
        return nullptr;
    }
    if (!extraCaPem.isEmpty() && addCertificates(ctx, extraCaPem) <= 0) {
        *error = u"no usable PEM certificate among the extra trusted certificates"_s;
        return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    // Read whole records (and what follows them) in one recv instead of a header read and a body read.
    SSL_CTX_set_read_ahead(ctx, 1);
    contexts[extraCaPem] = context;
    return context;
}

TlsClientContext::~TlsClientContext()
{
    SSL_CTX_free(m_ctx);
}

TlsStream::TlsStream(std::shared_ptr<TlsClientContext> context)
    : m_context(std::move(context))
{}

TlsStream::~TlsStream()
{
    SSL_free(m_ssl);
}

bool TlsStream::attach(int fd, const QString &host)
{
    ERR_clear_error();
    m_host = host;
    m_ssl = SSL_new(m_context->native());
    if (!m_ssl || SSL_set_fd(m_ssl, fd) != 1) {
        m_error = u"cannot set up TLS: "_s + opensslError();
        m_fatal = true;
        return false;
    }
    const QByteArray name = host.toLatin1(); // QUrl::host(): ASCII (IDNA) names and bare IP literals
    bool named = false;
    if (QHostAddress().setAddress(host)) {
        named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(m_ssl), name.constData()) == 1;
    } else {
        SSL_set_hostflags(m_ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        named = !name.isEmpty() && SSL_set1_host(m_ssl, name.constData()) == 1 &&
                SSL_set_tlsext_host_name(m_ssl, name.constData()) == 1;
    }
    if (!named) {
        m_error = u"cannot check a certificate against the host name '%1'"_s.arg(host);
        m_fatal = true;
        return false;
    }
    SSL_set_connect_state(m_ssl);
    return true;
}

TlsStream::Result TlsStream::failure(int ret, const char *during)
{
    const int saved = errno;
    switch (SSL_get_error(m_ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return Result::WantRead;
    case SSL_ERROR_WANT_WRITE:
        return Result::WantWrite;
    case SSL_ERROR_ZERO_RETURN:
        return Result::Closed;
    case SSL_ERROR_SYSCALL:
        m_fatal = true;
        m_error = saved != 0
                      ? QString::fromLocal8Bit(std::strerror(saved))
                      : u"the connection was closed during the TLS %1"_s.arg(QLatin1StringView(during));
        return Result::Failed;
    default:
        break;
    }
    m_fatal = true;
    const long verify = SSL_get_verify_result(m_ssl);
    if (!m_established && verify != X509_V_OK) {
        m_error = u"the certificate of %1 is not accepted: %2"_s.arg(
            m_host, QString::fromLatin1(X509_verify_cert_error_string(verify)));
    } else if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        m_error = u"the peer closed the connection without ending TLS"_s;
    } else {
        m_error = u"TLS %1 failed: %2"_s.arg(QLatin1StringView(during), opensslError());
    }
    return Result::Failed;
}

TlsStream::Result TlsStream::handshake()
{
    if (m_fatal)
        return Result::Failed;
    ERR_clear_error();
    const int ret = SSL_do_handshake(m_ssl);
    if (ret == 1) {
        m_established = true;
        return Result::Done;
    }
    return failure(ret, "handshake");
}

TlsStream::Result TlsStream::read(char *buffer, qsizetype capacity, qsizetype *count)
{
    *count = 0;
    if (m_fatal)
        return Result::Failed;
    ERR_clear_error();
    size_t got = 0;
    const int ret = SSL_read_ex(m_ssl, buffer, size_t(std::min<qsizetype>(capacity, INT_MAX)), &got);
    if (ret == 1) {
        *count = qsizetype(got);
        return Result::Done;
    }
    return failure(ret, "read");
}

TlsStream::Result TlsStream::write(const char *data, qsizetype size, qsizetype *count)
{
    *count = 0;
    if (m_fatal)
        return Result::Failed;
    ERR_clear_error();
    size_t written = 0;
    const int ret = SSL_write_ex(m_ssl, data, size_t(std::min<qsizetype>(size, INT_MAX)), &written);
    if (ret == 1) {
        *count = qsizetype(written);
        return Result::Done;
    }
    return failure(ret, "write");
}

bool TlsStream::hasBuffered() const
{
    return m_ssl && SSL_has_pending(m_ssl) == 1;
}

void TlsStream::shutdown()
{
    // Not after a fatal error (OpenSSL forbids it) nor before the session is up; once is enough.
    if (!m_ssl || m_fatal || !m_established || m_shutdownSent)
        return;
    m_shutdownSent = true;
    ERR_clear_error();
    SSL_shutdown(m_ssl); // queues close_notify and tries to send it; the peer's answer is not awaited
    ERR_clear_error();
}

QString TlsStream::protocol() const
{
    return m_ssl ? QString::fromLatin1(SSL_get_version(m_ssl)) : QString();
}

} // namespace vaani::net
