#pragma once
// Screenshot mode (VAANI_ADMIN_SCREENSHOT=dir): shows each page in turn, waits until the page has loaded its
// data (AdminPage::loaded) — and, on the call log and tickets pages, the detail of the first row — then saves
// the window as dir/<prefix><page>.png under the name of the page actually on screen. Used for the README's
// pictures.
// Threads: the GUI thread only. Owned by its creator (Qt parent); the window it photographs must outlive it.

#include <QObject>
#include <QStringList>
#include <QTimer>

namespace vaani::admin {

class MainWindow;
class AdminPage;

class ScreenshotTour : public QObject
{
    Q_OBJECT
public:
    ScreenshotTour(MainWindow *window, const QString &directory, const QStringList &pages,
                   QObject *parent = nullptr);
    // A page that has not loaded within this time fails the tour (default 20 s).
    void setPageTimeout(int ms) { m_timeout.setInterval(ms); }
    // Files are named <prefix><page>.png (the README's are "admin-dashboardPage.png" and so on).
    void setFilePrefix(const QString &prefix) { m_prefix = prefix; }
    void start();
    QStringList saved() const { return m_saved; }

Q_SIGNALS:
    // ok is false when a page is unknown, did not load in time or could not be saved; error says which.
    void finished(bool ok, const QString &error);

private:
    void next();
    void listLoaded(AdminPage *page);
    void save(AdminPage *page);
    void fail(const QString &error);

    MainWindow *m_window;
    QString m_directory;
    QString m_prefix;
    QStringList m_pages;
    qsizetype m_index = 0;
    QStringList m_saved;
    QTimer m_timeout{this};
    QMetaObject::Connection m_waiting;
};

} // namespace vaani::admin
