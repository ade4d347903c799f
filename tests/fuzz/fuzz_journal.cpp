// The record journal's reader (server/call/journalcodec.h), which reads what a crashed process left on disk:
// any bytes decode without a crash; every payload it returns re-encodes to a line that decodes to the same
// payload; goodBytes never exceeds the input and always ends at a line end.
#include "fuzzsupport.h"
#include "journalcodec.h"

#include <QJsonDocument>

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const journal::Decoded d = journal::decode(bytes);
    VAANI_FUZZ_CHECK(d.goodBytes >= 0 && d.goodBytes <= bytes.size());
    VAANI_FUZZ_CHECK(d.goodBytes == 0 || bytes[d.goodBytes - 1] == '\n');
    for (const QByteArray &payload : d.payloads) {
        VAANI_FUZZ_CHECK(!payload.contains('\n'));
        const QByteArray line = journal::encode(payload);
        VAANI_FUZZ_CHECK(!line.isEmpty());
        const journal::Decoded again = journal::decode(line);
        VAANI_FUZZ_CHECK(again.payloads.size() == 1 && again.payloads.front() == payload);
        (void)QJsonDocument::fromJson(payload); // what the journal does with it next
    }
    return 0;
}
