#pragma once
// For the audio hot path only: find `"key":"value"` in a JSON text without building a document. Only for
// texts that pass isPlainCompact(): without escapes and whitespace a key can be written one way only and no
// string value can contain a quote, so a key that occurs exactly once (occurrences()) is found reliably.
// Anything else goes to the full parser. The fast paths built on this (twilio::scanMedia,
// realtime::scanAudioDelta) are fuzzed against the full parsers (tests/fuzz/).

#include <QByteArrayView>

namespace vaani::jsonscan {

// An object without backslashes and without whitespace outside what the fast paths read.
inline bool isPlainCompact(QByteArrayView text)
{
    if (text.size() < 2 || text.front() != '{' || text.back() != '}')
        return false;
    for (char c : text) {
        if (c == '\\' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
            return false;
    }
    return true;
}

inline qsizetype occurrences(QByteArrayView text, QByteArrayView needle)
{
    qsizetype n = 0;
    for (qsizetype at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.size()))
        ++n;
    return n;
}

// `text` is the UTF-8 message as it came off the socket; `keyWithQuotes` is `"key":"`.
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

// The value of a key that must occur exactly once (as `"key":`) and hold a string.
inline bool uniqueStringValue(QByteArrayView text, QByteArrayView keyWithColon, QByteArrayView keyWithQuotes,
                              QByteArrayView *value)
{
    return occurrences(text, keyWithColon) == 1 && stringValue(text, keyWithQuotes, value);
}

} // namespace vaani::jsonscan
