// The Agent prompts page: versions, editor, save as a new version, diff against any version, activate,
// roll back. The server reads the active version for each new call.
#include "promptspage.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace vaani::admin {

namespace {
QString describe(const db::AgentPrompt &p)
{
    return u"Greeting: "_s + p.greeting + u"\nRecording notice: "_s +
           (p.recordingNotice.isEmpty() ? u"(built-in)"_s : p.recordingNotice) + u"\nVoice: "_s + p.voice +
           u"\nVAD: threshold "_s + QString::number(p.vadThreshold) + u", prefix "_s +
           QString::number(p.vadPrefixPaddingMs) + u" ms, silence "_s +
           QString::number(p.vadSilenceDurationMs) + u" ms, idle "_s +
           (p.vadIdleTimeoutMs ? QString::number(*p.vadIdleTimeoutMs) + u" ms"_s : u"off"_s) + u"\n\n"_s +
           p.instructions;
}
} // namespace

QString PromptsPage::diffHtml(const QString &before, const QString &after)
{
    // Line diff by longest common subsequence (prompts are a few hundred lines at most).
    const QStringList a = before.split(u'\n');
    const QStringList b = after.split(u'\n');
    const qsizetype n = a.size(), m = b.size();
    QList<QList<int>> lcs(n + 1, QList<int>(m + 1, 0));
    for (qsizetype i = n - 1; i >= 0; --i)
        for (qsizetype j = m - 1; j >= 0; --j)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    QString html = u"<pre style='font-family: monospace'>"_s;
    qsizetype i = 0, j = 0;
    int changes = 0;
    auto line = [&](const QString &prefix, const QString &text, const char *color) {
        html += u"<span style='background:%1'>%2 %3</span>\n"_s.arg(QLatin1String(color), prefix,
                                                                    text.toHtmlEscaped());
    };
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j]) {
            line(u" "_s, a[i], "transparent");
            ++i;
            ++j;
        } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            line(u"+"_s, b[j++], "#c8e6c9");
            ++changes;
        } else {
            line(u"-"_s, a[i++], "#ffcdd2");
            ++changes;
        }
    }
    html += u"</pre>"_s;
    if (changes == 0)
        return QCoreApplication::translate("vaani::admin::PromptsPage", "<p>No differences.</p>");
    return html;
}

