#pragma once
// What a call's model session has been told and has said, kept so that a replacement session (after the
// connection dropped, or before the API's 60-minute session limit) can be given the conversation so far:
// caller and agent turns as text, tool calls with their outputs. Bounded: the oldest entries go first past
// kMaxEntries or kMaxChars (a tool output never goes back without its call: the API refuses an output whose
// call_id it does not know). Pure value type, used on the session's thread.

#include <QByteArray>
#include <QList>
#include <QString>

namespace vaani {

class ConversationHistory
{
public:
    static constexpr int kMaxEntries = 80;
    static constexpr int kMaxChars = 24000; // all texts together (about 6k tokens)
    static constexpr int kMaxEntryChars = 4000;

    enum class Kind { Caller, Agent, FunctionCall, FunctionOutput };
    struct Entry
    {
        Kind kind;
        QString text; // caller/agent words, a call's arguments, an output
        QString callId;
        QString name;
    };

    void caller(const QString &text);
    void agent(const QString &text);
    void functionCall(const QString &callId, const QString &name, const QString &arguments);
    void functionOutput(const QString &callId, const QString &output);

    // conversation.item.create events, oldest first.
    QList<QByteArray> replayEvents() const;
    const QList<Entry> &entries() const { return m_entries; }
    qsizetype chars() const { return m_chars; }

private:
    void add(Entry e);
    void trim();

    QList<Entry> m_entries;
    qsizetype m_chars = 0;
};

} // namespace vaani
