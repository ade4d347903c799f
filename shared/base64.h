#pragma once
// Strict base64 (RFC 4648 §4, the standard alphabet with padding) as Twilio and the Realtime API send audio.
// Audio payloads are pasted into outgoing JSON without a JSON writer on the hot path; only text that passes
// this check may be: it cannot hold a quote, a backslash or a control character. Decoding stays Qt's
// (QByteArray::fromBase64Encoding); this only validates, without allocating. tests/fuzz/fuzz_base64 checks
// that it accepts exactly what Qt's strict decoder accepts and re-encodes identically.

#include <QByteArrayView>

#include <array>

namespace vaani::base64 {

// Non-empty, a multiple of 4 long, only A–Z a–z 0–9 + /, and '=' only as the last one or two characters.
inline bool isStrict(QByteArrayView s)
{
    const qsizetype n = s.size();
    if (n == 0 || n % 4 != 0)
        return false;
    qsizetype end = n;
    if (s[n - 1] == '=') {
        --end;
        if (s[n - 2] == '=')
            --end;
    }
    // A table lookup per byte (this runs for every audio frame, both ways).
    static constexpr auto alphabet = [] {
        std::array<bool, 256> t{};
        for (char c = 'A'; c <= 'Z'; ++c)
            t[uchar(c)] = true;
        for (char c = 'a'; c <= 'z'; ++c)
            t[uchar(c)] = true;
        for (char c = '0'; c <= '9'; ++c)
            t[uchar(c)] = true;
        t['+'] = t['/'] = true;
        return t;
    }();
    const auto *p = reinterpret_cast<const uchar *>(s.data());
    bool ok = true;
    for (qsizetype i = 0; i < end; ++i)
        ok &= alphabet[p[i]];
    return ok;
}

// Bytes a strict base64 text decodes to.
inline qint64 decodedSize(QByteArrayView s)
{
    qint64 padding = 0;
    if (s.size() >= 1 && s[s.size() - 1] == '=')
        ++padding;
    if (s.size() >= 2 && s[s.size() - 2] == '=')
        ++padding;
    return s.size() / 4 * 3 - padding;
}

} // namespace vaani::base64
