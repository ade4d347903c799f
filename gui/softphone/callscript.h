#pragma once
// A scripted caller for the headless softphone. One command per line ('#' starts a comment):
//   wait 1.5s | wait 800ms        stay silent
//   play path/to/caller.wav       send a WAV (any rate, mono or stereo) in real time; waits until sent
//   say Mera order ABC123 kahan hai?   speak a line with espeak-ng (Hindi voice) and send it
//   rate 200                      words per minute for the `say`s that follow (80–450; default 150)
//   dtmf 12#                      press keys
//   wait-for-agent [10s]          wait until the agent's audio is playing (fails the call on timeout)
//   wait-agent-quiet [15s]        wait until the agent has spoken and then been quiet for 0.8 s
//   wait-for-hangup [20s]         wait until the server ends the call (fails the call on timeout)
//   hangup                        send `stop` and close
// Runs against a SoftphoneCall; emits finished(ok, message) once.
// Threads: the thread of its call (the GUI thread in the softphone). Does not own the call.

#include "espeakvoice.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>

namespace vaani::softphone {

class SoftphoneCall;

struct ScriptStep
{
    enum class Kind { Wait, Play, Say, Rate, Dtmf, WaitForAgent, WaitAgentQuiet, WaitForHangup, Hangup };
    Kind kind;
    QString argument;
    int ms = 0;
    int line = 0;
};

class CallScript : public QObject
{
    Q_OBJECT
public:
    static QList<ScriptStep> parse(const QString &text, QString *error);
    // A script that plays one WAV, waits for the agent to answer and hangs up (for --play).
    static QList<ScriptStep> playFile(const QString &wavPath);

    CallScript(QList<ScriptStep> steps, SoftphoneCall *call, QObject *parent = nullptr);
    void start();

Q_SIGNALS:
    void finished(bool ok, const QString &message);
    void progress(const QString &line);

private:
    void next();
    void poll();
    bool sendWavBytes(const QByteArray &bytes, const QString &what);
    void fail(const QString &message);

    QList<ScriptStep> m_steps;
    SoftphoneCall *m_call;
    int m_index = -1;
    QTimer m_poll{this};
    qint64 m_stepStartedMs = 0;
    bool m_agentHeard = false;
    qint64 m_agentMark = 0;             // agent samples received when the last wait for the agent ended
    qint64 m_stepStartAgentSamples = 0; // … and when the current step started
    bool m_waitingForSend = false;
    bool m_done = false;
    EspeakVoice m_voice; // speech for `say`
};

} // namespace vaani::softphone
