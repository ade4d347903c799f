#include "faketwiliorest.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace vaani::test {

QString FakeTwilioRest::Update::twiml() const
{
    for (const auto &[k, v] : params) {
        if (k == u"Twiml"_s)
            return v;
    }
    return {};
}

FakeTwilioRest::FakeTwilioRest(QString accountSid, QString authToken, QObject *parent)
    : QObject(parent)
    , m_account(std::move(accountSid))
    , m_token(std::move(authToken))
{
    m_http.route(
        u"/2010-04-01/Accounts/<arg>/Calls/<arg>"_s, QHttpServerRequest::Method::Post,
        [this](const QString &account, const QString &callFile, const QHttpServerRequest &r) {
            auto error = [](int code, const QString &message, QHttpServerResponder::StatusCode status) {
                const QJsonObject e{{u"code"_s, code},
                                    {u"message"_s, message},
                                    {u"more_info"_s, u"https://www.twilio.com/docs/errors/%1"_s.arg(code)},
                                    {u"status"_s, int(status)}};
                return QHttpServerResponse("application/json", QJsonDocument(e).toJson(), status);
            };
            const QByteArray expected = "Basic " + (m_account + u':' + m_token).toUtf8().toBase64();
            if (account != m_account || r.value("Authorization") != expected) {
                ++authFailures;
                return error(20003, u"Authenticate"_s, QHttpServerResponder::StatusCode::Unauthorized);
            }
            if (!callFile.endsWith(u".json"_s))
                return error(20404, u"Not found"_s, QHttpServerResponder::StatusCode::NotFound);
            if (callNotInProgress)
                return error(21220, u"Call is not in-progress. Cannot redirect."_s,
                             QHttpServerResponder::StatusCode::BadRequest);
            const QString callSid = callFile.chopped(5);
            updates.append({callSid, twilio::parseForm(r.body())});
            Q_EMIT callUpdated(callSid);
            const QJsonObject call{{u"sid"_s, callSid},
                                   {u"account_sid"_s, m_account},
                                   {u"status"_s, u"in-progress"_s},
                                   {u"direction"_s, u"inbound"_s}};
            return QHttpServerResponse("application/json", QJsonDocument(call).toJson(),
                                       QHttpServerResponder::StatusCode::Ok);
        });
}

bool FakeTwilioRest::listen()
{
    m_port = m_http.listen(QHostAddress::LocalHost, 0);
    return m_port != 0;
}

QUrl FakeTwilioRest::baseUrl() const
{
    return QUrl(u"http://127.0.0.1:%1"_s.arg(m_port));
}

} // namespace vaani::test
