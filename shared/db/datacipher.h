#pragma once
// Encryption at rest for personal data (libsodium): phone numbers, transcripts, tool arguments and results,
// ticket summaries and notes are stored sealed — "enc:v1:<key id>:<base64(nonce ‖ ciphertext)>",
// XChaCha20-Poly1305 with a random nonce, the column's name and the key id as associated data (a value moved
// to another column or relabelled with another key id does not open). Phone numbers are also stored as a
// keyed hash (BLAKE2b under a subkey of the data key) so "orders for this caller" and "calls from this
// number" are found without decrypting anything.
//
// Keys come from VAANI_DATA_KEY_FILE: one key per line, "<id> <base64 of 32 random bytes>"; the first line is
// the current key (new values are sealed with it), the others still open what they sealed until
// `vaani-server --reencrypt` has moved every row to the current key. Without a key file nothing is sealed and
// hashes use a fixed, public key (they then protect nothing — the numbers are in clear beside them — but let
// erasure find a caller's calls); the server warns at start.
// Thread-safe after construction (immutable); shared by the database threads of the server and the admin app.

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace vaani::db {

class DataCipher
{
public:
    DataCipher(); // no keys: clear mode
    static const DataCipher &clearMode();
    ~DataCipher();
    DataCipher(const DataCipher &) = delete;
    DataCipher &operator=(const DataCipher &) = delete;

    // path empty → clear mode. A missing, unreadable or malformed file is an error (never silently clear).
    static std::shared_ptr<const DataCipher> fromFile(const QString &path, QString *error);
    // "<id> <base64>" lines, as in the file ('#' comments and blank lines allowed).
    static std::shared_ptr<const DataCipher> fromText(const QByteArray &text, QString *error);
    // A new key line for the file: "<id> <base64 of 32 random bytes>".
    static QString generateKeyLine(const QString &id);

    bool enabled() const { return !m_keys.isEmpty(); }
    QString currentKeyId() const { return m_keys.isEmpty() ? QString() : m_keys.first().id; }
    QStringList keyIds() const;

    // Clear mode: the text as it is. Empty text stays empty (nothing to hide, and NOT NULL columns keep "").
    QString seal(const QString &plain, const char *column) const;
    // Clear values come back as they are; sealed ones opened with their key; nullopt when the key is not
    // loaded or the value was tampered with.
    std::optional<QString> open(const QString &stored, const char *column) const;
    // open(), or a placeholder ("[encrypted with key k1, which is not loaded]") for display.
    QString read(const QString &stored, const char *column) const;
    static bool isSealed(const QString &stored) { return stored.startsWith(QLatin1String("enc:v1:")); }
    static QString keyIdOf(const QString &stored); // the key id of a sealed value, else empty
    // True when the value is clear (and not empty) or sealed with a key other than the current one.
    bool needsReseal(const QString &stored) const;
    // A 32-byte subkey of key `id` for sealing files (call recordings: recordingfile.h), derived so that the
    // data key itself never leaves this class; nullopt when that key is not loaded.
    std::optional<QByteArray> fileKey(const QString &id) const;

    // "<key id>:<base64>": the keyed hash of a normalised number under the current key (clear mode: key id
    // "public"); hashes() under every loaded key and the public one, for lookups during a key rotation.
    QString phoneHash(const QString &normalizedNumber) const;
    QStringList phoneHashes(const QString &normalizedNumber) const;

private:
    struct Key
    {
        QString id;
        QByteArray secret;  // 32 bytes
        QByteArray hashKey; // 32 bytes, derived from secret
    };
    const Key *find(const QString &id) const;
    static QString hashWith(const QString &id, const QByteArray &hashKey, const QString &number);
    QList<Key> m_keys;
};

} // namespace vaani::db
