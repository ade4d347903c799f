#include "responsegate.h"

#include "realtimemessages.h"

namespace vaani {

void ResponseGate::request(const QJsonObject &response)
{
    if (responseActive()) {
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

void ResponseGate::cancelActive()
{
    if (!m_active.isEmpty())
        m_cancelled.insert(m_active);
}

void ResponseGate::flushToolOutputs()
{
    if (m_toolsInFlight > 0 || m_outputs.isEmpty() || responseActive())
        return;
    for (const auto &[callId, output] : std::exchange(m_outputs, {}))
        m_send(realtime::functionCallOutput(callId, output));
    if (!m_final)
        request();
}

} // namespace vaani
