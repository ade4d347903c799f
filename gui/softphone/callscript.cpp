#include "callscript.h"

#include "resampler.h"
#include "softphonecall.h"
#include "wav.h"

#include <QFile>

#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace vaani::softphone {

namespace {
int parseDuration(const QString &s, bool *ok)
{
    static const QRegularExpression re(u"^(\\d+(?:\\.\\d+)?)(ms|s)?$"_s);
    const auto m = re.match(s.trimmed());
    *ok = m.hasMatch();
    if (!*ok)
        return 0;
    const double v = m.captured(1).toDouble();
    return int(m.captured(2) == u"ms"_s ? v : v * 1000.0);
}
} // namespace

QList<ScriptStep> CallScript::parse(const QString &text, QString *error)
{
    QList<ScriptStep> steps;
    int lineNo = 0;
    for (const QString &raw : text.split(u'\n')) {
        ++lineNo;
        const QString line = raw.trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype space = line.indexOf(u' ');
        const QString cmd = (space < 0 ? line : line.left(space)).toLower();
        const QString arg = space < 0 ? QString() : line.mid(space + 1).trimmed();
        ScriptStep st{ScriptStep::Kind::Wait, arg, 0, lineNo};
        bool ok = true;
        if (cmd == u"wait"_s) {
            st.ms = parseDuration(arg, &ok);
        } else if (cmd == u"play"_s) {
            st.kind = ScriptStep::Kind::Play;
            ok = !arg.isEmpty();
        } else if (cmd == u"say"_s) {
            st.kind = ScriptStep::Kind::Say;
            ok = !arg.isEmpty();
        } else if (cmd == u"rate"_s) {
            st.kind = ScriptStep::Kind::Rate;
            st.ms = arg.toInt(&ok);
            ok = ok && st.ms >= 80 && st.ms <= 450;
        } else if (cmd == u"dtmf"_s) {
            st.kind = ScriptStep::Kind::Dtmf;
            static const QRegularExpression digits(u"^[0-9*#]+$"_s);
            ok = digits.match(arg).hasMatch();
        } else if (cmd == u"wait-for-agent"_s || cmd == u"wait-agent-quiet"_s) {
            st.kind = cmd == u"wait-for-agent"_s ? ScriptStep::Kind::WaitForAgent
                                                 : ScriptStep::Kind::WaitAgentQuiet;
            st.ms = arg.isEmpty() ? 15000 : parseDuration(arg, &ok);
        } else if (cmd == u"wait-for-hangup"_s) {
            st.kind = ScriptStep::Kind::WaitForHangup;
            st.ms = arg.isEmpty() ? 20000 : parseDuration(arg, &ok);
        } else if (cmd == u"hangup"_s) {
            st.kind = ScriptStep::Kind::Hangup;
        } else {
            ok = false;
        }
        if (!ok) {
            *error = u"line %1: cannot understand '%2'"_s.arg(lineNo).arg(line);
            return {};
        }
        steps << st;
    }
    error->clear();
    return steps;
}

QList<ScriptStep> CallScript::playFile(const QString &wavPath)
{
    return {{ScriptStep::Kind::WaitForAgent, {}, 15000, 0},
            {ScriptStep::Kind::WaitAgentQuiet, {}, 30000, 0},
            {ScriptStep::Kind::Play, wavPath, 0, 0},
            {ScriptStep::Kind::WaitAgentQuiet, {}, 30000, 0},
            {ScriptStep::Kind::Hangup, {}, 0, 0}};
}

CallScript::CallScript(QList<ScriptStep> steps, SoftphoneCall *call, QObject *parent)
    : QObject(parent)
    , m_steps(std::move(steps))
    , m_call(call)
{
    m_poll.setInterval(20);
    connect(&m_poll, &QTimer::timeout, this, &CallScript::poll);
    connect(m_call, &SoftphoneCall::ended, this, [this](const QString &reason, bool failed) {
        if (m_done)
            return;
        m_done = true;
        m_poll.stop();
        const bool scriptDone = m_index >= m_steps.size();
        Q_EMIT finished(!failed && (scriptDone || m_index >= 0), reason);
    });
}

void CallScript::start()
{
    m_poll.start();
    next();
}

void CallScript::fail(const QString &message)
{
    if (m_done)
        return;
    m_done = true;
    m_poll.stop();
    Q_EMIT finished(false, message);
    m_call->hangUp();
}

