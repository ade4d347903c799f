#include "recordingplayer.h"

#include "recordingfile.h"
#include "resampler.h"
#include "wav.h"

#include <QAudioDevice>
#include <QAudioSink>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QMediaDevices>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
constexpr qint64 kMaxFileBytes = 1LL << 30;
constexpr int kTickMs = 40;
constexpr int kAheadMs = 300; // audio kept queued at the sink

QString clock(qint64 ms)
{
    const qint64 s = std::max<qint64>(0, ms) / 1000;
    return u"%1:%2"_s.arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QColor colourOf(TimelineMark::Kind k)
{
    switch (k) {
    case TimelineMark::Kind::Caller:
        return QColor(0x55, 0x8b, 0x2f);
    case TimelineMark::Kind::Agent:
        return QColor(0x15, 0x65, 0xc0);
    case TimelineMark::Kind::Tool:
        return QColor(0xef, 0x6c, 0x00);
    case TimelineMark::Kind::Turn:
        return QColor(0x6a, 0x1b, 0x9a);
    }
    return Qt::black;
}

struct Decoded
{
    QList<std::int16_t> left, right;
    QString error;
    bool complete = false;
};

Decoded decode(const QString &path, std::shared_ptr<const db::DataCipher> cipher)
{
    Decoded d;
    QFile f(path);
    if (!f.exists()) {
        d.error =
            RecordingPlayer::tr("The recording file is not here: %1. Recordings stay on the server that "
                                "recorded the call; set RECORDINGS_DIR to where they are shared.")
                .arg(path);
        return d;
    }
    if (f.size() > kMaxFileBytes || !f.open(QIODevice::ReadOnly)) {
        d.error = RecordingPlayer::tr("Cannot read the recording %1: %2").arg(path, f.errorString());
        return d;
    }
    QString error;
    const auto opened = openRecording(f.readAll(), cipher ? *cipher : db::DataCipher::clearMode(), &error);
    if (!opened) {
        d.error = RecordingPlayer::tr("Cannot open the recording: %1").arg(error);
        return d;
    }
    const Wav w = Wav::fromBytes(opened->wav, &error);
    if (!error.isEmpty() || w.channels != 2) {
        d.error = RecordingPlayer::tr("Cannot open the recording: %1")
                      .arg(error.isEmpty() ? u"not a two-channel recording"_s : error);
        return d;
    }
    d.left = w.channelPcm16(0);
    d.right = w.channelPcm16(1);
    d.complete = opened->complete;
    return d;
}
} // namespace

RecordingTimeline::RecordingTimeline(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(u"recordingTimeline"_s);
    setMinimumHeight(30);
    setCursor(Qt::PointingHandCursor);
    setMouseTracking(true);
}

void RecordingTimeline::setDuration(qint64 ms)
{
    m_duration = ms;
    update();
}

void RecordingTimeline::setMarks(QList<TimelineMark> marks)
{
    m_marks = std::move(marks);
    update();
}

void RecordingTimeline::setPosition(qint64 ms)
{
    m_position = ms;
    update();
}

int RecordingTimeline::xOf(qint64 ms) const
{
    const int w = std::max(1, width() - 8);
    return 4 +
           (m_duration > 0 ? int(double(std::clamp<qint64>(ms, 0, m_duration)) * w / double(m_duration)) : 0);
}

qint64 RecordingTimeline::msAt(int x) const
{
    const int w = std::max(1, width() - 8);
    return std::clamp<qint64>(qint64(double(x - 4) * double(m_duration) / w), 0, m_duration);
}

void RecordingTimeline::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const int mid = height() / 2;
    p.fillRect(QRect(4, mid - 3, width() - 8, 6), palette().color(QPalette::Mid));
    p.fillRect(QRect(4, mid - 3, xOf(m_position) - 4, 6), palette().color(QPalette::Highlight));
    for (const TimelineMark &m : std::as_const(m_marks)) {
        const int x = xOf(m.ms);
        p.setPen(QPen(colourOf(m.kind), 2));
        switch (m.kind) {
        case TimelineMark::Kind::Caller:
            p.drawLine(x, mid + 5, x, height() - 2);
            break;
        case TimelineMark::Kind::Agent:
            p.drawLine(x, 2, x, mid - 5);
            break;
        case TimelineMark::Kind::Tool:
            p.setBrush(colourOf(m.kind));
            p.drawPolygon(QPolygon({QPoint(x - 4, 1), QPoint(x + 4, 1), QPoint(x, 8)}));
            break;
        case TimelineMark::Kind::Turn:
            p.drawEllipse(QPoint(x, height() - 4), 2, 2);
            break;
        }
    }
    p.setPen(QPen(palette().color(QPalette::Text), 2));
    p.drawLine(xOf(m_position), 0, xOf(m_position), height());
}

