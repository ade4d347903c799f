// Issue #18, replay in vaani-admin: a recorded call plays in the call view with the line being spoken
// highlighted, tool calls and turn latencies on the timeline, a click on a line's time or on the timeline
// seeks, and the recording exports as a WAV any player opens. Calls without a recording say why. Real
// widgets under offscreen, a real SQLite database, a recording file as the server writes it.
#include "adminfixture.h"
#include "callspage.h"
#include "mulaw.h"
#include "recordingfile.h"
#include "wav.h"

#include <QDateEdit>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTextBrowser>

#include <cmath>

using namespace vaani;
using namespace vaani::admin;
using namespace Qt::StringLiterals;

namespace {
// μ-law of a tone (voice) or of silence for each 8 kHz sample in [from, to) ms.
void fill(QByteArray &channel, qint64 fromMs, qint64 toMs, bool tone)
{
    for (qint64 i = fromMs * 8; i < toMs * 8 && i < channel.size(); ++i) {
        const auto s = std::int16_t(tone ? 8000 * std::sin(2 * M_PI * 300.0 * double(i) / 8000.0) : 0);
        channel[i] = char(mulaw::encode(QList<std::int16_t>{s}).at(0));
    }
}

double level(const QList<std::int16_t> &pcm, qint64 fromMs, qint64 toMs)
{
    double sum = 0;
    qint64 n = 0;
    for (qint64 i = fromMs * 8; i < toMs * 8 && i < pcm.size(); ++i, ++n)
        sum += std::abs(double(pcm.at(i)));
    return n ? sum / double(n) : 0;
}
} // namespace

class TestReplay : public admin::testing::AdminFixture
{
    Q_OBJECT
    QString m_recordings;
    QString m_exported;

    // A six-second call: the agent greets (0.1–2.4 s), the caller asks (2.5–4.0 s), the agent answers from
    // 4.1 s; its recording as the server writes it, and its record.
    qint64 recordedCall(const QString &sid, const QString &status)
    {
        QByteArray left(6 * 8000, char(0xFF)), right(6 * 8000, char(0xFF));
        fill(right, 100, 2400, true);
        fill(left, 2500, 4000, true);
        fill(right, 4100, 6000, true);
        QByteArray interleaved(left.size() * 2, '\0');
        for (qsizetype i = 0; i < left.size(); ++i) {
            interleaved[2 * i] = left.at(i);
            interleaved[2 * i + 1] = right.at(i);
        }
        RecordingEncoder enc(nullptr);
        QByteArray file = enc.begin() + enc.push(interleaved) + enc.finish();
        file.replace(0, 44, RecordingEncoder::wavHeader(quint32(interleaved.size())));
        const QString relative = u"2026-12-06/"_s + sid + u".wav"_s;
        QDir().mkpath(m_recordings + u"/2026-12-06"_s);
        QFile f(m_recordings + u'/' + relative);
        if (!f.open(QIODevice::WriteOnly) || f.write(file) != file.size())
            return -1;
        f.close();
        auto call = db([sid, relative, status](db::Repositories &r) -> db::DbResult<db::CallRecord> {
            auto c = r.calls.start({sid, u"+919876543210"_s, u"+918000000000"_s, u"test"_s, 1, 1,
                                    QDateTime::currentDateTimeUtc()});
            r.calls.addTranscript(
                {0, c.value.id, 1, u"agent"_s, u"Namaste! Main Vaani hoon."_s, 100, false, u"hi"_s});
            r.calls.addTranscript(
                {0, c.value.id, 2, u"caller"_s, u"Mera order ABC123 kahan hai?"_s, 2500, false, u"hi-en"_s});
            r.calls.addTranscript(
                {0, c.value.id, 3, u"agent"_s, u"Aapka order ship ho gaya hai."_s, 4100, false, u"hi-en"_s});
            r.calls.addTurn({c.value.id, 1, 640, 4100});
            r.calls.addToolInvocation({0,
                                       c.value.id,
                                       u"lookup_order"_s,
                                       u"{\"order_id\":\"ABC123\"}"_s,
                                       u"{\"ok\":true}"_s,
                                       12,
                                       true,
                                       {},
                                       1});
            r.calls.setRecording(c.value.id, status == u"declined"_s ? QString() : relative, status, 6000);
            r.calls.end(c.value.id, {u"resolved"_s, u"done"_s, 6, {640}, {}});
            return r.calls.get(c.value.id);
        });
        return call.ok() ? call.value.id : -1;
    }

