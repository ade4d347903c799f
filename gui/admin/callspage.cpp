// The Call logs page: search, filters, a call's detail as a conversation with tools, usage, cost and
// latency.
#include "callspage.h"

#include <QComboBox>
#include <QDir>
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
#include <algorithm>

using namespace Qt::StringLiterals;

namespace vaani::admin {

CallsPage::CallsPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::CallRecord>(
        {{tr("Started"), [](const db::CallRecord &c) { return c.startedAt.toLocalTime(); }},
         {tr("Caller"), [](const db::CallRecord &c) { return c.callerMasked; }},
         {tr("Duration"), [](const db::CallRecord &c) { return callDuration(c); }},
         {tr("Outcome"), [](const db::CallRecord &c) { return outcomeLabel(c.outcome); }},
         {tr("Turns"), [](const db::CallRecord &c) { return c.turnCount; },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Cost (USD)"), [](const db::CallRecord &c) { return QString::number(c.costUsd, 'f', 4); },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Prompt"),
          [](const db::CallRecord &c) { return c.promptVersion ? QVariant(*c.promptVersion) : QVariant(); }},
         {tr("Call SID"), [](const db::CallRecord &c) { return c.callSid; }}},
        this);
    m_from = new QDateEdit(QDate::currentDate().addDays(-30), this);
    m_from->setObjectName(u"callsFrom"_s);
    m_from->setCalendarPopup(true);
    m_to = new QDateEdit(QDate::currentDate(), this);
    m_to->setObjectName(u"callsTo"_s);
    m_to->setCalendarPopup(true);
    m_caller = new QLineEdit(this);
    m_caller->setObjectName(u"callsCaller"_s);
    m_caller->setPlaceholderText(tr("Caller's last 4 digits"));
    m_outcome = new QComboBox(this);
    m_outcome->setObjectName(u"callsOutcome"_s);
    m_outcome->addItem(tr("Any outcome"), QString());
    for (const QString &o : {u"in_progress"_s, u"resolved"_s, u"transferred"_s, u"dropped"_s, u"failed"_s,
                             u"rejected"_s, u"no_stream"_s, u"shutdown"_s, u"interrupted"_s, u"time_limit"_s})
        m_outcome->addItem(outcomeLabel(o), o);
    m_hasTicket = new QComboBox(this);
    m_hasTicket->setObjectName(u"callsHasTicket"_s);
    m_hasTicket->addItem(tr("With or without ticket"), 0);
    m_hasTicket->addItem(tr("Opened a ticket"), 1);
    m_hasTicket->addItem(tr("No ticket"), 2);
    auto *filters = new QHBoxLayout;
    filters->addWidget(new QLabel(tr("From"), this));
    filters->addWidget(m_from);
    filters->addWidget(new QLabel(tr("to"), this));
    filters->addWidget(m_to);
    filters->addWidget(m_caller);
    filters->addWidget(m_outcome);
    filters->addWidget(m_hasTicket);
    filters->addStretch();
    m_table = makeTable(u"callsTable"_s, m_model, &m_proxy);
    m_table->sortByColumn(0, Qt::DescendingOrder);

    m_summary = new QLabel(tr("Select a call."), this);
    m_summary->setObjectName(u"callSummary"_s);
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextBrowserInteraction);
    connect(m_summary, &QLabel::linkActivated, this, [this](const QString &link) {
        const QUrl url(link);
        if (url.scheme() == u"ticket"_s)
            Q_EMIT openTicket(url.path().toLongLong());
        else if (url.scheme() == u"order"_s)
            Q_EMIT openOrder(url.path());
    });
    m_transcript = new QTextBrowser(this);
    m_transcript->setObjectName(u"callTranscript"_s);
    m_transcript->setOpenLinks(false); // a line's time seeks the recording
    connect(m_transcript, &QTextBrowser::anchorClicked, this, [this](const QUrl &url) {
        if (url.scheme() == u"seek"_s)
            m_player->seek(url.path().toLongLong());
    });
    m_player = new RecordingPlayer(this);
    m_player->askExportPath = [this](QWidget *dialogParent, const QString &name) {
        return m_ctx->askSavePath ? m_ctx->askSavePath(dialogParent, name) : QString();
    };
    connect(m_player, &RecordingPlayer::positionChanged, this, &CallsPage::followPlayback);
    connect(m_player, &RecordingPlayer::loaded, this, [this] {
        if (m_ctx->access.transcripts())
            renderTranscript(); // the lines' times now seek
    });
    m_toolsModel = new RecordModel<db::ToolInvocation>(
        {{tr("Tool"), [](const db::ToolInvocation &t) { return t.tool; }},
         {tr("OK"), [](const db::ToolInvocation &t) { return t.ok ? tr("yes") : tr("no"); }},
         {tr("ms"), [](const db::ToolInvocation &t) { return t.durationMs; },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Arguments"), [](const db::ToolInvocation &t) { return t.arguments; }},
         {tr("Result"), [](const db::ToolInvocation &t) { return t.result; }}},
        this);
    QSortFilterProxyModel *toolsProxy = nullptr;
    m_tools = makeTable(u"callTools"_s, m_toolsModel, &toolsProxy);
    auto *detail = new QWidget(this);
    auto *dl = new QVBoxLayout(detail);
    dl->addWidget(m_summary);
    dl->addWidget(m_player);
    dl->addWidget(m_transcript, 3);
    dl->addWidget(m_tools, 1);
    auto *split = new QSplitter(this);
    split->addWidget(m_table);
    split->addWidget(detail);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(split, 1);

    for (QDateEdit *d : {m_from, m_to})
        connect(d, &QDateEdit::dateChanged, this, &CallsPage::refresh);
    for (QComboBox *c : {m_outcome, m_hasTicket})
        connect(c, &QComboBox::currentIndexChanged, this, &CallsPage::refresh);
    refreshWhileTyping({m_caller});
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                const QModelIndex i = m_proxy->mapToSource(current);
                if (i.isValid())
                    showDetail(m_model->at(i.row()));
            });
}

