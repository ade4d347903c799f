#pragma once
// The first bytes of every accepted connection decide who serves it. A request that starts with the route's
// prefix (the worker's: `GET /media-stream`, Twilio opening a Media Stream) has its head read here, is
// authorised (403 before any handshake when not: the Twilio signature) and its upgrade answered (101, or
// 400/426) — then the descriptor becomes a WebSocket. Anything else goes to `other` untouched (the bytes are
// only peeked; the worker's QHttpServer). A connection that sends nothing within the deadline is closed.
// Deletes itself when done.

#include "websocket.h"

#include <QObject>
#include <QTimer>

#include <functional>

class QSocketNotifier;

namespace vaani {

struct UpgradeRoute
{
    QByteArray requestPrefix; // e.g. "GET /media-stream"; the next byte must be ' ' or '?'
    std::function<bool(const ws::HttpHead &request, const QString &peer)> authorize; // null: anyone
    std::function<void(int fd)> upgraded; // after the 101: adoptServerSide(fd)
    std::function<void(int fd)> other;    // not for this route (null: 404)
};

class StreamUpgrade : public QObject
{
public:
    // `route` must outlive this object (its owner keeps it).
    StreamUpgrade(int fd, const UpgradeRoute *route, QObject *parent);
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
    const UpgradeRoute *m_route;
    QSocketNotifier *m_notifier;
    QTimer m_deadline{this};
    QTimer m_retry{this};
};

} // namespace vaani
