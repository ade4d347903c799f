#pragma once
// Backchannels: what Indian callers say while someone else talks to show they are listening ("haan",
// "haan ji", "acha", "hmm", "ok", "theek hai", "right", "yes"), in Latin or Devanagari script. Pure.

#include <QString>

namespace vaani {

// True when the transcript holds nothing but backchannel words (at most a few; punctuation and case ignored).
bool isBackchannel(const QString &transcript);

} // namespace vaani
