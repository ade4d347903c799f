#pragma once
// Internals shared by websocket.cpp and websocket_connect.cpp.

#include <QRandomGenerator>

namespace vaani::ws::detail {

// Masking keys and handshake nonces: unpredictable (RFC 6455 §5.3), one generator per thread.
QRandomGenerator64 &maskRng();
void setNoDelay(int fd);

} // namespace vaani::ws::detail
