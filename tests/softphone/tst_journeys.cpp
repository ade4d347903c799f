// Issue #18, scripted journeys: each resources/softphone/journey-*.txt runs with the real vaani-softphone
// (headless, espeak-ng's voice) against a real server on a fresh SQLite database with the demo data and the
// fake Realtime API, then the call record is checked against the script's `#: expect` lines (see
// resources/softphone/README.md): order status, a new ticket, a transfer, backchannels, silence, an
// interruption and a hostile caller.
#include "espeakvoice.h"
#include "serverharness.h"
#include "testenv.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

using namespace vaani;
using namespace vaani::test;
using namespace Qt::StringLiterals;

namespace {
struct Expectation
{
    QString kind; // outcome, tool, no-tool, ticket, line, no-line, metric
    QStringList args;
    int line = 0;
};

struct Journey
{
    QString caller = u"+919876543210"_s;
    int greetingMs = -1;
    int silenceS = -1;
    QList<FakeTurn> turns;
    QStringList says;
    QList<Expectation> expects;
};

int spokenMs(const QString &text)
{
    return std::max(800, int(text.size()) * 60); // about espeak-ng's pace
}

// `#:` lines configure the fake and say what to expect; `say` lines are what the fake hears, in order.
std::optional<Journey> parseJourney(const QString &text, QString *error)
{
    Journey j;
    int lineNo = 0;
    static const QRegularExpression toolRe(u"^(\\S+)\\s+(\\{.*\\})\\s+then\\s+(.+)$"_s);
    static const QRegularExpression sayThenToolRe(u"^(.+?)\\s+then\\s+(\\S+)\\s+(\\{.*\\})$"_s);
    for (const QString &raw : text.split(u'\n')) {
        ++lineNo;
        const QString line = raw.trimmed();
        if (line.startsWith(u"say "_s)) {
            j.says << line.mid(4).trimmed();
            continue;
        }
        if (!line.startsWith(u"#:"_s))
            continue;
        const QString body = line.mid(2).trimmed();
        const QString cmd = body.section(u' ', 0, 0);
        const QString rest = body.section(u' ', 1).trimmed();
        bool ok = !rest.isEmpty();
        if (cmd == u"caller"_s) {
            j.caller = rest;
        } else if (cmd == u"greeting-ms"_s) {
            j.greetingMs = rest.toInt(&ok);
        } else if (cmd == u"silence-s"_s) {
            j.silenceS = rest.toInt(&ok);
        } else if (cmd == u"agent"_s) {
            j.turns << FakeTurn{{}, {}, {}, rest, spokenMs(rest), false};
        } else if (cmd == u"tool"_s) {
            const auto m = toolRe.match(rest);
            ok = m.hasMatch();
            if (ok)
                j.turns << FakeTurn{{}, m.captured(1), m.captured(2), m.captured(3), 2500, false};
        } else if (cmd == u"say-then-tool"_s) {
            const auto m = sayThenToolRe.match(rest);
            ok = m.hasMatch();
            if (ok)
                j.turns << FakeTurn{{},  m.captured(2), m.captured(3), m.captured(1), spokenMs(m.captured(1)),
                                    true};
        } else if (cmd == u"expect"_s) {
            const QString kind = rest.section(u' ', 0, 0);
            static const QStringList kinds = {u"outcome"_s, u"tool"_s,    u"no-tool"_s, u"ticket"_s,
                                              u"line"_s,    u"no-line"_s, u"metric"_s};
            ok = kinds.contains(kind);
            QStringList args;
            const QString what = rest.section(u' ', 1).trimmed();
            if (kind == u"line"_s || kind == u"no-line"_s)
                args = {what.section(u' ', 0, 0), what.section(u' ', 1).trimmed()};
            else if (kind == u"tool"_s)
                args = {what.section(u' ', 0, 0), what.section(u' ', 1, 1), what.section(u' ', 2).trimmed()};
            else
                args = what.split(u' ', Qt::SkipEmptyParts);
            ok = ok && !args.isEmpty() && !args.first().isEmpty();
            j.expects << Expectation{kind, args, lineNo};
        } else {
            ok = false;
        }
        if (!ok) {
            *error = u"line %1: cannot read '%2'"_s.arg(lineNo).arg(line);
            return std::nullopt;
        }
    }
    if (j.expects.isEmpty()) {
        *error = u"no #: expect line"_s;
        return std::nullopt;
    }
    return j;
}
} // namespace