void CallsPage::refresh()
{
    db::CallFilter f;
    f.from = QDateTime(m_from->date(), QTime(0, 0));
    f.to = QDateTime(m_to->date().addDays(1), QTime(0, 0));
    f.caller = m_caller->text().trimmed();
    f.outcome = m_outcome->currentData().toString();
    const int t = m_hasTicket->currentData().toInt();
    if (t)
        f.hasTicket = t == 1;
    f.limit = 2000;
    m_ctx->db->submit([f](db::Repositories &r) { return r.calls.list(f); })
        .then(this, [this](db::DbResult<QList<db::CallRecord>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                m_summary->setText(tr("The database is not reachable."));
                return;
            }
            // A refresh keeps the call that is open (its detail is shown again), unless another is requested.
            const QModelIndex current = m_proxy->mapToSource(m_table->currentIndex());
            if (!m_pendingOpen && current.isValid())
                m_pendingOpen = m_model->at(current.row()).id;
            m_model->setRecords(res.value);
            if (m_pendingOpen) {
                for (int r = 0; r < m_proxy->rowCount(); ++r) {
                    const QModelIndex i = m_proxy->index(r, 0);
                    if (m_model->at(m_proxy->mapToSource(i).row()).id == m_pendingOpen)
                        m_table->setCurrentIndex(i);
                }
                m_pendingOpen = 0;
            }
        });
}

void CallsPage::openCall(qint64 callId)
{
    m_pendingOpen = callId;
    m_caller->clear();
    m_outcome->setCurrentIndex(0);
    m_hasTicket->setCurrentIndex(0);
    m_from->setDate(QDate(2000, 1, 1));
    m_to->setDate(QDate::currentDate());
    refresh();
}

