#pragma once
// HTTP/1.1 request framing (RFC 9112) for the server's one port: a pure, incremental parser with every cap
// enforced before the memory is spent. QHttpServer (Qt 6.4) reads whole bodies into memory before a handler
// can refuse them and has no header or idle deadlines, so the webhooks are served by HttpConnection with this
// parser instead. Fuzzed (tests/fuzz/fuzz_http_request) and tested from byte fixtures (tst_httpparser).
//
// Accepted: origin-form targets ("/path?query"), HTTP/1.0 and 1.1, CRLF line ends, Content-Length or
// "Transfer-Encoding: chunked" (extensions ignored, trailers read and dropped). Refused with a status:
// a head over maxHeadBytes or with more than maxHeaders fields (431); a body over maxBodyBytes (413, from the
// Content-Length header at once, or as soon as the chunks pass the cap); other transfer codings (501); both
// framings at once, differing or malformed Content-Length, bare LF, obsolete line folding, control characters
// or spaces where they cannot be, malformed chunk sizes (400); other HTTP versions (505). The path is never
// percent-decoded: routes match the bytes as sent.
// Threads: a value type with no shared state; one parser per connection, used on the connection's thread.

#include "wshandshake.h"

#include <QByteArray>
#include <QUrl>

namespace vaani::http {

struct Limits
{
    qsizetype maxHeadBytes = 8192;      // request line and header fields, with their line ends
    int maxHeaders = 64;                // header fields
    qsizetype maxBodyBytes = 64 * 1024; // decoded body (chunked or not)
};

struct Request
{
    ws::HttpHead head; // startLine and header fields as sent
    QByteArray method;
    QByteArray target; // as sent: path plus optional ?query
    QByteArray path;   // the target before '?', not decoded
    QByteArray query;  // after '?', not decoded (empty when none)
    int minorVersion = 1;
    QByteArray body;
    QByteArray value(QByteArrayView name) const { return head.value(name); }
    bool keepAlive() const; // HTTP/1.1 unless "Connection: close" (HTTP/1.0 connections close)
    bool isUpgrade() const { return head.hasToken("Upgrade", "websocket"); }
    // http://<Host><target>, as QHttpServerRequest::url() did (the Host header is the client's claim).
    QUrl url() const;
};

class RequestParser
{
public:
    enum class Status { NeedMore, Complete, Error };

    explicit RequestParser(Limits limits = {});

    // Reads from `data` and returns the bytes consumed (all of them unless a request completed or failed;
    // the rest belongs to the next request, or is discarded after an error).
    qsizetype feed(QByteArrayView data);
    Status status() const { return m_status; }

    // After Complete: the request (the parser is ready for the next one).
    Request take();
    // After the head, while the body is still expected: the client asked for "100 Continue".
    bool expectsContinue() const { return m_phase > Phase::Head && m_expectContinue; }
    // True from the first byte of a request until it is complete (for the server's deadlines).
    bool inRequest() const { return m_phase != Phase::Head || m_headBytes > 0 || m_leadingCR; }
    bool headComplete() const { return m_phase > Phase::Head; }

    // After Error: the status to answer with (400, 413, 431, 501, 505) and a short reason.
    int errorStatus() const { return m_errorStatus; }
    QByteArray errorReason() const { return m_errorReason; }

private:
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Done };
    bool fail(int status, QByteArrayView reason);
    bool parseHead();
    qsizetype feedChunked(QByteArrayView data);

    Limits m_limits;
    Status m_status = Status::NeedMore;
    Phase m_phase = Phase::Head;
    QByteArray m_line; // head (up to its blank line), a chunk-size line, or a trailer line being collected
    qsizetype m_headBytes = 0;
    qsizetype m_trailerBytes = 0;
    quint64 m_remaining = 0; // body or chunk bytes still expected
    bool m_expectContinue = false;
    bool m_leadingCR = false; // a CR before any request line, waiting for its LF
    Request m_request;
    int m_errorStatus = 0;
    QByteArray m_errorReason;
};

} // namespace vaani::http
