#pragma once
// Twilio's REST API as far as Vaani uses it: POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json with
// HTTP Basic auth (AccountSid:AuthToken) and a form body (Twiml=…). Answers with the Call resource JSON, or
// Twilio's error JSON (20003 on bad credentials, 21220 when told the call is not in progress).

#include "twiliosignature.h"

#include <QHttpServer>
#include <QObject>
#include <QUrl>

namespace vaani::test {

class FakeTwilioRest : public QObject
{
    Q_OBJECT
public:
    explicit FakeTwilioRest(QString accountSid, QString authToken, QObject *parent = nullptr);
    bool listen();
    QUrl baseUrl() const;

    struct Update
    {
        QString callSid;
        twilio::FormParams params;
        QString twiml() const;
    };
    QList<Update> updates;
    int authFailures = 0;
    bool callNotInProgress = false;
    void setAuthToken(const QString &token) { m_token = token; } // Twilio's token rotated

Q_SIGNALS:
    void callUpdated(const QString &callSid);

private:
    QString m_account;
    QString m_token;
    QHttpServer m_http;
    quint16 m_port = 0;
};

} // namespace vaani::test
