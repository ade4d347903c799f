#pragma once
// Diagnostic logging: one QLoggingCategory per component (listed here, named hierarchically), a message
// handler writing human-readable or JSON lines to stderr, and a redactor applied to every line so phone
// numbers, API keys, bearer tokens and configured secrets never reach a log. The business call log lives
// in the database, not here. installLogging() is called once from main(); the handler is thread-safe.

#include <QLoggingCategory>
#include <QStringList>

Q_DECLARE_LOGGING_CATEGORY(lcVaani)
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcDb)
Q_DECLARE_LOGGING_CATEGORY(lcServer)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcStream)
Q_DECLARE_LOGGING_CATEGORY(lcRealtime)
Q_DECLARE_LOGGING_CATEGORY(lcSession)
Q_DECLARE_LOGGING_CATEGORY(lcTools)
Q_DECLARE_LOGGING_CATEGORY(lcAdmin)
Q_DECLARE_LOGGING_CATEGORY(lcSoftphone)

namespace vaani {

enum class LogFormat { Text, Json };

class Redactor
{
public:
    // Masks E.164 / Indian mobile numbers (keeping the last 4 digits), OpenAI-style keys, bearer tokens,
    // api-key headers, URL passwords and any of the given literal secrets.
    static QString redact(const QString &line, const QStringList &secrets = {});
    // "+919876543210" -> "+91******3210" style: every digit but the last 4 replaced by '*'.
    static QString maskPhone(const QString &number);
};

// Installs the handler. `level` is "debug", "info" or "warning".
void installLogging(LogFormat format, const QString &level, const QStringList &secrets);
// Formats one line as the handler would (exposed for tests).
QString formatLogLine(LogFormat format, QtMsgType type, const char *category, const QString &message,
                      const QStringList &secrets);

} // namespace vaani
