// vaani-fake-realtime: the test suite's fake OpenAI Realtime API as a program, so a developer can hear a
// whole call locally (server + softphone) without an OpenAI key. It speaks with espeak-ng's Hindi voice: the
// greeting; after the caller's first turn it looks up order ABC123 through the server's tool and reads out
// what the tool returned; after the next turn it says goodbye and ends the call (end_call in the same
// response, after the goodbye).
#include "echorealtime.h"
#include "espeakvoice.h"
#include "fakerealtime.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser p;
    p.setApplicationDescription(u"Fake OpenAI Realtime API (GA protocol) for local calls and tests."_s);
    p.addHelpOption();
    p.addOption({u"port"_s, u"Port to listen on (0 = any)."_s, u"port"_s, u"8765"_s});
    p.addOption({u"key"_s, u"API key clients must present."_s, u"key"_s, u"sk-test-key"_s});
    p.addOption({u"echo"_s, u"Echo mode: answer every input_audio_buffer.append with the same audio."_s});
    p.addOption({u"voice"_s, u"espeak (speech, the default when espeak-ng is installed) or tone (a beep)."_s,
                 u"voice"_s, u"espeak"_s});
    p.process(app);
    if (p.isSet(u"echo"_s)) {
        vaani::test::EchoRealtimeServer echo;
        if (!echo.listenOn(quint16(p.value(u"port"_s).toUInt()))) {
            std::fprintf(stderr, "vaani-fake-realtime: cannot listen on port %s\n",
                         qPrintable(p.value(u"port"_s)));
            return 1;
        }
        std::printf("fake Realtime API (echo mode, any key) on %s\n", qPrintable(echo.url().toString()));
        std::fflush(stdout);
        return app.exec();
    }
    vaani::test::FakeRealtimeServer fake;
    fake.expectedKey = p.value(u"key"_s);
    fake.useDemoScript();
    vaani::EspeakVoice voice;
    const bool speak = p.value(u"voice"_s) != u"tone"_s;
    if (speak && !vaani::EspeakVoice::available()) {
        std::fprintf(stderr, "vaani-fake-realtime: espeak-ng is not installed; the agent beeps instead of "
                             "speaking (scripts/vaani setup installs it)\n");
    } else if (speak) {
        fake.speakWith(&voice);
    }
    if (!fake.listenOn(quint16(p.value(u"port"_s).toUInt()))) {
        std::fprintf(stderr, "vaani-fake-realtime: cannot listen on port %s\n",
                     qPrintable(p.value(u"port"_s)));
        return 1;
    }
    std::printf("fake Realtime API on %s (key %s)\n", qPrintable(fake.url().toString()),
                qPrintable(fake.expectedKey));
    std::fflush(stdout);
    return app.exec();
}
