// The HTTP/1.1 request parser of the server's port: the input fed in two pieces (split point from the first
// byte), requests taken as they complete. Checks: no memory error, progress on every feed, every complete
// request within the caps (head fields, body), bodies of chunked and sized requests alike bounded, refusals
// with one of the documented statuses.
#include "fuzzsupport.h"
#include "httpparser.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    http::Limits limits;
    limits.maxHeadBytes = 1024;
    limits.maxHeaders = 16;
    limits.maxBodyBytes = 2048;
    http::RequestParser parser(limits);
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);
    const qsizetype split = std::min(qsizetype(data[0]), input.size());
    for (QByteArrayView piece : {input.first(split), input.sliced(split)}) {
        while (!piece.isEmpty()) {
            const qsizetype used = parser.feed(piece);
            VAANI_FUZZ_CHECK(used >= 0 && used <= piece.size());
            piece = piece.sliced(used);
            if (parser.status() == http::RequestParser::Status::Error) {
                const int s = parser.errorStatus();
                VAANI_FUZZ_CHECK(s == 400 || s == 408 || s == 413 || s == 431 || s == 501 || s == 505);
                return 0;
            }
            if (parser.status() == http::RequestParser::Status::Complete) {
                const http::Request r = parser.take();
                VAANI_FUZZ_CHECK(r.body.size() <= limits.maxBodyBytes);
                VAANI_FUZZ_CHECK(r.head.headers.size() <= limits.maxHeaders);
                VAANI_FUZZ_CHECK(r.head.startLine.size() <= limits.maxHeadBytes);
                VAANI_FUZZ_CHECK(r.path.startsWith('/'));
                continue;
            }
            VAANI_FUZZ_CHECK(piece.isEmpty()); // needing more, it took everything it was given
            break;
        }
    }
    return 0;
}
