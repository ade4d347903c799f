#include "twiliorest.h"

#include "logging.h"
#include "twiliosignature.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>

using namespace Qt::StringLiterals;

namespace vaani {

TwilioRest::TwilioRest(TwilioAccount account, QObject *parent)
    : QObject(parent)
    , m_account(std::move(account))
    , m_nam(this)
{}

void TwilioRest::updateCall(const QString &callSid, const QByteArray &twiml)
{
    QUrl url = m_account.apiBase;
    url.setPath(url.path().chopped(url.path().endsWith(u'/') ? 1 : 0) + u"/2010-04-01/Accounts/"_s +
                m_account.accountSid + u"/Calls/"_s + callSid + u".json"_s);
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    req.setRawHeader("Authorization",
                     "Basic " + (m_account.accountSid + u':' + m_account.authToken).toUtf8().toBase64());
    req.setTransferTimeout(10000);
    const QByteArray body = twilio::encodeForm({{u"Twiml"_s, QString::fromUtf8(twiml)}});
    QNetworkReply *reply = m_nam.post(req, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (reply->error() == QNetworkReply::NoError && status >= 200 && status < 300) {
            Q_EMIT done(true, {});
            return;
        }
        const QJsonObject err = QJsonDocument::fromJson(reply->readAll()).object();
        const QString message = err.isEmpty() ? reply->errorString()
                                              : u"Twilio error %1: %2"_s.arg(err.value(u"code"_s).toInt())
                                                    .arg(err.value(u"message"_s).toString());
        qCWarning(lcSession) << "call update failed:" << status << message;
        Q_EMIT done(false, message);
    });
}

} // namespace vaani
