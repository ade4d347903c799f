// Issue #18, recording with consent: the file format (plain and sealed, cut short, tampered with), the mixer
// that lines the agent up with what the caller heard, the store's thread (private files, a full queue drops
// and counts, retention), and calls end to end: a recorded call that lines up with its transcript, a
// barge-in that silences the agent channel, a caller who declines, a sealed recording, an erasure.
#include "db/datacipher.h"
#include "edge/metrics.h"
#include "mulaw.h"
#include "recordingfile.h"
#include "recordingmixer.h"
#include "recordingstore.h"
#include "serverharness.h"
#include "testenv.h"
#include "wav.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QTest>

#include <sys/stat.h>

#include <cmath>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
QByteArray stereo(qsizetype frames, char left, char right)
{
    QByteArray b(frames * 2, '\0');
    for (qsizetype i = 0; i < frames; ++i) {
        b[2 * i] = left;
        b[2 * i + 1] = right;
    }
    return b;
}

int modeOf(const QString &path)
{
    struct stat st
    {};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? int(st.st_mode & 0777) : -1;
}

// Mean |sample| of a channel over [fromMs, toMs).
double level(const Wav &w, int channel, qint64 fromMs, qint64 toMs)
{
    const QList<std::int16_t> pcm = w.channelPcm16(channel);
    const qsizetype a = std::clamp<qsizetype>(fromMs * 8, 0, pcm.size());
    const qsizetype b = std::clamp<qsizetype>(toMs * 8, 0, pcm.size());
    if (b <= a)
        return 0;
    double sum = 0;
    for (qsizetype i = a; i < b; ++i)
        sum += std::abs(double(pcm.at(i)));
    return sum / double(b - a);
}
} // namespace

class TestRecording : public QObject
{
    Q_OBJECT
    std::unique_ptr<ServerHarness> h;

    QString dir(const QString &name) const { return tempDir(u"tst_recording-"_s + name); }

    std::shared_ptr<const db::DataCipher> cipher(const QString &id = u"k1"_s)
    {
        QString error;
        auto c = db::DataCipher::fromText(db::DataCipher::generateKeyLine(id).toUtf8(), &error);
        return c;
    }

    bool startRecordingServer(const QString &recordings, const QString &keyFile = {})
    {
        return h->start([&](ServerOptions &o) {
            o.recordCalls = true;
            o.recordingsDir = recordings;
            o.dataKeyFile = keyFile;
        });
    }

    db::CallRecord recordOf(const QString &callSid) { return h->repos().calls.findBySid(callSid).value; }

private Q_SLOTS:
    void init() { h = std::make_unique<ServerHarness>(); }
    void cleanup() { h.reset(); }

    void plainFileRoundTripsAndReadsWhenCutShort()
    {
        RecordingEncoder enc(nullptr);
        QVERIFY(!enc.sealed());
        const QByteArray audio = stereo(8000, char(0x10), char(0x90));
        QByteArray file = enc.begin() + enc.push(audio) + enc.finish();
        QString error;
        // Until the end is written the sizes are the streaming placeholder: readable, reported incomplete.
        auto live = openRecording(file, db::DataCipher::clearMode(), &error);
        QVERIFY2(live, qPrintable(error));
        QVERIFY(!live->complete);
        QCOMPARE(Wav::fromBytes(live->wav, &error).data, audio);
        file.replace(0, 44, RecordingEncoder::wavHeader(quint32(audio.size())));
        auto done = openRecording(file, db::DataCipher::clearMode(), &error);
        QVERIFY(done && done->complete && !done->wasSealed);
        const Wav w = Wav::fromBytes(done->wav, &error);
        QCOMPARE(w.channels, 2);
        QCOMPARE(w.sampleRate, 8000);
        QCOMPARE(w.format, Wav::Format::MuLaw);
        QCOMPARE(w.durationSeconds(), 1.0);
        QVERIFY(!openRecording("not a recording at all", db::DataCipher::clearMode(), &error));
        QVERIFY(!error.isEmpty());
    }

