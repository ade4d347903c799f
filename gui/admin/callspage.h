#pragma once
// Call logs: search and filters; a call's detail as a conversation with tools, usage, cost and latency.
// Threads: the GUI thread only. Database work goes to the DbWorker thread (AdminContext::db) and its answers
// come back as queued continuations on this page; the page owns its widgets and models (Qt parent chain), the
// main window owns the page.

#include "adminpage.h"
#include "recordingplayer.h"

namespace vaani::admin {

class CallsPage : public AdminPage
{
    Q_OBJECT
public:
    CallsPage(AdminContext *ctx, QWidget *parent = nullptr);
    void refresh() override;
    QTableView *exportView() const override { return m_table; }
    void openCall(qint64 callId);
    RecordingPlayer *player() const { return m_player; }
    int activeLine() const { return m_activeLine; } // the transcript line being played (-1: none)

Q_SIGNALS:
    void openTicket(qint64 ticketId);
    void openOrder(const QString &code);

private:
    void showDetail(const db::CallRecord &c);
    // Loads the call's recording into the player (true: loading; `loaded` follows) or says why there is none.
    bool showRecording(const db::CallRecord &c, const QList<db::ToolInvocation> &tools,
                       const QList<db::CallTurn> &turns);
    void renderTranscript();
    void followPlayback(qint64 ms);
    RecordingPlayer *m_player;
    QList<db::TranscriptEntry> m_lines;
    int m_activeLine = -1;
    RecordModel<db::CallRecord> *m_model;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table;
    QDateEdit *m_from;
    QDateEdit *m_to;
    QLineEdit *m_caller;
    QComboBox *m_outcome;
    QComboBox *m_hasTicket;
    QLabel *m_summary;
    QTextBrowser *m_transcript;
    QTableView *m_tools;
    RecordModel<db::ToolInvocation> *m_toolsModel;
    qint64 m_pendingOpen = 0;
};

} // namespace vaani::admin
