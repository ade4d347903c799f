// The fake Realtime API's demo behaviour: vaani-fake-realtime's scripted call (the README's no-key
// walkthrough), its espeak-ng voice, and tool outputs put into Hinglish words.
#include "espeakvoice.h"
#include "fakerealtime.h"
#include "mulaw.h"

#include <QDate>
#include <QJsonDocument>
#include <QLocale>

using namespace Qt::StringLiterals;

namespace vaani::test {

namespace {
QString spell(const QString &code)
{
    QStringList parts;
    for (QChar c : code)
        parts << QString(c);
    return parts.join(u' ');
}

QString spokenDate(const QString &iso)
{
    const QDate d = QDate::fromString(iso, Qt::ISODate);
    return d.isValid() ? QLocale(QLocale::English).toString(d, u"d MMMM"_s) : iso;
}
} // namespace

QString FakeRealtimeServer::hinglishToolAnswer(const QString &output)
{
    const QJsonObject o = QJsonDocument::fromJson(output.toUtf8()).object();
    if (o.isEmpty() || !o.value(u"ok"_s).toBool(true))
        return u"Maaf kijiye, abhi system se jawab nahi mil raha. Main aapke liye ticket bana sakti hoon."_s;
    if (o.contains(u"found"_s) && !o.value(u"found"_s).toBool())
        return u"Maaf kijiye, is ID se koi order nahi mila. Kya aap ID ek baar phir bata sakte hain?"_s;
    if (o.contains(u"verified"_s) && !o.value(u"verified"_s).toBool())
        return u"Is order ki jaankari dene se pehle, kya aap registered mobile number ke last chaar digits "
               "bata sakte hain?"_s;
    static const QHash<QString, QString> status = {
        {u"placed"_s, u"abhi place hua hai, jald hi pack hoga"_s},
        {u"packed"_s, u"pack ho chuka hai, courier pickup ka wait hai"_s},
        {u"shipped"_s, u"ship ho gaya hai, raste mein hai"_s},
        {u"out_for_delivery"_s, u"aaj out for delivery hai"_s},
        {u"delivered"_s, u"deliver ho chuka hai"_s},
        {u"cancelled"_s, u"cancel ho chuka hai"_s},
        {u"returned"_s, u"return ho chuka hai"_s}};
    const QJsonObject order = o.value(u"order"_s).toObject();
    if (order.isEmpty())
        return u"Ji, maine dekh liya hai."_s;
    QString line = u"Aapka order %1, %2, %3"_s.arg(
        spell(order.value(u"order_id"_s).toString()), order.value(u"items"_s).toString(),
        status.value(order.value(u"status"_s).toString(), order.value(u"status"_s).toString()));
    if (order.contains(u"expected_delivery"_s))
        line += u", aur %1 tak deliver ho jayega"_s.arg(
            spokenDate(order.value(u"expected_delivery"_s).toString()));
    if (order.contains(u"courier"_s))
        line += u". Courier %1 hai"_s.arg(order.value(u"courier"_s).toString());
    return line + u". Aur kuch madad kar sakti hoon?"_s;
}

void FakeRealtimeServer::speakWith(EspeakVoice *speech)
{
    voice = [speech](const QString &text, std::function<void(const QByteArray &)> done) {
        speech->say(text, [text, done](const QList<std::int16_t> &pcm, const QString &error) {
            if (!error.isEmpty())
                qWarning().noquote() << "fake Realtime API:" << error << "- a tone instead of" << text;
            done(pcm.isEmpty() ? QByteArray() : mulaw::encode(pcm));
        });
    };
}

void FakeRealtimeServer::useDemoScript()
{
    greetingTranscript =
        u"Namaste! Main Vaani hoon, aapki customer support assistant. Bataiye, main aapki kya "
        "madad kar sakti hoon?"_s;
    greetingAudioMs = 2500; // the tone's lengths; speech is as long as it takes to say
    turns = {FakeTurn{u"Mera order ABC123 kahan hai?"_s, u"lookup_order"_s, u"{\"order_id\":\"ABC123\"}"_s,
                      u"{output}"_s, 3000},
             FakeTurn{u"Nahi, bas itna hi. Thank you."_s, u"end_call"_s,
                      u"{\"reason\":\"the caller's question was answered\"}"_s,
                      u"Dhanyavaad! Vaani se baat karne ke liye shukriya. Aapka din shubh ho."_s, 2000,
                      true}};
    sayOutput = &FakeRealtimeServer::hinglishToolAnswer;
}

} // namespace vaani::test
