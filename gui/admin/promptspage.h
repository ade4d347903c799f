#pragma once
// Agent prompts: every version; edit and save as a new version, diff, activate, roll back.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"

namespace vaani::admin {

class PromptsPage : public AdminPage
{
    Q_OBJECT
public:
    PromptsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    bool hasUnsavedChanges() const override;
    void discardChanges() override;
    static QString diffHtml(const QString &before, const QString &after);

protected:
    bool saveChanges() override;

private:
    void load(const db::AgentPrompt &p);
    db::AgentPrompt edited() const;
    void showDiff();
    RecordModel<db::AgentPrompt> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QLineEdit *m_name;
    QPlainTextEdit *m_instructions;
    QPlainTextEdit *m_greeting;
    QLineEdit *m_recordingNotice;
    QComboBox *m_voice;
    QDoubleSpinBox *m_threshold;
    QSpinBox *m_prefix;
    QSpinBox *m_silence;
    QSpinBox *m_idle;
    QLineEdit *m_note;
    QComboBox *m_diffAgainst;
    QTextBrowser *m_diff;
    QLabel *m_message;
    db::AgentPrompt m_loaded;
    bool m_saving = false; // a new version is being saved: refreshes do not reload the editor meanwhile
};

} // namespace vaani::admin