void CallsPage::renderTranscript()
{
    QString html;
    for (qsizetype n = 0; n < m_lines.size(); ++n) {
        const db::TranscriptEntry &e = m_lines.at(n);
        const bool agent = e.speaker == u"agent"_s;
        const QString who = agent ? tr("Agent") : e.speaker == u"caller"_s ? tr("Caller") : tr("System");
        const QString style = n == m_activeLine ? u"background:#fff59d; border-left:4px solid #f9a825"_s
                              : agent           ? u"background:#e3f2fd"_s
                              : e.speaker == u"caller"_s ? u"background:#f1f8e9"_s
                                                         : u"color:gray"_s;
        // The time links to that moment of the recording.
        const QString time = m_player->hasRecording()
                                 ? u"<a href='seek:%1'>%2</a>"_s.arg(e.offsetMs).arg(callOffset(e.offsetMs))
                                 : callOffset(e.offsetMs);
        html +=
            u"<a name='line%1'></a><p style='margin:4px; %2'><b>%3</b> <span style='color:gray'>%4</span>%5%6"
            u"<br>%7</p>"_s.arg(n)
                .arg(style, who, time, e.truncated ? tr(" (interrupted)") : QString(),
                     e.language.isEmpty() ? QString()
                                          : u" <span style='color:gray'>[%1]</span>"_s.arg(e.language),
                     e.text.toHtmlEscaped());
    }
    m_transcript->setHtml(html.isEmpty() ? tr("<i>No transcript.</i>") : html);
    if (m_activeLine >= 0)
        m_transcript->scrollToAnchor(u"line%1"_s.arg(m_activeLine));
}

void CallsPage::followPlayback(qint64 ms)
{
    // The line being spoken: the last caller or agent line that began at or before this moment.
    int active = -1;
    for (qsizetype n = 0; n < m_lines.size(); ++n) {
        const db::TranscriptEntry &e = m_lines.at(n);
        if ((e.speaker == u"agent"_s || e.speaker == u"caller"_s) && e.offsetMs <= ms &&
            (active < 0 || e.offsetMs >= m_lines.at(active).offsetMs))
            active = int(n);
    }
    if (active == m_activeLine || !m_ctx->access.transcripts())
        return;
    m_activeLine = active;
    renderTranscript();
}

bool CallsPage::showRecording(const db::CallRecord &c, const QList<db::ToolInvocation> &tools,
                              const QList<db::CallTurn> &turns)
{
    if (!m_ctx->access.transcripts()) {
        m_player->showUnavailable(
            tr("Recordings: %1").arg(needsRole(m_ctx->access, db::StaffAccess::Role::Supervisor)));
        return false;
    }
    const QString status = c.recordingStatus;
    if (status.isEmpty()) {
        m_player->showUnavailable(tr("This call was not recorded."));
        return false;
    }
    if (status == u"declined"_s) {
        m_player->showUnavailable(tr("The caller declined recording: nothing was kept."));
        return false;
    }
    if (status == u"erased"_s || c.recordingFile.isEmpty()) {
        m_player->showUnavailable(tr("The recording was erased (retention period or the caller's erasure)."));
        return false;
    }
    QList<TimelineMark> marks;
    for (const db::TranscriptEntry &e : std::as_const(m_lines)) {
        if (e.speaker == u"caller"_s || e.speaker == u"agent"_s)
            marks.append({e.offsetMs,
                          e.speaker == u"caller"_s ? TimelineMark::Kind::Caller : TimelineMark::Kind::Agent,
                          (e.speaker == u"caller"_s ? tr("Caller: ") : tr("Agent: ")) + e.text.left(80)});
    }
    // Tool calls carry their time: placed against the recording's start (the call's end less its length).
    const QDateTime recordingStart =
        c.endedAt.isValid() && c.recordingMs ? c.endedAt.addMSecs(-*c.recordingMs) : c.startedAt;
    for (const db::ToolInvocation &t : tools) {
        if (t.createdAt.isValid())
            marks.append({std::max<qint64>(0, recordingStart.msecsTo(t.createdAt)), TimelineMark::Kind::Tool,
                          tr("Tool %1 (%2 ms)").arg(t.tool).arg(t.durationMs)});
    }
    for (const db::CallTurn &t : turns)
        marks.append({t.offsetMs, TimelineMark::Kind::Turn,
                      tr("Turn %1: answered in %2 ms").arg(t.seq).arg(t.latencyMs)});
    // A 'failed' one (the disk refused it) may still hold what was written before: played as far as it goes.
    m_player->load(QDir(m_ctx->recordingsDir).filePath(c.recordingFile), m_ctx->db->config().cipher, marks);
    return true;
}