    CallsPage *page() { return window->findChild<CallsPage *>(); }

    void openCall(qint64 id)
    {
        QVERIFY(window->showPage(u"callsPage"_s));
        page()->openCall(id);
    }

private Q_SLOTS:
    void init()
    {
        setUpWindow();
        m_recordings = test::tempDir(u"replay"_s) + u"/recordings"_s;
        m_exported = test::tempDir(u"replay"_s) + u"/exported.wav"_s;
        ctx->recordingsDir = m_recordings;
        ctx->askSavePath = [this](QWidget *, const QString &name) {
            asked << name;
            return m_exported;
        };
    }
    void cleanup() { tearDownWindow(); }

    void aRecordedCallPlaysWithItsTranscript()
    {
        const qint64 id = recordedCall(u"CAreplay00000000000000000000000001"_s, u"complete"_s);
        QVERIFY(id > 0);
        openCall(id);
        RecordingPlayer *player = page()->player();
        QTRY_VERIFY_WITH_TIMEOUT(player->hasRecording(), 5000);
        QCOMPARE(player->durationMs(), 6000);
        auto *transcript = w<QTextBrowser>(u"callTranscript"_s);
        // Each line's time seeks; the language is shown.
        QTRY_VERIFY(transcript->toHtml().contains(u"seek:2500"_s));
        QVERIFY(transcript->toPlainText().contains(u"[hi-en]"_s));
        QVERIFY(w<QLabel>(u"recordingTime"_s)->text().endsWith(u"0:06"_s));
        // Seeking to the caller's question highlights it; the agent's answer once it begins.
        player->seek(2600);
        QCOMPARE(page()->activeLine(), 1);
        QVERIFY(transcript->toHtml().contains(u"#fff59d"_s));
        player->seek(3700);
        w<QPushButton>(u"recordingPlay"_s)->click();
        QVERIFY(player->isPlaying());
        QCOMPARE(w<QPushButton>(u"recordingPlay"_s)->text(), u"Pause"_s);
        QTRY_COMPARE_WITH_TIMEOUT(page()->activeLine(), 2, 3000);
        QVERIFY(player->positionMs() >= 4100);
        w<QPushButton>(u"recordingPlay"_s)->click();
        QVERIFY(!player->isPlaying());
        // A click on a line's time seeks there.
        Q_EMIT transcript->anchorClicked(QUrl(u"seek:100"_s));
        QCOMPARE(player->positionMs(), 100);
        QCOMPARE(page()->activeLine(), 0);
        // A click on the timeline seeks to that moment.
        auto *timeline = w<RecordingTimeline>(u"recordingTimeline"_s);
        int x = 0;
        while (x < timeline->width() && timeline->msAt(x) < 2500)
            ++x;
        QTest::mouseClick(timeline, Qt::LeftButton, {}, QPoint(x, timeline->height() / 2));
        QVERIFY2(std::abs(player->positionMs() - 2500) <= 6000 / std::max(1, timeline->width() - 8) + 1,
                 qPrintable(QString::number(player->positionMs())));
        QCOMPARE(page()->activeLine(), 1);
    }

