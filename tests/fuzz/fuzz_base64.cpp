// base64::isStrict accepts exactly what Qt's strict decoder accepts from padded, whitespace-free text, and
// what it accepts re-encodes to itself apart from the unused low bits of the last character.
#include "base64.h"
#include "fuzzsupport.h"

#include <QByteArray>

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(reinterpret_cast<const char *>(data), qsizetype(size));
    const bool strict = base64::isStrict(text);
    const auto qt = QByteArray::fromBase64Encoding(
        text.toByteArray(), QByteArray::Base64Encoding | QByteArray::AbortOnBase64DecodingErrors);
    const bool padded = !text.isEmpty() && text.size() % 4 == 0;
    if (strict) {
        VAANI_FUZZ_CHECK(bool(qt));
        VAANI_FUZZ_CHECK(qt.decoded.size() == base64::decodedSize(text));
        const QByteArray again = qt.decoded.toBase64();
        VAANI_FUZZ_CHECK(again.size() == text.size());
        VAANI_FUZZ_CHECK(QByteArrayView(again).first(again.size() - 3) == text.first(text.size() - 3));
        for (char c : text)
            VAANI_FUZZ_CHECK(c != '"' && c != '\\' && uchar(c) >= 0x20 && uchar(c) < 0x7f);
    } else if (padded && qt && !text.contains('=')) {
        fuzz::fail("Qt accepted padded text that isStrict refused");
    }
    return 0;
}
