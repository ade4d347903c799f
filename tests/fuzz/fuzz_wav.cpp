// The WAV reader (shared/wav.h; prompts' audio and the softphone's clips): any bytes give a Wav or a clear
// error, never a crash; a Wav it accepts has whole frames, converts to PCM without reading past its data, and
// writes out to bytes that read back the same.
#include "fuzzsupport.h"
#include "wav.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const Wav wav = Wav::fromBytes(bytes, &error);
    if (!error.isEmpty())
        return 0;
    VAANI_FUZZ_CHECK(wav.channels > 0 && wav.sampleRate > 0);
    VAANI_FUZZ_CHECK(wav.frames() >= 0);
    if (wav.frames() < 100000) {
        VAANI_FUZZ_CHECK(wav.monoPcm16().size() == wav.frames());
        VAANI_FUZZ_CHECK(wav.channelPcm16(wav.channels - 1).size() == wav.frames());
    }
    QString again;
    const Wav back = Wav::fromBytes(wav.toBytes(), &again);
    VAANI_FUZZ_CHECK(again.isEmpty());
    VAANI_FUZZ_CHECK(back.format == wav.format && back.channels == wav.channels &&
                     back.sampleRate == wav.sampleRate);
    return 0;
}