bool CallScript::sendWavBytes(const QByteArray &bytes, const QString &what)
{
    QString error;
    const Wav wav = Wav::fromBytes(bytes, &error);
    if (!error.isEmpty()) {
        fail(what + u": "_s + error);
        return false;
    }
    Resampler rs(wav.sampleRate, 8000);
    m_call->pushCallerAudio(rs.process(wav.monoPcm16()));
    m_waitingForSend = true;
    return true;
}

void CallScript::next()
{
    if (m_done)
        return;
    ++m_index;
    if (m_index >= m_steps.size()) {
        m_call->hangUp();
        return;
    }
    const ScriptStep &st = m_steps.at(m_index);
    m_stepStartedMs = m_call->elapsedMs();
    m_agentHeard = m_call->agentSpeaking();
    m_stepStartAgentSamples = m_call->agentSamplesReceived();
    m_waitingForSend = false;
    Q_EMIT progress(u"line %1: %2 %3"_s.arg(st.line).arg(int(st.kind)).arg(st.argument));
    switch (st.kind) {
    case ScriptStep::Kind::Play: {
        QFile f(st.argument);
        if (!f.open(QIODevice::ReadOnly)) {
            fail(u"cannot read %1"_s.arg(st.argument));
            return;
        }
        sendWavBytes(f.readAll(), st.argument);
        return;
    }
    case ScriptStep::Kind::Rate:
        m_voice.wordsPerMinute = st.ms;
        next();
        return;
    case ScriptStep::Kind::Say:
        m_voice.say(st.argument,
                    [this, text = st.argument](const QList<std::int16_t> &pcm, const QString &error) {
                        if (m_done || m_index >= m_steps.size() || m_steps.at(m_index).argument != text)
                            return; // the script moved on (failed or hung up) while espeak-ng was speaking
                        if (!error.isEmpty()) {
                            fail(u"espeak-ng could not say '%1': %2"_s.arg(text, error));
                            return;
                        }
                        m_call->pushCallerAudio(pcm);
                        m_waitingForSend = true;
                    });
        return;
    case ScriptStep::Kind::Dtmf:
        m_call->sendDtmf(st.argument);
        next();
        return;
    case ScriptStep::Kind::Hangup:
        m_index = int(m_steps.size());
        m_call->hangUp();
        return;
    case ScriptStep::Kind::Wait:
    case ScriptStep::Kind::WaitForAgent:
    case ScriptStep::Kind::WaitAgentQuiet:
    case ScriptStep::Kind::WaitForHangup:
        return; // polled
    }
}

void CallScript::poll()
{
    if (m_done || m_index < 0 || m_index >= m_steps.size() || m_call->state() != SoftphoneCall::State::InCall)
        return;
    const ScriptStep &st = m_steps.at(m_index);
    const qint64 spent = m_call->elapsedMs() - m_stepStartedMs;
    switch (st.kind) {
    case ScriptStep::Kind::Wait:
        if (spent >= st.ms)
            next();
        return;
    case ScriptStep::Kind::Play:
    case ScriptStep::Kind::Say:
        // m_waitingForSend is set once the audio is queued (after espeak-ng finished, for `say`).
        if (m_waitingForSend && m_call->pendingCallerSamples() == 0)
            next();
        return;
    case ScriptStep::Kind::WaitForAgent:
        // Agent audio that arrived since the last wait for the agent counts, even if it has already played
        // (a greeting that starts at once can be over before this step is reached).
        if (m_call->agentSpeaking() || m_call->agentSamplesReceived() > m_agentMark) {
            m_agentMark = m_call->agentSamplesReceived();
            next();
        } else if (spent >= st.ms)
            fail(u"line %1: the agent did not speak within %2 ms"_s.arg(st.line).arg(st.ms));
        return;
    case ScriptStep::Kind::WaitAgentQuiet:
        // Audio that arrives during this step counts even if it has played out between two polls; audio from
        // before the step (a greeting the caller interrupted) does not.
        m_agentHeard = m_agentHeard || m_call->agentSpeaking() ||
                       m_call->agentSamplesReceived() > m_stepStartAgentSamples;
        if ((m_agentHeard && !m_call->agentSpeaking() && m_call->msSinceAgentAudio() >= 800) ||
            spent >= st.ms) {
            m_agentMark = m_call->agentSamplesReceived();
            next();
        }
        return;
    case ScriptStep::Kind::WaitForHangup:
        // SoftphoneCall::ended finishes the script when the server closes the stream.
        if (spent >= st.ms)
            fail(u"line %1: the server did not end the call within %2 ms"_s.arg(st.line).arg(st.ms));
        return;
    case ScriptStep::Kind::Rate:
    case ScriptStep::Kind::Dtmf:
    case ScriptStep::Kind::Hangup:
        return;
    }
}

} // namespace vaani::softphone
