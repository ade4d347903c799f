// The WebSocket opening handshake (RFC 6455 §4): an HTTP head parsed by ws::parseHead, as the server's
// upgrade check sees a request (acceptUpgrade) and as the client sees the server's answer. Checks: no memory
// error; a parsed head has a start line and trimmed header values; the server either accepts with a 101
// carrying the Sec-WebSocket-Accept of the request's key, or refuses with 400 or 426 and a reason.
#include "fuzzsupport.h"
#include "wshandshake.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    ws::HttpHead head;
    if (!ws::parseHead(input, &head))
        return 0;
    VAANI_FUZZ_CHECK(!head.startLine.isEmpty());
    for (const auto &[name, value] : head.headers) {
        VAANI_FUZZ_CHECK(!name.isEmpty());
        VAANI_FUZZ_CHECK(value == value.trimmed());
    }
    QByteArray response;
    QByteArray why;
    int status = 0;
    if (ws::acceptUpgrade(head, &response, &status, &why)) {
        VAANI_FUZZ_CHECK(response.startsWith("HTTP/1.1 101 "));
        VAANI_FUZZ_CHECK(response.contains(ws::acceptKey(head.value("Sec-WebSocket-Key"))));
        VAANI_FUZZ_CHECK(response.endsWith("\r\n\r\n"));
    } else {
        VAANI_FUZZ_CHECK(status == 400 || status == 426);
        VAANI_FUZZ_CHECK(!why.isEmpty());
    }
    // The client's view: whatever the head says, the helpers answer without reading past it.
    (void)head.hasToken("Connection", "upgrade");
    (void)head.value("Sec-WebSocket-Accept");
    return 0;
}
