#include "conversationhistory.h"

#include "realtimemessages.h"

#include <QSet>

namespace vaani {

void ConversationHistory::caller(const QString &text)
{
    add({Kind::Caller, text, {}, {}});
}

void ConversationHistory::agent(const QString &text)
{
    add({Kind::Agent, text, {}, {}});
}

void ConversationHistory::functionCall(const QString &callId, const QString &name, const QString &arguments)
{
    add({Kind::FunctionCall, arguments, callId, name});
}

void ConversationHistory::functionOutput(const QString &callId, const QString &output)
{
    add({Kind::FunctionOutput, output, callId, {}});
}

void ConversationHistory::add(Entry e)
{
    if (e.kind != Kind::FunctionCall && e.kind != Kind::FunctionOutput)
        e.text = e.text.trimmed();
    if (e.text.isEmpty() && e.kind != Kind::FunctionCall)
        return;
    if (e.text.size() > kMaxEntryChars) {
        // A tool output cut short would be invalid JSON: the model is told it was too long instead.
        e.text = e.kind == Kind::FunctionOutput || e.kind == Kind::FunctionCall
                     ? QStringLiteral("{\"note\":\"too long to repeat\"}")
                     : e.text.left(kMaxEntryChars);
    }
    m_chars += e.text.size();
    m_entries.append(std::move(e));
    trim();
}

void ConversationHistory::trim()
{
    while (!m_entries.isEmpty() && (m_entries.size() > kMaxEntries || m_chars > kMaxChars)) {
        m_chars -= m_entries.constFirst().text.size();
        m_entries.removeFirst();
    }
}

QList<QByteArray> ConversationHistory::replayEvents() const
{
    QList<QByteArray> out;
    out.reserve(m_entries.size());
    QSet<QString> calls;
    for (const Entry &e : m_entries) {
        switch (e.kind) {
        case Kind::Caller:
            out << realtime::userTextMessage(e.text);
            break;
        case Kind::Agent:
            out << realtime::assistantTextMessage(e.text);
            break;
        case Kind::FunctionCall:
            calls.insert(e.callId);
            out << realtime::functionCallItem(e.callId, e.name, e.text);
            break;
        case Kind::FunctionOutput:
            if (calls.contains(e.callId)) // its call was trimmed away: the API would refuse it
                out << realtime::functionCallOutput(e.callId, e.text);
            break;
        }
    }
    return out;
}

} // namespace vaani
