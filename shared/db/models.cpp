#include "models.h"

#include <QFile>

using namespace Qt::StringLiterals;

namespace vaani::db {

const QStringList &Order::statuses()
{
    static const QStringList s = {u"placed"_s,    u"packed"_s,    u"shipped"_s, u"out_for_delivery"_s,
                                  u"delivered"_s, u"cancelled"_s, u"returned"_s};
    return s;
}

bool Order::canTransition(const QString &from, const QString &to)
{
    if (from == to || !statuses().contains(to))
        return false;
    static const QHash<QString, QStringList> allowed = {
        {u"placed"_s, {u"packed"_s, u"cancelled"_s}},
        {u"packed"_s, {u"shipped"_s, u"cancelled"_s}},
        {u"shipped"_s, {u"out_for_delivery"_s, u"delivered"_s, u"returned"_s}},
        {u"out_for_delivery"_s, {u"delivered"_s, u"returned"_s}},
        {u"delivered"_s, {u"returned"_s}},
        {u"cancelled"_s, {}},
        {u"returned"_s, {}},
    };
    return allowed.value(from).contains(to);
}

const QStringList &Ticket::statuses()
{
    static const QStringList s = {u"open"_s, u"in_progress"_s, u"resolved"_s, u"closed"_s};
    return s;
}

const QStringList &Ticket::priorities()
{
    static const QStringList p = {u"low"_s, u"normal"_s, u"high"_s, u"urgent"_s};
    return p;
}

bool Ticket::canTransition(const QString &from, const QString &to)
{
    static const QHash<QString, QStringList> allowed = {
        {u"open"_s, {u"in_progress"_s, u"resolved"_s, u"closed"_s}},
        {u"in_progress"_s, {u"open"_s, u"resolved"_s, u"closed"_s}},
        {u"resolved"_s, {u"closed"_s, u"open"_s}},
        {u"closed"_s, {u"open"_s}},
    };
    return allowed.value(from).contains(to);
}

const QStringList &AgentPrompt::voices()
{
    static const QStringList v = {u"marin"_s, u"cedar"_s, u"alloy"_s, u"ash"_s,     u"ballad"_s,
                                  u"coral"_s, u"echo"_s,  u"sage"_s,  u"shimmer"_s, u"verse"_s};
    return v;
}

QString AgentPrompt::defaultRecordingNotice()
{
    QFile f(u":/vaani/prompts/default_recording_notice.txt"_s);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
}

QString AgentPrompt::validate() const
{
    if (name.trimmed().isEmpty())
        return u"The prompt needs a name."_s;
    if (instructions.trimmed().isEmpty())
        return u"Instructions cannot be empty."_s;
    if (greeting.trimmed().isEmpty())
        return u"The greeting cannot be empty."_s;
    if (recordingNotice.size() > 500)
        return u"The recording notice is too long (500 characters at most)."_s;
    if (!voices().contains(voice))
        return u"Unknown voice '%1'."_s.arg(voice);
    if (vadThreshold < 0.0 || vadThreshold > 1.0)
        return u"VAD threshold must be between 0 and 1."_s;
    if (vadPrefixPaddingMs < 0 || vadPrefixPaddingMs > 2000)
        return u"Prefix padding must be 0–2000 ms."_s;
    if (vadSilenceDurationMs < 100 || vadSilenceDurationMs > 5000)
        return u"Silence duration must be 100–5000 ms."_s;
    if (vadIdleTimeoutMs && (*vadIdleTimeoutMs < 5000 || *vadIdleTimeoutMs > 30000))
        return u"Idle timeout must be 5000–30000 ms (or off)."_s;
    return {};
}

} // namespace vaani::db
