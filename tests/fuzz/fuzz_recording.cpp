// Call recordings as read back by vaani-admin (shared/recordingfile.h) and the Hinglish romaniser that
// rewrites the model's transcripts (shared/hinglish.h). A recording file is only ever written by the server,
// but it sits on a disk an attacker may reach: any bytes give a recording or a clear error, sealed ones open
// only untouched; any text romanises without a crash and never grows without bound.
#include "db/datacipher.h"
#include "fuzzsupport.h"
#include "hinglish.h"
#include "recordingfile.h"
#include "wav.h"

using namespace vaani;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    static const auto cipher = [] {
        QString error;
        return db::DataCipher::fromText("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &error);
    }();
    QString error;
    if (auto r = openRecording(bytes, *cipher, &error)) {
        QString wavError;
        Wav::fromBytes(r->wav, &wavError);
        VAANI_FUZZ_CHECK(wavError.isEmpty());
    } else {
        VAANI_FUZZ_CHECK(!error.isEmpty());
    }
    // The same bytes sealed then opened come back whole.
    if (size <= 4096) {
        RecordingEncoder enc(cipher.get());
        QByteArray file = enc.begin(); // one call after the other: the operands of + have no set order
        file += enc.push(bytes);
        file += enc.finish();
        auto back = openRecording(file, *cipher, &error);
        VAANI_FUZZ_CHECK(back && back->complete && back->wav.endsWith(bytes));
    }
    const QString text = QString::fromUtf8(bytes);
    const QString latin = hinglish::romanise(text);
    VAANI_FUZZ_CHECK(latin.size() <= 8 * text.size() + 8);
    const QString tag = hinglish::language(text);
    VAANI_FUZZ_CHECK(tag.isEmpty() || tag == QLatin1String("hi") || tag == QLatin1String("en") ||
                     tag == QLatin1String("hi-en"));
    return 0;
}
