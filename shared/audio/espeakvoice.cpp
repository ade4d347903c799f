#include "espeakvoice.h"

#include "resampler.h"
#include "wav.h"

#include <QPointer>
#include <QProcess>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
constexpr qsizetype kMaxWavBytes = 32 * 1024 * 1024; // ~12 minutes of espeak-ng's 22 kHz output
}

EspeakVoice::EspeakVoice(QObject *parent)
    : QObject(parent)
{}

bool EspeakVoice::available()
{
    return !QStandardPaths::findExecutable(u"espeak-ng"_s).isEmpty();
}

void EspeakVoice::say(const QString &text, Done done)
{
    const QString key = QString::number(wordsPerMinute) + u'|' + text;
    if (const auto it = m_cache.constFind(key); it != m_cache.cend()) {
        done(*it, {});
        return;
    }
    auto *p = new QProcess(this);
    // The text is one argument (no shell); a leading '-' would read as an option.
    QString line = text;
    while (line.startsWith(u'-'))
        line.remove(0, 1);
    connect(p, &QProcess::errorOccurred, this, [p, done](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart)
            return; // a crash also ends in finished()
        done({}, u"cannot run espeak-ng (apt-get install espeak-ng): "_s + p->errorString());
        p->deleteLater();
    });
    connect(p, &QProcess::readyReadStandardOutput, this, [p] {
        if (p->bytesAvailable() > kMaxWavBytes)
            p->kill();
    });
    connect(p, &QProcess::finished, this, [this, p, key, done](int code, QProcess::ExitStatus status) {
        p->deleteLater();
        if (status != QProcess::NormalExit || code != 0) {
            done({}, u"espeak-ng failed (exit %1)"_s.arg(code));
            return;
        }
        QString error;
        const Wav wav = Wav::fromBytes(p->readAllStandardOutput(), &error);
        if (!error.isEmpty() || wav.frames() == 0) {
            done({}, u"espeak-ng gave no usable audio: "_s + error);
            return;
        }
        Resampler down(wav.sampleRate, 8000);
        const QList<std::int16_t> pcm = down.process(wav.monoPcm16());
        m_cache.insert(key, pcm);
        done(pcm, {});
    });
    p->start(u"espeak-ng"_s,
             {u"-v"_s, u"hi"_s, u"-s"_s, QString::number(wordsPerMinute), u"--stdout"_s, line});
}

} // namespace vaani
