#include "twimlreader.h"

#include <QXmlStreamReader>

using namespace Qt::StringLiterals;

namespace vaani::twilio {

TwimlDocument TwimlDocument::parse(const QByteArray &xml)
{
    TwimlDocument d;
    if (xml.size() > 256 * 1024) {
        d.error = u"TwiML document too large"_s;
        return d;
    }
    QXmlStreamReader r(xml);
    bool inConnect = false;
    bool sawResponse = false;
    while (!r.atEnd()) {
        r.readNext();
        if (r.isStartElement()) {
            const QString name = r.name().toString();
            if (name == u"Response"_s) {
                sawResponse = true;
            } else if (name == u"Connect"_s) {
                inConnect = true;
                d.hasConnect = true;
            } else if (inConnect) {
                if (name == u"Stream"_s)
                    d.streamUrl = r.attributes().value(u"url"_s).toString();
                else if (name == u"Parameter"_s)
                    d.parameters.insert(r.attributes().value(u"name"_s).toString(),
                                        r.attributes().value(u"value"_s).toString());
            } else if (name == u"Dial"_s) {
                d.verbsAfterConnect
                    << u"Dial:"_s + r.readElementText(QXmlStreamReader::IncludeChildElements).trimmed();
            } else if (name != u"Number"_s) {
                if (name == u"Gather"_s && d.gatherAction.isEmpty())
                    d.gatherAction = r.attributes().value(u"action"_s).toString();
                d.verbsAfterConnect << name;
            }
        } else if (r.isEndElement() && r.name() == u"Connect"_s) {
            inConnect = false;
        }
    }
    d.valid = !r.hasError() && sawResponse;
    d.error = r.hasError() ? r.errorString() : (sawResponse ? QString() : u"no <Response> element"_s);
    return d;
}

} // namespace vaani::twilio
