// CallSession: tool calls, transfer to a human and hang-up.
#include "callsession.h"

#include "callregistry.h"
#include "db/dbworker.h"
#include "logging.h"
#include "metrics.h"
#include "pii.h"
#include "tools.h"
#include "twiml.h"

#include <QDateTime>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
QString compact(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}
} // namespace

void CallSession::onFunctionCall(const QString &callId, const QString &name, const QString &arguments)
{
    // Both function_call_arguments.done and output_item.done announce a call: handle each call_id once.
    if (m_state == State::Finished || !m_gate.toolStarted(callId))
        return;
    m_history.functionCall(callId, name, arguments);
    const qint64 startedMs = QDateTime::currentMSecsSinceEpoch();
    const ToolSpec *tool = ToolRegistry::instance().find(name);
    QJsonObject args;
    const QString invalid =
        tool ? ToolRegistry::validate(*tool, arguments, &args) : u"unknown tool '%1'"_s.arg(name.left(64));
    qCInfo(lcTools) << "tool" << name.left(64) << (invalid.isEmpty() ? u"ok"_s : invalid);
    if (!invalid.isEmpty()) {
        completeTool(
            callId, name, arguments, startedMs, false,
            Tools::error(u"Invalid call to %1: %2. Ask the caller again or correct the arguments."_s.arg(
                             name.left(64), invalid))
                .output);
        return;
    }
    switch (tool->kind) {
    case ToolKind::EndCall:
        m_endRequested = true;
        m_gate.setFinal();
        completeTool(callId, name, arguments, startedMs, true,
                     QJsonObject{{u"ok"_s, true}, {u"hanging_up"_s, true}});
        return;
    case ToolKind::DeclineRecording: {
        const bool wasRecording = m_recording.has_value();
        stopRecording(false);
        completeTool(
            callId, name, arguments, startedMs, true,
            QJsonObject{{u"ok"_s, true},
                        {u"recording"_s, false},
                        {u"message"_s, wasRecording ? u"Recording stopped; what was recorded is deleted."_s
                                                    : u"This call is not being recorded."_s}});
        return;
    }
    case ToolKind::Transfer:
        startTransfer(callId, arguments, args.value(u"reason"_s).toString(), startedMs);
        return;
    case ToolKind::Database:
        ToolRegistry::run(
            m_ctx->db, *tool, args,
            ToolContext{m_info.caller, m_info.callSid, m_verifiedCustomers, m_failedVerifications})
            .then(this, [this, callId, name, arguments, startedMs](ToolResult r) {
                // Verification is the tools' verdict, kept for the rest of the call.
                if (r.verifiedCustomer)
                    m_verifiedCustomers.insert(*r.verifiedCustomer);
                if (r.verificationFailed)
                    ++m_failedVerifications;
                completeTool(callId, name, arguments, startedMs, r.ok, r.output);
            });
        return;
    }
}

void CallSession::startTransfer(const QString &callId, const QString &arguments, const QString &reason,
                                qint64 startedMs)
{
    const QString human = m_ctx->settings.humanAgentNumber;
    if (human.isEmpty()) {
        completeTool(
            callId, u"transfer_to_human"_s, arguments, startedMs, false,
            Tools::error(u"No human colleague can take calls right now. Apologise, offer to open a support "
                         "ticket so the team calls back, and continue helping."_s)
                .output);
        return;
    }
    // A ticket carries the conversation so far to the human who picks up.
    db::NewTicket t;
    t.category = u"other"_s;
    t.priority = u"high"_s;
    t.summary = QString(u"Transferred to a human: "_s + pii::redact(reason) +
                        u"\n\nConversation so far:\n"_s + m_record.conversation().join(u'\n'))
                    .left(8000);
    t.author = u"vaani-agent"_s;
    const QString sid = m_info.callSid;
    const QString caller = m_info.caller;
    m_ctx->db
        ->submit([t, sid, caller](db::Repositories &r) mutable {
            if (auto c = r.calls.findBySid(sid); c.ok()) {
                t.callId = c.value.id;
                t.customerId = c.value.customerId;
            }
            return r.tickets.create(t);
        })
        .then(this, [this, callId, arguments, startedMs](db::DbResult<db::Ticket> ticket) {
            m_transferRequested = true;
            m_gate.setFinal();
            QJsonObject out{{u"ok"_s, true}, {u"transferring"_s, true}};
            if (ticket.ok())
                out.insert(u"ticket_id"_s, ticket.value.code);
            completeTool(callId, u"transfer_to_human"_s, arguments, startedMs, true, out);
        });
}

