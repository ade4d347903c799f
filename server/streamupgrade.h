#pragma once
// The first bytes of every accepted connection decide who serves it. `GET /media-stream` is Twilio opening a
// Media Stream: its head is read here, the Twilio signature checked (403 before any handshake when it does
// not verify), and the upgrade answered (101, or 400/426) — then the descriptor becomes a WebSocket on this
// worker. Anything else goes to the worker's QHttpServer untouched (the bytes are only peeked). A connection
// that sends nothing within the deadline is closed. Deletes itself when done.

#include <QObject>
#include <QTimer>

class QSocketNotifier;

namespace vaani {

class Worker;

class StreamUpgrade : public QObject
{
public:
    StreamUpgrade(int fd, Worker *worker);
    ~StreamUpgrade() override;

    static constexpr int kHeadDeadlineMs = 10000;
    static constexpr qsizetype kMaxHeadBytes = 8192;

private:
    void onReadable();
    void retryLater();
    void answer(int status, const QByteArray &reason);
    void done(); // closes the descriptor (unless handed on) and deletes this
    QString peerAddress() const;

    int m_fd;
    Worker *m_worker;
    QSocketNotifier *m_notifier;
    QTimer m_deadline{this};
    QTimer m_retry{this};
};

} // namespace vaani
