#pragma once
// Replays a call's recording (RECORD_CALLS) in the call view: play/pause, a timeline with the transcript's
// lines, the tool calls and each turn's latency marked (click to seek), the time, and export to a WAV file
// any player opens (PCM, stereo: caller left, agent right). The file is read and, when sealed, opened with
// the data key on a pool thread; playback goes to the default audio output through QAudioSink, resampled to
// the device's rate with libspeexdsp. Without an audio output (a server console, a test under offscreen) it
// plays silently against the clock, so the transcript still follows. Threads: the GUI thread; the file is
// read on QThreadPool and handed back queued.

#include "db/datacipher.h"

#include <QElapsedTimer>
#include <QList>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <cstdint>
#include <memory>

class QAudioSink;
class QIODevice;
class QLabel;
class QPushButton;

namespace vaani {
class Resampler;
}

namespace vaani::admin {

struct TimelineMark
{
    enum class Kind { Caller, Agent, Tool, Turn };
    qint64 ms = 0;
    Kind kind = Kind::Caller;
    QString label; // tooltip
};

class RecordingTimeline : public QWidget
{
    Q_OBJECT
public:
    explicit RecordingTimeline(QWidget *parent = nullptr);
    void setDuration(qint64 ms);
    void setMarks(QList<TimelineMark> marks);
    void setPosition(qint64 ms);
    QSize sizeHint() const override { return {400, 34}; }
    qint64 msAt(int x) const;

Q_SIGNALS:
    void seekRequested(qint64 ms);

protected:
    void paintEvent(QPaintEvent *) override;
    void mousePressEvent(QMouseEvent *e) override;
    bool event(QEvent *e) override; // tooltips of the marks

private:
    int xOf(qint64 ms) const;
    qint64 m_duration = 0;
    qint64 m_position = 0;
    QList<TimelineMark> m_marks;
};

class RecordingPlayer : public QWidget
{
    Q_OBJECT
public:
    explicit RecordingPlayer(QWidget *parent = nullptr);
    ~RecordingPlayer() override;

    // Reads the file (on a pool thread); `loaded` follows. Marks for the timeline.
    void load(const QString &path, std::shared_ptr<const db::DataCipher> cipher, QList<TimelineMark> marks);
    // No recording to play: says why (not recorded, declined, erased, no access…).
    void showUnavailable(const QString &why);

    void play();
    void pause();
    void seek(qint64 ms);
    bool isPlaying() const { return m_playing; }
    bool hasRecording() const { return !m_left.isEmpty(); }
    qint64 positionMs() const;
    qint64 durationMs() const { return m_left.size() / 8; }
    QString status() const;
    bool audible() const { return m_sink != nullptr; } // false: playing silently (no output device)
    // PCM16 stereo WAV, 8 kHz.
    bool exportTo(const QString &path, QString *error) const;

    // Asks where to export (tests replace it); empty: cancelled.
    std::function<QString(QWidget *parent, const QString &suggestedName)> askExportPath;

Q_SIGNALS:
    void loaded(bool ok);
    void positionChanged(qint64 ms);

private:
    void onLoaded(const QList<std::int16_t> &left, const QList<std::int16_t> &right, const QString &error,
                  bool complete);
    void tick();
    void startOutput();
    void stopOutput();
    void feed();
    void updateLabels();

    QPushButton *m_play;
    QPushButton *m_export;
    QLabel *m_time;
    QLabel *m_status;
    RecordingTimeline *m_timeline;
    QString m_path;
    QString m_statusText;
    QList<std::int16_t> m_left;  // caller, 8 kHz
    QList<std::int16_t> m_right; // agent, 8 kHz
    bool m_playing = false;
    qint64 m_startMs = 0;  // position when playback (re)started
    QElapsedTimer m_clock; // silent playback
    qint64 m_fed = 0;      // 8 kHz frames handed to the sink since m_startMs
    QTimer m_tick;
    std::unique_ptr<QAudioSink> m_sink;
    QIODevice *m_out = nullptr; // the sink's push device
    std::unique_ptr<Resampler> m_upLeft;
    std::unique_ptr<Resampler> m_upRight;
    int m_outRate = 8000;
    int m_outChannels = 2;
    quint64 m_loadSerial = 0;
};

} // namespace vaani::admin
