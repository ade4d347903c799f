// Twilio Media Streams messages: the full parser, the caller-audio fast path (twilio::scanMedia) against it,
// and the outgoing builders as an injection oracle. Checks:
// - a media payload either parser hands out is strict base64;
// - when both read a message as media, they read the same payload;
// - the media and append messages built from any accepted payload parse back as exactly one JSON object
//   with the expected keys (nothing can break out of the string);
// - the parser never accepts more than its cap.
#include "base64.h"
#include "fuzzsupport.h"
#include "realtimemessages.h"
#include "twiliomessages.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace vaani;
using namespace Qt::StringLiterals;

namespace {
void checkBuilt(const QByteArray &payload)
{
    fuzz::checkBuiltMedia(payload);
    QByteArray append;
    VAANI_FUZZ_CHECK(realtime::appendInputAudioAppend(append, payload));
    const QJsonObject a = QJsonDocument::fromJson(append).object();
    VAANI_FUZZ_CHECK(a.keys() == (QStringList{u"audio"_s, u"type"_s}));
    VAANI_FUZZ_CHECK(a.value(u"type"_s).toString() == u"input_audio_buffer.append"_s);
    VAANI_FUZZ_CHECK(a.value(u"audio"_s).toString().toLatin1() == payload);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initApp();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(reinterpret_cast<const char *>(data), qsizetype(size));
    const twilio::ParseResult r = twilio::parse(text);
    if (r.ok())
        VAANI_FUZZ_CHECK(text.size() <= twilio::kMaxInboundMessageBytes);
    const bool fullMedia = r.ok() && r.message.event == twilio::Event::Media;
    if (fullMedia) {
        VAANI_FUZZ_CHECK(base64::isStrict(r.message.payload));
        checkBuilt(r.message.payload);
    }
    QByteArrayView fast;
    if (twilio::scanMedia(text, &fast)) {
        VAANI_FUZZ_CHECK(base64::isStrict(fast));
        if (fullMedia)
            VAANI_FUZZ_CHECK(fast == r.message.payload);
        checkBuilt(fast.toByteArray());
    }
    // Builders refuse what is not strict base64, whatever it is.
    QByteArray out;
    if (!base64::isStrict(text)) {
        VAANI_FUZZ_CHECK(!twilio::appendMediaMessage(out, "MZ1", text) && out.isEmpty());
        VAANI_FUZZ_CHECK(!realtime::appendInputAudioAppend(out, text) && out.isEmpty());
        VAANI_FUZZ_CHECK(twilio::mediaMessage(u"MZ1"_s, text).isEmpty());
    }
    return 0;
}
