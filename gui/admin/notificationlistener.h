#pragma once
// Listens for PostgreSQL NOTIFY on the `vaani_calls` channel (sent by the server whenever a call starts, says
// something or ends) on a thread of its own, so the live-calls page updates at once without polling the
// database hard and without the window ever waiting on the network.

#include "db/database.h"

#include <QObject>
#include <QThread>

namespace vaani::admin {

class NotificationListener : public QObject
{
    Q_OBJECT
public:
    explicit NotificationListener(db::DatabaseConfig config, QObject *parent = nullptr);
    ~NotificationListener() override;
    void start();

Q_SIGNALS:
    void callsChanged();
    void listening(bool ok, const QString &error);

private:
    db::DatabaseConfig m_config;
    QThread m_thread;
};

} // namespace vaani::admin
