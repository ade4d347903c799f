#pragma once
// For the audio hot path only: find `"key":"value"` in a JSON text without building a document. The caller
// passes the key with its quotes and colon (`"payload":"`) and must reject texts with escapes (a backslash)
// before trusting the result; anything unexpected goes to the full parser.

#include <QByteArrayView>
#include <QStringView>

namespace vaani::jsonscan {

// View: QStringView or QByteArrayView (UTF-8 straight off the socket).
template<typename View> inline bool stringValue(View text, View keyWithQuotes, View *value)
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
