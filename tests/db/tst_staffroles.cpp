// Staff access control on a real PostgreSQL server: each staff member logs in as their own database user
// (SCRAM passwords over TCP), and the database — not the app — stops what their role may not do, even with
// hand-written SQL. Every change leaves an audit row written by the trigger (who, what, old → new).
#include "db/database.h"
#include "db/dbworker.h"
#include "db/repositories.h"
#include "testenv.h"

#include <QCoreApplication>
#include <QProcess>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

using namespace vaani;
using namespace vaani::db;
using namespace Qt::StringLiterals;

class TestStaffRoles : public QObject
{
    Q_OBJECT
    DatabaseConfig m_owner;
    QString m_suffix;
    QString m_password = u"correct horse battery"_s;
    int m_connections = 0;

    QString login(const QString &who) const { return who + u'_' + m_suffix; }

    // A connection as `user`; the caller closes it with Database::close(name).
    QSqlDatabase connectAs(const QString &user, const QString &password, QString *name, DbError *e)
    {
        DatabaseConfig c = m_owner;
        c.user = user;
        c.password = password;
        *name = u"staff-%1"_s.arg(++m_connections);
        return Database::open(c, *name, e);
    }

    static QString denied(QSqlDatabase &db, const QString &sql)
    {
        QSqlQuery q(db);
        if (q.exec(sql))
            return u"allowed: "_s + sql;
        const QString text = q.lastError().text();
        return text.contains(u"permission denied"_s) || text.contains(u"must be owner"_s)
                   ? QString()
                   : u"failed otherwise: "_s + text;
    }

    static QStringList column(QSqlDatabase &db, const QString &sql)
    {
        QSqlQuery q(db);
        QStringList out;
        if (!q.exec(sql))
            return {u"ERROR "_s + q.lastError().text()};
        while (q.next())
            out << q.value(0).toString();
        return out;
    }

    QStringList auditSince(qint64 id)
    {
        QString name;
        DbError e;
        QSqlDatabase db = Database::open(m_owner, u"audit-reader"_s, &e);
        QStringList out =
            column(db, u"SELECT actor || '|' || action || '|' || subject || '|' || "
                       "COALESCE(detail, '') FROM audit_log WHERE id > %1 ORDER BY id"_s.arg(id));
        db = QSqlDatabase();
        Database::close(u"audit-reader"_s);
        return out;
    }

