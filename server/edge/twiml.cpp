#include "twiml.h"

using namespace Qt::StringLiterals;

namespace vaani::twiml {

namespace {
const QString kHeader = u"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"_s;

// The fallback speaks Hindi with a hi-IN voice, so its text is in Devanagari (a Hindi voice reads romanised
// Hindi letter by letter, or as English); English words stay as callers say them (सिस्टम, कॉल).
const QString kSayHi = u"  <Say language=\"hi-IN\">"_s;

QString menuGather(const QString &human, const QString &menuUrl)
{
    QString say = u"हम आपको इसी नंबर पर वापस कॉल करें, इसके लिए एक दबाइए।"_s;
    if (!human.isEmpty())
        say += u" हमारे साथी से अभी बात करने के लिए दो दबाइए।"_s;
    return u"  <Gather input=\"dtmf\" numDigits=\"1\" timeout=\"6\" method=\"POST\" action=\""_s +
           escapeXml(menuUrl) + u"\">\n  "_s + kSayHi + say + u"</Say>\n  </Gather>\n"_s;
}

QString fallbackVerbs(const QString &human, const QString &menuUrl = {})
{
    if (!menuUrl.isEmpty()) {
        QString x = kSayHi + u"माफ़ कीजिए, अभी हमारा सिस्टम आपकी मदद नहीं कर पा रहा है।</Say>\n"_s +
                    menuGather(human, menuUrl);
        if (!human.isEmpty())
            return x + kSayHi + u"मैं आपको हमारे एक साथी से जोड़ रही हूँ।</Say>\n  <Dial>"_s + escapeXml(human) +
                   u"</Dial>\n  <Hangup/>\n"_s;
        return x + kSayHi + u"कृपया थोड़ी देर में दोबारा कॉल कीजिए। धन्यवाद।</Say>\n  <Hangup/>\n"_s;
    }
    if (!human.isEmpty())
        return u"  <Say language=\"en-IN\">Maaf kijiye, main aapko hamare ek saathi se jod rahi hoon. Please "
               u"hold.</Say>\n"
               "  <Dial>"_s +
               escapeXml(human) + u"</Dial>\n  <Hangup/>\n"_s;
    return u"  <Say language=\"en-IN\">Maaf kijiye, abhi technical problem hai. Please call again in a few "
           u"minutes. "
           "Dhanyavaad.</Say>\n  <Hangup/>\n"_s;
}
} // namespace

QString escapeXml(const QString &s)
{
    QString out;
    out.reserve(s.size());
    for (QChar c : s) {
        switch (c.unicode()) {
        case '&':
            out += u"&amp;"_s;
            break;
        case '<':
            out += u"&lt;"_s;
            break;
        case '>':
            out += u"&gt;"_s;
            break;
        case '"':
            out += u"&quot;"_s;
            break;
        case '\'':
            out += u"&apos;"_s;
            break;
        default:
            // Control characters are not allowed in XML 1.0.
            if (c.unicode() >= 0x20 || c == u'\t' || c == u'\n' || c == u'\r')
                out += c;
        }
    }
    return out;
}

QByteArray connectStream(const QString &streamUrl, const QList<QPair<QString, QString>> &parameters,
                         const QString &humanAgentNumber, const QString &menuUrl)
{
    QString x =
        kHeader + u"<Response>\n  <Connect>\n    <Stream url=\""_s + escapeXml(streamUrl) + u"\">\n"_s;
    for (const auto &[name, value] : parameters)
        x += u"      <Parameter name=\""_s + escapeXml(name) + u"\" value=\""_s + escapeXml(value.left(499)) +
             u"\"/>\n"_s;
    x += u"    </Stream>\n  </Connect>\n"_s + fallbackVerbs(humanAgentNumber, menuUrl) + u"</Response>\n"_s;
    return x.toUtf8();
}

QByteArray fallback(const QString &humanAgentNumber, const QString &menuUrl)
{
    return (kHeader + u"<Response>\n"_s + fallbackVerbs(humanAgentNumber, menuUrl) + u"</Response>\n"_s)
        .toUtf8();
}

QByteArray fallbackMenuAnswer(const QString &digit, const QString &human, const QString &menuUrl,
                              bool callbackPossible)
{
    QString x = kHeader + u"<Response>\n"_s;
    if (digit == u"2"_s && !human.isEmpty()) {
        x += kSayHi + u"एक मिनट, मैं आपको हमारे साथी से जोड़ रही हूँ।</Say>\n  <Dial>"_s + escapeXml(human) +
             u"</Dial>\n"_s;
    } else if (digit == u"1"_s || digit == u"2"_s) {
        if (digit == u"2"_s)
            x += kSayHi + u"अभी कोई साथी उपलब्ध नहीं है।</Say>\n"_s;
        x += callbackPossible
                 ? kSayHi + u"धन्यवाद। आपका कॉलबैक अनुरोध दर्ज हो गया है, हम जल्द ही इसी नंबर पर कॉल करेंगे।"
                            u"</Say>\n"_s
                 : kSayHi + u"आपका नंबर छिपा हुआ है, इसलिए हम वापस कॉल नहीं कर सकते। कृपया थोड़ी देर में "
                            u"दोबारा कॉल कीजिए।</Say>\n"_s;
    } else {
        x += menuGather(human, menuUrl) + kSayHi + u"धन्यवाद।</Say>\n"_s;
    }
    return (x + u"  <Hangup/>\n</Response>\n"_s).toUtf8();
}

QByteArray transfer(const QString &humanAgentNumber, const QString &callerId)
{
    QString dial = callerId.isEmpty() ? u"<Dial>"_s : u"<Dial callerId=\""_s + escapeXml(callerId) + u"\">"_s;
    return (u"<Response><Say language=\"en-IN\">Ek moment, main aapko hamare saathi se jod rahi hoon.</Say>"_s +
            dial + escapeXml(humanAgentNumber) + u"</Dial></Response>"_s)
        .toUtf8();
}

QByteArray hangup()
{
    return "<Response><Hangup/></Response>";
}

QByteArray goodbye()
{
    return (u"<Response><Say language=\"en-IN\">Maaf kijiye, hamein yeh call abhi khatam karni pad rahi hai. "
            "Kripya thodi der mein dobara call kijiye. Dhanyavaad.</Say><Hangup/></Response>"_s)
        .toUtf8();
}

} // namespace vaani::twiml
