#include "logging.h"

#include "pii.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QRegularExpression>

#include <cstdio>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcVaani, "vaani", QtInfoMsg)
Q_LOGGING_CATEGORY(lcConfig, "vaani.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDb, "vaani.db", QtInfoMsg)
Q_LOGGING_CATEGORY(lcServer, "vaani.server", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "vaani.server.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcStream, "vaani.server.stream", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRealtime, "vaani.server.realtime", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSession, "vaani.server.session", QtInfoMsg)
Q_LOGGING_CATEGORY(lcTools, "vaani.server.tools", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAdmin, "vaani.admin", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSoftphone, "vaani.softphone", QtInfoMsg)

namespace vaani {

QString Redactor::maskPhone(const QString &number)
{
    int digits = 0;
    for (QChar c : number)
        digits += c.isDigit() ? 1 : 0;
    QString out = number;
    int seen = 0;
    for (QChar &c : out) {
        if (c.isDigit()) {
            ++seen;
            if (seen <= digits - 4)
                c = u'*';
        }
    }
    return out;
}

QString Redactor::redact(const QString &line, const QStringList &secrets)
{
    QString out = line;
    for (const QString &s : secrets) {
        if (s.size() >= 4)
            out.replace(s, u"***"_s);
    }
    static const QRegularExpression bearer(u"(?i)\\b(bearer)\\s+[A-Za-z0-9._~+/=\\-]+"_s);
    static const QRegularExpression apiKeyHeader(
        u"(?i)\\b(api[-_]?key|authorization|auth[-_]?token)([\"']?\\s*[:=]\\s*[\"']?)(?!\\*\\*\\*|bearer\\s)([^\\s\"',;]+)"_s);
    static const QRegularExpression openaiKey(u"\\b(sk|ek|rk)-[A-Za-z0-9_\\-]{8,}"_s);
    static const QRegularExpression urlPassword(u"(://[^:/@\\s]+:)[^@\\s/]+@"_s);
    static const QRegularExpression e164(u"(?<![\\w+*])\\+\\d(?:[ \\-]?\\d){7,14}(?![\\w])"_s);
    static const QRegularExpression indianMobile(u"(?<![\\w.:+*\\-])[6-9]\\d{9}(?![\\w.])"_s);

    out = pii::redact(out); // card, Aadhaar, PAN, OTP and account numbers a caller said
    out.replace(bearer, u"\\1 ***"_s);
    out.replace(openaiKey, u"\\1-***"_s);
    out.replace(apiKeyHeader, u"\\1\\2***"_s);
    out.replace(urlPassword, u"\\1***@"_s);
    for (const QRegularExpression *re : {&e164, &indianMobile}) {
        QString result;
        qsizetype last = 0;
        auto it = re->globalMatch(out);
        while (it.hasNext()) {
            const auto m = it.next();
            result += QStringView(out).mid(last, m.capturedStart() - last);
            result += maskPhone(m.captured());
            last = m.capturedEnd();
        }
        if (last > 0) {
            result += QStringView(out).mid(last);
            out = result;
        }
    }
    return out;
}

namespace {
struct LogState
{
    QMutex mutex;
    LogFormat format = LogFormat::Text;
    QStringList secrets;
};
LogState &state()
{
    static LogState s;
    return s;
}

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "critical";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

void handler(QtMsgType type, const QMessageLogContext &ctx, const QString &msg)
{
    LogState &s = state();
    QMutexLocker lock(&s.mutex);
    const QString line = formatLogLine(s.format, type, ctx.category, msg, s.secrets);
    const QByteArray bytes = line.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}
} // namespace

QString formatLogLine(LogFormat format, QtMsgType type, const char *category, const QString &message,
                      const QStringList &secrets)
{
    const QString ts = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    const QString text = Redactor::redact(message, secrets);
    const QString cat = QString::fromUtf8(category ? category : "default");
    if (format == LogFormat::Json) {
        const QJsonObject o{{u"ts"_s, ts},
                            {u"level"_s, QString::fromLatin1(levelName(type))},
                            {u"category"_s, cat},
                            {u"msg"_s, text}};
        return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    }
    return u"%1 %2 [%3] %4"_s.arg(ts, QString::fromLatin1(levelName(type)).leftJustified(7), cat, text);
}

void installLogging(LogFormat format, const QString &level, const QStringList &secrets)
{
    {
        QMutexLocker lock(&state().mutex);
        state().format = format;
        state().secrets = secrets;
    }
    QString rules;
    if (level == u"debug"_s)
        rules = u"vaani*.debug=true\n"_s;
    else if (level == u"warning"_s)
        rules = u"vaani*.debug=false\nvaani*.info=false\n"_s;
    else
        rules = u"vaani*.debug=false\n"_s;
    QLoggingCategory::setFilterRules(rules);
    qInstallMessageHandler(handler);
}

} // namespace vaani
