// vaani-fake-realtime: the test suite's fake OpenAI Realtime API as a program, so a developer can hear a
// whole call locally (server + softphone) without an OpenAI key. It greets, then answers the first caller
// turn by looking up order ABC123 through the server's tool, then answers anything else briefly.
#include "echorealtime.h"
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
    fake.greetingAudioMs = 2500;
    fake.turns = {vaani::test::FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                        u"{\"order_id\":\"ABC123\"}"_s, u"Aapka order: {output}"_s, 3000}};
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
