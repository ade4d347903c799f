#pragma once
// For the audio hot path only: read a few keys of a JSON object without building a document. Only for texts
// without escapes (isPlainObject()): then no string value can contain a quote, so one pass over the quotes
// finds every key (scanKeys()). Anything else goes to the full parser. The fast paths built on this
// (twilio::scanMedia, realtime::scanAudioDelta) are fuzzed against the full parsers (tests/fuzz/).

#include <QByteArrayView>

#include <cstring>

namespace vaani::jsonscan {

// An object without backslashes: no string can contain a quote, so quotes delimit every string.
inline bool isPlainObject(QByteArrayView text)
{
    return text.size() >= 2 && text.front() == '{' && text.back() == '}' && !text.contains('\\');
}

// One pass over a plain object (isPlainObject): for each of `keys` (names without quotes), how many times it
// occurs as a key anywhere (at any depth) and, for its last occurrence, its depth (1 = a member of the outer
// object) and its value when that is a string. A
// name counts as a key when its closing quote is followed by ':' (JSON whitespace allowed around it). String
// values are skipped whole, so a value never counts as a key.
inline const char *skipSpace(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        ++p;
    return p;
}

template<int N> struct KeyScan
{
    int count[N] = {};
    QByteArrayView value[N];
    bool stringValue[N] = {};
    int depth[N] = {};
};

template<int N> inline KeyScan<N> scanKeys(QByteArrayView text, const QByteArrayView (&keys)[N])
{
    KeyScan<N> r;
    const char *p = text.data();
    const char *end = p + text.size();
    int depth = 0;
    while (p < end) {
        const char *open = static_cast<const char *>(std::memchr(p, '"', size_t(end - p)));
        if (!open)
            break;
        for (const char *c = p; c < open; ++c) // outside strings: nesting
            depth += (*c == '{' || *c == '[') ? 1 : (*c == '}' || *c == ']') ? -1 : 0;
        const char *close = static_cast<const char *>(std::memchr(open + 1, '"', size_t(end - open - 1)));
        if (!close)
            break;
        p = skipSpace(close + 1, end);
        if (p >= end || *p != ':')
            continue; // a string value (or an array element), not a key
        const QByteArrayView name(open + 1, close - open - 1);
        int k = -1;
        for (int i = 0; i < N; ++i) {
            if (name == keys[i]) {
                k = i;
                break;
            }
        }
        p = skipSpace(p + 1, end); // past the colon
        if (k >= 0) {
            ++r.count[k];
            r.stringValue[k] = false;
            r.depth[k] = depth;
        }
        if (p < end && *p == '"') {
            const char *valueEnd = static_cast<const char *>(std::memchr(p + 1, '"', size_t(end - p - 1)));
            if (!valueEnd)
                break;
            if (k >= 0) {
                r.value[k] = QByteArrayView(p + 1, valueEnd - p - 1);
                r.stringValue[k] = true;
            }
            p = valueEnd + 1; // the value is skipped whole: it is never taken for a key
        }
    }
    return r;
}

} // namespace vaani::jsonscan
