#pragma once
// TwiML documents the server answers with. Pure functions.

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace vaani::twiml {

// <Connect><Stream url=…> with <Parameter>s, followed by the fallback that runs if the stream ends.
QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters,
                         const QString &humanAgentNumber);
// Only the fallback: an apology, then a transfer to the human agent number if set, else hang up.
QByteArray fallback(const QString &humanAgentNumber);
// Used with the REST API: transfer now / hang up now.
QByteArray transfer(const QString &humanAgentNumber, const QString &callerId = {});
QByteArray hangup();
// An apology and goodbye (in the fallback's voice), then hang up: the server is ending the call.
QByteArray goodbye();

QString escapeXml(const QString &s);

} // namespace vaani::twiml
