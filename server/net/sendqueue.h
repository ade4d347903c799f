#pragma once
// Writing a queue of bytes to a non-blocking socket without blocking: shared by ws::WebSocket and
// http::HttpConnection, which differ only in what they do when the kernel is full or the socket failed.

#include <QByteArray>

#include <cerrno>
#include <sys/socket.h>

namespace vaani::net {

enum class SendStatus { AllSent, WouldBlock, Failed }; // Failed: errno says why

// Sends out[*pos…] until it is all out, the kernel is full, or the socket fails; advances *pos.
inline SendStatus sendPending(int fd, const QByteArray &out, qsizetype *pos)
{
    while (*pos < out.size()) {
        const ssize_t n =
            ::send(fd, out.constData() + *pos, size_t(out.size() - *pos), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            *pos += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return SendStatus::WouldBlock;
        return SendStatus::Failed;
    }
    return SendStatus::AllSent;
}

} // namespace vaani::net
