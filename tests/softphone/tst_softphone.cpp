// Issue #7: the softphone. Units (resampler, scripts, the window) and the end-to-end test: vaani-softphone
// headless → vaani-server → fake Realtime, with an espeak-ng Hinglish caller who barges in during the
// greeting.
#include "callscript.h"
#include "espeakvoice.h"
#include "mulaw.h"
#include "resampler.h"
#include "serverharness.h"
#include "softphonewindow.h"
#include "testenv.h"

#include <QApplication>
#include <QCheckBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>
#include <QtMath>

using namespace vaani;
using namespace vaani::softphone;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
double rms(const QList<std::int16_t> &s, qsizetype from, qsizetype to)
{
    from = std::clamp<qsizetype>(from, 0, s.size());
    to = std::clamp<qsizetype>(to, from, s.size());
    if (to == from)
        return 0;
    double sum = 0;
    for (qsizetype i = from; i < to; ++i)
        sum += double(s[i]) * s[i];
    return std::sqrt(sum / double(to - from));
}
} // namespace

class TestSoftphone : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void resamplerKeepsPitchAndLength_data()
    {
        QTest::addColumn<int>("rate");
        QTest::newRow("44.1k") << 44100;
        QTest::newRow("48k") << 48000;
        QTest::newRow("16k") << 16000;
        QTest::newRow("8k") << 8000;
    }
    void resamplerKeepsPitchAndLength()
    {
        QFETCH(int, rate);
        // One second of 440 Hz at `rate`, converted in uneven chunks, keeps its length and frequency.
        QList<std::int16_t> in(rate);
        for (int i = 0; i < rate; ++i)
            in[i] = std::int16_t(8000 * std::sin(2 * M_PI * 440.0 * i / rate));
        Resampler r(rate, 8000);
        QVERIFY(r.isValid());
        QList<std::int16_t> out;
        for (qsizetype pos = 0; pos < in.size();) {
            const qsizetype n = std::min<qsizetype>(in.size() - pos, 333 + pos % 97);
            out += r.process(in.constData() + pos, n);
            pos += n;
        }
        QVERIFY2(std::abs(out.size() - 8000) < 100, qPrintable(QString::number(out.size())));
        int crossings = 0;
        for (qsizetype i = 200; i < out.size(); ++i)
            crossings += (out[i - 1] < 0) != (out[i] < 0);
        const double hz = crossings / 2.0 / (double(out.size() - 200) / 8000.0);
        QVERIFY2(std::abs(hz - 440) < 10, qPrintable(QString::number(hz)));
    }

    void scriptParsing()
    {
        QString error;
        const auto steps =
            CallScript::parse(u"# caller\nwait 1.5s\nwait 800ms\nplay a.wav\nsay Mera order kahan hai?\n"
                              "dtmf 12#\nwait-for-agent 5s\nwait-agent-quiet\nhangup\nwait-for-hangup 9s\n"_s,
                              &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(steps.size(), 9);
        QCOMPARE(steps.at(8).kind, ScriptStep::Kind::WaitForHangup);
        QCOMPARE(steps.at(8).ms, 9000);
        QCOMPARE(steps.at(0).ms, 1500);
        QCOMPARE(steps.at(1).ms, 800);
        QCOMPARE(steps.at(3).argument, u"Mera order kahan hai?"_s);
        QCOMPARE(steps.at(5).ms, 5000);
        QCOMPARE(steps.at(6).ms, 15000);
        CallScript::parse(u"wait soon"_s, &error);
        QVERIFY(error.contains(u"line 1"_s));
        CallScript::parse(u"ok\ndtmf abc"_s, &error);
        QVERIFY(error.contains(u"line 1"_s));
        CallScript::parse(u"dtmf abc"_s, &error);
        QVERIFY(error.contains(u"dtmf abc"_s));
        // `rate`: words per minute for the `say`s after it, within what espeak-ng speaks.
        error.clear();
        const auto rate = CallScript::parse(u"rate 200\nsay haan ji\n"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(rate.first().kind, ScriptStep::Kind::Rate);
        QCOMPARE(rate.first().ms, 200);
        for (const QString &bad : {u"rate 5"_s, u"rate 1000"_s, u"rate fast"_s, u"rate"_s}) {
            error.clear();
            CallScript::parse(bad, &error);
            QVERIFY2(error.contains(u"line 1"_s), qPrintable(bad));
        }
    }

    void windowCallsTheServer()
    {
        ServerHarness h;
        h.fake.greetingAudioMs = 400;
        QVERIFY(h.start());
        SoftphoneCall::Settings s;
        s.serverUrl = QUrl(h.baseUrl());
        s.authToken = h.options.settings.twilioAuthToken;
        s.accountSid = QString::fromLatin1(ServerHarness::kAccountSid);
        SoftphoneWindow w(s);
        w.show();
        auto *call = w.findChild<QPushButton *>(u"callButton"_s);
        auto *hangup = w.findChild<QPushButton *>(u"hangupButton"_s);
        auto *log = w.findChild<QPlainTextEdit *>(u"protocolLog"_s);
        QVERIFY(call && hangup && log);
        QVERIFY(call->isEnabled());
        QVERIFY(!hangup->isEnabled());
        QTest::mouseClick(call, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(w.call() && w.call()->state() == SoftphoneCall::State::InCall, 5000);
        QVERIFY(hangup->isEnabled());
        QVERIFY(w.findChild<QPushButton *>(u"key_5"_s)->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(u"first agent audio"_s), 5000);
        QTest::mouseClick(w.findChild<QPushButton *>(u"key_hash"_s), Qt::LeftButton);
        QTRY_VERIFY(log->toPlainText().contains(u"dtmf"_s));
        QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains(u"mark"_s), 5000);
        QTest::mouseClick(hangup, Qt::LeftButton);
        QTRY_VERIFY(log->toPlainText().contains(u"stop"_s));
        QTRY_VERIFY(call->isEnabled());
        QTRY_COMPARE(h.repos().calls.findBySid(h.repos().calls.list({}).value.first().callSid).value.outcome,
                     u"dropped"_s);
        // A bad URL is refused with a message, not a crash.
        w.findChild<QLineEdit *>(u"serverUrl"_s)->setText(u"not a url"_s);
        QTest::mouseClick(call, Qt::LeftButton);
        QVERIFY(w.findChild<QLabel *>(u"statusLabel"_s)->text().contains(u"http://"_s));
    }

    void fakeModelSpeaksItsLines()
    {
        // vaani-fake-realtime's voice: the agent's audio is espeak-ng reading the transcript (not a tone),
        // byte for byte what reaches Twilio, and the stored transcript is the words said — including the
        // order status read from the tool's output.
        if (!EspeakVoice::available())
            QFAIL("espeak-ng is required (scripts/vaani installs it)");
        ServerHarness h;
        EspeakVoice voice;
        h.fake.speakWith(&voice);
        h.fake.sayOutput = &FakeRealtimeServer::hinglishToolAnswer;
        h.fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                 u"{\"order_id\":\"ABC123\"}"_s, u"{output}"_s, 1000}};
        QVERIFY(h.start());
        QByteArray greeting;
        QString error;
        voice.say(h.fake.greetingTranscript, [&](const QList<std::int16_t> &a, const QString &e) {
            greeting = mulaw::encode(a);
            error = e;
        });
        QTRY_VERIFY_WITH_TIMEOUT(!greeting.isEmpty() || !error.isEmpty(), 10000);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(greeting.size() > 8 * 2000); // a sentence takes seconds to say

        auto sim = h.newCall();
        sim->keepAgentAudio = 4 * 1024 * 1024;
        QSignalSpy answered(sim.get(), &TwilioSimulator::webhookAnswered);
        sim->placeCall();
        QVERIFY(answered.wait(5000));
        QSignalSpy connected(sim.get(), &TwilioSimulator::streamConnected);
        sim->openStream();
        QVERIFY(connected.wait(5000));
        QTRY_VERIFY2_WITH_TIMEOUT(sim->agentAudioKept.size() >= greeting.size(),
                                  qPrintable(QString::number(sim->agentAudioKept.size()) + u" of "_s +
                                             QString::number(greeting.size())),
                                  15000);
        QCOMPARE(sim->agentAudioKept.left(greeting.size()), greeting);
        // Speech, not a tone: the sound's level changes from word to word.
        QList<int> levels;
        const QList<std::int16_t> pcm = mulaw::decode(greeting);
        for (qsizetype i = 0; i + 160 <= pcm.size(); i += 160) {
            int peak = 0;
            for (qsizetype j = i; j < i + 160; ++j)
                peak = std::max(peak, std::abs(int(pcm[j])));
            levels << peak;
        }
        QVERIFY(std::count_if(levels.cbegin(), levels.cend(), [](int l) { return l < 300; }) > 5); // pauses
        QVERIFY(*std::max_element(levels.cbegin(), levels.cend()) > 4000);

        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800));
        const auto call = [&] { return h.repos().calls.findBySid(sim->callSid).value; };
        QTRY_VERIFY_WITH_TIMEOUT(h.repos().calls.transcript(call().id).value.size() >= 3, 20000);
        const auto transcript = h.repos().calls.transcript(call().id).value;
        QCOMPARE(transcript.at(0).text, h.fake.greetingTranscript);
        const auto order = h.repos().orders.findByCode(u"ABC123"_s).value;
        QVERIFY2(transcript.at(2).text.startsWith(u"Aapka order A B C 1 2 3, "_s + order.items),
                 qPrintable(transcript.at(2).text));
        QVERIFY(!transcript.at(2).text.contains(u'{'));
        QByteArray answer;
        voice.say(transcript.at(2).text,
                  [&](const QList<std::int16_t> &a, const QString &) { answer = mulaw::encode(a); });
        QTRY_VERIFY_WITH_TIMEOUT(!answer.isEmpty(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentAudioKept.size() >= greeting.size() + answer.size(), 20000);
        QVERIFY(sim->agentAudioKept.mid(greeting.size()).contains(answer.left(8 * 500)));
        sim->hangUp();
    }

    void readmeNoKeyCall()
    {
        // The README's walkthrough: vaani-fake-realtime's script and voice, the headless softphone with
        // resources/softphone/demo-call.txt. The agent greets, reads out ABC123's status, says goodbye and
        // the server ends the call; the record holds the five turns and both tool calls.
        if (!EspeakVoice::available())
            QFAIL("espeak-ng is required (scripts/vaani installs it)");
        ServerHarness h;
        EspeakVoice voice;
        h.fake.useDemoScript();
        h.fake.speakWith(&voice);
        QVERIFY(h.start());
        QProcess phone;
        phone.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-softphone"_s);
        phone.setArguments({u"--server-url"_s, h.baseUrl(), u"--twilio-auth-token"_s,
                            h.options.settings.twilioAuthToken, u"--twilio-account-sid"_s,
                            QString::fromLatin1(ServerHarness::kAccountSid), u"--script"_s,
                            QStringLiteral(VAANI_SOURCE_DIR "/resources/softphone/demo-call.txt")});
        phone.setProcessChannelMode(QProcess::MergedChannels);
        phone.start();
        QVERIFY(phone.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(phone.state() == QProcess::NotRunning, 90000);
        const QString out = QString::fromUtf8(phone.readAll());
        QStringList log; // the protocol log without the per-100 ms marks and media
        for (const QString &l : out.split(u'\n'))
            if (!l.contains(u" mark "_s))
                log << l;
        QVERIFY2(phone.exitCode() == 0, qPrintable(log.join(u'\n')));
        QVERIFY2(out.contains(u"stream ended by the server (1000, agent ended the call)"_s),
                 qPrintable(log.join(u'\n')));
        const auto calls = h.repos().calls.list({}).value;
        const auto mine = std::find_if(calls.cbegin(), calls.cend(),
                                       [](const db::CallRecord &c) { return c.serverInstance != u"demo"_s; });
        QVERIFY(mine != calls.cend());
        QTRY_COMPARE(h.repos().calls.findBySid(mine->callSid).value.outcome, u"resolved"_s);
        const auto transcript = h.repos().calls.transcript(mine->id).value;
        QStringList said;
        for (const auto &t : transcript)
            said << t.speaker + u": "_s + t.text;
        // (espeak-ng pauses at the comma of "Nahi, bas itna hi": the fake's energy VAD may hear two caller
        // turns there, and the goodbye it was starting is said again after the second.)
        QVERIFY2(transcript.size() >= 5, qPrintable(said.join(u'\n')));
        QCOMPARE(transcript.at(0).text, h.fake.greetingTranscript);
        QCOMPARE(transcript.at(1).text, u"Mera order ABC123 kahan hai?"_s);
        QVERIFY(transcript.at(2).text.startsWith(u"Aapka order A B C 1 2 3"_s));
        for (qsizetype i = 3; i + 1 < transcript.size(); ++i)
            QCOMPARE(transcript.at(i).speaker, u"caller"_s);
        QCOMPARE(transcript.last().speaker, u"agent"_s);
        QVERIFY(transcript.last().text.startsWith(u"Dhanyavaad"_s));
        QStringList tools;
        for (const auto &t : h.repos().calls.tools(mine->id).value)
            tools << t.tool;
        QCOMPARE(tools, (QStringList{u"lookup_order"_s, u"end_call"_s}));
    }

    void headlessBargeInEndToEnd()
    {
        if (QStandardPaths::findExecutable(u"espeak-ng"_s).isEmpty())
            QFAIL("espeak-ng is required (scripts/vaani installs it)");
        ServerHarness h;
        h.fake.greetingAudioMs = 5000; // a long greeting the caller interrupts
        h.fake.deltaMs = 100;
        h.fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                 u"{\"order_id\":\"ABC123\"}"_s, u"Aapka order ABC123: {output}"_s, 1500}};
        QVERIFY(h.start());
        const QString dir = tempDir(u"softphone"_s);
        QFile script(dir + u"/caller.txt"_s);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("# A Hinglish caller who interrupts the greeting\n"
                     "wait-for-agent 5s\n"
                     "wait 1200ms\n"
                     "say Mera order ABC123 kahan hai?\n"
                     "wait-agent-quiet 15s\n"
                     "hangup\n");
        script.close();
        QProcess phone;
        phone.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-softphone"_s);
        phone.setArguments({u"--server-url"_s, h.baseUrl(), u"--twilio-auth-token"_s,
                            h.options.settings.twilioAuthToken, u"--twilio-account-sid"_s,
                            QString::fromLatin1(ServerHarness::kAccountSid), u"--script"_s, script.fileName(),
                            u"--record"_s, dir + u"/call.wav"_s, u"--events"_s, dir + u"/events.jsonl"_s});
        QSignalSpy finished(&phone, &QProcess::finished);
        phone.start();
        QVERIFY(finished.wait(40000));
        const QByteArray out = phone.readAllStandardOutput() + phone.readAllStandardError();
        QVERIFY2(phone.exitCode() == 0, out.constData());

        // Events: the stream started, the agent spoke, the caller's speech produced a clear.
        QFile ev(dir + u"/events.jsonl"_s);
        QVERIFY(ev.open(QIODevice::ReadOnly));
        qint64 clearMs = -1;
        for (const QByteArray &line : ev.readAll().split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(u"event"_s).toString() == u"clear"_s && clearMs < 0)
                clearMs = o.value(u"t_ms"_s).toInteger();
        }
        QVERIFY2(clearMs > 0, out.constData());

        // The recording: greeting on the right, the caller on the left, the greeting cut within 100 ms of the
        // clear, then the agent's answer.
        QString error;
        const Wav wav = Wav::load(dir + u"/call.wav"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(wav.channels, 2);
        QCOMPARE(wav.sampleRate, 8000);
        const auto caller = wav.channelPcm16(0);
        const auto agent = wav.channelPcm16(1);
        const qsizetype clearAt = clearMs * 8;
        QVERIFY2(rms(agent, clearAt - 4000, clearAt - 800) > 1000,
                 "the greeting was playing before the barge-in");
        QVERIFY2(rms(caller, clearAt - 4000, clearAt + 800) > 500, "the caller was speaking");
        QVERIFY2(rms(agent, clearAt + 800, clearAt + 2400) < 50,
                 "the greeting stopped within 100 ms of clear");
        double answer = 0;
        for (qsizetype at = clearAt + 2400; at < agent.size(); at += 800)
            answer = std::max(answer, rms(agent, at, at + 800));
        QVERIFY2(answer > 1000, "the agent answered after the caller's turn");

        // The server side agrees: the caller's words, the tool, the barge-in truncation.
        QTRY_VERIFY(!h.repos().calls.list({}).value.isEmpty());
        const auto call = h.repos().calls.list({}).value.first();
        QTRY_VERIFY(h.repos().calls.get(call.id).value.endedAt.isValid());
        const auto transcript = h.repos().calls.transcript(call.id).value;
        QVERIFY(std::any_of(transcript.begin(), transcript.end(), [](const auto &t) {
            return t.speaker == u"caller"_s && t.text.contains(u"ABC123"_s);
        }));
        QCOMPARE(h.repos().calls.tools(call.id).value.size(), 1);
        QCOMPARE(h.fake.receivedOfType(u"conversation.item.truncate"_s).size(), 1);
    }

    // wait-for-agent counts agent audio that arrived since the previous wait, even when it has finished
    // playing before the step is reached (a greeting that starts at once), and waits for one that comes late.
    void waitForAgentCountsAudioThatAlreadyPlayed_data()
    {
        QTest::addColumn<int>("firstAudioDelayMs");
        QTest::addColumn<QByteArray>("script");
        QTest::newRow("greeting at once, over before the wait")
            << 0 << QByteArray("wait 2500ms\nwait-for-agent 2s\nhangup\n");
        QTest::newRow("greeting at once, waited for at once")
            << 0 << QByteArray("wait-for-agent 3s\nhangup\n");
        QTest::newRow("greeting late")
            << 1500 << QByteArray("wait-for-agent 6s\nwait-agent-quiet 6s\nhangup\n");
    }
    void waitForAgentCountsAudioThatAlreadyPlayed()
    {
        QFETCH(int, firstAudioDelayMs);
        QFETCH(QByteArray, script);
        ServerHarness h;
        h.fake.greetingAudioMs = 600;
        h.fake.firstAudioDelayMs = firstAudioDelayMs;
        QVERIFY(h.start());
        const QString dir = tempDir(u"softphone-wait"_s);
        QFile file(dir + u"/caller.txt"_s);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(script);
        file.close();
        QProcess phone;
        phone.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-softphone"_s);
        phone.setArguments({u"--server-url"_s, h.baseUrl(), u"--twilio-auth-token"_s,
                            h.options.settings.twilioAuthToken, u"--twilio-account-sid"_s,
                            QString::fromLatin1(ServerHarness::kAccountSid), u"--script"_s, file.fileName()});
        QSignalSpy finished(&phone, &QProcess::finished);
        phone.start();
        QVERIFY(finished.wait(30000));
        const QByteArray out = phone.readAllStandardOutput() + phone.readAllStandardError();
        QVERIFY2(phone.exitCode() == 0, out.constData());
    }

    void headlessFailsWhenTheServerIsDown()
    {
        QProcess phone;
        phone.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-softphone"_s);
        phone.setArguments({u"--server-url"_s, u"http://127.0.0.1:1"_s, u"--headless"_s});
        phone.start();
        QVERIFY(phone.waitForFinished(20000));
        QCOMPARE(phone.exitCode(), 1);
        QVERIFY(phone.readAllStandardError().contains("cannot reach the server"));
    }
};

QTEST_MAIN(TestSoftphone)
#include "tst_softphone.moc"
