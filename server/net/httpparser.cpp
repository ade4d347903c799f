#include "httpparser.h"

namespace vaani::http {

namespace {
constexpr qsizetype kMaxChunkLineBytes = 1024; // chunk size plus extensions
constexpr int kMaxLengthDigits = 18;           // below 2^63: no overflow while reading it

bool isTchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isFieldValueChar(char c)
{
    const auto u = uchar(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f); // VCHAR, SP, HTAB, obs-text
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
} // namespace

bool Request::keepAlive() const
{
    return minorVersion >= 1 && !head.hasToken("Connection", "close");
}

QUrl Request::url() const
{
    return QUrl(QStringLiteral("http://") + QString::fromLatin1(value("Host")) + QString::fromLatin1(target));
}

RequestParser::RequestParser(Limits limits)
    : m_limits(limits)
{}

bool RequestParser::fail(int status, QByteArrayView reason)
{
    m_status = Status::Error;
    m_errorStatus = status;
    m_errorReason = reason.toByteArray();
    return false;
}

Request RequestParser::take()
{
    Request r = std::move(m_request);
    m_request = Request();
    m_status = Status::NeedMore;
    m_phase = Phase::Head;
    m_line.clear();
    m_headBytes = 0;
    m_trailerBytes = 0;
    m_remaining = 0;
    m_expectContinue = false;
    m_leadingCR = false;
    return r;
}

qsizetype RequestParser::feed(QByteArrayView data)
{
    qsizetype used = 0;
    while (used < data.size() && m_status == Status::NeedMore) {
        const QByteArrayView rest = data.sliced(used);
        switch (m_phase) {
        case Phase::Head: {
            if (m_headBytes == 0 && (m_leadingCR || rest.front() == '\r')) {
                // Empty lines before a request line are ignored (RFC 9112 §2.2), however TCP cut them.
                if (m_leadingCR) {
                    if (rest.front() != '\n')
                        return fail(400, "CR without LF before the request line"), used;
                    m_leadingCR = false;
                    used += 1;
                    continue;
                }
                m_leadingCR = true;
                used += 1;
                continue;
            }
            // Look for the blank line from where the previous search stopped (it may straddle two reads).
            const qsizetype room = m_limits.maxHeadBytes - m_headBytes;
            const qsizetype take = std::min(rest.size(), room + 1);
            const qsizetype from = std::max<qsizetype>(0, m_line.size() - 3);
            m_line.append(rest.first(take));
            const qsizetype end = m_line.indexOf("\r\n\r\n", from);
            if (end < 0) {
                m_headBytes += take;
                used += take;
                if (m_headBytes > m_limits.maxHeadBytes)
                    return fail(431, "request head too large"), used;
                continue;
            }
            const qsizetype headLen = end + 4;
            const qsizetype fromThisRead = headLen - (m_line.size() - take);
            m_line.truncate(headLen);
            m_headBytes = headLen;
            used += fromThisRead;
            if (headLen > m_limits.maxHeadBytes)
                return fail(431, "request head too large"), used;
            if (!parseHead())
                return used;
            continue;
        }
        case Phase::Body: {
            const qsizetype n = qsizetype(std::min<quint64>(m_remaining, quint64(rest.size())));
            m_request.body.append(rest.first(n));
            m_remaining -= quint64(n);
            used += n;
            if (m_remaining == 0) {
                m_phase = Phase::Done;
                m_status = Status::Complete;
            }
            continue;
        }
        case Phase::ChunkSize:
        case Phase::ChunkData:
        case Phase::ChunkDataEnd:
        case Phase::Trailers: {
            const qsizetype n = feedChunked(rest);
            used += n;
            continue;
        }
        case Phase::Done:
            m_status = Status::Complete;
            break;
        }
    }
    if (m_status == Status::NeedMore && m_phase == Phase::Done)
        m_status = Status::Complete;
    return used;
}

bool RequestParser::parseHead()
{
    // m_line holds the head with its final blank line. Lines end in CRLF; a CR or LF anywhere else is
    // refused.
    const QByteArrayView text = QByteArrayView(m_line).chopped(4);
    QList<QByteArrayView> lines;
    qsizetype start = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            if (i + 1 >= text.size() || text[i + 1] != '\n')
                return fail(400, "CR without LF in the request head");
            lines.append(text.sliced(start, i - start));
            start = i + 2;
            ++i;
        } else if (text[i] == '\n') {
            return fail(400, "bare LF in the request head");
        }
    }
    lines.append(text.sliced(start));