    // Export: a PCM WAV any player opens, caller left and agent right as recorded.
    void exportWritesAPlayableStereoWav()
    {
        const qint64 id = recordedCall(u"CAreplay00000000000000000000000002"_s, u"complete"_s);
        openCall(id);
        QTRY_VERIFY_WITH_TIMEOUT(page()->player()->hasRecording(), 5000);
        w<QPushButton>(u"recordingExport"_s)->click();
        QCOMPARE(asked, QList<QString>{u"CAreplay00000000000000000000000002.wav"_s});
        QString error;
        const Wav wav = Wav::load(m_exported, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(wav.format, Wav::Format::Pcm16);
        QCOMPARE(wav.channels, 2);
        QCOMPARE(wav.sampleRate, 8000);
        QCOMPARE(wav.durationSeconds(), 6.0);
        const auto caller = wav.channelPcm16(0);
        const auto agent = wav.channelPcm16(1);
        QVERIFY(level(caller, 2600, 3900) > 3000 && level(agent, 2600, 3900) < 50);
        QVERIFY(level(agent, 200, 2300) > 3000 && level(caller, 200, 2300) < 50);
        QVERIFY(QFile(m_exported).permissions() & QFileDevice::ReadOwner);
        QVERIFY(!(QFile(m_exported).permissions() & QFileDevice::ReadOther)); // the caller's voice: private
        QVERIFY(w<QLabel>(u"recordingStatus"_s)->text().contains(m_exported));
    }

    // A recording sealed with the data key plays once opened with it; without the key, or with another one,
    // the player says which key it needs and plays nothing.
    void sealedRecordingsOpenWithTheDataKey()
    {
        QString error;
        const auto key = db::DataCipher::fromText(db::DataCipher::generateKeyLine(u"k9"_s).toUtf8(), &error);
        const auto other =
            db::DataCipher::fromText(db::DataCipher::generateKeyLine(u"k9"_s).toUtf8(), &error);
        QVERIFY(key && other);
        RecordingEncoder enc(key.get());
        const QByteArray audio(2 * 8000 * 3, char(0x55));
        const QString path = m_recordings + u"/CAsealed.wav.sealed"_s;
        QDir().mkpath(m_recordings);
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(enc.begin()); // (in this order: the operands of + are evaluated in any order)
        f.write(enc.push(audio));
        f.write(enc.finish());
        f.close();
        RecordingPlayer player;
        QSignalSpy loaded(&player, &RecordingPlayer::loaded);
        player.load(path, key, {});
        QVERIFY(loaded.wait(5000));
        QCOMPARE(loaded.last().first().toBool(), true);
        QCOMPARE(player.durationMs(), 3000);
        player.load(path, other, {});
        QVERIFY(loaded.wait(5000));
        QCOMPARE(loaded.last().first().toBool(), false);
        QVERIFY(!player.hasRecording());
        QVERIFY2(player.status().contains(u"tampered"_s) || player.status().contains(u"key"_s),
                 qPrintable(player.status()));
        player.load(path, nullptr, {});
        QVERIFY(loaded.wait(5000));
        QCOMPARE(loaded.last().first().toBool(), false);
        QVERIFY2(player.status().contains(u"k9"_s) && player.status().contains(u"not loaded"_s),
                 qPrintable(player.status()));
    }

    void callsWithoutARecordingSayWhy()
    {
        const qint64 declined = recordedCall(u"CAreplay00000000000000000000000003"_s, u"declined"_s);
        openCall(declined);
        QTRY_VERIFY(w<QLabel>(u"recordingStatus"_s)->text().contains(u"declined"_s));
        QVERIFY(!w<QPushButton>(u"recordingPlay"_s)->isEnabled());
        // The file is gone from where the record says (another server's disk, say): the path is named.
        const qint64 missing = recordedCall(u"CAreplay00000000000000000000000004"_s, u"complete"_s);
        QVERIFY(QFile::remove(m_recordings + u"/2026-12-06/CAreplay00000000000000000000000004.wav"_s));
        openCall(missing);
        QTRY_VERIFY(w<QLabel>(u"recordingStatus"_s)->text().contains(u"RECORDINGS_DIR"_s));
        QVERIFY(!page()->player()->hasRecording());
        // Erased by retention or a caller's erasure.
        const qint64 erased = recordedCall(u"CAreplay00000000000000000000000005"_s, u"complete"_s);
        db([erased](db::Repositories &r) { return r.privacy.eraseCaller(u"+919876543210"_s, u"test"_s); });
        openCall(erased);
        QTRY_VERIFY(w<QLabel>(u"recordingStatus"_s)->text().contains(u"erased"_s));
    }
};

QTEST_MAIN(TestReplay)
#include "tst_replay.moc"
