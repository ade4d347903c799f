#include "pii.h"

#include <QHash>
#include <QList>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace vaani::pii {

namespace {

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c.isMark(); // Devanagari vowel signs are marks
}

// A word or a run of digits in the text.
struct Token
{
    qsizetype start = 0;
    qsizetype end = 0;
    QString digits; // what the token says in digits ("" when it is no number); repeats apply to the next
    int repeat = 0; // "double" = 2, "triple" = 3
};

QString digitsOfRun(QStringView run)
{
    QString out;
    for (QChar c : run) {
        if (!c.isDigit() || c.digitValue() < 0)
            return {};
        out += QChar(u'0' + c.digitValue());
    }
    return out;
}

QList<Token> tokens(const QString &text)
{
    QList<Token> out;
    qsizetype i = 0;
    const qsizetype n = text.size();
    while (i < n) {
        if (!isWordChar(text[i])) {
            ++i;
            continue;
        }
        qsizetype j = i;
        while (j < n && isWordChar(text[j]))
            ++j;
        const QStringView word = QStringView(text).sliced(i, j - i);
        Token t{i, j, digitsOfRun(word), 0};
        if (t.digits.isEmpty()) {
            const QString lower = word.toString().toLower();
            if (const int d = digitWord(lower); d >= 0)
                t.digits = QString(QChar(u'0' + d));
            else if (lower == u"double"_s || lower == u"डबल"_s)
                t.repeat = 2;
            else if (lower == u"triple"_s || lower == u"ट्रिपल"_s)
                t.repeat = 3;
        }
        out << t;
        i = j;
    }
    return out;
}

// Between two parts of one spoken or written number: spaces, hyphens, commas, dots (at most three).
bool joins(QStringView gap)
{
    if (gap.size() > 3)
        return false;
    for (QChar c : gap) {
        if (!(c.isSpace() || c == u'-' || c == u',' || c == u'.'))
            return false;
    }
    return true;
}

struct Span
{
    qsizetype start;
    qsizetype end;
    QString digits;
};

QList<Span> numberSpans(const QString &text)
{
    const QList<Token> ts = tokens(text);
    QList<Span> spans;
    Span current{-1, -1, {}};
    int pendingRepeat = 0;
    qsizetype lastEnd = -1;
    auto close = [&] {
        if (current.start >= 0 && !current.digits.isEmpty())
            spans << current;
        current = {-1, -1, {}};
        pendingRepeat = 0;
    };
    for (const Token &t : ts) {
        const bool numeric = !t.digits.isEmpty() || t.repeat > 0;
        if (!numeric) {
            close();
            continue;
        }
        if (current.start >= 0 && !joins(QStringView(text).sliced(lastEnd, t.start - lastEnd)))
            close();
        if (current.start < 0)
            current.start = t.start;
        current.end = t.end;
        lastEnd = t.end;
        if (t.repeat > 0) {
            pendingRepeat = t.repeat;
            continue;
        }
        if (pendingRepeat > 0 && t.digits.size() == 1)
            current.digits += QString(pendingRepeat, t.digits[0]);
        else
            current.digits += t.digits;
        pendingRepeat = 0;
    }
    close();
    return spans;
}

bool near(const QString &text, const Span &s, const QRegularExpression &re)
{
    const qsizetype from = std::max<qsizetype>(0, s.start - 48);
    const QString around = text.mid(from, s.start - from) + u" # "_s + text.mid(s.end, 24);
    return re.match(around).hasMatch();
}

// An Indian mobile number with its country code ("+91 98765 43210", "919876543210"): a phone number, which
// callers and logs carry anyway (logs mask it separately), not an Aadhaar number.
bool looksLikePhone(const QString &text, const Span &s)
{
    if (s.start > 0 && text[s.start - 1] == u'+')
        return true;
    return s.digits.size() == 12 && s.digits.startsWith(u"91"_s) && s.digits[2] >= u'6';
}

QString last4(const QString &digits)
{
    return u"****"_s + digits.right(4);
}

} // namespace