void RecordingTimeline::mousePressEvent(QMouseEvent *e)
{
    if (e->button() == Qt::LeftButton && m_duration > 0)
        Q_EMIT seekRequested(msAt(int(e->position().x())));
}

bool RecordingTimeline::event(QEvent *e)
{
    if (e->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(e);
        QStringList tips;
        for (const TimelineMark &m : std::as_const(m_marks)) {
            if (std::abs(xOf(m.ms) - help->pos().x()) <= 4 && !m.label.isEmpty())
                tips << clock(m.ms) + u"  "_s + m.label;
        }
        if (tips.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), tips.join(u'\n'), this);
        return true;
    }
    return QWidget::event(e);
}

RecordingPlayer::RecordingPlayer(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(u"recordingPlayer"_s);
    m_play = new QPushButton(tr("Play"), this);
    m_play->setObjectName(u"recordingPlay"_s);
    m_export = new QPushButton(tr("Export…"), this);
    m_export->setObjectName(u"recordingExport"_s);
    m_export->setToolTip(
        tr("Save the recording as a WAV file (caller left, agent right). It holds the caller's "
           "voice: personal data."));
    m_time = new QLabel(this);
    m_time->setObjectName(u"recordingTime"_s);
    m_status = new QLabel(this);
    m_status->setObjectName(u"recordingStatus"_s);
    m_status->setWordWrap(true);
    m_timeline = new RecordingTimeline(this);
    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_play);
    row->addWidget(m_timeline, 1);
    row->addWidget(m_time);
    row->addWidget(m_export);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(row);
    layout->addWidget(m_status);
    m_tick.setInterval(kTickMs);
    connect(&m_tick, &QTimer::timeout, this, &RecordingPlayer::tick);
    connect(m_play, &QPushButton::clicked, this, [this] { m_playing ? pause() : play(); });
    connect(m_timeline, &RecordingTimeline::seekRequested, this, &RecordingPlayer::seek);
    connect(m_export, &QPushButton::clicked, this, [this] {
        if (!askExportPath)
            return;
        const QString path =
            askExportPath(this, QFileInfo(m_path).fileName().section(u'.', 0, 0) + u".wav"_s);
        if (path.isEmpty())
            return;
        QString error;
        m_statusText = exportTo(path, &error) ? tr("Exported to %1.").arg(path) : error;
        updateLabels();
    });
    showUnavailable({});
}

RecordingPlayer::~RecordingPlayer()
{
    stopOutput();
}

void RecordingPlayer::showUnavailable(const QString &why)
{
    pause();
    ++m_loadSerial;
    m_left.clear();
    m_right.clear();
    m_path.clear();
    m_statusText = why;
    m_startMs = 0;
    m_timeline->setMarks({});
    m_timeline->setDuration(0);
    updateLabels();
}

void RecordingPlayer::load(const QString &path, std::shared_ptr<const db::DataCipher> cipher,
                           QList<TimelineMark> marks)
{
    showUnavailable(tr("Loading the recording…"));
    m_path = path;
    m_timeline->setMarks(std::move(marks));
    const quint64 serial = m_loadSerial;
    // A watcher owned by the player: its answer arrives on this thread, and not at all once the player is
    // gone.
    auto *watcher = new QFutureWatcher<Decoded>(this);
    connect(watcher, &QFutureWatcher<Decoded>::finished, this, [this, watcher, serial] {
        watcher->deleteLater();
        if (serial != m_loadSerial)
            return; // another call was opened meanwhile
        const Decoded d = watcher->result();
        onLoaded(d.left, d.right, d.error, d.complete);
    });
    watcher->setFuture(QtConcurrent::run([path, cipher] { return decode(path, cipher); }));
}

void RecordingPlayer::onLoaded(const QList<std::int16_t> &left, const QList<std::int16_t> &right,
                               const QString &error, bool complete)
{
    if (!error.isEmpty()) {
        const QString path = m_path;
        showUnavailable(error);
        m_path = path;
        Q_EMIT loaded(false);
        return;
    }
    m_left = left;
    m_right = right;
    m_timeline->setDuration(durationMs());
    m_statusText = complete
                       ? QString()
                       : tr("This recording was cut short (the server stopped during the call): it plays "
                            "up to where it ends.");
    updateLabels();
    Q_EMIT loaded(true);
}

QString RecordingPlayer::status() const
{
    return m_status->text();
}

qint64 RecordingPlayer::positionMs() const
{
    if (!m_playing)
        return m_startMs;
    qint64 played = 0;
    if (m_sink)
        played = m_sink->processedUSecs() / 1000;
    else
        played = m_clock.elapsed();
    return std::min(durationMs(), m_startMs + played);
}

void RecordingPlayer::play()
{
    if (m_left.isEmpty() || m_playing)
        return;
    if (m_startMs >= durationMs())
        m_startMs = 0;
    m_playing = true;
    startOutput();
    m_clock.start();
    m_tick.start();
    updateLabels();
}