void CallSession::completeTool(const QString &callId, const QString &name, const QString &arguments,
                               qint64 startedMs, bool ok, const QJsonObject &output)
{
    if (m_state == State::Finished)
        return;
    const int duration = int(QDateTime::currentMSecsSinceEpoch() - startedMs);
    m_ctx->metrics->toolDurationMs.observe(duration);
    const QString result = compact(output);
    m_record.tool(name, arguments, result, duration, ok);
    m_history.functionOutput(callId, result); // before the gate: a resumed session gets it with the history
    m_gate.toolFinished(callId, result);      // outputs go back after response.done, then one response.create
    if (ending())
        maybeHangUp();
}

void CallSession::maybeHangUp()
{
    if (!ending() || m_state == State::HangingUp || m_state == State::Finished)
        return;
    if (!m_hangupDeadline.isActive())
        m_hangupDeadline.start(m_ctx->settings.hangupDrainTimeoutMs);
    // Wait until the goodbye (or "connecting you") has been played to the caller.
    sealMark();
    if (!m_gate.idle() || m_playback.awaitingMarks())
        return;
    hangUpNow();
}

void CallSession::hangUpNow()
{
    if (m_state == State::HangingUp || m_state == State::Finished)
        return;
    setState(State::HangingUp);
    m_hangupDeadline.stop();
    const bool transfer = m_transferRequested;
    const auto [reason, outcome] =
        transfer ? std::pair(u"transferred to a human"_s, u"transferred"_s)
                 : m_endAs.value_or(std::pair(u"agent ended the call"_s, u"resolved"_s));
    endWithTwiml(transfer ? twiml::transfer(m_ctx->settings.humanAgentNumber, m_info.called)
                          : twiml::hangup(),
                 reason, outcome);
}

void CallSession::endWithTwiml(const QByteArray &twiml, const QString &reason, const QString &outcome)
{
    if (!m_telephony) {
        finish(reason, outcome);
        return;
    }
    // Whichever comes first ends the call with this outcome: Twilio's answer to the redirect, or the stream
    // ending because Twilio already ran the new TwiML.
    m_pendingEnd = {reason, outcome};
    QPointer<CallSession> self(this);
    m_telephony->redirect(twiml, [self, reason, outcome](bool ok, const QString &message) {
        if (!self)
            return;
        if (!ok)
            qCInfo(lcSession) << "call update through Twilio not done (" << message
                              << "); closing the stream runs the TwiML after </Connect>";
        self->finish(reason, outcome);
    });
}

void CallSession::endForShutdown(const QString &reason)
{
    if (m_state == State::HangingUp || m_state == State::Finished)
        return;
    if (!m_attached) {
        // Pre-warmed: end only if no stream has claimed this session (the registry's hand-over protocol); a
        // claimed one attaches in a moment and is ended then (attachStream sees the server draining).
        if (m_ctx->registry->removePrewarmed(m_info.callSid, this))
            finish(reason, u"no_stream"_s);
        else
            m_endOnAttach = reason;
        return;
    }
    if (!m_telephony)
        return; // attached and already lost its stream: finishing is under way
    setState(State::HangingUp);
    m_hangupDeadline.stop();
    const QString human = m_ctx->settings.humanAgentNumber;
    if (!human.isEmpty())
        endWithTwiml(twiml::transfer(human, m_info.called), reason, u"transferred"_s);
    else
        endWithTwiml(twiml::goodbye(), reason, u"shutdown"_s);
}

} // namespace vaani