PromptsPage::PromptsPage(AdminContext *ctx, QWidget *parent)
    : AdminPage(ctx, parent)
{
    m_model = new RecordModel<db::AgentPrompt>(
        {{tr("Name"), [](const db::AgentPrompt &p) { return p.name; }},
         {tr("Version"), [](const db::AgentPrompt &p) { return p.version; },
          Qt::AlignRight | Qt::AlignVCenter},
         {tr("Active"), [](const db::AgentPrompt &p) { return p.active ? tr("● active") : QString(); }},
         {tr("Author"), [](const db::AgentPrompt &p) { return p.author; }},
         {tr("Saved"), [](const db::AgentPrompt &p) { return p.createdAt.toLocalTime(); }},
         {tr("Note"), [](const db::AgentPrompt &p) { return p.note; }}},
        this);
    m_table = makeTable(u"promptVersions"_s, m_model, &m_proxy);
    m_name = new QLineEdit(this);
    m_name->setObjectName(u"promptName"_s);
    m_greeting = new QPlainTextEdit(this);
    m_greeting->setObjectName(u"promptGreeting"_s);
    m_greeting->setMaximumHeight(60);
    m_greeting->setTabChangesFocus(true);
    m_recordingNotice = new QLineEdit(this);
    m_recordingNotice->setObjectName(u"promptRecordingNotice"_s);
    m_recordingNotice->setPlaceholderText(db::AgentPrompt::defaultRecordingNotice());
    m_recordingNotice->setToolTip(tr("Said after the greeting when the server records calls (RECORD_CALLS), "
                                     "asking the caller's consent. Empty: the built-in notice."));
    m_instructions = new QPlainTextEdit(this);
    m_instructions->setObjectName(u"promptInstructions"_s);
    m_instructions->setTabChangesFocus(true);
    m_voice = new QComboBox(this);
    m_voice->setObjectName(u"promptVoice"_s);
    m_voice->addItems(db::AgentPrompt::voices());
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setObjectName(u"vadThreshold"_s);
    m_threshold->setRange(0, 1);
    m_threshold->setSingleStep(0.05);
    m_prefix = new QSpinBox(this);
    m_prefix->setObjectName(u"vadPrefix"_s);
    m_prefix->setRange(0, 2000);
    m_prefix->setSuffix(u" ms"_s);
    m_silence = new QSpinBox(this);
    m_silence->setObjectName(u"vadSilence"_s);
    m_silence->setRange(100, 5000);
    m_silence->setSuffix(u" ms"_s);
    m_idle = new QSpinBox(this);
    m_idle->setObjectName(u"vadIdle"_s);
    m_idle->setRange(0, 30000);
    m_idle->setSingleStep(1000);
    m_idle->setSuffix(u" ms"_s);
    m_idle->setSpecialValueText(tr("off"));
    m_note = new QLineEdit(this);
    m_note->setObjectName(u"promptNote"_s);
    m_note->setPlaceholderText(tr("What changed in this version?"));
    auto *save = new QPushButton(tr("Save as &new version"), this);
    save->setObjectName(u"savePromptVersion"_s);
    auto *activate = new QPushButton(tr("&Activate selected version"), this);
    activate->setObjectName(u"activatePrompt"_s);
    auto *rollback = new QPushButton(tr("&Roll back to previous version"), this);
    rollback->setObjectName(u"rollbackPrompt"_s);
    m_diffAgainst = new QComboBox(this);
    m_diffAgainst->setObjectName(u"diffAgainst"_s);
    auto *diff = new QPushButton(tr("Show &diff"), this);
    diff->setObjectName(u"showPromptDiff"_s);
    m_diff = new QTextBrowser(this);
    m_diff->setObjectName(u"promptDiff"_s);
    m_message = makeMessageLabel(u"promptMessage"_s);
    if (!m_ctx->access.activatePrompts()) {
        // Supervisors save drafts; only admins put a version live (the database refuses the UPDATE).
        const QString why = needsRole(m_ctx->access, db::StaffAccess::Role::Admin);
        for (QPushButton *b : {activate, rollback}) {
            b->setEnabled(false);
            b->setToolTip(why);
        }
        m_message->setText(tr("Activating a version: %1").arg(why));
    }

    auto *editor = new QWidget(this);
    auto *form = new QFormLayout(editor);
    form->addRow(tr("&Name"), m_name);
    form->addRow(tr("&Greeting"), m_greeting);
    form->addRow(tr("&Recording notice"), m_recordingNotice);
    form->addRow(tr("&Instructions"), m_instructions);
    auto *vad = new QHBoxLayout;
    vad->addWidget(m_voice);
    vad->addWidget(new QLabel(tr("VAD threshold"), editor));
    vad->addWidget(m_threshold);
    vad->addWidget(new QLabel(tr("prefix"), editor));
    vad->addWidget(m_prefix);
    vad->addWidget(new QLabel(tr("silence"), editor));
    vad->addWidget(m_silence);
    vad->addWidget(new QLabel(tr("idle"), editor));
    vad->addWidget(m_idle);
    // A row label for a layout has no buddy, so Qt would show the '&': the label names the voice box.
    auto *voiceLabel = new QLabel(tr("&Voice"), editor);
    voiceLabel->setBuddy(m_voice);
    form->addRow(voiceLabel, vad);
    form->addRow(tr("N&ote"), m_note);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(save);
    buttons->addWidget(activate);
    buttons->addWidget(rollback);
    form->addRow(buttons);
    form->addRow(m_message);
    auto *diffRow = new QHBoxLayout;
    diffRow->addWidget(new QLabel(tr("Compare the editor with"), editor));
    diffRow->addWidget(m_diffAgainst, 1);
    diffRow->addWidget(diff);
    form->addRow(diffRow);
    form->addRow(m_diff);

    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(editor);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    guardSelection(
        m_table, m_proxy, [this](int row) { return m_model->at(row).id == m_loaded.id; },
        [this](int row) { load(m_model->at(row)); });
    connect(save, &QPushButton::clicked, this, &PromptsPage::saveChanges);
    connect(diff, &QPushButton::clicked, this, &PromptsPage::showDiff);
    connect(activate, &QPushButton::clicked, this, [this] {
        const QModelIndex i = m_proxy->mapToSource(m_table->currentIndex());
        if (!i.isValid())
            return;
        const qint64 id = m_model->at(i.row()).id;
        m_ctx->db->submit([id](db::Repositories &r) { return r.prompts.activate(id); })
            .then(this, [this](db::DbResult<db::AgentPrompt> res) {
                showResult(m_message, res.error,
                           tr("Version %1 is now active; the next call uses it.").arg(res.value.version));
                refresh();
            });
    });
    connect(rollback, &QPushButton::clicked, this, [this] {
        m_ctx->db->submit([](db::Repositories &r) { return r.prompts.rollback(); })
            .then(this, [this](db::DbResult<db::AgentPrompt> res) {
                showResult(m_message, res.error,
                           tr("Rolled back: version %1 is active again.").arg(res.value.version));
                refresh();
            });
    });
}

