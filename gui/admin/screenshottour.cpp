#include "screenshottour.h"

#include "mainwindow.h"
#include "pages.h"

#include <QDir>
#include <QTableView>

using namespace Qt::StringLiterals;

namespace vaani::admin {

ScreenshotTour::ScreenshotTour(MainWindow *window, const QString &directory, const QStringList &pages,
                               QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_directory(directory)
    , m_pages(pages)
{
    m_timeout.setSingleShot(true);
    m_timeout.setInterval(20000);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        fail(u"page %1 did not load within %2 ms"_s.arg(m_pages.value(m_index)).arg(m_timeout.interval()));
    });
}

void ScreenshotTour::start()
{
    if (!QDir().mkpath(m_directory)) {
        fail(u"cannot create %1"_s.arg(m_directory));
        return;
    }
    m_index = 0;
    m_saved.clear();
    next();
}

void ScreenshotTour::next()
{
    if (m_index >= m_pages.size()) {
        Q_EMIT finished(true, {});
        return;
    }
    const QString name = m_pages.at(m_index);
    AdminPage *page = m_window->page(name);
    if (!page) {
        fail(u"no page %1"_s.arg(name));
        return;
    }
    m_timeout.start();
    // Connected first: the answer comes from the database thread, after this returns.
    m_waiting = connect(page, &AdminPage::loaded, this, [this, page] {
        disconnect(m_waiting);
        listLoaded(page);
    });
    // Going to a page refreshes it; a page already on screen is refreshed here.
    const bool alreadyShown = m_window->currentPage() == page;
    if (!m_window->showPage(name)) {
        fail(u"cannot show page %1"_s.arg(name));
        return;
    }
    if (alreadyShown)
        page->refresh();
}

void ScreenshotTour::listLoaded(AdminPage *page)
{
    QTableView *table = page->exportView();
    const bool detail = page->objectName() == u"callsPage"_s || page->objectName() == u"ticketsPage"_s;
    if (detail && table->model()->rowCount() > 0 && !table->currentIndex().isValid()) {
        m_waiting = connect(page, &AdminPage::detailLoaded, this, [this, page] {
            disconnect(m_waiting);
            save(page);
        });
        table->selectRow(0);
        return;
    }
    save(page);
}

void ScreenshotTour::save(AdminPage *page)
{
    m_timeout.stop();
    // One turn of the event loop so layouts and charts settle before the window is painted.
    QTimer::singleShot(0, this, [this, page] {
        if (m_window->currentPage() != page) {
            fail(u"page %1 is not on screen"_s.arg(page->objectName()));
            return;
        }
        const QString path = QDir(m_directory).filePath(m_prefix + page->objectName() + u".png"_s);
        if (!m_window->grab().save(path)) {
            fail(u"cannot write %1"_s.arg(path));
            return;
        }
        m_saved << path;
        ++m_index;
        next();
    });
}

void ScreenshotTour::fail(const QString &error)
{
    m_timeout.stop();
    disconnect(m_waiting);
    Q_EMIT finished(false, error);
}

} // namespace vaani::admin
