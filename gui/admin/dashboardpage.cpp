// The dashboard: calls per day by outcome, greeting and turn latency (median, p95), cost per day and per
// call, open tickets by priority, over a date range.
#include "dashboardpage.h"

#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPieSeries>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStackedBarSeries>
#include <QTableView>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
int pct(QList<int> v, double p)
{
    if (v.isEmpty())
        return 0;
    std::sort(v.begin(), v.end());
    return v.at(std::clamp<qsizetype>(qsizetype(std::ceil(p * double(v.size()))) - 1, 0, v.size() - 1));
}

// A table cell for a measurement: blank on a day that has none (no calls is not "0 ms").
QVariant measured(const QList<int> &v, double p)
{
    return v.isEmpty() ? QVariant() : QVariant(pct(v, p));
}

QString msOrDash(const QList<int> &v, double p)
{
    return v.isEmpty() ? u"–"_s : QString::number(pct(v, p));
}

// The x axis of every chart: day i of the range at x = i, labelled with its date ("29 Nov"); on long
// ranges only every k-th day (about six labels) so the labels fit.
QCategoryAxis *dateAxis(const QList<DashboardPage::Day> &days)
{
    auto *x = new QCategoryAxis;
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    x->setRange(-0.5, double(days.size()) - 0.5);
    const qsizetype every = std::max<qsizetype>(1, (days.size() + 5) / 6);
    for (qsizetype i = 0; i < days.size(); i += every)
        x->append(QLocale().toString(days.at(i).date, u"d MMM"_s), double(i));
    x->setGridLineVisible(false);
    return x;
}

QChartView *chartView(const QString &name, QWidget *parent)
{
    auto *v = new QChartView(new QChart, parent);
    v->setObjectName(name);
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumHeight(220);
    v->chart()->legend()->setAlignment(Qt::AlignBottom);
    return v;
}
} // namespace

QList<DashboardPage::Day> DashboardPage::aggregate(const QList<db::CallRecord> &calls, QDate from, QDate to)
{
    QList<Day> days;
    for (QDate d = from; d <= to; d = d.addDays(1)) {
        Day day;
        day.date = d;
        days.append(day);
    }
    for (const db::CallRecord &c : calls) {
        const qint64 idx = from.daysTo(c.startedAt.toLocalTime().date());
        if (idx < 0 || idx >= days.size())
            continue;
        Day &d = days[idx];
        ++d.calls;
        if (c.outcome == u"resolved"_s)
            ++d.resolved;
        else if (c.outcome == u"transferred"_s)
            ++d.transferred;
        else if (c.outcome == u"dropped"_s)
            ++d.dropped;
        else
            ++d.other;
        d.cost += c.costUsd;
        if (c.firstAudioMs)
            d.firstAudio << *c.firstAudioMs;
        if (c.turnLatencyP50Ms)
            d.turnP50 << *c.turnLatencyP50Ms;
        if (c.turnLatencyP95Ms)
            d.turnP95 << *c.turnLatencyP95Ms;
    }
    return days;
}

