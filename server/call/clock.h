#pragma once
// Time for the call's parts: monotonic milliseconds from a function the owner gives, so that tests drive the
// parts with a fake clock (no sleeps) and production uses the steady clock.

#include <QtGlobal>

#include <chrono>
#include <functional>

namespace vaani {

using Clock = std::function<qint64()>; // monotonic milliseconds

inline Clock steadyClock()
{
    return [] {
        return qint64(std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count());
    };
}

} // namespace vaani
