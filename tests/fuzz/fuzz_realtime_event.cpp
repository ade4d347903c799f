// OpenAI Realtime server events: the full parser, the agent-audio fast path (realtime::scanAudioDelta)
// against it, and the Twilio media message built from any accepted audio as an injection oracle. Checks:
// - audio either parser hands out is strict base64 (or empty, from the full parser);
// - when both read an event as an audio delta, they read the same delta, response and item;
// - times are -1 or within [0, 2^53];
// - the media message built from accepted audio parses back with only the expected keys.
#include "base64.h"
#include "fuzzsupport.h"
#include "realtimemessages.h"
#include "twiliomessages.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace vaani;
using namespace Qt::StringLiterals;

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::initApp();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(reinterpret_cast<const char *>(data), qsizetype(size));
    const realtime::ParseResult r = realtime::parse(text);
    const bool fullDelta = r.ok() && r.event.type == realtime::ServerEvent::OutputAudioDelta;
    if (r.ok()) {
        for (qint64 t : {r.event.audioStartMs, r.event.audioEndMs})
            VAANI_FUZZ_CHECK(t == -1 || (t >= 0 && t <= (qint64(1) << 53)));
    }
    if (fullDelta && !r.event.audio.isEmpty()) {
        VAANI_FUZZ_CHECK(base64::isStrict(r.event.audio));
        fuzz::checkBuiltMedia(r.event.audio);
    }
    realtime::AudioDeltaView view;
    if (realtime::scanAudioDelta(text, &view)) {
        VAANI_FUZZ_CHECK(base64::isStrict(view.delta));
        fuzz::checkBuiltMedia(view.delta.toByteArray());
        // The full parser may spell the type with the beta name only; when it reads a GA delta, it agrees.
        // (Compared on valid UTF-8, the only text the WebSocket delivers.)
        if (fullDelta && r.event.typeName == u"response.output_audio.delta"_s && fuzz::isUtf8(text)) {
            VAANI_FUZZ_CHECK(view.delta == r.event.audio);
            VAANI_FUZZ_CHECK(QString::fromUtf8(view.responseId) == r.event.responseId);
            VAANI_FUZZ_CHECK(QString::fromUtf8(view.itemId) == r.event.itemId);
        }
    }
    return 0;
}
