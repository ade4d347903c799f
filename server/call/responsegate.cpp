#include "responsegate.h"

#include "realtimemessages.h"

namespace vaani {

void ResponseGate::request(const QJsonObject &response)
{
    if (responseActive() || m_suspended) {
        m_deferred = true;
        m_deferredBody = response;
        return;
    }
    m_requested = true;
    m_send(realtime::responseCreate(response));
}

void ResponseGate::created(const QString &responseId)
{
    m_active = responseId;
    m_requested = false;
}

void ResponseGate::done(const QString &responseId)
{
    if (responseId == m_active || m_active.isEmpty())
        m_active.clear();
    m_requested = false;
    flushToolOutputs();
    if (m_deferred && !responseActive() && m_toolsInFlight == 0) {
        m_deferred = false;
        request(std::exchange(m_deferredBody, {}));
    }
}

void ResponseGate::refusedAsActive()
{
    m_requested = false;
    m_deferred = true;
}

bool ResponseGate::toolStarted(const QString &callId)
{
    if (callId.isEmpty() || m_seenCalls.contains(callId))
        return false;
    m_seenCalls.insert(callId);
    ++m_toolsInFlight;
    return true;
}

void ResponseGate::toolFinished(const QString &callId, const QString &outputJson)
{
    --m_toolsInFlight;
    m_outputs.append({callId, outputJson});
    flushToolOutputs();
}

void ResponseGate::suspend()
{
    m_suspended = true;
    m_active.clear();
    m_requested = false;
    m_cancelled.clear(); // response ids of the old session
}

bool ResponseGate::resume(const std::optional<QJsonObject> &answer)
{
    m_suspended = false;
    const bool unanswered = !m_outputs.isEmpty(); // replayed with the history: never sent twice
    m_outputs.clear();
    const bool deferred = std::exchange(m_deferred, false);
    const QJsonObject body = std::exchange(m_deferredBody, {});
    if (answer && !m_final) {
        request(*answer);
        return true;
    }
    if (deferred) {
        request(body);
        return true;
    }
    if (unanswered && m_toolsInFlight == 0 && !m_final) {
        request();
        return true;
    }
    return false;
}

void ResponseGate::cancelActive()
{
    if (!m_active.isEmpty())
        m_cancelled.insert(m_active);
}

void ResponseGate::flushToolOutputs()
{
    if (m_toolsInFlight > 0 || m_outputs.isEmpty() || responseActive() || m_suspended)
        return;
    for (const auto &[callId, output] : std::exchange(m_outputs, {}))
        m_send(realtime::functionCallOutput(callId, output));
    if (!m_final)
        request();
}

} // namespace vaani