    void sealedFileOpensOnlyWithItsKeyAndUntouched()
    {
        const auto key = cipher();
        RecordingEncoder enc(key.get());
        QVERIFY(enc.sealed());
        const QByteArray a = stereo(8000, char(0x11), char(0x22));
        const QByteArray b = stereo(4000, char(0x33), char(0x44));
        const QByteArray head = enc.begin();
        const QByteArray blockA = enc.push(a);
        const QByteArray blockB = enc.push(b);
        const QByteArray file = head + blockA + blockB + enc.finish();
        QVERIFY(RecordingEncoder::isSealed(file));
        QVERIFY(!file.contains(a.left(64))); // no audio in clear
        QString error;
        auto opened = openRecording(file, *key, &error);
        QVERIFY2(opened, qPrintable(error));
        QVERIFY(opened->complete && opened->wasSealed);
        QCOMPARE(Wav::fromBytes(opened->wav, &error).data, a + b);
        // A crash mid-block: every whole block before it is there, reported incomplete.
        auto cut = openRecording(head + blockA + blockB.left(100), *key, &error);
        QVERIFY2(cut, qPrintable(error));
        QVERIFY(!cut->complete);
        QCOMPARE(Wav::fromBytes(cut->wav, &error).data, a);
        // One flipped bit, another key, a relabelled key id: refused with a reason.
        QByteArray tampered = file;
        tampered[head.size() + 50] = char(tampered.at(head.size() + 50) ^ 1);
        QVERIFY(!openRecording(tampered, *key, &error));
        QVERIFY2(error.contains(u"tampered"_s), qPrintable(error));
        QVERIFY(!openRecording(file, *cipher(), &error));
        QVERIFY(!openRecording(file, db::DataCipher::clearMode(), &error));
        QVERIFY2(error.contains(u"k1"_s) && error.contains(u"not loaded"_s), qPrintable(error));
        // Sealing needs the stream's header first: before begin() nothing comes out (and nothing crashes).
        RecordingEncoder early(key.get());
        QVERIFY(early.push(a).isEmpty());
        QVERIFY(early.finish().isEmpty());
        QByteArray lengthBomb = head;
        lengthBomb += QByteArray("\xff\xff\xff\xff", 4);
        QVERIFY(!openRecording(lengthBomb, *key, &error));
    }

    // The caller's frames are the clock; agent audio plays out behind them, and a clear silences it.
    void mixerPutsTheAgentWhereTheCallerHeardIt()
    {
        RecordingMixer m;
        m.agent(QByteArray(400, char(0x20)));
        QVERIFY(!m.caller(QByteArray(160, char(0x10))));
        QVERIFY(!m.caller(QByteArray(160, char(0x10))));
        QVERIFY(!m.caller(QByteArray(160, char(0x10))));
        QCOMPARE(m.samples(), 480);
        const QByteArray block = m.takeBlock();
        QCOMPARE(block.size(), 960);
        QCOMPARE(block.at(0), char(0x10));
        QCOMPARE(block.at(1), char(0x20));
        QCOMPARE(block.at(2 * 399 + 1), char(0x20));
        QCOMPARE(block.at(2 * 400 + 1), char(0xFF)); // the agent had finished: silence
        // A barge-in: what was queued is never heard.
        m.agent(QByteArray(1000, char(0x30)));
        m.caller(QByteArray(160, char(0x10)));
        m.clear();
        QCOMPARE(m.agentQueued(), 0);
        m.caller(QByteArray(160, char(0x10)));
        const QByteArray after = m.takeBlock();
        QCOMPARE(after.at(2 * 159 + 1), char(0x30));
        QCOMPARE(after.at(2 * 160 + 1), char(0xFF));
        // A full second makes a block; the agent's queue is bounded.
        for (int i = 0; i < 49; ++i)
            QVERIFY(!m.caller(QByteArray(160, char(0x10))));
        QVERIFY(m.caller(QByteArray(160, char(0x10))));
        QCOMPARE(m.takeBlock().size(), 2 * 8000);
        m.agent(QByteArray(RecordingMixer::kMaxQueuedAgent + 500, char(0x40)));
        QCOMPARE(m.agentQueued(), RecordingMixer::kMaxQueuedAgent);
    }

