#pragma once
// For the audio hot path only: find `"key":"value"` in a JSON text without building a document. The caller
// passes the key with its quotes and colon (`"payload":"`) and must reject texts with escapes (a backslash)
// before trusting the result; anything unexpected goes to the full parser.

#include <QByteArrayView>

namespace vaani::jsonscan {

// `text` is the UTF-8 message as it came off the socket.
inline bool stringValue(QByteArrayView text, QByteArrayView keyWithQuotes, QByteArrayView *value)
{
    const qsizetype k = text.indexOf(keyWithQuotes);
    if (k < 0)
        return false;
    const qsizetype start = k + keyWithQuotes.size();
    const qsizetype end = text.indexOf('"', start);
    if (end < 0)
        return false;
    *value = text.sliced(start, end - start);
    return true;
}

} // namespace vaani::jsonscan