DashboardPage::DashboardPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_from = new QDateEdit(QDate::currentDate().addDays(-29), this);
    m_from->setObjectName(u"dashFrom"_s);
    m_from->setCalendarPopup(true);
    m_to = new QDateEdit(QDate::currentDate(), this);
    m_to->setObjectName(u"dashTo"_s);
    m_to->setCalendarPopup(true);
    auto *range = new QHBoxLayout;
    range->addWidget(new QLabel(tr("From"), this));
    range->addWidget(m_from);
    range->addWidget(new QLabel(tr("to"), this));
    range->addWidget(m_to);
    for (const auto &[label, days] :
         {std::pair{tr("7 days"), 6}, std::pair{tr("30 days"), 29}, std::pair{tr("90 days"), 89}}) {
        auto *b = new QPushButton(label, this);
        connect(b, &QPushButton::clicked, this, [this, d = days] {
            m_to->setDate(QDate::currentDate());
            m_from->setDate(QDate::currentDate().addDays(-d));
        });
        range->addWidget(b);
    }
    range->addStretch();
    m_totals = new QLabel(this);
    m_totals->setObjectName(u"dashTotals"_s);
    m_totals->setWordWrap(true);
    m_callsChart = chartView(u"callsChart"_s, this);
    m_latencyChart = chartView(u"latencyChart"_s, this);
    m_costChart = chartView(u"costChart"_s, this);
    m_ticketsChart = chartView(u"ticketsChart"_s, this);
    m_model = new RecordModel<Day>(
        {{tr("Day"), [](const Day &d) { return d.date; }},
         {tr("Calls"), [](const Day &d) { return d.calls; }, Qt::AlignRight | Qt::AlignVCenter},
         {tr("Resolved"), [](const Day &d) { return d.resolved; }, Qt::AlignRight | Qt::AlignVCenter},
         {tr("Transferred"), [](const Day &d) { return d.transferred; }, Qt::AlignRight | Qt::AlignVCenter},
         {tr("Dropped"), [](const Day &d) { return d.dropped; }, Qt::AlignRight | Qt::AlignVCenter},
         {tr("Greeting ms (median)"), [](const Day &d) { return measured(d.firstAudio, 0.5); },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Turn ms (median)"), [](const Day &d) { return measured(d.turnP50, 0.5); },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Turn ms (p95)"), [](const Day &d) { return measured(d.turnP95, 0.95); },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Cost (USD)"),
          [](const Day &d) { return d.calls ? QVariant(QString::number(d.cost, 'f', 2)) : QVariant(); },
          Qt::AlignRight | Qt::AlignVCenter}},
        this);
    m_table = makeTable(u"dashTable"_s, m_model, &m_proxy);
    m_table->setMaximumHeight(180);
    auto *grid = new QGridLayout;
    grid->addWidget(m_callsChart, 0, 0);
    grid->addWidget(m_latencyChart, 0, 1);
    grid->addWidget(m_costChart, 1, 0);
    grid->addWidget(m_ticketsChart, 1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(range);
    layout->addWidget(m_totals);
    layout->addLayout(grid, 1);
    layout->addWidget(m_table);
    for (QDateEdit *d : {m_from, m_to})
        connect(d, &QDateEdit::dateChanged, this, &DashboardPage::refresh);
}

