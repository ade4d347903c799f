#include "db/database.h"
#include "db/repositories.h"
#include "testenv.h"

#include <QJsonDocument>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTest>

using namespace vaani;
using namespace vaani::db;
using namespace Qt::StringLiterals;

// Every test runs on SQLite and on PostgreSQL (initTestCase_data), each on a fresh, migrated, seeded
// database.
class TestRepositories : public QObject
{
    Q_OBJECT
    QSqlDatabase m_db;
    std::unique_ptr<Repositories> r;
    int m_counter = 0;

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("engine");
        QTest::newRow("sqlite") << u"sqlite"_s;
        QTest::newRow("postgresql") << u"postgresql"_s;
    }

    void init()
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        const DatabaseConfig cfg = test::freshDatabase(engine, u"repo"_s, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        DbError e;
        const QString name = u"repo-%1"_s.arg(++m_counter);
        m_db = Database::open(cfg, name, &e);
        QVERIFY2(!e, qPrintable(e.message));
        e = Database::migrate(m_db);
        QVERIFY2(!e, qPrintable(e.message));
        e = Database::seedDemo(m_db);
        QVERIFY2(!e, qPrintable(e.message));
        r = std::make_unique<Repositories>(m_db);
    }

    void cleanup()
    {
        r.reset();
        const QString name = m_db.connectionName();
        m_db = QSqlDatabase();
        Database::close(name);
    }

    void demoDataLoaded()
    {
        QSqlQuery q(m_db);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM customers"_s) && q.next());
        QVERIFY(q.value(0).toInt() >= 30);
        QVERIFY(q.exec(u"SELECT COUNT(DISTINCT status) FROM orders"_s) && q.next());
        QCOMPARE(q.value(0).toInt(), 7);
        auto p = r->prompts.active();
        QVERIFY(p.ok());
        QVERIFY(p.value.greeting.startsWith(u"Namaste"_s));
        QVERIFY(p.value.instructions.contains(u"Hinglish"_s));
        // A month of call history, all in the past, on most days, with linked tickets and tool calls.
        const QString now = toDbTime(QDateTime::currentDateTimeUtc());
        const QString monthAgo = toDbTime(QDateTime::currentDateTimeUtc().addDays(-31));
        QVERIFY(q.exec(u"SELECT COUNT(*), COUNT(DISTINCT substr(started_at, 1, 10)), MIN(started_at), "
                       "MAX(ended_at), COUNT(DISTINCT outcome) FROM calls"_s) &&
                q.next());
        QVERIFY2(q.value(0).toInt() >= 200, qPrintable(q.value(0).toString()));
        QVERIFY(q.value(1).toInt() >= 25 && q.value(1).toInt() <= 30);
        QVERIFY(q.value(2).toString() > monthAgo);
        QVERIFY(q.value(3).toString() < now);
        QVERIFY(q.value(4).toInt() >= 5);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM calls c WHERE NOT EXISTS (SELECT 1 FROM transcript_entries t "
                       "WHERE t.call_id = c.id) AND c.outcome NOT IN ('rejected', 'no_stream')"_s) &&
                q.next());
        QCOMPARE(q.value(0).toInt(), 0);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM tickets t JOIN calls c ON c.id = t.call_id "
                       "WHERE t.created_at >= c.started_at AND t.created_at <= c.ended_at"_s) &&
                q.next());
        QVERIFY(q.value(0).toInt() >= 10);
        auto calls = r->calls.list(db::CallFilter{});
        QVERIFY(calls.ok());
        const auto withTools =
            std::find_if(calls.value.cbegin(), calls.value.cend(),
                         [this](const db::CallRecord &c) { return r->calls.tools(c.id).value.size() > 1; });
        QVERIFY(withTools != calls.value.cend());
        for (const db::ToolInvocation &t : r->calls.tools(withTools->id).value)
            QVERIFY2(QJsonDocument::fromJson(t.arguments.toUtf8()).isObject() &&
                         QJsonDocument::fromJson(t.result.toUtf8()).isObject(),
                     qPrintable(t.result));
        // Seeding again loses and duplicates nothing.
        auto counts = [&q] {
            QStringList n;
            for (const char *t : {"customers", "orders", "tickets", "ticket_events", "calls",
                                  "transcript_entries", "tool_invocations", "call_turns", "agent_prompts"}) {
                if (q.exec(u"SELECT COUNT(*) FROM "_s + QLatin1String(t)) && q.next())
                    n << q.value(0).toString();
            }
            return n.join(u' ');
        };
        const QString before = counts();
        QVERIFY(!Database::seedDemo(m_db));
        QCOMPARE(counts(), before);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM customers"_s) && q.next());
        QCOMPARE(q.value(0).toInt(), 36);
        QVERIFY(!Database::isEmpty(m_db));
    }

    void orderLookup_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<bool>("found");
        QTest::newRow("exact") << u"ABC123"_s << true;
        QTest::newRow("lower") << u"abc123"_s << true;
        QTest::newRow("spaced") << u"abc 123"_s << true;
        QTest::newRow("dashed spelled") << u" A-B-C 1 2 3 "_s << true;
        QTest::newRow("unknown") << u"ZZZ999"_s << false;
        QTest::newRow("injection") << u"ABC123'; DROP TABLE orders;--"_s << false;
        QTest::newRow("like wildcard") << u"%"_s << false;
        QTest::newRow("empty") << QString() << false;
    }
    void orderLookup()
    {
        QFETCH(QString, input);
        QFETCH(bool, found);
        auto o = r->orders.findByCode(input);
        QCOMPARE(o.ok(), found);
        if (found) {
            QCOMPARE(o.value.code, u"ABC123"_s);
            QCOMPARE(o.value.status, u"shipped"_s);
            QVERIFY(o.value.amountPaise > 0);
            QVERIFY(!o.value.trackingNumber.isEmpty());
            QVERIFY(o.value.placedAt.isValid());
        } else {
            QCOMPARE(o.error.kind, DbError::Kind::NotFound);
        }
        // Whatever was asked, the orders table is intact.
        QSqlQuery q(m_db);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM orders"_s) && q.next());
        QVERIFY(q.value(0).toInt() > 50);
    }

    void ordersByPhone()
    {
        for (const QString &phone :
             {u"+919876543210"_s, u"9876543210"_s, u"09876543210"_s, u"+91 98765 43210"_s}) {
            auto list = r->orders.forPhone(phone);
            QVERIFY(list.ok());
            QVERIFY2(!list.value.isEmpty(), qPrintable(phone));
            QVERIFY(std::any_of(list.value.begin(), list.value.end(),
                                [](const Order &o) { return o.code == u"ABC123"_s; }));
        }
        QVERIFY(r->orders.forPhone(u"+10000000000"_s).value.isEmpty());
        QVERIFY(r->orders.forPhone(u"anonymous"_s).value.isEmpty());
    }

    void orderStatusWorkflowAndConflicts()
    {
        auto o = r->orders.findByCode(u"ABC123"_s);
        QVERIFY(o.ok());
        auto bad = r->orders.updateStatus(o.value.id, u"placed"_s, o.value.rowVersion);
        QCOMPARE(bad.error.kind, DbError::Kind::Invalid);
        auto good = r->orders.updateStatus(o.value.id, u"out_for_delivery"_s, o.value.rowVersion);
        QVERIFY2(good.ok(), qPrintable(good.error.message));
        QCOMPARE(good.value.rowVersion, o.value.rowVersion + 1);
        // A second editor holding the old version cannot overwrite silently.
        auto stale = r->orders.updateStatus(o.value.id, u"delivered"_s, o.value.rowVersion);
        QCOMPARE(stale.error.kind, DbError::Kind::Conflict);
    }

    void ticketLifecycle()
    {
        auto o = r->orders.findByCode(u"XYZ789"_s);
        QVERIFY(o.ok());
        NewTicket nt;
        nt.orderId = o.value.id;
        nt.customerId = o.value.customerId;
        nt.category = u"Damaged_Item"_s;
        nt.priority = u"high"_s;
        nt.summary = u"Screen cracked on arrival"_s;
        nt.author = u"agent"_s;
        auto t = r->tickets.create(nt);
        QVERIFY2(t.ok(), qPrintable(t.error.message));
        QVERIFY(t.value.code.startsWith(u"TKT-"_s));
        QCOMPARE(t.value.status, u"open"_s);
        QCOMPARE(t.value.category, u"damaged_item"_s);
        QCOMPARE(t.value.orderCode, u"XYZ789"_s);
        QCOMPARE(r->tickets.findByCode(t.value.code.toLower().replace(u'-', u' ')).value.id, t.value.id);
        QCOMPARE(r->tickets.findByCode(t.value.code.mid(4)).value.id, t.value.id);

        auto bad = r->tickets.changeStatus(t.value.id, u"bogus"_s, u"meena"_s, {}, t.value.rowVersion);
        QCOMPARE(bad.error.kind, DbError::Kind::Invalid);
        auto s1 = r->tickets.changeStatus(t.value.id, u"in_progress"_s, u"meena"_s, u"looking"_s,
                                          t.value.rowVersion);
        QVERIFY2(s1.ok(), qPrintable(s1.error.message));
        auto stale = r->tickets.changeStatus(t.value.id, u"resolved"_s, u"ravi"_s, {}, t.value.rowVersion);
        QCOMPARE(stale.error.kind, DbError::Kind::Conflict);
        auto a = r->tickets.assign(t.value.id, u"Meena"_s, u"lead"_s, s1.value.rowVersion);
        QVERIFY(a.ok());
        QCOMPARE(a.value.assignee, u"Meena"_s);
        QVERIFY(r->tickets.addNote(t.value.id, u"Called customer back"_s, u"meena"_s).ok());
        QCOMPARE(r->tickets.addNote(t.value.id, u"  "_s, u"meena"_s).error.kind, DbError::Kind::Invalid);
        auto s2 = r->tickets.changeStatus(t.value.id, u"resolved"_s, u"meena"_s, {}, a.value.rowVersion);
        QVERIFY(s2.ok());
        auto h = r->tickets.history(t.value.id);
        QVERIFY(h.ok());
        QCOMPARE(h.value.size(), 5);
        QCOMPARE(h.value.at(0).kind, u"created"_s);
        QCOMPARE(h.value.at(1).toStatus, u"in_progress"_s);
        QCOMPARE(h.value.at(4).fromStatus, u"in_progress"_s);
        QCOMPARE(h.value.at(4).toStatus, u"resolved"_s);

        TicketFilter f;
        f.status = u"resolved"_s;
        auto list = r->tickets.list(f);
        QVERIFY(std::any_of(list.value.begin(), list.value.end(),
                            [&](const Ticket &x) { return x.id == t.value.id; }));
        QCOMPARE(r->tickets.create(NewTicket{}).error.kind, DbError::Kind::Invalid);
        nt.priority = u"whenever"_s;
        QCOMPARE(r->tickets.create(nt).error.kind, DbError::Kind::Invalid);
    }

    void promptVersions()
    {
        auto v1 = r->prompts.active();
        QVERIFY(v1.ok());
        AgentPrompt p = v1.value;
        p.greeting = u"Namaste! Naya greeting."_s;
        p.author = u"priya"_s;
        auto v2 = r->prompts.saveNewVersion(p);
        QVERIFY2(v2.ok(), qPrintable(v2.error.message));
        QCOMPARE(v2.value.version, v1.value.version + 1);
        QVERIFY(!v2.value.active);
        QCOMPARE(r->prompts.active().value.id, v1.value.id);
        QVERIFY(r->prompts.activate(v2.value.id).ok());
        QCOMPARE(r->prompts.active().value.greeting, u"Namaste! Naya greeting."_s);
        auto back = r->prompts.rollback();
        QVERIFY2(back.ok(), qPrintable(back.error.message));
        QCOMPARE(back.value.id, v1.value.id);
        QCOMPARE(r->prompts.active().value.id, v1.value.id);
        QCOMPARE(r->prompts.rollback().error.kind, DbError::Kind::NotFound); // v1 is the first
        QCOMPARE(r->prompts.versions(p.name).value.size(), 2);
        p.voice = u"nova"_s;
        QCOMPARE(r->prompts.saveNewVersion(p).error.kind, DbError::Kind::Invalid);
        QSqlQuery q(m_db);
        QVERIFY(q.exec(u"SELECT COUNT(*) FROM agent_prompts WHERE active = 1"_s) && q.next());
        QCOMPARE(q.value(0).toInt(), 1);
    }

    void callRecordWrittenIncrementally()
    {
        CallStart s;
        s.callSid = u"CA0123456789abcdef0123456789abcdef"_s;
        s.callerNumber = u"+919876543210"_s;
        s.calledNumber = u"+918000000000"_s;
        s.serverInstance = u"test"_s;
        auto c = r->calls.start(s);
        QVERIFY2(c.ok(), qPrintable(c.error.message));
        QCOMPARE(c.value.callerMasked, u"+********3210"_s);
        QVERIFY(c.value.customerId.has_value());
        QCOMPARE(c.value.outcome, u"in_progress"_s);
        QCOMPARE(r->calls.start(s).value.id, c.value.id); // idempotent per CallSid
        QVERIFY(r->calls.setStream(c.value.id, u"MZ1"_s, 1, 1).ok());
        QVERIFY(r->calls.addTranscript({0, c.value.id, 1, u"agent"_s, u"Namaste!"_s, 120, false, {}}).ok());
        QVERIFY(r->calls
                    .addTranscript({0, c.value.id, 2, u"caller"_s, u"Mera order ABC123 kahan hai?"_s, 2400,
                                    false, u"hi-en"_s})
                    .ok());
        QCOMPARE(r->calls.addTranscript({0, c.value.id, 2, u"caller"_s, u"dup"_s, 1, false, {}}).error.kind,
                 DbError::Kind::Constraint);
        QVERIFY(r->calls.markTruncated(c.value.id, 1).ok());
        QVERIFY(r->calls
                    .addToolInvocation({0,
                                        c.value.id,
                                        u"lookup_order"_s,
                                        u"{\"order_id\":\"ABC123\"}"_s,
                                        u"{\"status\":\"shipped\"}"_s,
                                        4,
                                        true,
                                        {},
                                        1})
                    .ok());
        // A tool call's number makes a journaled write applied twice a constraint, not a second row.
        QCOMPARE(
            r->calls.addToolInvocation({0, c.value.id, u"lookup_order"_s, {}, {}, 4, true, {}, 1}).error.kind,
            DbError::Kind::Constraint);
        QVERIFY(r->calls.addTurn({c.value.id, 1, 420, 3000}).ok());
        QVERIFY(r->calls.addTurn({c.value.id, 2, 610, 9000}).ok());
        realtime::Usage u;
        u.inputAudioTokens = 1000;
        u.outputAudioTokens = 500;
        u.inputTextTokens = 200;
        QVERIFY(r->calls.setUsage(c.value.id, u, 0.064).ok());
        // Totals, not increments: the second response's usage brings the call to twice the first; a journaled
        // write applied again changes nothing.
        u.inputAudioTokens = 2000;
        u.outputAudioTokens = 1000;
        u.inputTextTokens = 400;
        QVERIFY(r->calls.setUsage(c.value.id, u, 0.128).ok());
        QVERIFY(r->calls.setUsage(c.value.id, u, 0.128).ok());
        QCOMPARE(r->calls.active().value.size(), 1);
        QVERIFY(r->calls.end(c.value.id, {u"resolved"_s, u"caller said bye"_s, 180, {420, 610}, {}}).ok());
        QVERIFY(r->calls.updateTwilioStatus(s.callSid, u"completed"_s, 42).ok());
        auto done = r->calls.get(c.value.id);
        QCOMPARE(done.value.outcome,
                 u"resolved"_s); // Twilio's completed does not overwrite the session outcome
        QCOMPARE(done.value.twilioStatus, u"completed"_s);
        QCOMPARE(done.value.durationS.value_or(0), 42);
        QCOMPARE(done.value.audioInputTokens, 2000);
        QCOMPARE(done.value.inputTokens, 2400);
        QCOMPARE(done.value.costUsd, 0.128);
        QCOMPARE(done.value.firstAudioMs.value_or(0), 180);
        QCOMPARE(done.value.turnCount, 2);
        QCOMPARE(done.value.turnLatencyP50Ms.value_or(0), 420);
        QCOMPARE(done.value.turnLatencyP95Ms.value_or(0), 610);
        QVERIFY(done.value.endedAt.isValid());
        QCOMPARE(r->calls.transcript(c.value.id).value.size(), 2);
        QVERIFY(r->calls.transcript(c.value.id).value.at(0).truncated);
        QCOMPARE(r->calls.transcript(c.value.id).value.at(0).language, QString());
        QCOMPARE(r->calls.transcript(c.value.id).value.at(1).language, u"hi-en"_s);
        // The recording's link: set, completed, and once erased never brought back by a late write.
        QVERIFY(
            r->calls.setRecording(c.value.id, u"2026-12-06/CA1.wav"_s, u"recording"_s, std::nullopt).ok());
        QVERIFY(r->calls.setRecording(c.value.id, u"2026-12-06/CA1.wav"_s, u"complete"_s, 61234).ok());
        QCOMPARE(r->calls.get(c.value.id).value.recordingFile, u"2026-12-06/CA1.wav"_s);
        QCOMPARE(r->calls.get(c.value.id).value.recordingStatus, u"complete"_s);
        QCOMPARE(r->calls.get(c.value.id).value.recordingMs, std::optional<int>(61234));
        QCOMPARE(r->calls.tools(c.value.id).value.at(0).tool, u"lookup_order"_s);
        QCOMPARE(r->calls.turns(c.value.id).value.size(), 2);
        QVERIFY(r->calls.active().value.isEmpty());

        CallFilter f;
        f.caller = u"3210"_s;
        f.from = done.value.startedAt; // the demo history (this caller's earlier calls) ends yesterday
        QCOMPARE(r->calls.list(f).value.size(), 1);
        f.outcome = u"transferred"_s;
        QCOMPARE(r->calls.list(f).value.size(), 0);
        f.outcome.clear();
        f.from = {};
        QVERIFY(r->calls.list(f).value.size() > 1); // with the demo customer's earlier calls
        // Hung up before the stream: the status callback ends the call.
        s.callSid = u"CAffff"_s;
        auto c2 = r->calls.start(s);
        QVERIFY(r->calls.updateTwilioStatus(s.callSid, u"no-answer"_s, 0).ok());
        QCOMPARE(r->calls.get(c2.value.id).value.outcome, u"no_answer"_s);
        QCOMPARE(r->calls.updateTwilioStatus(u"CAunknown"_s, u"completed"_s, 1).error.kind,
                 DbError::Kind::NotFound);
    }

    // RETENTION_DAYS: conversations of calls older than the cutoff go (transcripts deleted, tool arguments
    // and results cleared); the calls themselves, newer conversations and everything else stay; an audit row.
    void retentionPurgesOldConversations()
    {
        auto count = [&](const QString &sql) {
            QSqlQuery q(m_db);
            return q.exec(sql) && q.next() ? q.value(0).toInt() : -1;
        };
        const QDateTime cutoff = QDateTime::currentDateTimeUtc().addDays(-10);
        const QString before = toDbTime(cutoff);
        const int oldLines =
            count(u"SELECT COUNT(*) FROM transcript_entries t JOIN calls c ON c.id = t.call_id "
                  "WHERE c.started_at < '%1'"_s.arg(before));
        const int newLines =
            count(u"SELECT COUNT(*) FROM transcript_entries t JOIN calls c ON c.id = t.call_id "
                  "WHERE c.started_at >= '%1'"_s.arg(before));
        const int calls = count(u"SELECT COUNT(*) FROM calls"_s);
        QVERIFY(oldLines > 100 && newLines > 100); // the demo month has both
        // One old and one recent call were recorded: the old recording is marked erased (its server deletes
        // the file), the recent one stays.
        const qint64 oldCall = count(u"SELECT MIN(id) FROM calls WHERE started_at < '%1'"_s.arg(before));
        const qint64 newCall = count(u"SELECT MAX(id) FROM calls WHERE started_at >= '%1'"_s.arg(before));
        QVERIFY(r->calls.setRecording(oldCall, u"2026-01-01/CAold.wav"_s, u"complete"_s, 1000).ok());
        QVERIFY(r->calls.setRecording(newCall, u"2026-12-01/CAnew.wav"_s, u"complete"_s, 1000).ok());
        const auto purged = r->privacy.purgeConversationsBefore(cutoff, u"test"_s);
        QVERIFY2(purged.ok(), qPrintable(purged.error.message));
        QCOMPARE(purged.value.transcriptLines, oldLines);
        QVERIFY(purged.value.toolCalls > 0);
        QCOMPARE(count(u"SELECT COUNT(*) FROM transcript_entries"_s), newLines);
        QCOMPARE(count(u"SELECT COUNT(*) FROM tool_invocations i JOIN calls c ON c.id = i.call_id WHERE "
                       "c.started_at < '%1' AND (i.arguments <> '' OR i.result <> '')"_s.arg(before)),
                 0);
        QCOMPARE(count(u"SELECT COUNT(*) FROM calls"_s), calls); // outcomes, costs, latencies stay
        QCOMPARE(purged.value.recordings, 1);
        QCOMPARE(r->calls.get(oldCall).value.recordingStatus, u"erased"_s);
        QCOMPARE(r->calls.get(newCall).value.recordingStatus, u"complete"_s);
        // A late write (the journal replaying 'complete') never brings an erased recording back.
        QVERIFY(r->calls.setRecording(oldCall, u"2026-01-01/CAold.wav"_s, u"complete"_s, 1000).ok());
        QCOMPARE(r->calls.get(oldCall).value.recordingStatus, u"erased"_s);
        const auto toDelete = r->calls.recordingsToDelete(r->calls.get(oldCall).value.serverInstance);
        QVERIFY(toDelete.ok() && toDelete.value.size() == 1 && toDelete.value.first().id == oldCall);
        QVERIFY(r->calls.forgetRecording(oldCall).ok());
        QVERIFY(r->calls.recordingsToDelete(r->calls.get(oldCall).value.serverInstance).value.isEmpty());
        const auto audit = r->privacy.audit();
        QVERIFY(audit.ok() && !audit.value.isEmpty());
        QCOMPARE(audit.value.first().action, u"retention_purge"_s);
        // Again: nothing left to purge, no new audit row.
        QCOMPARE(r->privacy.purgeConversationsBefore(cutoff, u"test"_s).value.transcriptLines, 0);
        QCOMPARE(r->privacy.audit().value.size(), audit.value.size());
    }

    // A caller's erasure request: everything that identifies them goes, the orders stay anonymised, an audit
    // row says what was done (without the number).
    // One call, one owner: the server with the stream claims the row; a session that never had the stream
    // ends it only while nobody has claimed it.
    void claimAndConditionalEnd()
    {
        auto start = [&](const QString &sid) {
            CallStart s;
            s.callSid = sid;
            s.callerNumber = u"+919876543210"_s;
            s.serverInstance = u"a"_s;
            return r->calls.start(s).value.id;
        };
        const qint64 claimed = start(u"CA"_s + QString(32, u'1'));
        QVERIFY(r->calls.claim(claimed, u"MZ1"_s, u"b"_s, {}, {}).ok());
        CallEnd orphan{u"no_stream"_s, u"media stream never started"_s, {}, {}, {}, true};
        const auto refused = r->calls.end(claimed, orphan);
        QVERIFY(!refused.ok() && refused.error.kind == DbError::Kind::NotFound);
        auto row = r->calls.get(claimed).value;
        QCOMPARE(row.outcome, u"in_progress"_s);
        QCOMPARE(row.serverInstance, u"b"_s);
        QCOMPARE(row.streamSid, u"MZ1"_s);
        QVERIFY(r->calls.end(claimed, {u"resolved"_s, {}, {}, {120, 240}, {}, false}).ok());
        QCOMPARE(r->calls.get(claimed).value.outcome, u"resolved"_s);
        QVERIFY(!r->calls.claim(claimed, u"MZ2"_s, u"c"_s, {}, {}).ok()); // ended: nobody claims it again

        const qint64 unclaimed = start(u"CA"_s + QString(32, u'2'));
        QVERIFY(r->calls.end(unclaimed, orphan).ok());
        QCOMPARE(r->calls.get(unclaimed).value.outcome, u"no_stream"_s);
        QCOMPARE(r->calls.get(unclaimed).value.serverInstance, u"a"_s);
    }

    // Server liveness: a beating server keeps its calls; one that stops beating has them marked
    // 'interrupted' at its last sign of life; a restart under the same name closes its earlier run's calls;
    // a live twin under the same name is left alone (and said to be one).
    void heartbeatsAndRecovery()
    {
        const QDateTime t0 = QDateTime::currentDateTimeUtc().addSecs(-60);
        auto start = [&](const QString &sid, const QString &instance) {
            CallStart s;
            s.callSid = sid;
            s.callerNumber = u"+919876543210"_s;
            s.serverInstance = instance;
            s.startedAt = t0;
            return r->calls.start(s).value.id;
        };
        const qint64 onA = start(u"CA"_s + QString(32, u'3'), u"a"_s);
        const qint64 onB = start(u"CA"_s + QString(32, u'4'), u"b"_s);
        const QDateTime aStarted = t0.addSecs(-10), bStarted = t0.addSecs(-5);
        QCOMPARE(r->calls.beat(u"a"_s, aStarted, 20000).value, QString());
        QCOMPARE(r->calls.beat(u"b"_s, bStarted, 20000).value, QString());
        QCOMPARE(r->calls.recoverOrphans(u"b"_s, bStarted, 20000).value, 0); // everyone alive
        // A twin: another process under "a" — not written, told the other's last beat.
        QVERIFY(!r->calls.beat(u"a"_s, QDateTime::currentDateTimeUtc(), 20000).value.isEmpty());
        // A stops beating: with a short staleness, B's recovery ends A's call (not B's own).
        QTest::qWait(50);
        QVERIFY(r->calls.beat(u"b"_s, bStarted, 20000).ok());
        QCOMPARE(r->calls.recoverOrphans(u"b"_s, bStarted, 30).value, 1);
        QCOMPARE(r->calls.get(onA).value.outcome, u"interrupted"_s);
        QVERIFY(r->calls.get(onA).value.endedAt.isValid());
        QCOMPARE(r->calls.get(onB).value.outcome, u"in_progress"_s);
        // B restarts (a new process start time): its earlier run's call is closed at once.
        const QDateTime bAgain = QDateTime::currentDateTimeUtc();
        QCOMPARE(r->calls.beat(u"b"_s, bAgain, 20000, true).value, QString());
        QCOMPARE(r->calls.recoverOrphans(u"b"_s, bAgain, 20000).value, 1);
        QCOMPARE(r->calls.get(onB).value.outcome, u"interrupted"_s);
        QVERIFY(r->calls.get(onB).value.endReason.contains(u"restarted"_s));
        QVERIFY(r->calls.forget(u"b"_s).ok());
    }

    void eraseCaller()
    {
        auto count = [&](const QString &sql) {
            QSqlQuery q(m_db);
            return q.exec(sql) && q.next() ? q.value(0).toInt() : -1;
        };
        const auto aarav = r->customers.findByPhone(u"+91 98765 43210"_s);
        QVERIFY(aarav.ok());
        const qint64 id = aarav.value.id;
        const int orders = count(u"SELECT COUNT(*) FROM orders WHERE customer_id = %1"_s.arg(id));
        QVERIFY(count(u"SELECT COUNT(*) FROM calls WHERE customer_id = %1"_s.arg(id)) > 0);
        const int otherLines =
            count(u"SELECT COUNT(*) FROM transcript_entries t JOIN calls c ON c.id = t.call_id "
                  "WHERE c.customer_id IS NULL OR c.customer_id <> %1"_s.arg(id));

        const auto erased = r->privacy.eraseCaller(u"09876543210"_s, u"test operator"_s);
        QVERIFY2(erased.ok(), qPrintable(erased.error.message));
        QVERIFY(erased.value.found);
        QVERIFY(erased.value.calls > 0 && erased.value.transcriptLines > 0 && erased.value.tickets > 0);

        QVERIFY(!r->customers.findByPhone(u"+919876543210"_s).ok());
        const auto anon = r->customers.get(id).value;
        QCOMPARE(anon.name, u"Erased customer"_s);
        QVERIFY(anon.email.isEmpty() && anon.city.isEmpty());
        QCOMPARE(count(u"SELECT COUNT(*) FROM orders WHERE customer_id = %1"_s.arg(id)), orders);
        QCOMPARE(count(u"SELECT COUNT(*) FROM transcript_entries t JOIN calls c ON c.id = t.call_id WHERE "
                       "c.customer_id = %1"_s.arg(id)),
                 0);
        QCOMPARE(
            count(
                u"SELECT COUNT(*) FROM tickets WHERE customer_id = %1 AND summary NOT LIKE '[erased%'"_s.arg(
                    id)),
            0);
        QCOMPARE(
            count(
                u"SELECT COUNT(*) FROM calls WHERE customer_id = %1 AND caller_masked <> 'erased'"_s.arg(id)),
            0);
        QCOMPARE(count(u"SELECT COUNT(*) FROM transcript_entries t JOIN calls c ON c.id = t.call_id "
                       "WHERE c.customer_id IS NULL OR c.customer_id <> %1"_s.arg(id)),
                 otherLines); // nobody else's
        // Nothing of the person is left in the tables that name people.
        for (const QString &table : {u"customers"_s, u"tickets"_s, u"ticket_events"_s, u"audit_log"_s}) {
            QSqlQuery q(m_db);
            QVERIFY(q.exec(u"SELECT * FROM %1"_s.arg(table)));
            while (q.next()) {
                for (int c = 0; c < q.record().count(); ++c) {
                    const QString v = q.value(c).toString();
                    QVERIFY2(!v.contains(u"9876543210"_s) && !v.contains(u"Aarav"_s),
                             qPrintable(table + u": "_s + v));
                }
            }
        }
        const auto audit = r->privacy.audit().value;
        QCOMPARE(audit.first().action, u"erase_caller"_s);
        QCOMPARE(audit.first().actor, u"test operator"_s);
        // Erasing again finds no one; a number nobody has is no error either.
        QVERIFY(!r->privacy.eraseCaller(u"+919876543210"_s, u"t"_s).value.found);
        QVERIFY(!r->privacy.eraseCaller(u"+911111111111"_s, u"t"_s).value.found);
        QVERIFY(!r->privacy.eraseCaller(u"abc"_s, u"t"_s).ok());
    }

    void customers()
    {
        auto c = r->customers.findByPhone(u"98765 43210"_s);
        QVERIFY(c.ok());
        QCOMPARE(r->customers.search(c.value.name.left(4)).value.isEmpty(), false);
        Customer edited = c.value;
        edited.city = u"Pune"_s;
        auto saved = r->customers.update(edited);
        QVERIFY2(saved.ok(), qPrintable(saved.error.message));
        QCOMPARE(saved.value.city, u"Pune"_s);
        QCOMPARE(r->customers.update(edited).error.kind, DbError::Kind::Conflict);
        Customer dup;
        dup.name = u"Dup"_s;
        dup.phone = u"+919876543210"_s;
        QCOMPARE(r->customers.create(dup).error.kind, DbError::Kind::Constraint);
        dup.phone = u"+919999900000"_s;
        QVERIFY(r->customers.create(dup).ok());
    }
};

QTEST_GUILESS_MAIN(TestRepositories)
#include "tst_repositories.moc"
