// DataCipher reads sealed values back from the database (and its key file at start): whatever a value holds —
// damaged, truncated, forged, relabelled — open() must refuse it or return the sealed text, never crash or
// accept a forgery; a value sealed from the input opens to the input. fromText() (the key file) must refuse
// or load, never crash.
#include "db/datacipher.h"
#include "fuzzsupport.h"

#include <QString>

using namespace vaani::db;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const auto cipher = [] {
        QString error;
        return DataCipher::fromText(
            "k1 " + QByteArray(32, 'a').toBase64() + "\nk2 " + QByteArray(32, 'b').toBase64() + "\n", &error);
    }();
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const QString text = QString::fromUtf8(bytes);
    // As stored text, under the "enc:v1:" prefix or not.
    for (const QString &stored :
         {text, QString(QStringLiteral("enc:v1:k1:") + text), QString(QStringLiteral("enc:v1:") + text)}) {
        const auto opened = cipher->open(stored, "tickets.summary");
        // Only a clear (unprefixed) value comes back unchanged; random bytes never pass the tag check.
        if (opened && DataCipher::isSealed(stored))
            vaani::fuzz::fail("a value that was never sealed opened");
        (void)cipher->read(stored, "tickets.summary");
        (void)cipher->needsReseal(stored);
    }
    const QString sealed = cipher->seal(text, "transcript_entries.text");
    if (!text.isEmpty() && !DataCipher::isSealed(text)) {
        const auto back = cipher->open(sealed, "transcript_entries.text");
        VAANI_FUZZ_CHECK(back && *back == text);
        VAANI_FUZZ_CHECK(!cipher->open(sealed, "tickets.summary"));
    }
    QString error;
    (void)DataCipher::fromText(bytes, &error);
    (void)cipher->phoneHashes(text);
    return 0;
}