class TestJourneys : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        if (!EspeakVoice::available())
            QFAIL("espeak-ng is required (scripts/vaani installs it)");
    }

    void journey_data()
    {
        QTest::addColumn<QString>("path");
        const QDir dir(QStringLiteral(VAANI_SOURCE_DIR "/resources/softphone"));
        const QStringList files = dir.entryList({u"journey-*.txt"_s}, QDir::Files, QDir::Name);
        QVERIFY2(files.size() >= 7, qPrintable(files.join(u", "_s)));
        for (const QString &f : files)
            QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }

    void journey()
    {
        QFETCH(QString, path);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QString error;
        const auto j = parseJourney(QString::fromUtf8(file.readAll()), &error);
        QVERIFY2(j, qPrintable(error));

        ServerHarness h;
        h.fake.turns = j->turns;
        h.fake.utterances = j->says;
        h.fake.sayOutput = &FakeRealtimeServer::hinglishToolAnswer;
        if (j->greetingMs > 0)
            h.fake.greetingAudioMs = j->greetingMs;
        QVERIFY(h.start([&j](ServerOptions &o) {
            o.settings.humanAgentNumber = u"+911140000000"_s;
            o.settings.maxCallsPerCaller = 3;
            if (j->silenceS >= 0)
                o.settings.silencePromptMs = j->silenceS * 1000;
        }));
        QProcess phone;
        phone.setProgram(QCoreApplication::applicationDirPath() + u"/vaani-softphone"_s);
        phone.setArguments({u"--server-url"_s, h.baseUrl(), u"--twilio-auth-token"_s,
                            h.options.settings.twilioAuthToken, u"--twilio-account-sid"_s,
                            QString::fromLatin1(ServerHarness::kAccountSid), u"--caller"_s, j->caller,
                            u"--script"_s, path});
        phone.setProcessEnvironment(cleanEnvironment());
        phone.setProcessChannelMode(QProcess::MergedChannels);
        phone.start();
        QVERIFY(phone.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(phone.state() == QProcess::NotRunning, 150000);
        QStringList log;
        for (const QString &l : QString::fromUtf8(phone.readAll()).split(u'\n'))
            if (!l.contains(u" mark "_s) && !l.contains(u" media "_s))
                log << l;
        QVERIFY2(phone.exitCode() == 0, qPrintable(log.join(u'\n')));

        // The call's record, once it has ended.
        db::CallRecord call;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const auto calls = h.repos().calls.list({}).value;
                for (const db::CallRecord &c : calls)
                    if (c.serverInstance == u"test"_s && c.endedAt.isValid())
                        call = c;
                return call.id > 0;
            }(),
            10000);
        const auto lines = h.repos().calls.transcript(call.id).value;
        const auto tools = h.repos().calls.tools(call.id).value;
        const auto tickets = h.repos().tickets.forCall(call.id).value;
        QStringList said;
        for (const auto &l : lines)
            said << l.speaker + u": "_s + l.text;
        for (const auto &t : tools)
            said << u"tool "_s + t.tool + u' ' + t.arguments + u" -> "_s + t.result;
        said << u"outcome "_s + call.outcome + u" (" + call.endReason + u')';
        const QString record = said.join(u'\n');
        for (const Expectation &e : j->expects) {
            const QString where = u"%1 line %2 (%3 %4)\n%5"_s.arg(QFileInfo(path).fileName())
                                      .arg(e.line)
                                      .arg(e.kind, e.args.join(u' '), record);
            if (e.kind == u"outcome"_s) {
                QVERIFY2(call.outcome == e.args.first(), qPrintable(where));
            } else if (e.kind == u"tool"_s || e.kind == u"no-tool"_s) {
                const bool found = std::any_of(tools.begin(), tools.end(), [&e](const db::ToolInvocation &t) {
                    return t.tool == e.args.at(0) &&
                           (e.args.value(1).isEmpty() || t.ok == (e.args.at(1) == u"ok"_s)) &&
                           t.result.contains(e.args.value(2));
                });
                QVERIFY2(found == (e.kind == u"tool"_s), qPrintable(where));
            } else if (e.kind == u"ticket"_s) {
                QVERIFY2(std::any_of(tickets.begin(), tickets.end(),
                                     [&e](const db::Ticket &t) { return t.category == e.args.first(); }),
                         qPrintable(where));
            } else if (e.kind == u"line"_s || e.kind == u"no-line"_s) {
                const bool found =
                    std::any_of(lines.begin(), lines.end(), [&e](const db::TranscriptEntry &l) {
                        return l.speaker == e.args.at(0) &&
                               l.text.contains(e.args.at(1), Qt::CaseInsensitive);
                    });
                QVERIFY2(found == (e.kind == u"line"_s), qPrintable(where));
            } else if (e.kind == u"metric"_s) {
                QVERIFY2(e.args.size() == 2, qPrintable(where));
                const double value = h.metric(e.args.at(0));
                QVERIFY2(value == e.args.at(1).toDouble(),
                         qPrintable(where + u"\n%1 = %2"_s.arg(e.args.at(0)).arg(value)));
            }
        }
    }

    // The runner itself refuses what it cannot read (a journey that checks nothing is a defect).
    void malformedJourneysAreRefused()
    {
        QString error;
        QVERIFY(!parseJourney(u"say hello\n"_s, &error));
        QVERIFY(error.contains(u"expect"_s));
        QVERIFY(!parseJourney(u"#: tool lookup_order then nothing\n#: expect outcome resolved\n"_s, &error));
        QVERIFY(error.contains(u"line 1"_s));
        QVERIFY(!parseJourney(u"#: expect colour blue\n"_s, &error));
        QVERIFY(!parseJourney(u"#: frobnicate\n#: expect outcome resolved\n"_s, &error));
        const auto ok = parseJourney(u"#: say-then-tool Bye! then end_call {\"reason\":\"done\"}\n"
                                     "#: expect tool end_call ok\nsay hi\n"_s,
                                     &error);
        QVERIFY2(ok, qPrintable(error));
        QCOMPARE(ok->turns.size(), 1);
        QVERIFY(ok->turns.first().sayFirst);
        QCOMPARE(ok->turns.first().functionName, u"end_call"_s);
        QCOMPARE(ok->says, QStringList{u"hi"_s});
    }
};

QTEST_GUILESS_MAIN(TestJourneys)
#include "tst_journeys.moc"
