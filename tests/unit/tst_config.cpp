#include "config.h"
#include "testenv.h"

#include <QFile>
#include <QProcess>
#include <QTest>

using namespace vaani;
using namespace Qt::StringLiterals;

class TestConfig : public QObject
{
    Q_OBJECT
private:
    QString writeEnvFile(const QByteArray &content)
    {
        const QString path = test::tempDir(u"config"_s) + u"/.env"_s;
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(content);
        return path;
    }

private Q_SLOTS:
    void defaults()
    {
        Config c;
        QCOMPARE(c.load(App::Server, {}, QProcessEnvironment(), u"/nonexistent-but-optional"_s).status,
                 Config::Status::Error); // an explicitly named env file must exist
        QCOMPARE(c.load(App::Server, {}, QProcessEnvironment()).status, Config::Status::Ok);
        QCOMPARE(c.integer(u"PORT"_s), 8080);
        QCOMPARE(c.string(u"HOST"_s), u"0.0.0.0"_s);
        QCOMPARE(c.string(u"OPENAI_REALTIME_URL"_s), u"wss://api.openai.com/v1/realtime"_s);
        QCOMPARE(c.string(u"OPENAI_MODEL"_s), u"gpt-realtime"_s);
        QCOMPARE(c.string(u"TWILIO_API_BASE"_s), u"https://api.twilio.com"_s);
        QCOMPARE(c.string(u"VAANI_DATA_DIR"_s), u"./data"_s);
        QCOMPARE(c.source(u"PORT"_s), u"default"_s);
    }

    void precedence()
    {
        const QString envFile =
            writeEnvFile("# comment\nPORT=7001\nexport HOST=\"127.0.0.2\"\nOPENAI_MODEL='from-dotenv'\n");
        QProcessEnvironment env;
        env.insert(u"PORT"_s, u"7002"_s);
        env.insert(u"OPENAI_MODEL"_s, u"from-env"_s);
        Config c;
        QCOMPARE(c.load(App::Server, {u"--openai-model"_s, u"from-flag"_s}, env, envFile).status,
                 Config::Status::Ok);
        QCOMPARE(c.integer(u"PORT"_s), 7002);                  // env beats .env
        QCOMPARE(c.string(u"HOST"_s), u"127.0.0.2"_s);         // .env beats default
        QCOMPARE(c.string(u"OPENAI_MODEL"_s), u"from-flag"_s); // flag beats env
        QCOMPARE(c.source(u"OPENAI_MODEL"_s), u"--openai-model"_s);
        QCOMPARE(c.load(App::Server, {u"--port=7003"_s}, env, envFile).status, Config::Status::Ok);
        QCOMPARE(c.integer(u"PORT"_s), 7003);
    }

    void dotenvBesideTheBinary()
    {
        const QString dir = test::tempDir(u"config-bin"_s);
        QFile f(dir + u"/.env"_s);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("PORT=7444\n");
        f.close();
        Config c;
        QCOMPARE(c.load(App::Server, {}, QProcessEnvironment(), {}, dir).status, Config::Status::Ok);
        QCOMPARE(c.integer(u"PORT"_s), 7444);
        QCOMPARE(c.source(u"PORT"_s), u".env"_s);
    }

