#pragma once
// The one Twilio REST call Vaani makes: update a live call (POST …/Calls/{CallSid}.json) with new TwiML —
// to transfer to a human or hang up. Asynchronous; created on demand on the session's thread.

#include "settings.h"
#include <QNetworkAccessManager>
#include <QObject>
#include <QUrl>

namespace vaani {

class TwilioRest : public QObject
{
    Q_OBJECT
public:
    TwilioRest(TwilioAccount account, QObject *parent = nullptr);
    // Replaces the call's TwiML. `done(ok, message)` is emitted once.
    void updateCall(const QString &callSid, const QByteArray &twiml);

Q_SIGNALS:
    void done(bool ok, const QString &message);

private:
    TwilioAccount m_account;
    QNetworkAccessManager m_nam;
};

} // namespace vaani
