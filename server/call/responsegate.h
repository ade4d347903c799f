#pragma once
// When the session may ask the model for a response. The Realtime API runs one response at a time (a second
// response.create while one is active is refused), and the outputs of the tools a response called go back
// after that response is done, all together, followed by one response.create so the model answers with
// them. The gate holds the session's requests and the tools' outputs until then, and drops the audio of a
// response the caller interrupted.
//
// Pure: the client events it decides to send go out through `send`. Value type, used on the session's thread.

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QSet>
#include <QString>

#include <functional>
#include <optional>

namespace vaani {

class ResponseGate
{
public:
    using Send = std::function<void(const QByteArray &clientEvent)>;
    explicit ResponseGate(Send send)
        : m_send(std::move(send))
    {}

    // response.create now, or once the active (or requested) response is done.
    void request(const QJsonObject &response = {});
    void created(const QString &responseId);
    // The response is done: tool outputs go back (if all tools have answered), then a deferred request.
    void done(const QString &responseId);
    // The API refused a response.create because one is active: asked again after it is done.
    void refusedAsActive();

    // A tool call announced by the model; false when this call_id was announced already (both
    // function_call_arguments.done and output_item.done announce each call).
    bool toolStarted(const QString &callId);
    void toolFinished(const QString &callId, const QString &outputJson);
    // Ending the call (a goodbye or a transfer is under way): outputs still go back, no new response.
    void setFinal() { m_final = true; }

    // The model session is gone (a reconnect is under way): nothing is sent until resume(). A response that
    // was active is over; requests and tool outputs made meanwhile wait.
    void suspend();
    bool suspended() const { return m_suspended; }
    // The replacement session has been given the conversation so far (tool outputs included, so those
    // waiting are not sent again). Asks for a response: `answer` when given (the agent was cut off
    // mid-answer), else a request made meanwhile, else one for tool outputs the model has not answered yet.
    // Returns whether a response was requested.
    bool resume(const std::optional<QJsonObject> &answer);

    // Barge-in: the active response's remaining audio is dropped when it arrives.
    void cancelActive();
    bool isCancelled(const QString &responseId) const { return m_cancelled.contains(responseId); }

    bool responseActive() const { return !m_active.isEmpty() || m_requested; }
    QString activeId() const { return m_active; } // empty while a response is only requested
    int toolsInFlight() const { return m_toolsInFlight; }
    // Nothing under way: no response active or requested, no tool running.
    bool idle() const { return !responseActive() && m_toolsInFlight == 0; }

private:
    void flushToolOutputs();

    Send m_send;
    QString m_active;         // response.created seen, response.done not yet
    bool m_requested = false; // response.create sent, response.created not yet seen
    bool m_deferred = false;  // a request waits for the active response to end
    QJsonObject m_deferredBody;
    QSet<QString> m_seenCalls;
    int m_toolsInFlight = 0;
    QList<QPair<QString, QString>> m_outputs; // call_id, output JSON
    QSet<QString> m_cancelled;
    bool m_final = false;
    bool m_suspended = false;
};

} // namespace vaani
