#pragma once
// A voice for the fake Realtime API: espeak-ng's Hindi voice reads a line (Hinglish in Latin letters), and
// the sound comes back as 8 kHz G.711 μ-law — what the real API sends for audio/pcmu — so a local call
// without an OpenAI key sounds like speech and its transcript is the words said. Asynchronous (one espeak-ng
// process per new line, never blocking the event loop); lines already said come from a cache.
// Threads: the thread it lives on (a QObject); owns its espeak-ng processes and the cache.

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <cstdint>
#include <functional>

namespace vaani {

class EspeakVoice : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(const QList<std::int16_t> &pcm8k, const QString &error)>;
    explicit EspeakVoice(QObject *parent = nullptr);
    static bool available(); // espeak-ng is on PATH
    // Calls done (later, or at once for a cached line) with the speech, or with an error and no audio.
    void say(const QString &text, Done done);
    int wordsPerMinute = 150;

private:
    QHash<QString, QList<std::int16_t>> m_cache;
};

} // namespace vaani