void RecordingPlayer::pause()
{
    if (!m_playing)
        return;
    m_startMs = positionMs();
    m_playing = false;
    m_tick.stop();
    stopOutput();
    updateLabels();
    Q_EMIT positionChanged(m_startMs);
}

void RecordingPlayer::seek(qint64 ms)
{
    const bool wasPlaying = m_playing;
    if (wasPlaying) {
        m_playing = false;
        m_tick.stop();
        stopOutput();
    }
    m_startMs = std::clamp<qint64>(ms, 0, durationMs());
    if (wasPlaying)
        play();
    updateLabels();
    Q_EMIT positionChanged(m_startMs);
}

void RecordingPlayer::startOutput()
{
    m_fed = 0;
    const QAudioDevice device = QMediaDevices::defaultAudioOutput();
    if (device.isNull())
        return; // silent: the clock plays
    QAudioFormat f = device.preferredFormat();
    f.setSampleFormat(QAudioFormat::Int16);
    f.setChannelCount(2);
    if (!device.isFormatSupported(f)) {
        f = device.preferredFormat();
        f.setSampleFormat(QAudioFormat::Int16);
    }
    m_outRate = f.sampleRate() > 0 ? f.sampleRate() : 48000;
    m_outChannels = std::max(1, f.channelCount());
    m_upLeft = std::make_unique<Resampler>(8000, m_outRate);
    m_upRight = std::make_unique<Resampler>(8000, m_outRate);
    m_sink = std::make_unique<QAudioSink>(device, f);
    m_sink->setBufferSize(m_outRate * m_outChannels * 2 / 2); // half a second
    m_out = m_sink->start();
    if (!m_out) {
        m_sink.reset();
        return;
    }
    feed();
}

void RecordingPlayer::stopOutput()
{
    if (m_sink) {
        m_sink->stop();
        m_sink.reset();
    }
    m_out = nullptr;
}

void RecordingPlayer::feed()
{
    if (!m_sink || !m_out)
        return;
    // Keep kAheadMs queued: convert the next frames to the device's rate and layout.
    const qint64 wantFrames = (positionMs() - m_startMs + kAheadMs) * 8 - m_fed;
    const qint64 from = m_startMs * 8 + m_fed;
    const qint64 n = std::min<qint64>(wantFrames, m_left.size() - from);
    if (n <= 0)
        return;
    const QList<std::int16_t> l = m_upLeft->process(m_left.constData() + from, n);
    const QList<std::int16_t> r = m_upRight->process(m_right.constData() + from, n);
    const qsizetype frames = std::min(l.size(), r.size());
    QByteArray out(frames * m_outChannels * 2, '\0');
    auto *o = reinterpret_cast<std::int16_t *>(out.data());
    for (qsizetype i = 0; i < frames; ++i) {
        if (m_outChannels == 1) {
            o[i] = std::int16_t((int(l.at(i)) + int(r.at(i))) / 2);
            continue;
        }
        o[i * m_outChannels] = l.at(i);
        o[i * m_outChannels + 1] = r.at(i);
    }
    m_out->write(out);
    m_fed += n;
}

void RecordingPlayer::tick()
{
    feed();
    const qint64 pos = positionMs();
    if (pos >= durationMs()) {
        pause();
        m_startMs = durationMs();
    }
    updateLabels();
    Q_EMIT positionChanged(pos);
}

void RecordingPlayer::updateLabels()
{
    const qint64 pos = positionMs();
    m_timeline->setPosition(pos);
    m_time->setText(m_left.isEmpty() ? QString() : clock(pos) + u" / "_s + clock(durationMs()));
    m_play->setText(m_playing ? tr("Pause") : tr("Play"));
    m_play->setEnabled(!m_left.isEmpty());
    m_export->setEnabled(!m_left.isEmpty() && askExportPath != nullptr);
    QString text = m_statusText;
    if (m_playing && !m_sink)
        text = (text.isEmpty() ? QString() : text + u' ') + tr("No audio output device: playing silently.");
    m_status->setText(text);
    m_status->setVisible(!text.isEmpty());
}

bool RecordingPlayer::exportTo(const QString &path, QString *error) const
{
    if (m_left.isEmpty()) {
        *error = tr("No recording to export.");
        return false;
    }
    QList<std::int16_t> interleaved(m_left.size() * 2);
    for (qsizetype i = 0; i < m_left.size(); ++i) {
        interleaved[2 * i] = m_left.at(i);
        interleaved[2 * i + 1] = i < m_right.size() ? m_right.at(i) : 0;
    }
    QString saveError;
    if (!Wav::pcm16(interleaved, 8000, 2).save(path, &saveError)) {
        *error = tr("Cannot export the recording: %1").arg(saveError);
        return false;
    }
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

} // namespace vaani::admin
