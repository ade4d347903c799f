#pragma once
// Shared by the fuzz targets: one QCoreApplication for the process (timers and QObjects want one) and a
// check that aborts with a message, so libFuzzer records the input.

#include <QCoreApplication>
#include <QStringDecoder>

#include <cstdio>
#include <cstdlib>

namespace vaani::fuzz {

inline void initApp()
{
    static int argc = 1;
    static char name[] = "fuzz";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv);
    qputenv("QT_LOGGING_RULES", "*.debug=false;*.warning=false");
}

inline bool isUtf8(QByteArrayView text)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder(text);
    return !decoder.hasError();
}

[[noreturn]] inline void fail(const char *what)
{
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

#define VAANI_FUZZ_CHECK(cond)                                                                               \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            ::vaani::fuzz::fail(#cond);                                                                      \
    } while (false)

// The Twilio media message built from accepted audio parses back as exactly one object with only the
// expected keys and the same payload: nothing can break out of the string.
inline void checkBuiltMedia(const QByteArray &payload);

} // namespace vaani::fuzz

#include "twiliomessages.h"

#include <QJsonDocument>
#include <QJsonObject>

inline void vaani::fuzz::checkBuiltMedia(const QByteArray &payload)
{
    using namespace Qt::StringLiterals;
    QByteArray media;
    VAANI_FUZZ_CHECK(twilio::appendMediaMessage(media, "MZ0123456789abcdef", payload));
    const QJsonObject m = QJsonDocument::fromJson(media).object();
    VAANI_FUZZ_CHECK(m.keys() == (QStringList{u"event"_s, u"media"_s, u"streamSid"_s}));
    VAANI_FUZZ_CHECK(m.value(u"media"_s).toObject().keys() == QStringList{u"payload"_s});
    VAANI_FUZZ_CHECK(m.value(u"media"_s).toObject().value(u"payload"_s).toString().toLatin1() == payload);
}