    qint64 lastAuditId()
    {
        DbError e;
        QSqlDatabase db = Database::open(m_owner, u"audit-reader"_s, &e);
        const QStringList v = column(db, u"SELECT COALESCE(MAX(id), 0) FROM audit_log"_s);
        db = QSqlDatabase();
        Database::close(u"audit-reader"_s);
        return v.value(0).toLongLong();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        m_owner = test::freshDatabase(u"postgresql"_s, u"staff"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        m_suffix = QUuid::createUuid().toString(QUuid::Id128).left(6);
        DbError e;
        QSqlDatabase db = Database::open(m_owner, u"owner"_s, &e);
        QVERIFY2(!e, qPrintable(e.message));
        QVERIFY(!Database::migrate(db));
        QVERIFY(!Database::seedDemo(db));
        bool applied = false;
        e = Database::setupStaffRoles(db, &applied);
        QVERIFY2(!e, qPrintable(e.message));
        QVERIFY(applied);
        // Applying again (every server start) changes nothing and does not fail.
        QVERIFY(!Database::setupStaffRoles(db, &applied));
        QCOMPARE(Database::staffAccess(db).role, StaffAccess::Role::Owner);
        QVERIFY(Database::staffAccess(db).rolesInstalled);

        // The owner creates the first admin; admins create the rest (below).
        {
            StaffRepository staff(db);
            auto r = staff.save(login(u"meera"_s), u"admin"_s, m_password);
            QVERIFY2(r.ok(), qPrintable(r.error.message));
            QSqlQuery q(db);
            QVERIFY2(q.exec(u"CREATE ROLE srv_%1 LOGIN PASSWORD 'server-secret-1' IN ROLE vaani_server"_s.arg(
                         m_suffix)),
                     qPrintable(q.lastError().text()));
        }
        db = QSqlDatabase();
        Database::close(u"owner"_s);

        QString name;
        QSqlDatabase admin = connectAs(login(u"meera"_s), m_password, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        {
            StaffRepository adminStaff(admin);
            QVERIFY(adminStaff.save(login(u"asha"_s), u"agent"_s, m_password).ok());
            QVERIFY(adminStaff.save(login(u"sunil"_s), u"supervisor"_s, m_password).ok());
        }
        admin = QSqlDatabase();
        Database::close(name);
    }

    void passwordsAreChecked()
    {
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(login(u"asha"_s), u"wrong password 123"_s, &name, &e);
        QVERIFY(e);
        QVERIFY2(e.message.contains(u"password authentication failed"_s), qPrintable(e.message));
        db = QSqlDatabase();
        Database::close(name);
        db = connectAs(login(u"asha"_s), m_password, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        const StaffAccess a = Database::staffAccess(db);
        QCOMPARE(a.role, StaffAccess::Role::Agent);
        QCOMPARE(a.user, login(u"asha"_s));
        db = QSqlDatabase();
        Database::close(name);
    }

    void rolesAreRecognised()
    {
        const QList<std::pair<QString, StaffAccess::Role>> who = {
            {login(u"asha"_s), StaffAccess::Role::Agent},
            {login(u"sunil"_s), StaffAccess::Role::Supervisor},
            {login(u"meera"_s), StaffAccess::Role::Admin},
        };
        for (const auto &[user, role] : who) {
            QString name;
            DbError e;
            QSqlDatabase db = connectAs(user, m_password, &name, &e);
            QVERIFY2(!e, qPrintable(e.message));
            QCOMPARE(Database::staffAccess(db).role, role);
            db = QSqlDatabase();
            Database::close(name);
        }
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(u"srv_"_s + m_suffix, u"server-secret-1"_s, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        QCOMPARE(Database::staffAccess(db).role, StaffAccess::Role::Server);
        db = QSqlDatabase();
        Database::close(name);
    }

    void agentIsStoppedByTheDatabase()
    {
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(login(u"asha"_s), m_password, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        for (const QString &sql :
             {u"SELECT phone FROM customers"_s, u"SELECT * FROM customers"_s,
              u"SELECT id FROM customers WHERE phone = '+919876543210'"_s, u"SELECT * FROM agent_prompts"_s,
              u"UPDATE agent_prompts SET active = 1"_s,
              u"INSERT INTO agent_prompts (name, version, instructions, greeting, voice, vad_threshold, "
              "vad_prefix_padding_ms, vad_silence_duration_ms, active, author, created_at) VALUES ('x', 99, "
              "'i', "
              "'g', 'marin', 0.5, 300, 500, 1, 'a', 'now')"_s,
              u"SELECT text FROM transcript_entries"_s, u"SELECT arguments FROM tool_invocations"_s,
              u"UPDATE orders SET status = 'cancelled' WHERE code = 'ABC123'"_s, u"SELECT * FROM audit_log"_s,
              u"INSERT INTO audit_log (at, actor, action, subject) VALUES ('now', 'meera', 'x', 'y')"_s,
              u"DELETE FROM audit_log"_s, u"SELECT vaani_record_export('orders', 10)"_s,
              u"SELECT vaani_staff_save('mallory', 'admin', NULL)"_s, u"SET ROLE vaani_admin"_s,
              u"UPDATE tickets SET summary = 'x'"_s, u"DELETE FROM tickets"_s,
              u"ALTER TABLE audit_log DISABLE TRIGGER ALL"_s}) {
            const QString why = denied(db, sql);
            QVERIFY2(why.isEmpty(), qPrintable(why));
        }
        // What an agent may see: numbers masked, orders, tickets, calls.
        QCOMPARE(column(db, u"SELECT phone_masked FROM customers WHERE name = 'Aarav Sharma'"_s),
                 QStringList{u"+********3210"_s});
        auto repos = std::make_unique<Repositories>(db);
        Repositories &r = *repos;
        r.setAccess(Database::staffAccess(db));
        auto found = r.customers.search(u"3210"_s);
        QVERIFY2(found.ok(), qPrintable(found.error.message));
        QVERIFY(!found.value.isEmpty());
        for (const Customer &c : found.value)
            QVERIFY2(c.phone.contains(u"********"_s), qPrintable(c.phone));
        auto order = r.orders.findByCode(u"ABC123"_s);
        QVERIFY2(order.ok(), qPrintable(order.error.message));
        QVERIFY(!r.orders.updateStatus(order.value.id, u"cancelled"_s, order.value.rowVersion).ok());

        // Tickets are theirs to work: the change is audited with their name and old → new.
        const qint64 before = lastAuditId();
        auto ticket = r.tickets.findByCode(u"TKT-1001"_s);
        QVERIFY2(ticket.ok(), qPrintable(ticket.error.message));
        const QString from = ticket.value.status;
        const QString to = from == u"open"_s ? u"in_progress"_s : u"open"_s;
        auto changed = r.tickets.changeStatus(ticket.value.id, to, login(u"asha"_s), u"called back"_s,
                                              ticket.value.rowVersion);
        QVERIFY2(changed.ok(), qPrintable(changed.error.message));
        auto noted =
            r.tickets.addNote(ticket.value.id, u"customer prefers a call after 6 pm"_s, login(u"asha"_s));
        QVERIFY2(noted.ok(), qPrintable(noted.error.message));
        const QStringList audit = auditSince(before);
        QVERIFY2(audit.size() == 2, qPrintable(audit.join(u'\n')));
        QVERIFY2(audit[0].startsWith(login(u"asha"_s) + u"|tickets.update|ticket TKT-1001|"_s) &&
                     audit[0].contains(u"[\"%1\", \"%2\"]"_s.arg(from, to)),
                 qPrintable(audit[0]));
        // A note's text is personal data: the audit says a note was added, not what it said.
        QVERIFY2(audit[1].startsWith(login(u"asha"_s) + u"|ticket_events.insert|ticket TKT-1001|"_s) &&
                     !audit[1].contains(u"6 pm"_s),
                 qPrintable(audit[1]));
        repos.reset();
        db = QSqlDatabase();
        Database::close(name);
    }

    void supervisorDraftsButDoesNotActivate()
    {
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(login(u"sunil"_s), m_password, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        for (const QString &sql :
             {u"UPDATE agent_prompts SET active = 1"_s,
              u"INSERT INTO agent_prompts (name, version, instructions, greeting, voice, vad_threshold, "
              "vad_prefix_padding_ms, vad_silence_duration_ms, active, author, created_at) VALUES ('x', 99, "
              "'i', "
              "'g', 'marin', 0.5, 300, 500, 1, 'a', 'now')"_s,
              u"SELECT * FROM audit_log"_s, u"SELECT vaani_record_export('orders', 10)"_s,
              u"SELECT vaani_staff_save('mallory', 'admin', NULL)"_s, u"DELETE FROM orders"_s}) {
            const QString why = denied(db, sql);
            QVERIFY2(why.isEmpty(), qPrintable(why));
        }
        QCOMPARE(column(db, u"SELECT phone FROM customers WHERE name = 'Aarav Sharma'"_s),
                 QStringList{u"+919876543210"_s});
        QVERIFY(
            !column(db, u"SELECT text FROM transcript_entries LIMIT 1"_s).value(0).startsWith(u"ERROR"_s));

        auto repos = std::make_unique<Repositories>(db);
        Repositories &r = *repos;
        r.setAccess(Database::staffAccess(db));
        const qint64 before = lastAuditId();
        AgentPrompt draft = r.prompts.active().value;
        draft.note = u"warmer greeting"_s;
        draft.author = login(u"sunil"_s);
        auto saved = r.prompts.saveNewVersion(draft);
        QVERIFY2(saved.ok(), qPrintable(saved.error.message));
        QVERIFY(!saved.value.active);
        QVERIFY(!r.prompts.activate(saved.value.id).ok());
        QVERIFY(r.prompts.active().value.id != saved.value.id);

        auto order = r.orders.findByCode(u"ABC123"_s);
        QVERIFY(order.ok());
        const QString next = order.value.status == u"shipped"_s ? u"out_for_delivery"_s : u"cancelled"_s;
        auto moved = r.orders.updateStatus(order.value.id, next, order.value.rowVersion);
        QVERIFY2(moved.ok(), qPrintable(moved.error.message));

        const QStringList audit = auditSince(before);
        QVERIFY2(audit.size() == 2, qPrintable(audit.join(u'\n')));
        QVERIFY2(audit[0].startsWith(login(u"sunil"_s) + u"|agent_prompts.insert|prompt default v"_s),
                 qPrintable(audit[0]));
        QVERIFY2(audit[1].startsWith(login(u"sunil"_s) + u"|orders.update|order ABC123|"_s) &&
                     audit[1].contains(u"[\"%1\", \"%2\"]"_s.arg(order.value.status, next)),
                 qPrintable(audit[1]));
        repos.reset();
        db = QSqlDatabase();
        Database::close(name);
    }

    void adminActivatesExportsAndManagesStaff()
    {
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(login(u"meera"_s), m_password, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        auto repos = std::make_unique<Repositories>(db);
        Repositories &r = *repos;
        r.setAccess(Database::staffAccess(db));
        const auto versions = r.prompts.versions();
        QVERIFY(versions.ok());
        qint64 draft = 0;
        for (const AgentPrompt &p : versions.value)
            if (!p.active)
                draft = std::max(draft, p.id);
        QVERIFY(draft > 0);
        const qint64 before = lastAuditId();
        auto active = r.prompts.activate(draft);
        QVERIFY2(active.ok(), qPrintable(active.error.message));
        QVERIFY(r.staff.recordExport(u"orders"_s, 69).ok());
        QVERIFY(r.staff.save(login(u"ravi"_s), u"agent"_s, u"another long password"_s).ok());
        QVERIFY(r.staff.save(login(u"ravi"_s), u"supervisor"_s, {}).ok());
        QVERIFY(r.staff.setCanLogin(login(u"ravi"_s), false).ok());
        // Admins cannot reach past staff: not the owner, not the server's account, not themselves off.
        QVERIFY(!r.staff.save(m_owner.user, u"agent"_s, {}).ok());
        QVERIFY(!r.staff.save(u"srv_"_s + m_suffix, u"admin"_s, {}).ok());
        QVERIFY(!r.staff.save(u"vaani_admin"_s, u"agent"_s, {}).ok());
        QVERIFY(!r.staff.save(login(u"x"_s), u"owner"_s, m_password).ok());
        QVERIFY(!r.staff.setCanLogin(login(u"meera"_s), false).ok());
        QVERIFY(!r.staff.save(login(u"short"_s), u"agent"_s, u"short"_s).ok());
        const auto list = r.staff.list();
        QVERIFY(list.ok());
        QStringList rows;
        for (const StaffMember &m : list.value)
            if (m.login.endsWith(m_suffix))
                rows << u"%1 %2 %3"_s.arg(m.login, m.role, m.canLogin ? u"true"_s : u"false"_s);
        QCOMPARE(rows, QStringList({login(u"asha"_s) + u" agent true"_s, login(u"meera"_s) + u" admin true"_s,
                                    login(u"ravi"_s) + u" supervisor false"_s,
                                    login(u"sunil"_s) + u" supervisor true"_s}));
        const auto audit = r.privacy.audit(20);
        QVERIFY2(audit.ok(), qPrintable(audit.error.message)); // admins read the audit log

        const QStringList rowsSince = auditSince(before);
        QVERIFY2(rowsSince.size() == 6, qPrintable(rowsSince.join(u'\n')));
        QVERIFY2(rowsSince[0].contains(u"|agent_prompts.update|"_s) && rowsSince[0].contains(u"[1, 0]"_s),
                 qPrintable(rowsSince[0]));
        QVERIFY2(rowsSince[1].contains(u"|agent_prompts.update|"_s) && rowsSince[1].contains(u"[0, 1]"_s),
                 qPrintable(rowsSince[1]));
        QCOMPARE(rowsSince[2], login(u"meera"_s) + u"|export|orders|69 rows"_s);
        QVERIFY2(rowsSince[3].startsWith(login(u"meera"_s) + u"|staff.create|staff "_s + login(u"ravi"_s)),
                 qPrintable(rowsSince[3]));
        QVERIFY2(rowsSince[4].contains(u"staff.update"_s) && rowsSince[4].contains(u"unchanged"_s),
                 qPrintable(rowsSince[4]));
        QVERIFY(rowsSince[5].contains(u"staff.disable"_s));
        for (const QString &row : rowsSince)
            QVERIFY2(row.startsWith(login(u"meera"_s) + u'|'), qPrintable(row));
        repos.reset();
        db = QSqlDatabase();
        Database::close(name);

        // The disabled account cannot sign in any more.
        QSqlDatabase gone = connectAs(login(u"ravi"_s), u"another long password"_s, &name, &e);
        QVERIFY(e);
        gone = QSqlDatabase();
        Database::close(name);
    }

    void serverRoleRunsCalls()
    {
        // The server's minimal role: everything a call and the privacy jobs need, nothing of the staff's.
        QString name;
        DbError e;
        QSqlDatabase db = connectAs(u"srv_"_s + m_suffix, u"server-secret-1"_s, &name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        for (const QString &sql : {u"SELECT * FROM audit_log"_s, u"UPDATE agent_prompts SET active = 1"_s,
                                   u"UPDATE orders SET status = 'cancelled'"_s, u"DELETE FROM calls"_s,
                                   u"SELECT vaani_staff_save('mallory', 'admin', NULL)"_s}) {
            const QString why = denied(db, sql);
            QVERIFY2(why.isEmpty(), qPrintable(why));
        }
        auto repos = std::make_unique<Repositories>(db);
        Repositories &r = *repos;
        r.setAccess(Database::staffAccess(db));
        QVERIFY(!Database::migrate(db)); // up to date: nothing the role may not do
        QVERIFY(r.prompts.active().ok());
        QVERIFY(r.customers.findByPhone(u"+919876543210"_s).ok());
        CallStart start;
        start.callSid = u"CA"_s + QString(32, u'5');
        start.callerNumber = u"+919876543210"_s;
        start.startedAt = QDateTime::currentDateTimeUtc();
        auto call = r.calls.start(start);
        QVERIFY2(call.ok(), qPrintable(call.error.message));
        QVERIFY(
            r.calls
                .addTranscript({0, call.value.id, 1, u"caller"_s, u"mera order kahan hai"_s, 100, false, {}})
                .ok());
        NewTicket t;
        t.callId = call.value.id;
        t.category = u"delivery"_s;
        t.summary = u"late delivery"_s;
        t.author = u"vaani"_s;
        auto ticket = r.tickets.create(t);
        QVERIFY2(ticket.ok(), qPrintable(ticket.error.message));
        CallEnd end;
        end.outcome = u"resolved"_s;
        end.endedAt = QDateTime::currentDateTimeUtc();
        QVERIFY(r.calls.end(call.value.id, end).ok());
        auto purged =
            r.privacy.purgeConversationsBefore(QDateTime::currentDateTimeUtc().addDays(-20), u"retention"_s);
        QVERIFY2(purged.ok(), qPrintable(purged.error.message));
        QVERIFY(r.calls.beat(u"srv"_s, QDateTime::currentDateTimeUtc(), 20000).ok());
        QVERIFY(r.calls.recoverOrphans(u"srv"_s, QDateTime::currentDateTimeUtc(), 20000).ok());
        QVERIFY(r.calls.forget(u"srv"_s).ok());
        auto erased = r.privacy.eraseCaller(u"+917465355495"_s, u"vaani-server --erase-caller"_s);
        QVERIFY2(erased.ok(), qPrintable(erased.error.message));
        QVERIFY(erased.value.found);
        repos.reset();
        db = QSqlDatabase();
        Database::close(name);
    }

    // The operator's command: migrations and roles as the owner; as the server's account it only reports.
    void migrateCommand()
    {
        QString error;
        const DatabaseConfig fresh = test::freshDatabase(u"postgresql"_s, u"migratecmd"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        auto url = [&](const QString &user, const QString &password) {
            return u"postgresql://%1:%2@%3:%4/%5"_s.arg(user, password, fresh.host)
                .arg(fresh.port)
                .arg(fresh.name);
        };
        const QString server = QCoreApplication::applicationDirPath() + u"/vaani-server"_s;
        QProcess p;
        p.setProcessEnvironment(test::cleanEnvironment());
        p.start(server, {u"--migrate"_s, u"--database-url"_s, url(fresh.user, fresh.password)});
        QVERIFY(p.waitForFinished(60000));
        QString out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QVERIFY2(p.exitCode() == 0 &&
                     out.contains(u"Schema version %1"_s.arg(Database::latestSchemaVersion())) &&
                     out.contains(u"are set up"_s),
                 qPrintable(out));
        QVERIFY2(!out.contains(u':' + fresh.password + u'@'),
                 qPrintable(out)); // no password in what it prints
        p.start(server,
                {u"--migrate"_s, u"--database-url"_s, url(u"srv_"_s + m_suffix, u"server-secret-1"_s)});
        QVERIFY(p.waitForFinished(60000));
        out = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
        QVERIFY2(p.exitCode() == 0 && out.contains(u"Schema version"_s), qPrintable(out));
    }

    void workerAsServerStartsWithoutOwnerRights()
    {
        DatabaseConfig c = m_owner;
        c.user = u"srv_"_s + m_suffix;
        c.password = u"server-secret-1"_s;
        DbWorker worker(c);
        auto f = worker.initialise(false, false);
        f.waitForFinished(); // test thread: nothing else to serve
        QVERIFY2(f.result().ok(), qPrintable(f.result().error.message));
        QCOMPARE(f.result().value, Database::latestSchemaVersion());
    }
};

QTEST_GUILESS_MAIN(TestStaffRoles)
#include "tst_staffroles.moc"