    void badValues_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("port too big") << QStringList{u"--port"_s, u"70000"_s} << u"out of range"_s;
        QTest::newRow("port not number") << QStringList{u"--port=abc"_s} << u"not a whole number"_s;
        QTest::newRow("bad url") << QStringList{u"--public-url"_s, u"not a url"_s} << u"not a valid URL"_s;
        QTest::newRow("wrong scheme")
            << QStringList{u"--openai-realtime-url=http://x.com/"_s} << u"not a valid URL"_s;
        QTest::newRow("bad choice") << QStringList{u"--log-format"_s, u"xml"_s} << u"not one of"_s;
        QTest::newRow("unknown flag") << QStringList{u"--nope"_s} << u"unknown option"_s;
        QTest::newRow("missing value") << QStringList{u"--port"_s} << u"needs a value"_s;
        QTest::newRow("positional") << QStringList{u"foo"_s} << u"unexpected argument"_s;
        QTest::newRow("admin-only flag on server")
            << QStringList{u"--server-url=http://x"_s} << u"unknown option"_s;
    }
    void badValues()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        Config c;
        const auto r = c.load(App::Server, args, QProcessEnvironment());
        QCOMPARE(r.status, Config::Status::Error);
        QVERIFY2(r.error.contains(message), qPrintable(r.error));
    }

    void badEnvironmentValue()
    {
        QProcessEnvironment env;
        env.insert(u"PORT"_s, u"-1"_s);
        Config c;
        const auto r = c.load(App::Server, {}, env);
        QCOMPARE(r.status, Config::Status::Error);
        QVERIFY(r.error.contains(u"PORT"_s));
        QVERIFY(r.error.contains(u"environment"_s));
    }

    void helpListsEverySetting()
    {
        Config c;
        QCOMPARE(c.load(App::Server, {u"--help"_s}, QProcessEnvironment()).status, Config::Status::Help);
        const QString help = c.helpText(App::Server, u"vaani-server"_s, u"x"_s);
        for (const auto &d : Config::table()) {
            if (d.apps & App::Server) {
                QVERIFY2(help.contains(QLatin1String(d.key)), d.key);
                QVERIFY2(help.contains(u"--"_s + QLatin1String(d.flag)), d.flag);
            }
        }
        QVERIFY(help.contains(u"default 8080"_s));
        QVERIFY(Config::markdownTable().contains(u"`OPENAI_API_KEY`"_s));
    }

    void readmeDocumentsEverySetting()
    {
        QFile readme(QStringLiteral(VAANI_SOURCE_DIR "/README.md"));
        QVERIFY(readme.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(readme.readAll());
        // The README's table is Config::markdownTable() verbatim (vaani-server --config-markdown).
        for (const QString &row : Config::markdownTable().split(u'\n', Qt::SkipEmptyParts))
            QVERIFY2(text.contains(row), qPrintable(u"README is missing or has a stale row: "_s + row));
    }

    void secretsCollected()
    {
        QProcessEnvironment env;
        env.insert(u"OPENAI_API_KEY"_s, u"sk-test-abcdefgh"_s);
        env.insert(u"DATABASE_URL"_s, u"postgresql://u:hunter22@db/x"_s);
        Config c;
        QCOMPARE(c.load(App::Server, {}, env).status, Config::Status::Ok);
        QVERIFY(c.secrets().contains(u"sk-test-abcdefgh"_s));
        QVERIFY(c.secrets().contains(u"hunter22"_s));
    }

    // Secrets from files (systemd credentials, container secrets): KEY_FILE names the file.
    void secretsFromFiles()
    {
        const QString dir = test::tempDir(u"config"_s);
        auto write = [&](const QString &name, const QByteArray &content) {
            QFile f(dir + u'/' + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(content);
        };
        write(u"openai"_s, "sk-from-file-123456\n");
        write(u"db"_s, "postgresql://vaani:s3cr3t-pw@db:5432/vaani\n");
        QProcessEnvironment env;
        env.insert(u"OPENAI_API_KEY_FILE"_s, dir + u"/openai"_s);
        env.insert(u"DATABASE_URL_FILE"_s, dir + u"/db"_s);
        Config c;
        const auto loaded = c.load(App::Server, {}, env);
        QCOMPARE(loaded.status, Config::Status::Ok);
        QCOMPARE(c.string(u"OPENAI_API_KEY"_s), u"sk-from-file-123456"_s); // the newline dropped
        QCOMPARE(c.string(u"DATABASE_URL"_s), u"postgresql://vaani:s3cr3t-pw@db:5432/vaani"_s);
        QVERIFY(c.source(u"OPENAI_API_KEY"_s).startsWith(u"file "_s));
        QVERIFY(c.secrets().contains(u"sk-from-file-123456"_s)); // and the log redactor knows it
        QVERIFY(c.secrets().contains(u"s3cr3t-pw"_s));

        // Both forms at once, a missing file, and _FILE on a setting that is no secret are errors or ignored.
        env.insert(u"OPENAI_API_KEY"_s, u"sk-direct-1234567"_s);
        auto both = Config().load(App::Server, {}, env);
        QCOMPARE(both.status, Config::Status::Error);
        QVERIFY2(both.error.contains(u"OPENAI_API_KEY and OPENAI_API_KEY_FILE"_s), qPrintable(both.error));
        env.remove(u"OPENAI_API_KEY"_s);
        env.insert(u"OPENAI_API_KEY_FILE"_s, dir + u"/missing"_s);
        auto missing = Config().load(App::Server, {}, env);
        QCOMPARE(missing.status, Config::Status::Error);
        QVERIFY2(missing.error.contains(u"cannot read"_s), qPrintable(missing.error));
        QProcessEnvironment plain;
        plain.insert(u"PORT_FILE"_s, dir + u"/openai"_s);
        Config p;
        QCOMPARE(p.load(App::Server, {}, plain).status, Config::Status::Ok);
        QCOMPARE(p.integer(u"PORT"_s), 8080);
        // The .env file may name files too; the environment still wins.
        write(u"twilio"_s, "twilio-token-from-file\n");
        write(u".env"_s, "TWILIO_AUTH_TOKEN_FILE=" + (dir + u"/twilio"_s).toUtf8() + "\n");
        Config fromDotenv;
        QCOMPARE(fromDotenv.load(App::Server, {}, QProcessEnvironment(), dir + u"/.env"_s).status,
                 Config::Status::Ok);
        QCOMPARE(fromDotenv.string(u"TWILIO_AUTH_TOKEN"_s), u"twilio-token-from-file"_s);
    }

    void binariesExitWithTwoOnBadValues_data()
    {
        QTest::addColumn<QString>("binary");
        QTest::newRow("server") << u"vaani-server"_s;
        QTest::newRow("admin") << u"vaani-admin"_s;
        QTest::newRow("softphone") << u"vaani-softphone"_s;
    }
    void binariesExitWithTwoOnBadValues()
    {
        QFETCH(QString, binary);
        const QString path = QCoreApplication::applicationDirPath() + u'/' + binary;
        if (!QFile::exists(path))
            QSKIP("binary not built in this configuration");
        QProcess p;
        p.start(path, {u"--log-format"_s, u"yaml"_s});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 2);
        QVERIFY(p.readAllStandardError().contains("not one of"));
        p.start(path, {u"--help"_s});
        QVERIFY(p.waitForFinished(20000));
        QCOMPARE(p.exitCode(), 0);
        const QByteArray help = p.readAllStandardOutput();
        QVERIFY(help.contains("--log-format"));
        QVERIFY(help.contains("LOG_LEVEL"));
        p.start(path, {u"--version"_s});
        QVERIFY(p.waitForFinished(20000));
        QVERIFY(p.readAllStandardOutput().startsWith(QByteArray(binary.toUtf8() + ' ')));
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
