#include "twiml.h"

using namespace Qt::StringLiterals;

namespace vaani::twiml {

namespace {
const QString kHeader = u"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"_s;

QString fallbackVerbs(const QString &human)
{
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
                         const QString &humanAgentNumber)
{
    QString x =
        kHeader + u"<Response>\n  <Connect>\n    <Stream url=\""_s + escapeXml(streamUrl) + u"\">\n"_s;
    for (const auto &[name, value] : parameters)
        x += u"      <Parameter name=\""_s + escapeXml(name) + u"\" value=\""_s + escapeXml(value.left(499)) +
             u"\"/>\n"_s;
    x += u"    </Stream>\n  </Connect>\n"_s + fallbackVerbs(humanAgentNumber) + u"</Response>\n"_s;
    return x.toUtf8();
}

QByteArray fallback(const QString &humanAgentNumber)
{
    return (kHeader + u"<Response>\n"_s + fallbackVerbs(humanAgentNumber) + u"</Response>\n"_s).toUtf8();
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
