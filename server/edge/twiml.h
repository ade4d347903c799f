#pragma once
// TwiML documents the server answers with. Pure functions.

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace vaani::twiml {

// <Connect><Stream url=…> with <Parameter>s, followed by the fallback that runs if the stream ends.
QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters,
                         const QString &humanAgentNumber, const QString &menuUrl = {});
// Only the fallback: a Hinglish apology (hi-IN voice), then — with a menu URL — a keypad menu (1: a callback,
// 2: a human now, when there is a number for one) posted to menuUrl; without a key press, or without a menu,
// a transfer to the human agent number if set, else a goodbye and hang up.
QByteArray fallback(const QString &humanAgentNumber, const QString &menuUrl = {});
// The answer to a key pressed in the fallback menu (POST menuUrl): `digit` "1" a callback was noted ("" when
// the caller's number is withheld: none can be), "2" the transfer; anything else repeats the menu once more.
QByteArray fallbackMenuAnswer(const QString &digit, const QString &humanAgentNumber, const QString &menuUrl,
                              bool callbackPossible);
// Used with the REST API: transfer now / hang up now.
QByteArray transfer(const QString &humanAgentNumber, const QString &callerId = {});
QByteArray hangup();
// An apology and goodbye (in the fallback's voice), then hang up: the server is ending the call.
QByteArray goodbye();

QString escapeXml(const QString &s);

} // namespace vaani::twiml
