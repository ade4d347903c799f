#pragma once
// Personal data callers say aloud, found in text and replaced by a tag before the text is stored or logged:
//   card numbers (13–19 digits passing the Luhn check, or after a word like "card")  → [card ****1234]
//   Aadhaar numbers (12 digits, or after "aadhaar")                                   → [aadhaar ****1234]
//   PAN (five letters, four digits, a letter; spaced out or not)                      → [pan]
//   OTPs, PINs and CVVs (4–8 digits after "OTP", "PIN", "code", "CVV"…)                → [otp] / [pin] /
//   [cvv] bank account numbers (9–18 digits after "account", "khata", "a/c"…)               → [account
//   ****1234] any other run of 12 or more digits                                                 → [number
//   ****1234]
// Digits count however they are said: "4111 1111 1111 1111", "4111-1111-…", Devanagari digits, and spoken
// number words in English, Hinglish and Hindi ("chaar paanch do", "double five", "चार पांच"), so that
// "mera aadhaar number hai chaar paanch …" is caught. The words that give a number its meaning are looked
// for just before and just after it ("OTP 4829", "4829 mera OTP hai"). Order IDs, tracking numbers (letters
// with digits), dates, amounts and short numbers are left alone.
//
// Pure functions, thread-safe.

#include <QString>

namespace vaani::pii {

QString redact(const QString &text);

// The digit a spoken word stands for ("chaar" → 4, "nine" → 9, "शून्य" → 0), or -1.
int digitWord(QStringView word);
bool luhnValid(QStringView digits);
// A phone number in E.164 form ("+919876543210"): one that can be called back (Twilio's From for a withheld
// caller is not, e.g. "anonymous").
bool isE164(const QString &number);

} // namespace vaani::pii