    // Request line: method SP origin-form SP HTTP/1.x
    const QByteArrayView line = lines.first();
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0)
        return fail(400, "malformed request line");
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    for (char c : method) {
        if (!isTchar(c))
            return fail(400, "malformed method");
    }
    if (target.isEmpty() || target.front() != '/')
        return fail(400, "only origin-form request targets are served");
    for (char c : target) {
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f)
            return fail(400, "malformed request target");
    }
    if (version.size() != 8 || !version.startsWith("HTTP/") || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9')
        return fail(400, "malformed HTTP version");
    if (version[5] != '1')
        return fail(505, "HTTP version not supported");
    m_request.minorVersion = version[7] - '0';
    m_request.method = method.toByteArray();
    m_request.target = target.toByteArray();
    const qsizetype q = target.indexOf('?');
    m_request.path = (q < 0 ? target : target.first(q)).toByteArray();
    m_request.query = q < 0 ? QByteArray() : target.sliced(q + 1).toByteArray();
    m_request.head.startLine = line.toByteArray();

    if (lines.size() - 1 > m_limits.maxHeaders)
        return fail(431, "too many header fields");
    int hosts = 0;
    bool haveLength = false, chunked = false, otherCoding = false;
    quint64 length = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArrayView field = lines[i];
        const qsizetype colon = field.indexOf(':');
        if (colon <= 0)
            return fail(400, "malformed header field");
        const QByteArrayView name = field.first(colon);
        for (char c : name) {
            if (!isTchar(c))
                return fail(400, "malformed header field name"); // also obsolete line folding
        }
        const QByteArrayView value = field.sliced(colon + 1).trimmed();
        for (char c : value) {
            if (!isFieldValueChar(c))
                return fail(400, "control character in a header field");
        }
        m_request.head.headers.append({name.toByteArray(), value.toByteArray()});
        if (name.compare("Host", Qt::CaseInsensitive) == 0) {
            ++hosts;
        } else if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
            if (value.isEmpty() || value.size() > kMaxLengthDigits)
                return fail(value.size() > kMaxLengthDigits ? 413 : 400, "invalid Content-Length");
            quint64 n = 0;
            for (char c : value) {
                if (c < '0' || c > '9')
                    return fail(400, "invalid Content-Length");
                n = n * 10 + quint64(c - '0');
            }
            if (haveLength && n != length)
                return fail(400, "conflicting Content-Length fields");
            haveLength = true;
            length = n;
        } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
            if (chunked || value.compare("chunked", Qt::CaseInsensitive) != 0)
                otherCoding = true;
            else
                chunked = true;
        } else if (name.compare("Expect", Qt::CaseInsensitive) == 0) {
            m_expectContinue = value.compare("100-continue", Qt::CaseInsensitive) == 0;
        }
    }
    if (m_request.minorVersion >= 1 && hosts != 1)
        return fail(400, "exactly one Host header is required");
    if (hosts > 1)
        return fail(400, "more than one Host header");
    if (otherCoding)
        return fail(501, "only the chunked transfer coding is supported");
    if (chunked && haveLength)
        return fail(400, "both Content-Length and Transfer-Encoding");
    m_line.clear();
    if (chunked) {
        m_phase = Phase::ChunkSize;
        return true;
    }
    if (length > quint64(m_limits.maxBodyBytes))
        return fail(413, "request body too large");
    m_remaining = length;
    m_request.body.reserve(qsizetype(length));
    m_phase = length > 0 ? Phase::Body : Phase::Done;
    if (m_phase == Phase::Done)
        m_status = Status::Complete;
    return true;
}

qsizetype RequestParser::feedChunked(QByteArrayView data)
{
    qsizetype used = 0;
    while (used < data.size() && m_status == Status::NeedMore) {
        const QByteArrayView rest = data.sliced(used);
        if (m_phase == Phase::ChunkData) {
            const qsizetype n = qsizetype(std::min<quint64>(m_remaining, quint64(rest.size())));
            m_request.body.append(rest.first(n));
            m_remaining -= quint64(n);
            used += n;
            if (m_remaining == 0)
                m_phase = Phase::ChunkDataEnd;
            continue;
        }
        // A line: the chunk size, the CRLF after a chunk's data, or a trailer field.
        const qsizetype lf = rest.indexOf('\n');
        const qsizetype take = lf < 0 ? rest.size() : lf + 1;
        const qsizetype cap =
            m_phase == Phase::Trailers ? m_limits.maxHeadBytes - m_trailerBytes : kMaxChunkLineBytes;
        if (m_line.size() + take > cap) {
            fail(m_phase == Phase::Trailers ? 431 : 400,
                 m_phase == Phase::Trailers ? "trailer section too large" : "chunk size line too long");
            return used;
        }
        m_line.append(rest.first(take));
        used += take;
        if (lf < 0)
            continue;
        if (!m_line.endsWith("\r\n")) {
            fail(400, "bare LF in chunked framing");
            return used;
        }
        const QByteArrayView line = QByteArrayView(m_line).chopped(2);
        switch (m_phase) {
        case Phase::ChunkDataEnd:
            if (!line.isEmpty()) {
                fail(400, "chunk data longer than its size");
                return used;
            }
            m_phase = Phase::ChunkSize;
            break;
        case Phase::ChunkSize: {
            // chunk-size [BWS ; extensions]; the size is read with the remaining budget as its bound.
            const quint64 budget = quint64(m_limits.maxBodyBytes - m_request.body.size());
            quint64 size = 0;
            qsizetype i = 0;
            for (; i < line.size(); ++i) {
                const int h = hexValue(line[i]);
                if (h < 0)
                    break;
                size = size * 16 + quint64(h);
                if (size > budget) {
                    fail(413, "request body too large");
                    return used;
                }
            }
            const QByteArrayView after = line.sliced(i).trimmed();
            if (i == 0 || (!after.isEmpty() && after.front() != ';')) {
                fail(400, "malformed chunk size");
                return used;
            }
            m_remaining = size;
            m_phase = size > 0 ? Phase::ChunkData : Phase::Trailers;
            break;
        }
        case Phase::Trailers:
            if (line.isEmpty()) {
                m_phase = Phase::Done;
                m_status = Status::Complete;
            } else {
                m_trailerBytes += m_line.size();
            }
            break;
        default:
            break;
        }
        m_line.clear();
    }
    return used;
}

} // namespace vaani::http
