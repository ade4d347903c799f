// The Live calls page.
#include "livecallspage.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QUrlQuery>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

LiveCallsPage::LiveCallsPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<Live>(
        {{tr("Caller"), [](const Live &l) { return l.call.callerMasked; }},
         {tr("Started"), [](const Live &l) { return l.call.startedAt.toLocalTime().time(); }},
         {tr("Duration"), [](const Live &l) { return callDuration(l.call); }},
         {tr("Server"), [](const Live &l) { return l.call.serverInstance; }},
         {tr("Last lines"), [](const Live &l) { return l.lastLines.join(u"  ·  "_s); }}},
        this);
    m_table = makeTable(u"liveCallsTable"_s, m_model, &m_proxy);
    m_note = new QLabel(this);
    m_note->setObjectName(u"liveNote"_s);
    m_note->setWordWrap(true);
    showNote(0);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_note);
    layout->addWidget(m_table, 1);
    m_poll.setInterval(ctx->postgres ? 10000 : 2000);
    connect(&m_poll, &QTimer::timeout, this, &LiveCallsPage::refresh);
    m_poll.start();
}

void LiveCallsPage::showNote(qsizetype calls)
{
    const QString how = m_ctx->postgres ? tr("Updates as calls happen (PostgreSQL notifications).")
                                        : tr("Refreshed every 2 seconds.");
    m_note->setText(calls ? tr("%n call(s) in progress. %1", nullptr, int(calls)).arg(how)
                          : tr("No call is in progress. Calls show here while they happen, with their last "
                               "lines; finished calls are in Call logs. %1")
                                .arg(how));
}

void LiveCallsPage::setPollInterval(int ms)
{
    m_poll.setInterval(ms);
}

void LiveCallsPage::refresh()
{
    if (m_inFlight || !isVisible())
        return;
    m_inFlight = true;
    m_ctx->db
        ->submit([](db::Repositories &r) -> db::DbResult<QList<Live>> {
            auto calls = r.calls.active();
            if (!calls.ok())
                return calls.error;
            QList<Live> out;
            for (const db::CallRecord &c : calls.value) {
                Live l{c, {}};
                if (!r.access.transcripts()) {
                    out << l; // agents see the call, not what is said
                    continue;
                }
                const auto t = r.calls.transcript(c.id).value;
                for (qsizetype i = std::max<qsizetype>(0, t.size() - 3); i < t.size(); ++i)
                    l.lastLines << (t[i].speaker == u"agent"_s ? u"🤖 "_s : u"📞 "_s) + t[i].text;
                out << l;
            }
            return out;
        })
        .then(this, [this](db::DbResult<QList<Live>> res) {
            const LoadDone done{this};
            m_inFlight = false;
            if (!res.ok()) {
                m_note->setText(tr("The database is not reachable."));
                return;
            }
            m_model->setRecords(res.value);
            showNote(res.value.size());
        });
}

} // namespace vaani::admin
