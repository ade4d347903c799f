#pragma once
// Typed settings for all three programs: one table (name, env var, flag, default, doc) from which parsing,
// validation, --help and the README table are produced. Read from a .env file, the environment and
// command-line flags; flags win over the environment, which wins over the .env file.
// Plain value type; not thread-safe to mutate, safe to read from any thread once loaded.

#include <QHash>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace vaani {

enum class SettingType { String, Secret, Int, Port, Double, Bool, Url, Choice, Path };

namespace App {
enum : unsigned { Server = 1, Admin = 2, Softphone = 4, All = 7 };
}

struct SettingDef
{
    const char *key;  // the environment variable name, also the lookup key
    const char *flag; // long flag without dashes
    SettingType type;
    const char *defaultValue;
    const char *doc;
    unsigned apps;
    double minValue = 0;
    double maxValue = 0;
    const char *choices = nullptr; // comma-separated, for Choice; URL schemes for Url
};

class Config
{
public:
    enum class Status { Ok, Help, Version, Markdown, Error };
    struct LoadResult
    {
        Status status = Status::Ok;
        QString error;
    };

    static const QList<SettingDef> &table();
    // Secrets and DATABASE_URL may also be given as KEY_FILE: the path of a file holding the value.
    static bool hasFileVariant(const SettingDef &d);
    static const SettingDef *find(const QString &key);

    // args excludes argv[0]. dotenvPath may be empty: then VAANI_ENV_FILE, `.env` in the working directory,
    // or
    // `.env` in binaryDir (beside the program) is read, the first that exists.
    LoadResult load(unsigned app, const QStringList &args, const QProcessEnvironment &env,
                    const QString &dotenvPath = {}, const QString &binaryDir = {});
    // Convenience for main(): loads from the process environment, prints help/version/errors.
    // Returns -1 to continue, or the exit code to return.
    int loadForMain(unsigned app, const QString &program, const QString &summary, int argc, char **argv);

    QString helpText(unsigned app, const QString &program, const QString &summary) const;
    static QString markdownTable();

    QString string(const QString &key) const;
    int integer(const QString &key) const;
    double number(const QString &key) const;
    bool boolean(const QString &key) const;
    QUrl url(const QString &key) const;
    QString source(const QString &key) const; // default, .env, env, flag, set
    // Secret values currently configured (for the log redactor).
    QStringList secrets() const;

    // Validates and stores; returns an error message or empty.
    QString set(const QString &key, const QString &value, const QString &source = QStringLiteral("set"));

    static QString validate(const SettingDef &def, const QString &value);
    static QHash<QString, QString> parseDotenv(const QByteArray &content, QString *error = nullptr);

private:
    QHash<QString, QString> m_values;
    QHash<QString, QString> m_sources;
};

} // namespace vaani
