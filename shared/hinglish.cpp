#include "hinglish.h"

#include <QHash>
#include <QList>
#include <QRegularExpression>
#include <QSet>
#include <QStringList>

using namespace Qt::StringLiterals;

namespace vaani::hinglish {

namespace {
constexpr char16_t kVirama = 0x094D;
constexpr char16_t kNukta = 0x093C;
constexpr char16_t kAnusvara = 0x0902;
constexpr char16_t kCandrabindu = 0x0901;
constexpr char16_t kVisarga = 0x0903;

bool isDevanagari(QChar c)
{
    return c.unicode() >= 0x0900 && c.unicode() <= 0x097F;
}

// Consonants (U+0915..U+0939) and the precomposed nukta forms (U+0958..U+095F).
const char *consonant(char16_t c, bool nukta)
{
    if (nukta) {
        switch (c) {
        case 0x0915:
            return "k"; // क़
        case 0x0916:
            return "kh"; // ख़
        case 0x0917:
            return "g"; // ग़
        case 0x091C:
            return "z"; // ज़
        case 0x0921:
            return "r"; // ड़
        case 0x0922:
            return "rh"; // ढ़
        case 0x092B:
            return "f"; // फ़
        case 0x092F:
            return "y"; // य़
        default:
            break;
        }
    }
    static const char *const table[] = {"k", "kh", "g",  "gh", "n",  "ch", "chh", "j", "jh", "n", // क..ञ
                                        "t", "th", "d",  "dh", "n",  "t",  "th",  "d", "dh", "n", // ट..न
                                        "n", "p",  "ph", "b",  "bh", "m",  "y",   "r", "r",  "l", // ऩ..ल
                                        "l", "l",  "v",  "sh", "sh", "s",  "h"};                  // ळ..ह
    if (c >= 0x0915 && c <= 0x0939)
        return table[c - 0x0915];
    switch (c) {
    case 0x0958:
        return "k";
    case 0x0959:
        return "kh";
    case 0x095A:
        return "g";
    case 0x095B:
        return "z";
    case 0x095C:
        return "r";
    case 0x095D:
        return "rh";
    case 0x095E:
        return "f";
    case 0x095F:
        return "y";
    default:
        return nullptr;
    }
}

const char *independentVowel(char16_t c)
{
    switch (c) {
    case 0x0905:
        return "a";
    case 0x0906:
        return "aa";
    case 0x0907:
        return "i";
    case 0x0908:
        return "ee";
    case 0x0909:
        return "u";
    case 0x090A:
        return "oo";
    case 0x090B:
        return "ri";
    case 0x090D:
        return "e";
    case 0x090F:
        return "e";
    case 0x0910:
        return "ai";
    case 0x0911:
        return "o";
    case 0x0913:
        return "o";
    case 0x0914:
        return "au";
    default:
        return nullptr;
    }
}

// Vowel signs; `final`: at the end of the word, where long vowels are written short ("mera", "nahi").
const char *vowelSign(char16_t c, bool final)
{
    switch (c) {
    case 0x093E:
        return final ? "a" : "aa";
    case 0x093F:
        return "i";
    case 0x0940:
        return final ? "i" : "ee";
    case 0x0941:
        return "u";
    case 0x0942:
        return final ? "u" : "oo";
    case 0x0943:
        return "ri";
    case 0x0945:
        return "e";
    case 0x0947:
        return "e";
    case 0x0948:
        return "ai";
    case 0x0949:
        return "o";
    case 0x094B:
        return "o";
    case 0x094C:
        return "au";
    default:
        return nullptr;
    }
}

// Words whose usual Hinglish spelling the letter rules do not give.
const QHash<QString, QString> &commonWords()
{
    static const QHash<QString, QString> words = {
        {u"में"_s, u"mein"_s},
        {u"हैं"_s, u"hain"_s},
        {u"है"_s, u"hai"_s},
        {u"नहीं"_s, u"nahi"_s},
        {u"हाँ"_s, u"haan"_s},
        {u"हां"_s, u"haan"_s},
        {u"मैं"_s, u"main"_s},
        {u"यह"_s, u"yeh"_s},
        {u"वह"_s, u"woh"_s},
        {u"अच्छा"_s, u"accha"_s},
        {u"ठीक"_s, u"theek"_s},
        {u"जी"_s, u"ji"_s},
        {u"क्या"_s, u"kya"_s},
        {u"कहाँ"_s, u"kahan"_s},
        {u"कहां"_s, u"kahan"_s},
        {u"आप"_s, u"aap"_s},
        {u"धन्यवाद"_s, u"dhanyavaad"_s},
        {u"हूँ"_s, u"hoon"_s},
        {u"हूं"_s, u"hoon"_s},
        {u"क्यों"_s, u"kyon"_s},
        {u"रुको"_s, u"ruko"_s},
        {u"बहुत"_s, u"bahut"_s},
        // English words callers use, as the transcription model writes them in Devanagari
        {u"ऑर्डर"_s, u"order"_s},
        {u"आर्डर"_s, u"order"_s},
        {u"रिफंड"_s, u"refund"_s},
        {u"डिलीवरी"_s, u"delivery"_s},
        {u"डिलीवर"_s, u"deliver"_s},
        {u"कैंसल"_s, u"cancel"_s},
        {u"टिकट"_s, u"ticket"_s},
        {u"पेमेंट"_s, u"payment"_s},
        {u"फ़ोन"_s, u"phone"_s},
        {u"फोन"_s, u"phone"_s},
        {u"नंबर"_s, u"number"_s},
        {u"प्रॉब्लम"_s, u"problem"_s},
        {u"कस्टमर"_s, u"customer"_s},
        {u"ओके"_s, u"ok"_s},
        {u"प्लीज़"_s, u"please"_s},
        {u"प्लीज"_s, u"please"_s},
        {u"सॉरी"_s, u"sorry"_s},
        {u"रिटर्न"_s, u"return"_s},
        {u"पार्सल"_s, u"parcel"_s},
        {u"कूरियर"_s, u"courier"_s},
        {u"अकाउंट"_s, u"account"_s},
        {u"एड्रेस"_s, u"address"_s},
    };
    return words;
}

struct Syllable
{
    QString consonant; // may be empty (an independent vowel)
    QString vowel;     // the written vowel; "a" when inherent
    bool inherent = false;
    bool dropped = false; // inherent vowel not pronounced
    QString nasal;        // after the vowel
};

QString romaniseWord(const QString &w)
{
    if (const auto it = commonWords().constFind(w); it != commonWords().cend())
        return *it;
    QList<Syllable> syl;
    QString tail; // signs not attached to a syllable
    for (qsizetype i = 0; i < w.size(); ++i) {
        const char16_t c = w.at(i).unicode();
        const bool nukta = i + 1 < w.size() && w.at(i + 1).unicode() == kNukta;
        if (const char *k = consonant(c, nukta)) {
            Syllable s;
            s.consonant = QString::fromLatin1(k);
            s.vowel = u"a"_s;
            s.inherent = true;
            if (nukta)
                ++i;
            if (i + 1 < w.size() && w.at(i + 1).unicode() == kVirama) {
                s.vowel.clear();
                s.inherent = false;
                ++i;
            } else if (i + 1 < w.size()) {
                const bool final =
                    i + 2 >= w.size() || (i + 2 == w.size() - 1 && (w.at(i + 2).unicode() == kAnusvara ||
                                                                    w.at(i + 2).unicode() == kCandrabindu));
                if (const char *v = vowelSign(w.at(i + 1).unicode(), final)) {
                    s.vowel = QString::fromLatin1(v);
                    s.inherent = false;
                    ++i;
                }
            }
            syl << s;
        } else if (const char *v = independentVowel(c)) {
            Syllable s;
            s.vowel = QString::fromLatin1(v);
            if (i == w.size() - 1) // word-final long vowels are written short ("hua", "gayi")
                s.vowel = s.vowel == u"aa"_s   ? u"a"_s
                          : s.vowel == u"ee"_s ? u"i"_s
                          : s.vowel == u"oo"_s ? u"u"_s
                                               : s.vowel;
            syl << s;
        } else if (c == kAnusvara || c == kCandrabindu) {
            if (syl.isEmpty())
                tail += u'n';
            else
                syl.last().nasal = u"n"_s;
        } else if (c == kVisarga) {
            if (syl.isEmpty())
                tail += u'h';
            else
                syl.last().nasal += u'h';
        } else if (const char *sign = vowelSign(c, i == w.size() - 1)) {
            tail += QString::fromLatin1(sign); // a stray sign
        }
        // other marks (stray nukta, virama, accents) add nothing
    }
    // Schwa deletion: the inherent vowel of the last consonant goes; so does one between a vowel and a
    // consonant that carries its own vowel, scanning from the end ("samajhta", "karna").
    if (!syl.isEmpty() && syl.last().inherent && syl.last().nasal.isEmpty() && syl.size() > 1)
        syl.last().dropped = true;
    for (qsizetype i = syl.size() - 2; i >= 1; --i) {
        Syllable &s = syl[i];
        const Syllable &next = syl.at(i + 1);
        const Syllable &prev = syl.at(i - 1);
        const bool nextHasVowel = !next.consonant.isEmpty() && !next.vowel.isEmpty() && !next.dropped;
        const bool prevHasVowel = !prev.vowel.isEmpty() && !prev.dropped;
        if (s.inherent && s.nasal.isEmpty() && nextHasVowel && prevHasVowel && !prev.consonant.isEmpty() &&
            !(i >= 2 && syl.at(i - 1).dropped))
            s.dropped = true;
    }
    QString out;
    for (qsizetype i = 0; i < syl.size(); ++i) {
        const Syllable &s = syl.at(i);
        out += s.consonant;
        if (!s.dropped)
            out += s.vowel;
        QString nasal = s.nasal;
        if (nasal.startsWith(u'n') && i + 1 < syl.size()) {
            const QString &nc = syl.at(i + 1).consonant;
            if (nc.startsWith(u'p') || nc.startsWith(u'b') || nc == u"m"_s)
                nasal[0] = u'm';
        }
        out += nasal;
    }
    return out + tail;
}

const QSet<QString> &hindiWords()
{
    // Common Hindi words as callers and the transcription model write them in Latin letters.
    static const QSet<QString> words = [] {
        const QStringList list =
            QStringLiteral(
                "haan haanji haa ji nahi nahin na mat hai hain tha thi hoga hogi hoon hun mein mera meri "
                "mere mujhe mujhko hum humara hamara humko aap aapka aapki aapke aapko tum tumhara tera yeh "
                "ye woh "
                "wo voh vo kya kyu kyun kyon kaise kaisa kab kahan kaha kidhar kitna kitne kitni kaun kis "
                "kisi "
                "kuch kuchh sab bahut bohot bhi aur ya lekin pe ko ka ki ke se tak mein abhi aaj kal parso "
                "accha acha achha theek thik hai ruko ruk rukiye suniye suno batao bataiye bolo boliye "
                "dijiye "
                "kijiye karo kariye karna karke kar raha rahi rahe diya diye gaya gayi gaye aaya aayi aaye "
                "aana "
                "jana chahiye chahta chahti milega mila mili nahi bilkul zaroor jaldi dhanyavaad dhanyawad "
                "shukriya namaste namaskar bhaiya bhai didi madam ji sahi galat paisa paise rupaye rupay "
                "wapas "
                "wala wali wale toot tuta tuti kharab ghar dost samajh samjha samjhi matlab phir fir dobara "
                "ek teen char paanch chhe saat aath nau das haanji hmm achha bas itna")
                .split(u' ', Qt::SkipEmptyParts);
        return QSet<QString>(list.cbegin(), list.cend());
    }();
    return words;
}
} // namespace

QString romanise(const QString &text)
{
    QString out;
    out.reserve(text.size());
    qsizetype i = 0;
    while (i < text.size()) {
        const QChar c = text.at(i);
        if (!isDevanagari(c)) {
            out += c;
            ++i;
            continue;
        }
        const char16_t u = c.unicode();
        if (u == 0x0964 || u == 0x0965) { // danda, double danda
            out += u'.';
            ++i;
            continue;
        }
        if (u >= 0x0966 && u <= 0x096F) { // digits
            out += QChar(u'0' + (u - 0x0966));
            ++i;
            continue;
        }
        qsizetype end = i;
        while (end < text.size() && isDevanagari(text.at(end)) && text.at(end).unicode() != 0x0964 &&
               text.at(end).unicode() != 0x0965 &&
               !(text.at(end).unicode() >= 0x0966 && text.at(end).unicode() <= 0x096F))
            ++end;
        out += romaniseWord(text.mid(i, end - i));
        i = end;
    }
    return out;
}

QString language(const QString &text)
{
    static const QRegularExpression word(u"[\\p{L}\\p{M}]+"_s);
    int hindi = 0;
    int english = 0;
    for (auto it = word.globalMatch(text); it.hasNext();) {
        const QString w = it.next().captured();
        bool devanagari = false;
        for (QChar c : w)
            devanagari = devanagari || isDevanagari(c);
        if (devanagari || hindiWords().contains(w.toLower()))
            ++hindi;
        else if (w.size() > 1 || w.compare(u"I"_s) == 0)
            ++english;
    }
    if (hindi == 0 && english == 0)
        return {};
    if (english == 0)
        return u"hi"_s;
    if (hindi == 0)
        return u"en"_s;
    return u"hi-en"_s;
}

} // namespace vaani::hinglish
