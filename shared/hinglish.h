#pragma once
// Hinglish transcripts in one script. Callers mix Hindi and English, and the transcription model writes the
// Hindi sometimes in Devanagari, sometimes in Latin letters — within one call, even one line. The call log
// keeps one script: romanise() writes Devanagari the way Hinglish speakers type it ("मेरा ऑर्डर कहाँ है?" →
// "mera order kahan hai?"), and language() tags a line "hi", "en" or "hi-en" (code-mixed).
// Pure functions on untrusted text (model output): any input gives an answer; thread-safe.

#include <QString>

namespace vaani::hinglish {

// Devanagari letters, signs and digits in Latin letters (informal Hinglish spelling: inherent vowels dropped
// where Hindi drops them, long vowels doubled inside words, common words as they are usually written);
// everything else unchanged.
QString romanise(const QString &text);

// "hi" (Hindi, in either script), "en" (English), "hi-en" (both), or empty when there are no words.
QString language(const QString &text);

} // namespace vaani::hinglish