    void storeWritesPrivateFilesAndNeverWaitsForTheDisk()
    {
        const QString root = dir(u"store"_s) + u"/recordings"_s;
        Metrics metrics;
        QString relative;
        {
            RecordingStore store({root, nullptr, 32LL * 1024 * 1024}, &metrics, nullptr);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto handle = store.begin(u"CA../../etc/passwd"_s, u"w1"_s, &relative);
            QVERIFY2(!relative.contains(u".."_s) && relative.endsWith(u"CAetcpasswd.wav"_s),
                     qPrintable(relative));
            store.append(handle, stereo(8000, char(0x10), char(0x20)));
            store.append(handle, stereo(4000, char(0x10), char(0xFF)));
            store.end(handle, true, 1500);
            // Declined: the file goes.
            QString declinedPath;
            const auto declined = store.begin(u"CAdeclined"_s, u"w2"_s, &declinedPath);
            store.append(declined, stereo(8000, char(0x10), char(0x20)));
            store.end(declined, false, 1000);
            store.flush();
            QVERIFY(!QFile::exists(root + u'/' + declinedPath));
            QCOMPARE(metrics.recordingsDeclined.load(), 1u);
        }
        const QString path = root + u'/' + relative;
        QCOMPARE(modeOf(path), 0600);
        QCOMPARE(modeOf(QFileInfo(path).absolutePath()), 0700);
        QCOMPARE(modeOf(root), 0700);
        QString error;
        const Wav w = Wav::load(path, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(w.durationSeconds(), 1.5);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(openRecording(f.readAll(), db::DataCipher::clearMode(), &error)->complete); // sizes patched
        QCOMPARE(metrics.recordingsCompleted.load(), 1u);

        // A queue already holding its cap: the block is dropped and counted at once, nothing waits.
        Metrics m2;
        RecordingStore tiny({root, nullptr, 1000}, &m2, nullptr);
        QVERIFY(tiny.open(&error));
        QString p2;
        const auto h2 = tiny.begin(u"CAtiny"_s, u"w3"_s, &p2);
        tiny.append(h2, stereo(8000, char(0x10), char(0x20)));
        QCOMPARE(m2.recordingBlocksDropped.load(), 1u);
        tiny.end(h2, true, 0);
        tiny.flush();

        // Retention: date folders before the cutoff go; today's stay.
        QVERIFY(QDir().mkpath(root + u"/2020-01-01"_s));
        QFile old(root + u"/2020-01-01/CAold.wav"_s);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("RIFF");
        old.close();
        int deleted = -1;
        tiny.removeOlderThan(QDate(2021, 1, 1), [&deleted](int n) { deleted = n; });
        tiny.flush();
        QCOMPARE(deleted, 1);
        QVERIFY(!QFileInfo::exists(root + u"/2020-01-01"_s));
        QVERIFY(QFile::exists(path));
    }

    // A recorded call end to end: the consent notice in the greeting, the decline tool offered, a stereo
    // file linked from the record whose channels line up with the transcript, and a barge-in that silences
    // the agent channel.
    void aRecordedCallLinesUpWithItsTranscript()
    {
        h->fake.greetingAudioMs = 4000;
        h->fake.deltaMs = 100;
        h->fake.turns = {FakeTurn{u"Mera order kahan hai?"_s, {}, {}, u"Ji, main dekhti hoon."_s, 600}};
        const QString root = dir(u"call"_s);
        QVERIFY(startRecordingServer(root));
        auto sim = h->connectCall();
        QVERIFY(sim);
        // The greeting asks for consent; the tool to decline is offered.
        QTRY_VERIFY(!h->fake.receivedOfType(u"response.create"_s).isEmpty());
        const QString greeting = h->fake.receivedOfType(u"response.create"_s)
                                     .first()
                                     .value(u"response"_s)
                                     .toObject()
                                     .value(u"instructions"_s)
                                     .toString();
        QVERIFY2(greeting.contains(db::AgentPrompt::defaultRecordingNotice()), qPrintable(greeting));
        const QJsonArray tools = h->fake.receivedOfType(u"session.update"_s)
                                     .first()
                                     .value(u"session"_s)
                                     .toObject()
                                     .value(u"tools"_s)
                                     .toArray();
        QVERIFY(std::any_of(tools.begin(), tools.end(), [](const QJsonValue &t) {
            return t.toObject().value(u"name"_s) == u"decline_recording"_s;
        }));
        // Two seconds of greeting heard, then the caller talks over it for long enough to stop it.
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 2000, 5000);
        const qint64 speechAtMs = sim->framesSent * 20;
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(1200));
        QTRY_VERIFY_WITH_TIMEOUT(sim->clears == 1, 4000);
        const qint64 clearedAtMs = sim->framesSent * 20;
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 4600, 8000); // the answer came
        QTest::qWait(1500);
        sim->hangUp();
        QTRY_COMPARE_WITH_TIMEOUT(recordOf(sim->callSid).recordingStatus, u"complete"_s, 5000);
        const db::CallRecord rec = recordOf(sim->callSid);
        QVERIFY(rec.recordingFile.endsWith(sim->callSid + u".wav"_s));
        const QString path = root + u'/' + rec.recordingFile;
        QCOMPARE(modeOf(path), 0600);
        QString error;
        const Wav w = Wav::load(path, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(w.channels, 2);
        QCOMPARE(w.sampleRate, 8000);
        // As long as the call's stream: every caller frame is in it.
        QVERIFY2(std::abs(w.durationSeconds() * 1000 - double(sim->framesSent * 20)) <= 100,
                 qPrintable(u"%1 s for %2 frames"_s.arg(w.durationSeconds()).arg(sim->framesSent)));
        QVERIFY(rec.recordingMs && std::abs(*rec.recordingMs - int(w.durationSeconds() * 1000)) <= 1);
        // Left: the caller — quiet, then their speech where it was sent. Right: the greeting as it played,
        // silent from the barge-in's clear until the answer.
        QVERIFY2(level(w, 0, 200, 1500) < 200, qPrintable(QString::number(level(w, 0, 200, 1500))));
        QVERIFY2(level(w, 0, speechAtMs + 100, speechAtMs + 900) > 2000,
                 qPrintable(QString::number(level(w, 0, speechAtMs + 100, speechAtMs + 900))));
        QVERIFY2(level(w, 1, 200, 1800) > 1000, qPrintable(QString::number(level(w, 1, 200, 1800))));
        QVERIFY2(level(w, 1, clearedAtMs + 100, clearedAtMs + 400) < 50,
                 qPrintable(QString::number(level(w, 1, clearedAtMs + 100, clearedAtMs + 400))));
        // Transcript lines start where they are heard in the recording.
        const auto lines = h->repos().calls.transcript(rec.id).value;
        const auto caller = std::find_if(lines.begin(), lines.end(), [](const db::TranscriptEntry &l) {
            return l.speaker == u"caller"_s;
        });
        QVERIFY(caller != lines.end());
        QVERIFY2(
            std::abs(caller->offsetMs - speechAtMs) < 700,
            qPrintable(u"caller line at %1 ms, speech at %2 ms"_s.arg(caller->offsetMs).arg(speechAtMs)));
        QCOMPARE(caller->language, u"hi-en"_s); // "Mera order kahan hai?"
        QVERIFY(lines.first().speaker == u"agent"_s && lines.first().offsetMs < 300);
    }

    void aCallerWhoDeclinesIsNotRecorded()
    {
        h->fake.greetingAudioMs = 600;
        h->fake.turns = {FakeTurn{u"Recording nahi chahiye"_s, u"decline_recording"_s, u"{}"_s,
                                  u"Theek hai, yeh call record nahi ho rahi."_s, 500}};
        const QString root = dir(u"declined"_s);
        QVERIFY(startRecordingServer(root));
        auto sim = h->connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(recordOf(sim->callSid).recordingStatus == u"recording"_s, 5000);
        const QString path = root + u'/' + recordOf(sim->callSid).recordingFile;
        QTRY_VERIFY(QFile::exists(path));
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 600, 5000);
        sim->queueCallerAudio(TwilioSimulator::loudSpeech(800));
        QTRY_COMPARE_WITH_TIMEOUT(recordOf(sim->callSid).recordingStatus, u"declined"_s, 8000);
        QTRY_VERIFY(!QFile::exists(path));
        QVERIFY(recordOf(sim->callSid).recordingFile.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesReceived >= 8 * 1100, 5000); // the agent carries on
        sim->hangUp();
        QTRY_VERIFY(recordOf(sim->callSid).endedAt.isValid());
        QCOMPARE(recordOf(sim->callSid).recordingStatus, u"declined"_s);
        QVERIFY(QDir(QFileInfo(path).absolutePath()).entryList(QDir::Files).isEmpty()); // nothing kept
        const auto lines = h->repos().calls.transcript(recordOf(sim->callSid).id).value;
        QVERIFY(std::any_of(lines.begin(), lines.end(), [](const db::TranscriptEntry &l) {
            return l.speaker == u"system"_s && l.text.contains(u"declined recording"_s);
        }));
    }

    // With a data key the file is sealed with it; then a caller's erasure deletes it from the disk.
    void sealedRecordingAndErasure()
    {
        const QString root = dir(u"sealed"_s);
        const QString keyFile = root + u"/data.key"_s;
        QFile key(keyFile);
        QVERIFY(QDir().mkpath(root) && key.open(QIODevice::WriteOnly));
        key.write(db::DataCipher::generateKeyLine(u"k7"_s).toUtf8() + '\n');
        key.close();
        h->fake.greetingAudioMs = 800;
        QVERIFY(startRecordingServer(root + u"/rec"_s, keyFile));
        auto sim = h->connectCall();
        QVERIFY(sim);
        QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 800, 5000);
        sim->hangUp();
        QTRY_COMPARE_WITH_TIMEOUT(recordOf(sim->callSid).recordingStatus, u"complete"_s, 5000);
        const QString path = root + u"/rec/"_s + recordOf(sim->callSid).recordingFile;
        QVERIFY(path.endsWith(u".wav.sealed"_s));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        f.close();
        QVERIFY(!bytes.startsWith("RIFF"));
        QString error;
        auto cipherKeys = db::DataCipher::fromFile(keyFile, &error);
        auto opened = openRecording(bytes, *cipherKeys, &error);
        QVERIFY2(opened && opened->complete, qPrintable(error));
        QVERIFY(Wav::fromBytes(opened->wav, &error).durationSeconds() >= 0.8);

        // The caller asks to be forgotten: the database marks the recording erased, the server that holds it
        // deletes the file.
        h->repos().setCipher(cipherKeys);
        const auto erased = h->repos().privacy.eraseCaller(sim->from, u"test"_s);
        QVERIFY2(erased.ok(), qPrintable(erased.error.message));
        QCOMPARE(erased.value.recordings, 1);
        QCOMPARE(recordOf(sim->callSid).recordingStatus, u"erased"_s);
        h->server()->sweepRecordings();
        QTRY_VERIFY_WITH_TIMEOUT(!QFile::exists(path), 5000);
        QTRY_VERIFY(recordOf(sim->callSid).recordingFile.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestRecording)
#include "tst_recording.moc"
