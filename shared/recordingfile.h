#pragma once
// The on-disk form of a call recording (RECORD_CALLS): a stereo 8 kHz G.711 μ-law WAV — caller left, agent
// right, the bytes exactly as they crossed the phone line. Written live, so a file cut short by a crash is
// still readable up to its last complete block.
//
// Without a data key the file is a plain WAV whose sizes are patched when the call ends (until then they
// hold the streaming placeholder every reader here accepts). With one (VAANI_DATA_KEY_FILE) the same WAV
// bytes are sealed as a libsodium secretstream (XChaCha20-Poly1305) under a per-purpose subkey of the
// current data key:
//   "VAANIREC1\n" | key id length (1 byte) | key id | secretstream header (24 bytes) |
//   blocks: ciphertext length (4 bytes, big-endian, ≤ kMaxBlockBytes + tag) | ciphertext
// The last block carries the FINAL tag; a file without it was cut short (readable, reported incomplete). The
// magic and key id are each block's associated data, so a relabelled file does not open.
// Pure functions and a small encoder; thread-safe on distinct objects.

#include "db/datacipher.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <optional>

namespace vaani {

class RecordingEncoder
{
public:
    static constexpr qsizetype kMaxBlockBytes = 1 << 20;
    static constexpr int kSampleRate = 8000;
    static constexpr int kChannels = 2;

    // cipher null or in clear mode: a plain WAV.
    explicit RecordingEncoder(const db::DataCipher *cipher);
    ~RecordingEncoder();
    RecordingEncoder(const RecordingEncoder &) = delete;
    RecordingEncoder &operator=(const RecordingEncoder &) = delete;

    bool sealed() const { return m_sealed; }
    // The file's first bytes (the WAV header with streaming sizes, sealed when there is a key). Call it
    // first: before it, a sealed encoder's push() and finish() give nothing.
    QByteArray begin();
    // Interleaved stereo μ-law (caller, agent, caller, …), at most kMaxBlockBytes: the bytes to append.
    QByteArray push(const QByteArray &stereoMulaw);
    // The last bytes to append (sealed: the FINAL block; plain: nothing).
    QByteArray finish();
    // Plain files: the header to write over the first 44 bytes once `dataBytes` of audio are in.
    static QByteArray wavHeader(quint32 dataBytes);
    static bool isSealed(const QByteArray &fileStart) { return fileStart.startsWith("VAANIREC1\n"); }

private:
    QByteArray seal(const QByteArray &plain, bool final);
    bool m_sealed = false;
    QByteArray m_key; // the file subkey (sealed)
    QByteArray m_ad;  // magic + key id
    QByteArray m_state;
};

struct RecordingContents
{
    QByteArray wav;        // a WAV image (Wav::fromBytes reads it)
    bool complete = false; // the writer finished it (sealed: FINAL seen; plain: sizes patched)
    bool wasSealed = false;
};

// Opens a recording's bytes (plain or sealed, complete or cut short). nullopt with an error when the file
// is not a recording, was sealed with a key that is not loaded, or was tampered with.
std::optional<RecordingContents> openRecording(const QByteArray &file, const db::DataCipher &cipher,
                                               QString *error);

} // namespace vaani