void PromptsPage::refresh()
{
    m_ctx->db->submit([](db::Repositories &r) { return r.prompts.versions(); })
        .then(this, [this](db::DbResult<QList<db::AgentPrompt>> res) {
            const LoadDone done{this};
            if (!res.ok()) {
                showResult(m_message, res.error, {});
                return;
            }
            m_model->setRecords(res.value);
            m_diffAgainst->clear();
            for (const db::AgentPrompt &p : res.value)
                m_diffAgainst->addItem(
                    tr("%1 v%2%3").arg(p.name).arg(p.version).arg(p.active ? tr(" (active)") : QString()),
                    p.id);
            // Show the active version unless the user is editing another one.
            const db::AgentPrompt *show = nullptr;
            for (const db::AgentPrompt &p : res.value) {
                if ((m_loaded.id == 0 && p.active) || p.id == m_loaded.id)
                    show = &p;
            }
            if (show && !hasUnsavedChanges() && !m_saving) // a save in flight loads its own result
                load(*show);
            for (int r = 0; r < m_proxy->rowCount(); ++r) {
                if (m_model->at(m_proxy->mapToSource(m_proxy->index(r, 0)).row()).id == m_loaded.id) {
                    QSignalBlocker block(m_table->selectionModel());
                    m_table->setCurrentIndex(m_proxy->index(r, 0));
                }
            }
        });
}

void PromptsPage::load(const db::AgentPrompt &p)
{
    m_loaded = p;
    m_name->setText(p.name);
    m_greeting->setPlainText(p.greeting);
    m_recordingNotice->setText(p.recordingNotice);
    m_instructions->setPlainText(p.instructions);
    m_voice->setCurrentText(p.voice);
    m_threshold->setValue(p.vadThreshold);
    m_prefix->setValue(p.vadPrefixPaddingMs);
    m_silence->setValue(p.vadSilenceDurationMs);
    m_idle->setValue(p.vadIdleTimeoutMs.value_or(0));
    m_note->clear();
}

db::AgentPrompt PromptsPage::edited() const
{
    db::AgentPrompt p = m_loaded;
    p.name = m_name->text().trimmed();
    p.greeting = m_greeting->toPlainText().trimmed();
    p.recordingNotice = m_recordingNotice->text().trimmed();
    p.instructions = m_instructions->toPlainText().trimmed();
    p.voice = m_voice->currentText();
    p.vadThreshold = m_threshold->value();
    p.vadPrefixPaddingMs = m_prefix->value();
    p.vadSilenceDurationMs = m_silence->value();
    p.vadIdleTimeoutMs = m_idle->value() > 0 ? std::optional<int>(m_idle->value()) : std::nullopt;
    p.note = m_note->text().trimmed();
    p.author = m_ctx->author;
    return p;
}

bool PromptsPage::hasUnsavedChanges() const
{
    if (m_loaded.id == 0)
        return false; // nothing loaded yet
    const db::AgentPrompt e = edited();
    return e.name != m_loaded.name || e.greeting != m_loaded.greeting.trimmed() ||
           e.recordingNotice != m_loaded.recordingNotice.trimmed() ||
           e.instructions != m_loaded.instructions.trimmed() || e.voice != m_loaded.voice ||
           !qFuzzyCompare(1 + e.vadThreshold, 1 + m_loaded.vadThreshold) ||
           e.vadPrefixPaddingMs != m_loaded.vadPrefixPaddingMs ||
           e.vadSilenceDurationMs != m_loaded.vadSilenceDurationMs ||
           e.vadIdleTimeoutMs != m_loaded.vadIdleTimeoutMs;
}

void PromptsPage::discardChanges()
{
    load(m_loaded);
}

bool PromptsPage::saveChanges()
{
    const db::AgentPrompt p = edited();
    if (const QString err = p.validate(); !err.isEmpty()) {
        showResult(m_message, db::DbError::make(db::DbError::Kind::Invalid, err), {});
        return false;
    }
    m_ctx->db->submit([p](db::Repositories &r) { return r.prompts.saveNewVersion(p); })
        .then(this, [this](db::DbResult<db::AgentPrompt> res) {
            m_saving = false;
            showResult(
                m_message, res.error,
                tr("Saved as version %1 (not active yet: activate it when ready).").arg(res.value.version));
            if (res.ok()) {
                load(res.value);
                refresh();
            }
        });
    m_loaded = p; // the editor now matches what is being saved
    m_saving = true;
    return true;
}

void PromptsPage::showDiff()
{
    const qint64 id = m_diffAgainst->currentData().toLongLong();
    const db::AgentPrompt current = edited();
    for (const db::AgentPrompt &p : m_model->records()) {
        if (p.id == id) {
            m_diff->setHtml(diffHtml(describe(p), describe(current)));
            return;
        }
    }
}

} // namespace vaani::admin
