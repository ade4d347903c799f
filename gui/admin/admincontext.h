#pragma once
// What every page of vaani-admin shares: the database worker (all queries run on its thread; pages get
// results by QFuture continuations, so the window never waits on the database), the signed-in staff name used
// as author of edits, and how to ask the user a question (replaceable by tests).

#include "db/dbworker.h"

#include <QMessageBox>
#include <QString>

#include <functional>

namespace vaani::admin {

struct AdminContext
{
    db::DbWorker *db = nullptr;
    QString author;
    bool postgres = false;
    // Who is signed in and what their staff role allows (PostgreSQL enforces it; the pages hide or disable
    // what it would refuse and say why). SQLite: the file's owner, who may do everything.
    db::StaffAccess access;
    // Save / Discard / Cancel for unsaved changes. Tests replace it.
    std::function<QMessageBox::StandardButton(QWidget *parent, const QString &question)> askUnsaved;
    // Information and errors for the user. Tests replace it to collect messages.
    std::function<void(QWidget *parent, const QString &message)> tell;
    // Where call recordings are (RECORDINGS_DIR, as the servers write them; default <data dir>/recordings).
    QString recordingsDir;
    // Where to save an exported recording (a file dialog; tests replace it). Empty: cancelled.
    std::function<QString(QWidget *parent, const QString &suggestedName)> askSavePath;
};

// The translated name of a staff role, and why a control is off: "Needs the supervisor role (you are signed
// in as an agent)."
QString roleLabel(const db::StaffAccess &access);
QString needsRole(const db::StaffAccess &access, db::StaffAccess::Role needed);

} // namespace vaani::admin
