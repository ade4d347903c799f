#include "db/database.h"
#include "testenv.h"

#include <QSqlQuery>
#include <QSqlRecord>
#include <QTest>

using namespace vaani;
using namespace vaani::db;
using namespace Qt::StringLiterals;

// Golden migration test: a database at schema v1 holding data is migrated to the latest version and
// compared with the expected rows; nothing is lost, new columns get their documented values.
class TestMigrations : public QObject
{
    Q_OBJECT
    int m_counter = 0;

    QSqlDatabase openFresh(QString *name)
    {
        QFETCH_GLOBAL(QString, engine);
        QString error;
        const DatabaseConfig cfg = test::freshDatabase(engine, u"mig"_s, &error);
        if (!error.isEmpty())
            qFatal("%s", qPrintable(error));
        DbError e;
        *name = u"mig-%1"_s.arg(++m_counter);
        return Database::open(cfg, *name, &e);
    }

    static QStringList dump(QSqlDatabase &db, const QString &sql)
    {
        QStringList rows;
        QSqlQuery q(db);
        if (!q.exec(sql))
            return {q.lastError().text()};
        while (q.next()) {
            QStringList cols;
            for (int i = 0; i < q.record().count(); ++i)
                cols << (q.value(i).isNull() ? u"NULL"_s : q.value(i).toString());
            rows << cols.join(u'|');
        }
        return rows;
    }

private Q_SLOTS:
    void initTestCase_data()
    {
        QTest::addColumn<QString>("engine");
        QTest::newRow("sqlite") << u"sqlite"_s;
        QTest::newRow("postgresql") << u"postgresql"_s;
    }

