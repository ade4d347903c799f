// PostgreSQL goes away for 30 seconds while 20 calls talk, and comes back: nothing the calls did is lost.
// The test runs its own PostgreSQL cluster (tests/support/pg-fixture.sh on a free port under a temporary
// directory) so that it can stop and start it, a vaani-server in process (ServerHarness) on it, the fake
// Realtime API and the Twilio simulator. Label "integration".
//   VAANI_OUTAGE_SECONDS (default 30): how long the database stays away.

#include "callregistry.h"
#include "db/dbworker.h"
#include "serverharness.h"
#include "testenv.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTest>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

class TestOutage : public QObject
{
    Q_OBJECT
    QString m_pgDir;
    QString m_url;

    bool fixture(const QString &action)
    {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(u"%1/tests/support/pg-fixture.sh"_s.arg(QStringLiteral(VAANI_SOURCE_DIR)), {action, m_pgDir});
        if (!p.waitForFinished(120000) || p.exitCode() != 0) {
            qWarning().noquote() << "pg-fixture.sh" << action << "failed:" << p.readAll();
            return false;
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_pgDir = tempDir(u"outage-pg"_s);
        QVERIFY(fixture(u"start"_s));
        QFile f(m_pgDir + u"/url"_s);
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_url = QString::fromUtf8(f.readAll()).trimmed();
        QVERIFY(m_url.startsWith(u"postgresql://"_s));
    }
    void cleanupTestCase() { fixture(u"stop"_s); }

    void postgresStoppedDuringTwentyCalls()
    {
        const int outageS = qEnvironmentVariableIsSet("VAANI_OUTAGE_SECONDS")
                                ? qEnvironmentVariableIntValue("VAANI_OUTAGE_SECONDS")
                                : 30;
        ServerHarness h;
        h.fake.greetingAudioMs = 300;
        h.fake.turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s,
                                 u"{\"order_id\":\"ABC123\"}"_s, u"Ek minute, dekh rahi hoon"_s, 300},
                        FakeTurn{u"Theek hai, dhanyavaad"_s, {}, {}, u"Aapka din shubh ho"_s, 300}};
        QVERIFY(h.start([&](ServerOptions &o) {
            o.databaseUrl = m_url + u"?connect_timeout=2"_s;
            o.seedDemoIfEmpty = false;
            o.forceDemo = true; // the orders the tool looks up
            // Half the callers wait through the 30 s outage without a word: this test is about the records,
            // so the agent's silence check (SILENCE_PROMPT_S, tested in tst_callflow) is off.
            o.settings.silencePromptMs = 0;
        }));
        const int n = 20;
        std::vector<std::unique_ptr<TwilioSimulator>> calls;
        for (int i = 0; i < n; ++i) {
            auto sim = h.newCall();
            sim->callSid = u"CA%1"_s.arg(QString::number(i).rightJustified(32, u'0'));
            sim->from = u"+9198765%1"_s.arg(10000 + i);
            sim->placeCall();
            calls.push_back(std::move(sim));
        }
        for (auto &sim : calls) {
            QTRY_COMPARE_WITH_TIMEOUT(sim->webhookStatus, 200, 10000);
            sim->openStream();
        }
        for (auto &sim : calls)
            QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 300, 15000); // the greeting

        // The database goes away (a fast shutdown: every connection is cut).
        QElapsedTimer outage;
        outage.start();
        QVERIFY(fixture(u"pause"_s));
        // Every caller asks about an order: the tool says the system is not reachable, the agent answers.
        for (auto &sim : calls)
            sim->queueCallerAudio(TwilioSimulator::loudSpeech(600));
        for (auto &sim : calls)
            QTRY_VERIFY_WITH_TIMEOUT(sim->agentBytesPlayed >= 8 * 600, 15000);
        // Not ready, and says why; the writes wait.
        QTRY_COMPARE_WITH_TIMEOUT(h.get(u"/readyz"_s).status, 503, 10000);
        const QJsonObject ready = QJsonDocument::fromJson(h.get(u"/readyz"_s).body).object();
        QCOMPARE(ready.value(u"journal"_s).toObject().value(u"database_writes"_s).toString(), u"failing"_s);
        QVERIFY(ready.value(u"journal"_s).toObject().value(u"backlog"_s).toInt() > 0);
        QVERIFY(h.metric(u"vaani_journal_backlog"_s) > 0);
        QCOMPARE(h.metric(u"vaani_journal_database_ok"_s), 0.0);
        // Half the callers say goodbye and hang up while the database is still away.
        for (int i = 0; i < n / 2; ++i) {
            calls[size_t(i)]->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            QTRY_VERIFY_WITH_TIMEOUT(calls[size_t(i)]->agentBytesPlayed >= 8 * 900, 15000);
            calls[size_t(i)]->hangUp();
        }
        QTest::qWait(int(std::max<qint64>(0, outageS * 1000 - outage.elapsed()))); // the outage's length
        QVERIFY(fixture(u"resume"_s));
        const qint64 outageMs = outage.elapsed();
        // The others finish after it.
        for (int i = n / 2; i < n; ++i) {
            calls[size_t(i)]->queueCallerAudio(TwilioSimulator::loudSpeech(600));
            QTRY_VERIFY_WITH_TIMEOUT(calls[size_t(i)]->agentBytesPlayed >= 8 * 900, 15000);
            calls[size_t(i)]->hangUp();
        }
        QTRY_COMPARE_WITH_TIMEOUT(h.server()->context()->registry->active(), 0, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(h.metric(u"vaani_journal_backlog"_s), 0.0, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(h.get(u"/readyz"_s).status, 200, 15000);
        QCOMPARE(h.metric(u"vaani_journal_rejected_total"_s), 0.0);
        QCOMPARE(h.metric(u"vaani_journal_dropped_total"_s), 0.0);
        qInfo().noquote() << u"database away for %1 ms; %2 writes applied"_s.arg(outageMs).arg(
            h.metric(u"vaani_journal_applied_total"_s));

        // Every call, exactly once and complete: the greeting, both caller lines and both answers, the tool
        // call (made while the database was away), the turns and the end.
        QString error;
        db::DbWorker db(db::DatabaseConfig::fromUrl(m_url, {}, &error));
        QList<db::CallRecord> rows;
        for (auto &sim : calls) {
            const QString sid = sim->callSid;
            auto row = db.submit([sid](db::Repositories &r) { return r.calls.findBySid(sid); }).result();
            QVERIFY2(row.ok(), qPrintable(sid + u": "_s + row.error.message));
            rows << row.value;
        }
        // (CallSid is unique in the schema: one row each.)
        for (const db::CallRecord &c : std::as_const(rows)) {
            QVERIFY2(c.outcome != u"in_progress"_s, qPrintable(c.callSid));
            QVERIFY2(c.endedAt.isValid(), qPrintable(c.callSid));
            QCOMPARE(c.streamSid.isEmpty(), false);
            QVERIFY(c.audioOutputTokens > 0);
            const qint64 id = c.id;
            const auto lines =
                db.submit([id](db::Repositories &r) { return r.calls.transcript(id); }).result();
            QStringList said;
            for (const auto &l : lines.value)
                said << l.speaker + u": "_s + l.text;
            QVERIFY2(said.size() == 5, qPrintable(c.callSid + u" "_s + said.join(u" | "_s)));
            QVERIFY2(said.contains(u"caller: Mera order ABC123 kahan hai?"_s),
                     qPrintable(said.join(u" | "_s)));
            QVERIFY2(said.contains(u"agent: Aapka din shubh ho"_s), qPrintable(said.join(u" | "_s)));
            const auto tools = db.submit([id](db::Repositories &r) { return r.calls.tools(id); }).result();
            QCOMPARE(tools.value.size(), 1);
            QCOMPARE(tools.value.first().tool, u"lookup_order"_s);
            const auto turns = db.submit([id](db::Repositories &r) { return r.calls.turns(id); }).result();
            QCOMPARE(turns.value.size(), 2);
            QCOMPARE(c.turnCount, 2);
        }
    }
};

QTEST_GUILESS_MAIN(TestOutage)
#include "tst_outage.moc"
