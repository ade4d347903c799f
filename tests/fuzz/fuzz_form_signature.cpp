// Twilio's webhook bodies (application/x-www-form-urlencoded) and their signature check: any body parses
// without a crash; what it parses to re-encodes and parses back to the same pairs; a signature computed for
// the parsed form validates, and the same signature with one byte changed never does.
#include "fuzzsupport.h"
#include "twiliosignature.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView body(reinterpret_cast<const char *>(data), qsizetype(size));
    const twilio::FormParams params = twilio::parseForm(body);
    const twilio::FormParams again = twilio::parseForm(twilio::encodeForm(params));
    VAANI_FUZZ_CHECK(again == params);
    const QString url = QStringLiteral("https://vaani.example.com:443/incoming-call");
    const QByteArray sig = twilio::computeSignature(QStringLiteral("token"), url, params);
    VAANI_FUZZ_CHECK(twilio::validateSignature(QStringLiteral("token"), url, params, sig));
    QByteArray forged = sig;
    forged[0] = forged[0] == 'A' ? 'B' : 'A';
    VAANI_FUZZ_CHECK(!twilio::validateSignature(QStringLiteral("token"), url, params, forged));
    VAANI_FUZZ_CHECK(!twilio::validateSignature(QStringLiteral("token"), url, params, {}));
    // The raw bytes as a signature header and as a JSON body: never a crash, never accepted by accident.
    VAANI_FUZZ_CHECK(!twilio::validateSignature(QStringLiteral("token"), url, params, body) || body == sig);
    (void)twilio::validateJsonBody(QStringLiteral("token"), url, body, body);
    return 0;
}
