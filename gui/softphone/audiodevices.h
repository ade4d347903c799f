#pragma once
// Microphone and speaker for the softphone through QtMultimedia (PulseAudio on Linux), at whatever rate the
// devices offer, converted to and from the call's 8 kHz with libspeexdsp. Lives on the GUI thread.

#include "resampler.h"

#include <QAudioFormat>
#include <QObject>
#include <QTimer>

#include <memory>

class QAudioSource;
class QAudioSink;
class QIODevice;

namespace vaani::softphone {

class SoftphoneCall;

class AudioDevices : public QObject
{
    Q_OBJECT
public:
    explicit AudioDevices(QObject *parent = nullptr);
    ~AudioDevices() override;

    // Starts capture and playback for this call. Returns false (and a plain reason) without devices.
    bool start(SoftphoneCall *call, QString *error);
    void stop();
    static QString describeDevices();

private:
    void onCapture();
    void feedSpeaker();

    SoftphoneCall *m_call = nullptr;
    std::unique_ptr<QAudioSource> m_source;
    std::unique_ptr<QAudioSink> m_sink;
    QIODevice *m_sourceIo = nullptr;
    QIODevice *m_sinkIo = nullptr;
    QAudioFormat m_inFormat;
    QAudioFormat m_outFormat;
    std::unique_ptr<Resampler> m_up;   // 8 kHz → speaker
    std::unique_ptr<Resampler> m_down; // microphone → 8 kHz
    QTimer m_feed{this};
};

} // namespace vaani::softphone
