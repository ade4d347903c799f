#pragma once
// Reads the TwiML a voice webhook answers with, as Twilio would: the <Connect><Stream> URL and its
// <Parameter>s, and the verbs that run after the stream ends. Pure; never throws.

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

namespace vaani::twilio {

struct TwimlDocument
{
    bool valid = false;
    QString error;
    bool hasConnect = false;
    QString streamUrl;
    QHash<QString, QString> parameters;
    QStringList verbsAfterConnect; // "Say", "Dial:+91…", "Hangup", … (all verbs when there is no <Connect>)
    QString gatherAction;          // the first <Gather>'s action URL (the keypad menu's), if any
    static TwimlDocument parse(const QByteArray &xml);
};

} // namespace vaani::twilio
