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

} // namespace vaani::fuzz