    void upgradeFromV1KeepsRows()
    {
        QString name;
        QSqlDatabase db = openFresh(&name);
        QVERIFY(db.isOpen());
        QVERIFY(!Database::migrate(db, 1));
        QCOMPARE(Database::schemaVersion(db), 1);

        const QString v1Data =
            u"\n"
            "INSERT INTO customers (id, name, phone, email, city, created_at) VALUES (1, 'Asha Rao', "
            "'+919812345678', NULL, 'Pune', '2025-01-02T03:04:05.000Z');\n"
            "INSERT INTO orders (id, code, customer_id, status, items, amount_paise, placed_at, "
            "expected_delivery, delivered_at, carrier, tracking_number, updated_at) VALUES (1, 'OLD001', 1, "
            "'delivered', 'Kettle', 129900, '2025-01-03T00:00:00.000Z', NULL, '2025-01-06T00:00:00.000Z', "
            "'Delhivery', 'DL1', '2025-01-06T00:00:00.000Z');\n"
            "INSERT INTO agent_prompts (id, name, version, instructions, greeting, voice, vad_threshold, "
            "vad_prefix_padding_ms, vad_silence_duration_ms, active, author, created_at) VALUES (1, "
            "'default', 1, 'Be helpful', 'Namaste!', 'marin', 0.5, 300, 500, 1, 'ops', "
            "'2025-01-01T00:00:00.000Z');\n"
            "INSERT INTO calls (id, call_sid, caller_masked, called_number, started_at, ended_at, outcome, "
            "prompt_id, prompt_version, input_tokens, output_tokens, cost_usd) VALUES (1, 'CAold', "
            "'+********5678', '+918000000000', '2025-01-05T10:00:00.000Z', '2025-01-05T10:03:00.000Z', "
            "'resolved', 1, 1, 100, 50, 0.01);\n"
            "INSERT INTO calls (id, call_sid, caller_masked, started_at, outcome) VALUES (2, 'CAlive', "
            "'+********5678', '2025-01-05T11:00:00.000Z', 'in_progress');\n"
            "INSERT INTO tickets (id, code, order_id, customer_id, call_id, category, priority, status, "
            "summary, created_at, updated_at) VALUES (1, 'TKT-1001', 1, 1, 1, 'refund', 'high', 'open', "
            "'Refund please', '2025-01-05T10:02:00.000Z', '2025-01-05T10:02:00.000Z');\n"
            "INSERT INTO ticket_events (id, ticket_id, kind, to_status, author, created_at) VALUES (1, 1, "
            "'created', 'open', 'agent', '2025-01-05T10:02:00.000Z');\n"
            "INSERT INTO transcript_entries (id, call_id, seq, speaker, text, offset_ms) VALUES (1, 1, 1, "
            "'agent', 'Namaste!', 100);\n"
            "INSERT INTO tool_invocations (id, call_id, tool, arguments, result, duration_ms, ok, "
            "created_at) VALUES (1, 1, 'lookup_order', '{}', '{}', 3, 1, '2025-01-05T10:01:00.000Z');\n"
            ""_s;
        QVERIFY(!Database::execScript(db, v1Data));

        const QStringList before =
            dump(db, u"SELECT id, name, phone, city FROM customers ORDER BY id"_s) +
            dump(db, u"SELECT id, code, status, amount_paise FROM orders ORDER BY id"_s) +
            dump(db, u"SELECT id, call_sid, outcome, input_tokens, ended_at FROM calls ORDER BY id"_s) +
            dump(db, u"SELECT id, code, status, call_id FROM tickets ORDER BY id"_s) +
            dump(db, u"SELECT id, text FROM transcript_entries ORDER BY id"_s) +
            dump(db, u"SELECT id, tool FROM tool_invocations ORDER BY id"_s);

        const DbError e = Database::migrate(db);
        QVERIFY2(!e, qPrintable(e.message));
        QCOMPARE(Database::schemaVersion(db), Database::latestSchemaVersion());
        QVERIFY(Database::latestSchemaVersion() >= 2);

        const QStringList after =
            dump(db, u"SELECT id, name, phone, city FROM customers ORDER BY id"_s) +
            dump(db, u"SELECT id, code, status, amount_paise FROM orders ORDER BY id"_s) +
            dump(db, u"SELECT id, call_sid, outcome, input_tokens, ended_at FROM calls ORDER BY id"_s) +
            dump(db, u"SELECT id, code, status, call_id FROM tickets ORDER BY id"_s) +
            dump(db, u"SELECT id, text FROM transcript_entries ORDER BY id"_s) +
            dump(db, u"SELECT id, tool FROM tool_invocations ORDER BY id"_s);
        QCOMPARE(after, before);
        QCOMPARE(after.size(), 7);

        // New columns hold their documented values for old rows.
        QCOMPARE(dump(db, u"SELECT id, updated_at, turn_count, audio_input_tokens FROM calls ORDER BY id"_s),
                 QStringList({u"1|2025-01-05T10:03:00.000Z|0|0"_s, u"2|2025-01-05T11:00:00.000Z|0|0"_s}));
        QCOMPARE(dump(db, u"SELECT row_version FROM orders"_s), QStringList{u"1"_s});
        QCOMPARE(dump(db, u"SELECT row_version FROM tickets"_s), QStringList{u"1"_s});
        QCOMPARE(dump(db, u"SELECT truncated FROM transcript_entries"_s), QStringList{u"0"_s});
        QCOMPARE(dump(db, u"SELECT vad_idle_timeout_ms FROM agent_prompts"_s), QStringList{u"NULL"_s});
        QCOMPARE(dump(db, u"SELECT version FROM schema_migrations ORDER BY version"_s),
                 QStringList({u"1"_s, u"2"_s, u"3"_s, u"4"_s, u"5"_s, u"6"_s, u"7"_s, u"8"_s}));
        // v8: old calls were not recorded, old lines have no language tag, old prompts use the built-in
        // recording notice.
        QCOMPARE(dump(db, u"SELECT recording_file, recording_status, recording_ms FROM calls ORDER BY id"_s),
                 QStringList({u"NULL|NULL|NULL"_s, u"NULL|NULL|NULL"_s}));
        QCOMPARE(dump(db, u"SELECT language FROM transcript_entries"_s), QStringList{u"NULL"_s});
        QCOMPARE(dump(db, u"SELECT recording_notice FROM agent_prompts"_s), QStringList{u"NULL"_s});
        QCOMPARE(dump(db, u"SELECT COUNT(*) FROM audit_log"_s),
                 QStringList{u"0"_s}); // v3: an empty audit log
        // v4: the masked copy of old customers' numbers, in the form calls.caller_masked uses.
        QCOMPARE(dump(db, u"SELECT phone_masked FROM customers"_s), QStringList{u"+********5678"_s});

        // Running again applies nothing and changes nothing.
        QVERIFY(!Database::migrate(db));
        QCOMPARE(dump(db, u"SELECT COUNT(*) FROM schema_migrations"_s), QStringList{u"8"_s});
        // v5: the hash columns start empty (filled at start from the numbers, see tst_encryption).
        QCOMPARE(dump(db, u"SELECT phone_hash FROM customers"_s), QStringList{u"NULL"_s});

        // v4's audit triggers: a change writes who, what and old → new; personal data only as "changed".
        QSqlQuery q(db);
        QVERIFY(q.exec(u"UPDATE orders SET status = 'returned' WHERE code = 'OLD001'"_s));
        QVERIFY(q.exec(u"UPDATE tickets SET status = 'in_progress' WHERE code = 'TKT-1001'"_s));
        QVERIFY(q.exec(u"UPDATE customers SET name = 'Asha R.' WHERE id = 1"_s));
        QVERIFY(q.exec(u"UPDATE tickets SET row_version = row_version + 1"_s)); // nothing audited changed
        const QStringList audit = dump(db, u"SELECT action, subject, detail FROM audit_log ORDER BY id"_s);
        QCOMPARE(audit.size(), 3);
        QVERIFY2(audit[0].startsWith(u"orders.update|order OLD001|"_s) &&
                     audit[0].contains(u"\"delivered\""_s) && audit[0].contains(u"\"returned\""_s),
                 qPrintable(audit[0]));
        QVERIFY2(audit[1].startsWith(u"tickets.update|ticket TKT-1001|"_s) &&
                     audit[1].contains(u"in_progress"_s),
                 qPrintable(audit[1]));
        QVERIFY2(audit[2].startsWith(u"customers.update|customer 1|"_s) && !audit[2].contains(u"Asha"_s),
                 qPrintable(audit[2]));
        db = QSqlDatabase();
        Database::close(name);
    }

