#include "backchannel.h"

#include <QSet>
#include <QStringList>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
const QSet<QString> &words()
{
    static const QSet<QString> w = {// Hindi, romanised as transcription models write it
                                    u"haan"_s, u"haa"_s, u"ha"_s, u"han"_s, u"haanji"_s, u"hanji"_s,
                                    u"haji"_s, u"ji"_s, u"jee"_s, u"acha"_s, u"accha"_s, u"achha"_s,
                                    u"acchha"_s, u"achcha"_s, u"theek"_s, u"thik"_s, u"hai"_s, u"hain"_s,
                                    // English and the sounds of listening
                                    u"hmm"_s, u"hm"_s, u"hmmm"_s, u"mm"_s, u"mhm"_s, u"uhhuh"_s, u"ok"_s,
                                    u"okay"_s, u"okk"_s, u"right"_s, u"yes"_s, u"yeah"_s, u"yep"_s, u"sure"_s,
                                    // Devanagari
                                    u"हाँ"_s, u"हां"_s, u"हा"_s, u"जी"_s, u"अच्छा"_s, u"ठीक"_s, u"है"_s, u"हम्म"_s,
                                    u"हूँ"_s, u"ओके"_s};
    return w;
}
constexpr int kMaxWords = 4;
} // namespace

bool isBackchannel(const QString &transcript)
{
    QString cleaned;
    cleaned.reserve(transcript.size());
    for (const QChar c : transcript) {
        if (c.isLetterOrNumber() || c.isMark())
            cleaned += c.toLower();
        else if (c == u'-' || c == u'\'')
            continue; // "uh-huh", "ok'"
        else
            cleaned += u' ';
    }
    const QStringList tokens = cleaned.split(u' ', Qt::SkipEmptyParts);
    if (tokens.isEmpty() || tokens.size() > kMaxWords)
        return false;
    for (const QString &t : tokens)
        if (!words().contains(t))
            return false;
    return true;
}

} // namespace vaani