int digitWord(QStringView word)
{
    static const QHash<QString, int> words = [] {
        QHash<QString, int> w;
        const QList<QPair<int, QStringList>> table = {
            {0,
             {u"zero"_s, u"shunya"_s, u"shoonya"_s, u"sunya"_s, u"shuniya"_s, u"शून्य"_s, u"ज़ीरो"_s,
              u"जीरो"_s}},
            {1, {u"one"_s, u"ek"_s, u"एक"_s}},
            {2, {u"two"_s, u"do"_s, u"दो"_s}},
            {3, {u"three"_s, u"teen"_s, u"tin"_s, u"तीन"_s}},
            {4, {u"four"_s, u"char"_s, u"chaar"_s, u"chār"_s, u"चार"_s}},
            {5, {u"five"_s, u"paanch"_s, u"panch"_s, u"paach"_s, u"pach"_s, u"पांच"_s, u"पाँच"_s}},
            {6,
             {u"six"_s, u"chhe"_s, u"chhah"_s, u"chah"_s, u"chhay"_s, u"chha"_s, u"che"_s, u"छह"_s, u"छः"_s,
              u"छे"_s}},
            {7, {u"seven"_s, u"saat"_s, u"sat"_s, u"सात"_s}},
            {8, {u"eight"_s, u"aath"_s, u"aat"_s, u"ath"_s, u"आठ"_s}},
            {9, {u"nine"_s, u"nau"_s, u"nao"_s, u"नौ"_s}},
        };
        for (const auto &[digit, spellings] : table) {
            for (const QString &s : spellings)
                w.insert(s, digit);
        }
        return w;
    }();
    return words.value(word.toString().toLower(), -1);
}

bool isE164(const QString &number)
{
    static const QRegularExpression e164(QStringLiteral("^\\+[1-9][0-9]{6,14}$"));
    return e164.match(number).hasMatch();
}

bool luhnValid(QStringView digits)
{
    if (digits.size() < 2)
        return false;
    int sum = 0;
    bool twice = false;
    for (qsizetype i = digits.size() - 1; i >= 0; --i) {
        int d = digits[i].digitValue();
        if (d < 0)
            return false;
        if (twice) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
        twice = !twice;
    }
    return sum % 10 == 0;
}

QString redact(const QString &input)
{
    using RE = QRegularExpression;
    static const RE cardWords(u"\\b(card|debit|credit|visa|mastercard|rupay)\\b|कार्ड"_s,
                              RE::CaseInsensitiveOption);
    static const RE aadhaarWords(u"\\b(aadhaar|aadhar|adhaar|adhar|uidai)\\b|आधार"_s,
                                 RE::CaseInsensitiveOption);
    static const RE accountWords(u"\\b(account|acct|a/c|khata|khaata|ifsc)\\b|खाता|अकाउंट"_s,
                                 RE::CaseInsensitiveOption);
    static const RE otpWords(
        u"\\b(otp|o\\.t\\.p|one[- ]time password|verification code|security code)\\b|ओटीपी"_s,
        RE::CaseInsensitiveOption);
    static const RE pinWords(u"\\b(upi pin|atm pin|pin(?!\\s*code)|mpin)\\b|पिन"_s,
                             RE::CaseInsensitiveOption);
    static const RE cvvWords(u"\\b(cvv|cvc|cvv2)\\b"_s, RE::CaseInsensitiveOption);
    static const RE panCompact(u"(?<![\\p{L}\\p{N}])[A-Za-z]{5}[0-9]{4}[A-Za-z](?![\\p{L}\\p{N}])"_s);
    static const RE panSpaced(
        u"(?<![\\p{L}\\p{N}])(?:[A-Za-z] ){5}(?:[0-9] ){4}[A-Za-z](?![\\p{L}\\p{N}])"_s);

    QString text = input;
    for (const RE *pan : {&panCompact, &panSpaced})
        text.replace(*pan, u"[pan]"_s);

    const QList<Span> spans = numberSpans(text);
    for (qsizetype i = spans.size() - 1; i >= 0; --i) {
        const Span &s = spans[i];
        if (s.start > 0 && text[s.start - 1] == u'*')
            continue; // the kept last four digits of a tag made earlier
        const qsizetype n = s.digits.size();
        QString tag;
        if (n >= 13 && n <= 19 && (luhnValid(s.digits) || near(text, s, cardWords)))
            tag = u"[card "_s + last4(s.digits) + u']';
        else if (n == 12 && near(text, s, aadhaarWords))
            tag = u"[aadhaar "_s + last4(s.digits) + u']';
        else if (n >= 9 && n <= 18 && near(text, s, accountWords))
            tag = u"[account "_s + last4(s.digits) + u']';
        else if (n == 12 && s.digits[0] >= u'2' && !looksLikePhone(text, s))
            tag = u"[aadhaar "_s + last4(s.digits) + u']';
        else if (n >= 3 && n <= 4 && near(text, s, cvvWords))
            tag = u"[cvv]"_s;
        else if (n >= 4 && n <= 6 && near(text, s, pinWords))
            tag = u"[pin]"_s;
        else if (n >= 4 && n <= 8 && near(text, s, otpWords))
            tag = u"[otp]"_s;
        else if (n >= 12 && !(n <= 13 && looksLikePhone(text, s)))
            tag = u"[number "_s + last4(s.digits) + u']';
        if (!tag.isEmpty())
            text.replace(s.start, s.end - s.start, tag);
    }
    return text;
}

} // namespace vaani::pii
