#pragma once
// The record journal's file format (see RecordJournal): one call-record write per line,
//     <crc> <payload>\n
// where <payload> is the write as compact JSON (or, with a data key, that JSON sealed: "enc:v1:…") and <crc>
// the CRC-16 (ISO 3309) of the payload as 4 lowercase hex digits. A last line without its newline (a write
// torn by a crash or a full disk) is not a record and is cut off; a whole line whose checksum does not hold
// is skipped and counted. Pure functions, fuzzed (tests/fuzz/fuzz_journal.cpp).

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace vaani::journal {

// A record's largest size: a call-record write is at most a transcript line or a tool call (arguments and
// result are cut at 16000 characters each), far below this.
constexpr qsizetype kMaxRecordBytes = 256 * 1024;

// The line for one payload; empty when the payload is empty, holds a newline or would exceed kMaxRecordBytes.
QByteArray encode(QByteArrayView payload);

struct Decoded
{
    QList<QByteArray> payloads;
    qsizetype goodBytes = 0; // the data up to here ends with a whole line; what follows is a torn tail
    int corrupt = 0;         // whole lines that are not records (skipped)
};
Decoded decode(QByteArrayView data);

} // namespace vaani::journal
