#include "notificationlistener.h"

#include <QSqlDriver>

using namespace Qt::StringLiterals;

namespace vaani::admin {

NotificationListener::NotificationListener(db::DatabaseConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
{
    m_thread.setObjectName(u"vaani-admin-listen"_s);
}

NotificationListener::~NotificationListener()
{
    m_thread.quit();
    m_thread.wait();
}

void NotificationListener::start()
{
    auto *worker = new QObject; // lives on m_thread; owns the listening connection
    worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, worker, [] { db::Database::close(u"vaani-admin-listen"_s); });
    connect(&m_thread, &QThread::finished, worker, &QObject::deleteLater);
    m_thread.start();
    QMetaObject::invokeMethod(worker, [this, worker] {
        db::DbError e;
        QSqlDatabase conn = db::Database::open(m_config, u"vaani-admin-listen"_s, &e);
        if (e || !conn.driver()->subscribeToNotification(u"vaani_calls"_s)) {
            Q_EMIT listening(false, e ? e.message : conn.lastError().text());
            return;
        }
        connect(conn.driver(), &QSqlDriver::notification, worker, [this] { Q_EMIT callsChanged(); });
        Q_EMIT listening(true, {});
    });
}

} // namespace vaani::admin
