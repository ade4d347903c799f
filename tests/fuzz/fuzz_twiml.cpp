// The TwiML reader (shared/twimlreader.h; the softphone and the tests read the server's answers with it): any
// bytes parse without a crash or a hang.
#include "fuzzsupport.h"
#include "twimlreader.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray xml(reinterpret_cast<const char *>(data), qsizetype(size));
    const twilio::TwimlDocument doc = twilio::TwimlDocument::parse(xml);
    (void)doc;
    return 0;
}