void CallsPage::showDetail(const db::CallRecord &c)
{
    const qint64 id = c.id;
    struct Detail
    {
        QList<db::TranscriptEntry> transcript;
        QList<db::ToolInvocation> tools;
        QList<db::CallTurn> turns;
        QList<db::Ticket> tickets;
    };
    m_ctx->db
        ->submit([id](db::Repositories &r) -> db::DbResult<Detail> {
            Detail d;
            if (r.access.transcripts()) {
                auto t = r.calls.transcript(id);
                if (!t.ok())
                    return t.error;
                d.transcript = t.value;
                d.tools = r.calls.tools(id).value;
            }
            d.turns = r.calls.turns(id).value;
            d.tickets = r.tickets.forCall(id).value;
            return d;
        })
        .then(this, [this, c](db::DbResult<Detail> res) {
            const QModelIndex i = m_proxy->mapToSource(m_table->currentIndex());
            if (!i.isValid() || m_model->at(i.row()).id != c.id) {
                Q_EMIT detailLoaded();
                return;
            }
            // In the order things were said: each line's offset is when it began (a "haan" transcribed during
            // a long answer is listed inside it, not after it).
            m_lines = res.value.transcript;
            std::stable_sort(m_lines.begin(), m_lines.end(),
                             [](const db::TranscriptEntry &a, const db::TranscriptEntry &b) {
                                 return a.offsetMs < b.offsetMs;
                             });
            m_activeLine = -1;
            if (!m_ctx->access.transcripts())
                m_transcript->setHtml(
                    u"<i>%1</i>"_s.arg(tr("Transcripts and tool calls: %1")
                                           .arg(needsRole(m_ctx->access, db::StaffAccess::Role::Supervisor))
                                           .toHtmlEscaped()));
            else
                renderTranscript();
            // The detail has loaded once its recording has (or there is none).
            if (showRecording(c, res.value.tools, res.value.turns))
                connect(
                    m_player, &RecordingPlayer::loaded, this, [this] { Q_EMIT detailLoaded(); },
                    Qt::SingleShotConnection);
            else
                Q_EMIT detailLoaded();
            m_toolsModel->setRecords(res.value.tools);
            QStringList links;
            for (const db::Ticket &t : res.value.tickets)
                links << u"<a href='ticket:%1'>%2</a>"_s.arg(t.id).arg(t.code);
            QSet<QString> orders;
            for (const db::ToolInvocation &t : res.value.tools) {
                const QJsonObject args = QJsonDocument::fromJson(t.arguments.toUtf8()).object();
                const QString code = args.value(u"order_id"_s).toString().remove(u' ').toUpper();
                if (!code.isEmpty() && !orders.contains(code)) {
                    orders.insert(code);
                    links << u"<a href='order:%1'>%1</a>"_s.arg(code.toHtmlEscaped());
                }
            }
            QStringList turns;
            for (const db::CallTurn &t : res.value.turns)
                turns << QString::number(t.latencyMs);
            m_summary->setText(
                tr("<b>%1</b> · %2 · %3<br>Tokens in %4 (audio %5), out %6 (audio %7) · cost $%8<br>"
                   "First greeting audio: %9 ms · turn latency median %10 ms, p95 %11 ms · per turn: "
                   "%12<br>%13")
                    .arg(c.callerMasked, outcomeLabel(c.outcome),
                         c.startedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm"_s))
                    .arg(c.inputTokens)
                    .arg(c.audioInputTokens)
                    .arg(c.outputTokens)
                    .arg(c.audioOutputTokens)
                    .arg(c.costUsd, 0, 'f', 4)
                    .arg(c.firstAudioMs ? QString::number(*c.firstAudioMs) : u"–"_s)
                    .arg(c.turnLatencyP50Ms ? QString::number(*c.turnLatencyP50Ms) : u"–"_s)
                    .arg(c.turnLatencyP95Ms ? QString::number(*c.turnLatencyP95Ms) : u"–"_s)
                    .arg(turns.isEmpty() ? u"–"_s : turns.join(u", "_s))
                    .arg(links.isEmpty() ? QString() : tr("Linked: %1").arg(links.join(u" · "_s))));
        });
}

} // namespace vaani::admin