    void constraintsEnforced()
    {
        QString name;
        QSqlDatabase db = openFresh(&name);
        QVERIFY(!Database::migrate(db));
        QSqlQuery q(db);
        // Foreign keys are on (SQLite needs the pragma).
        QVERIFY(!q.exec(
            u"INSERT INTO orders (code, customer_id, status, items, amount_paise, placed_at, updated_at) "
            "VALUES ('X1', 999, 'placed', 'x', 1, 'a', 'a')"_s));
        QVERIFY(!q.exec(u"INSERT INTO customers (name, phone, created_at) VALUES ('a', '+1', 'x')"_s) ==
                false);
        QVERIFY(!q.exec(
            u"INSERT INTO orders (code, customer_id, status, items, amount_paise, placed_at, updated_at) "
            "VALUES ('X2', 1, 'teleported', 'x', 1, 'a', 'a')"_s));
        if (db.driverName() == u"QSQLITE"_s) {
            QVERIFY(q.exec(u"PRAGMA journal_mode"_s) && q.next());
            QCOMPARE(q.value(0).toString(), u"wal"_s);
            QVERIFY(q.exec(u"PRAGMA foreign_keys"_s) && q.next());
            QCOMPARE(q.value(0).toInt(), 1);
        }
        db = QSqlDatabase();
        Database::close(name);
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
