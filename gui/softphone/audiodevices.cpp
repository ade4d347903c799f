#include "audiodevices.h"

#include "softphonecall.h"

#include <QAudioDevice>
#include <QAudioSink>
#include <QAudioSource>
#include <QMediaDevices>

using namespace Qt::StringLiterals;

namespace vaani::softphone {

namespace {
QAudioFormat pick(const QAudioDevice &device)
{
    QAudioFormat f = device.preferredFormat();
    f.setSampleFormat(QAudioFormat::Int16);
    f.setChannelCount(1);
    if (!device.isFormatSupported(f)) {
        f = device.preferredFormat();
        f.setSampleFormat(QAudioFormat::Int16);
    }
    return f;
}
} // namespace

AudioDevices::AudioDevices(QObject *parent)
    : QObject(parent)
{
    m_feed.setInterval(10);
    connect(&m_feed, &QTimer::timeout, this, &AudioDevices::feedSpeaker);
}

AudioDevices::~AudioDevices()
{
    stop();
}

QString AudioDevices::describeDevices()
{
    const auto in = QMediaDevices::defaultAudioInput();
    const auto out = QMediaDevices::defaultAudioOutput();
    if (in.isNull() && out.isNull())
        return tr("No audio devices found (is PulseAudio running?). Use --headless with --play/--script.");
    return tr("Microphone: %1 · Speaker: %2")
        .arg(in.isNull() ? tr("none") : in.description(), out.isNull() ? tr("none") : out.description());
}

bool AudioDevices::start(SoftphoneCall *call, QString *error)
{
    stop();
    const QAudioDevice in = QMediaDevices::defaultAudioInput();
    const QAudioDevice out = QMediaDevices::defaultAudioOutput();
    if (in.isNull() || out.isNull()) {
        *error = tr("No %1 found, so the call has no sound. Start PulseAudio or use the headless mode.")
                     .arg(in.isNull() ? tr("microphone") : tr("speaker"));
        return false;
    }
    m_call = call;
    m_inFormat = pick(in);
    m_outFormat = pick(out);
    m_down = std::make_unique<Resampler>(m_inFormat.sampleRate(), 8000);
    m_up = std::make_unique<Resampler>(8000, m_outFormat.sampleRate());
    m_source = std::make_unique<QAudioSource>(in, m_inFormat);
    m_sink = std::make_unique<QAudioSink>(out, m_outFormat);
    m_sourceIo = m_source->start();
    m_sinkIo = m_sink->start();
    if (!m_sourceIo || !m_sinkIo || m_source->error() != QAudio::NoError ||
        m_sink->error() != QAudio::NoError) {
        *error = tr("The audio device could not be opened (%1).").arg(describeDevices());
        stop();
        return false;
    }
    connect(m_sourceIo, &QIODevice::readyRead, this, &AudioDevices::onCapture);
    m_feed.start();
    return true;
}

void AudioDevices::stop()
{
    m_feed.stop();
    if (m_source)
        m_source->stop();
    if (m_sink)
        m_sink->stop();
    m_source.reset();
    m_sink.reset();
    m_sourceIo = nullptr;
    m_sinkIo = nullptr;
    m_call = nullptr;
}

void AudioDevices::onCapture()
{
    if (!m_call || !m_sourceIo)
        return;
    const QByteArray bytes = m_sourceIo->readAll();
    const int channels = std::max(1, m_inFormat.channelCount());
    const auto *s = reinterpret_cast<const std::int16_t *>(bytes.constData());
    const qsizetype frames = bytes.size() / 2 / channels;
    QList<std::int16_t> mono(frames);
    for (qsizetype i = 0; i < frames; ++i) {
        int sum = 0;
        for (int c = 0; c < channels; ++c)
            sum += s[i * channels + c];
        mono[i] = std::int16_t(sum / channels);
    }
    m_call->pushCallerAudio(m_down->process(mono));
}

void AudioDevices::feedSpeaker()
{
    if (!m_call || !m_sinkIo)
        return;
    const int channels = std::max(1, m_outFormat.channelCount());
    const qsizetype freeFrames = m_sink->bytesFree() / 2 / channels;
    // 8 kHz samples that fill the free space at the device rate (the resampler keeps the remainder).
    const qsizetype want = freeFrames * 8000 / std::max(1, m_outFormat.sampleRate());
    if (want <= 0)
        return;
    QList<std::int16_t> agent = m_call->pullAgentAudio(want);
    if (agent.isEmpty())
        return;
    const QList<std::int16_t> up = m_up->process(agent);
    QByteArray out(up.size() * 2 * channels, Qt::Uninitialized);
    auto *d = reinterpret_cast<std::int16_t *>(out.data());
    for (qsizetype i = 0; i < up.size(); ++i)
        for (int c = 0; c < channels; ++c)
            d[i * channels + c] = up.at(i);
    m_sinkIo->write(out);
}

} // namespace vaani::softphone