void DashboardPage::refresh()
{
    const QDate from = std::min(m_from->date(), m_to->date());
    const QDate to = std::max(m_from->date(), m_to->date());
    struct Data
    {
        QList<db::CallRecord> calls;
        QList<db::Ticket> openTickets;
    };
    db::CallFilter f;
    f.from = QDateTime(from, QTime(0, 0));
    f.to = QDateTime(to.addDays(1), QTime(0, 0));
    f.limit = 200000;
    m_ctx->db
        ->submit([f](db::Repositories &r) -> db::DbResult<Data> {
            auto calls = r.calls.list(f);
            if (!calls.ok())
                return calls.error;
            Data d{calls.value, {}};
            db::TicketFilter open;
            open.limit = 100000;
            for (const db::Ticket &t : r.tickets.list(open).value) {
                if (t.status == u"open"_s || t.status == u"in_progress"_s)
                    d.openTickets << t;
            }
            return d;
        })
        .then(this, [this, from, to](db::DbResult<Data> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                m_totals->setText(tr("The database is not reachable."));
                return;
            }
            const QList<Day> days = aggregate(res.value.calls, from, to);
            m_model->setRecords(days);
            int calls = 0, resolved = 0, transferred = 0, dropped = 0;
            double cost = 0;
            QList<int> greet, turn50, turn95;
            auto *setResolved = new QBarSet(tr("Resolved by the agent"));
            auto *setTransferred = new QBarSet(tr("Transferred"));
            auto *setDropped = new QBarSet(tr("Dropped"));
            auto *setOther = new QBarSet(tr("Other"));
            auto *costSet = new QBarSet(tr("Cost per day (USD)"));
            // Latency lines with a gap on days without calls: one series per run of days with data, the
            // runs of one measurement drawn alike and named once in the legend.
            struct Line
            {
                QString name;
                QList<int> Day::*values;
                double p;
                QList<QLineSeries *> runs;
            };
            QList<Line> lines = {{tr("First greeting (median ms)"), &Day::firstAudio, 0.5, {}},
                                 {tr("Turn latency (median ms)"), &Day::turnP50, 0.5, {}},
                                 {tr("Turn latency (p95 ms)"), &Day::turnP95, 0.95, {}}};
            double maxLatency = 100;
            for (int i = 0; i < days.size(); ++i) {
                const Day &d = days.at(i);
                *setResolved << d.resolved;
                *setTransferred << d.transferred;
                *setDropped << d.dropped;
                *setOther << d.other;
                *costSet << d.cost;
                for (Line &l : lines) {
                    const QList<int> &v = d.*(l.values);
                    if (v.isEmpty())
                        continue;
                    if (l.runs.isEmpty() || (days.at(i - 1).*(l.values)).isEmpty()) {
                        auto *run = new QLineSeries;
                        run->setName(l.name);
                        run->setPointsVisible(true);
                        l.runs << run;
                    }
                    l.runs.last()->append(i, pct(v, l.p));
                    maxLatency = std::max(maxLatency, double(pct(v, l.p)));
                }
                calls += d.calls;
                resolved += d.resolved;
                transferred += d.transferred;
                dropped += d.dropped;
                cost += d.cost;
                greet += d.firstAudio;
                turn50 += d.turnP50;
                turn95 += d.turnP95;
            }
            auto share = [calls](int n) {
                return calls ? QString::number(100.0 * n / calls, 'f', 0) + u'%' : u"–"_s;
            };
            m_totals->setText(
                tr("<b>%1 calls</b> · resolved by the agent %2 · transferred %3 · dropped %4 · "
                   "first greeting median %5 ms · turn latency median %6 ms, p95 %7 ms · cost $%8 "
                   "($%9 per call) · open tickets %10")
                    .arg(calls)
                    .arg(share(resolved), share(transferred), share(dropped))
                    .arg(msOrDash(greet, 0.5), msOrDash(turn50, 0.5), msOrDash(turn95, 0.95))
                    .arg(cost, 0, 'f', 2)
                    .arg(calls ? cost / calls : 0.0, 0, 'f', 3)
                    .arg(res.value.openTickets.size()));

            auto reset = [](QChartView *v, const QString &title) {
                QChart *c = v->chart();
                c->removeAllSeries();
                for (QAbstractAxis *a : c->axes())
                    c->removeAxis(a);
                c->setTitle(title);
                return c;
            };
            auto categoryAxis = [&days](QChart *c, QAbstractSeries *s) {
                auto *x = dateAxis(days);
                c->addAxis(x, Qt::AlignBottom);
                s->attachAxis(x);
            };
            QChart *c1 = reset(m_callsChart, tr("Calls per day"));
            auto *stacked = new QStackedBarSeries;
            stacked->append({setResolved, setTransferred, setDropped, setOther});
            c1->addSeries(stacked);
            categoryAxis(c1, stacked);
            auto *y1 = new QValueAxis;
            int busiest = 1;
            for (const Day &d : days)
                busiest = std::max(busiest, d.calls);
            const int step = std::max(1, (busiest + 4) / 5);
            y1->setRange(0, ((busiest + step - 1) / step) * step);
            y1->setTickCount(((busiest + step - 1) / step) + 1);
            y1->setLabelFormat(u"%d"_s);
            c1->addAxis(y1, Qt::AlignLeft);
            stacked->attachAxis(y1);

            QChart *c2 = reset(m_latencyChart, tr("Latency"));
            auto *x2 = dateAxis(days);
            auto *y2 = new QValueAxis;
            // At most four steps: a small chart has room for five labels (less with a Devanagari font).
            double msStep = 100;
            for (double candidate : {100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0}) {
                msStep = candidate;
                if (maxLatency * 1.1 <= 4 * candidate)
                    break;
            }
            const double ceiling = std::ceil(maxLatency * 1.1 / msStep) * msStep;
            y2->setRange(0, ceiling);
            y2->setTickCount(int(ceiling / msStep) + 1);
            y2->setLabelFormat(u"%d"_s);
            c2->addAxis(x2, Qt::AlignBottom);
            c2->addAxis(y2, Qt::AlignLeft);
            for (const Line &l : lines) {
                for (QLineSeries *s : l.runs) {
                    c2->addSeries(s);
                    s->attachAxis(x2);
                    s->attachAxis(y2);
                    if (s != l.runs.first()) {
                        s->setPen(l.runs.first()->pen());
                        for (QLegendMarker *m : c2->legend()->markers(s))
                            m->setVisible(false);
                    }
                }
            }

            QChart *c3 = reset(m_costChart, tr("Cost per day (USD)"));
            auto *costSeries = new QBarSeries;
            costSeries->append(costSet);
            c3->addSeries(costSeries);
            categoryAxis(c3, costSeries);
            auto *y3 = new QValueAxis;
            c3->addAxis(y3, Qt::AlignLeft);
            costSeries->attachAxis(y3);

            QChart *c4 = reset(m_ticketsChart, tr("Open tickets by priority"));
            auto *pie = new QPieSeries;
            for (const QString &p : db::Ticket::priorities()) {
                const auto n = std::count_if(res.value.openTickets.begin(), res.value.openTickets.end(),
                                             [&p](const db::Ticket &t) { return t.priority == p; });
                if (n > 0)
                    pie->append(u"%1 (%2)"_s.arg(priorityLabel(p)).arg(n), double(n)); // named in the legend
            }
            c4->addSeries(pie);
        });
}

} // namespace vaani::admin
