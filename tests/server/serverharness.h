#pragma once
// An in-process vaani-server on 127.0.0.1 with a fresh SQLite database, the fake Realtime API, and helpers
// to place calls with the Twilio simulator and read the database the way the admin app would.

#include "db/database.h"
#include "db/repositories.h"
#include "fakerealtime.h"
#include "server.h"
#include "twiliosimulator.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>

#include <functional>
#include <memory>

namespace vaani::test {

struct HttpResult
{
    int status = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers;
};

class ServerHarness
{
public:
    static constexpr const char *kAuthToken = "test-auth-token-0123456789abcdef";
    static constexpr const char *kAccountSid = "AC00000000000000000000000000000001";

    ServerHarness();
    ~ServerHarness();

    bool start(const std::function<void(ServerOptions &)> &tweak = {});
    quint16 port() const { return m_port; }
    QString baseUrl() const;
    QString metricsUrl() const; // http://127.0.0.1:<the metrics listener's port>
    Server *server() { return m_server.get(); }
    FakeRealtimeServer fake;

    // A simulator pointed at this server, signing with the harness's token.
    std::unique_ptr<TwilioSimulator> newCall();
    // newCall(), the webhook answered 200 and the stream connected; nullptr when either did not happen.
    std::unique_ptr<TwilioSimulator> connectCall();
    // /metrics and /readyz go to the metrics listener, everything else to the public port.
    HttpResult get(const QString &path, const QList<QPair<QByteArray, QByteArray>> &headers = {});
    HttpResult post(const QString &path, const QByteArray &body,
                    const QList<QPair<QByteArray, QByteArray>> &headers = {});
    // One sample of /metrics (0 when absent).
    double metric(const QString &sample);
    // Signed form POST, as Twilio would send it.
    HttpResult postSigned(const QString &path, const twilio::FormParams &params);

    // Direct database reads (own connection on the test thread).
    db::Repositories &repos();
    QString databasePath() const { return m_dbPath; }
    ServerOptions options;

private:
    HttpResult wait(QNetworkReply *reply);
    QNetworkAccessManager m_nam;
    std::unique_ptr<Server> m_server;
    std::unique_ptr<db::Repositories> m_repos;
    QString m_dbPath;
    QString m_connection;
    quint16 m_port = 0;
};

// Parses Prometheus text exposition: sample name (with labels) -> value; fails on malformed lines.
bool parsePrometheus(const QByteArray &text, QHash<QString, double> *samples, QHash<QString, QString> *types,
                     QString *error);

} // namespace vaani::test
