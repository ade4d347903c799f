#pragma once
// Plain value types for the rows Vaani stores. Times are UTC QDateTime; money is integer paise.

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace vaani::db {

struct Customer
{
    qint64 id = 0;
    QString name;
    QString phone;
    QString email;
    QString city;
    QDateTime createdAt;
    int rowVersion = 1;
};

struct Order
{
    qint64 id = 0;
    QString code;
    qint64 customerId = 0;
    QString customerName;
    QString status;
    QString items;
    qint64 amountPaise = 0;
    QDateTime placedAt;
    QDateTime expectedDelivery;
    QDateTime deliveredAt;
    QString carrier;
    QString trackingNumber;
    QDateTime updatedAt;
    int rowVersion = 1;

    static const QStringList &statuses();
    static bool canTransition(const QString &from, const QString &to);
};

struct Ticket
{
    qint64 id = 0;
    QString code;
    std::optional<qint64> orderId;
    QString orderCode;
    std::optional<qint64> customerId;
    std::optional<qint64> callId;
    QString category;
    QString priority = QStringLiteral("normal");
    QString status = QStringLiteral("open");
    QString summary;
    QString assignee;
    QDateTime createdAt;
    QDateTime updatedAt;
    int rowVersion = 1;

    static const QStringList &statuses();
    static const QStringList &priorities();
    static bool canTransition(const QString &from, const QString &to);
};

struct TicketEvent
{
    qint64 id = 0;
    qint64 ticketId = 0;
    QString kind; // created, status, note, assigned
    QString fromStatus;
    QString toStatus;
    QString note;
    QString author;
    QDateTime createdAt;
};

struct AgentPrompt
{
    qint64 id = 0;
    QString name = QStringLiteral("default");
    int version = 0;
    QString instructions;
    QString greeting;
    // RECORD_CALLS: said after the greeting, asking the caller's consent (empty: the built-in notice).
    QString recordingNotice;
    static QString defaultRecordingNotice();
    QString voice = QStringLiteral("marin");
    double vadThreshold = 0.5;
    int vadPrefixPaddingMs = 300;
    int vadSilenceDurationMs = 500;
    std::optional<int> vadIdleTimeoutMs;
    bool active = false;
    QString author;
    QString note;
    QDateTime createdAt;

    static const QStringList &voices();
    QString validate() const; // empty when valid
};

struct CallRecord
{
    qint64 id = 0;
    QString callSid;
    QString streamSid;
    QString callerMasked;
    QString calledNumber;
    std::optional<qint64> customerId;
    QDateTime startedAt;
    QDateTime endedAt;
    QString outcome =
        QStringLiteral("in_progress"); // in_progress, resolved, transferred, dropped, failed, rejected
    QString endReason;
    QString twilioStatus;
    std::optional<int> durationS;
    std::optional<qint64> promptId;
    std::optional<int> promptVersion;
    QString serverInstance;
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 audioInputTokens = 0;
    qint64 audioOutputTokens = 0;
    qint64 cachedInputTokens = 0;
    double costUsd = 0;
    std::optional<int> firstAudioMs;
    int turnCount = 0;
    std::optional<int> turnLatencyP50Ms;
    std::optional<int> turnLatencyP95Ms;
    // RECORD_CALLS (resources/migrations/0008): the file under the recording server's RECORDINGS_DIR, its
    // state (empty: not recorded; recording, complete, declined, failed, erased) and length.
    QString recordingFile;
    QString recordingStatus;
    std::optional<int> recordingMs;
};

struct TranscriptEntry
{
    qint64 id = 0;
    qint64 callId = 0;
    int seq = 0;
    QString speaker; // caller, agent, system
    QString text;
    qint64 offsetMs = 0;
    bool truncated = false;
    QString language; // "hi", "en", "hi-en" (code-mixed); empty for system lines and older records
};

struct ToolInvocation
{
    qint64 id = 0;
    qint64 callId = 0;
    QString tool;
    QString arguments;
    QString result;
    int durationMs = 0;
    bool ok = false;
    QDateTime createdAt;
    std::optional<int>
        seq; // the call's n-th tool call (unique per call: a replayed write is not stored twice)
};

struct CallTurn
{
    qint64 callId = 0;
    int seq = 0;
    int latencyMs = 0;
    qint64 offsetMs = 0;
};

struct CallFilter
{
    QDateTime from;
    QDateTime to;
    QString caller;  // matched against the masked caller (e.g. last 4 digits)
    QString outcome; // empty = any
    std::optional<bool> hasTicket;
    int limit = 500;
};

struct TicketFilter
{
    QString status;
    QString priority;
    QString assignee;
    QString text;
    int limit = 500;
};

QString toDbTime(const QDateTime &t);
QDateTime fromDbTime(const QString &s);

} // namespace vaani::db
