#include "datacipher.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <sodium.h>

using namespace Qt::StringLiterals;

namespace vaani::db {

namespace {
constexpr auto kPrefix = "enc:v1:";
constexpr qsizetype kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr qsizetype kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr qsizetype kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Values larger than this are not sealed or opened (no column holds anything near it).
constexpr qsizetype kMaxValueBytes = 16 * 1024 * 1024;
// The clear-mode hash key: public on purpose (see the header).
constexpr char kPublicHashKey[] = "vaani: no data key configured...";
static_assert(sizeof(kPublicHashKey) - 1 == crypto_generichash_KEYBYTES);

bool sodiumReady()
{
    static const bool ready = sodium_init() >= 0;
    return ready;
}

QByteArray associatedData(const char *column, const QString &keyId)
{
    return QByteArray(column) + '\0' + keyId.toLatin1();
}
} // namespace

DataCipher::DataCipher() = default;

const DataCipher &DataCipher::clearMode()
{
    static const DataCipher none;
    return none;
}

DataCipher::~DataCipher()
{
    for (Key &k : m_keys) {
        sodium_memzero(k.secret.data(), size_t(k.secret.size()));
        sodium_memzero(k.hashKey.data(), size_t(k.hashKey.size()));
    }
}

std::shared_ptr<const DataCipher> DataCipher::fromFile(const QString &path, QString *error)
{
    error->clear();
    if (path.isEmpty())
        return std::make_shared<const DataCipher>();
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"VAANI_DATA_KEY_FILE: cannot read %1: %2"_s.arg(path, f.errorString());
        return nullptr;
    }
    const QByteArray text = f.read(64 * 1024);
    auto cipher = fromText(text, error);
    if (!error->isEmpty())
        error->prepend(u"VAANI_DATA_KEY_FILE (%1): "_s.arg(path));
    return cipher;
}

std::shared_ptr<const DataCipher> DataCipher::fromText(const QByteArray &text, QString *error)
{
    error->clear();
    if (!sodiumReady()) {
        *error = u"libsodium could not be initialised"_s;
        return nullptr;
    }
    auto cipher = std::make_shared<DataCipher>();
    static const QRegularExpression line(u"^([A-Za-z0-9_-]{1,32})\\s+([A-Za-z0-9+/=]{40,64})$"_s);
    int number = 0;
    for (const QByteArray &raw : text.split('\n')) {
        ++number;
        const QString l = QString::fromUtf8(raw).trimmed();
        if (l.isEmpty() || l.startsWith(u'#'))
            continue;
        const auto m = line.match(l);
        QByteArray secret = m.hasMatch() ? QByteArray::fromBase64(m.captured(2).toLatin1()) : QByteArray();
        if (!m.hasMatch() || secret.size() != kKeyBytes) {
            *error = u"line %1 is not \"<key id> <base64 of 32 bytes>\""_s.arg(number);
            return nullptr;
        }
        if (cipher->find(m.captured(1))) {
            *error = u"key id %1 appears twice"_s.arg(m.captured(1));
            return nullptr;
        }
        Key k{m.captured(1), secret, QByteArray(crypto_generichash_KEYBYTES, '\0')};
        crypto_kdf_derive_from_key(reinterpret_cast<unsigned char *>(k.hashKey.data()),
                                   size_t(k.hashKey.size()), 1, "vaanihsh",
                                   reinterpret_cast<const unsigned char *>(k.secret.constData()));
        cipher->m_keys.append(k);
        sodium_memzero(secret.data(), size_t(secret.size()));
    }
    if (cipher->m_keys.isEmpty()) {
        *error = u"no key in the file"_s;
        return nullptr;
    }
    return cipher;
}

QString DataCipher::generateKeyLine(const QString &id)
{
    (void)sodiumReady();
    QByteArray secret(kKeyBytes, '\0');
    randombytes_buf(secret.data(), size_t(secret.size()));
    const QString line = id + u' ' + QString::fromLatin1(secret.toBase64());
    sodium_memzero(secret.data(), size_t(secret.size()));
    return line;
}

QStringList DataCipher::keyIds() const
{
    QStringList out;
    for (const Key &k : m_keys)
        out << k.id;
    return out;
}

std::optional<QByteArray> DataCipher::fileKey(const QString &id) const
{
    const Key *k = find(id);
    if (!k)
        return std::nullopt;
    QByteArray out(kKeyBytes, '\0');
    crypto_kdf_derive_from_key(reinterpret_cast<unsigned char *>(out.data()), size_t(out.size()), 2,
                               "vaanirec", reinterpret_cast<const unsigned char *>(k->secret.constData()));
    return out;
}

const DataCipher::Key *DataCipher::find(const QString &id) const
{
    for (const Key &k : m_keys) {
        if (k.id == id)
            return &k;
    }
    return nullptr;
}

QString DataCipher::seal(const QString &plain, const char *column) const
{
    if (!enabled() || plain.isEmpty() || isSealed(plain))
        return plain;
    const Key &k = m_keys.first();
    const QByteArray message = plain.toUtf8();
    if (message.size() > kMaxValueBytes)
        return plain.left(0); // never stored in clear; callers cap their values far below this
    const QByteArray ad = associatedData(column, k.id);
    QByteArray out(kNonceBytes + message.size() + kTagBytes, '\0');
    auto *nonce = reinterpret_cast<unsigned char *>(out.data());
    randombytes_buf(nonce, kNonceBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + kNonceBytes, &written, reinterpret_cast<const unsigned char *>(message.constData()),
        size_t(message.size()), reinterpret_cast<const unsigned char *>(ad.constData()), size_t(ad.size()),
        nullptr, nonce, reinterpret_cast<const unsigned char *>(k.secret.constData()));
    out.truncate(kNonceBytes + qsizetype(written));
    return QLatin1String(kPrefix) + k.id + u':' + QString::fromLatin1(out.toBase64());
}

QString DataCipher::keyIdOf(const QString &stored)
{
    if (!isSealed(stored))
        return {};
    const qsizetype start = qsizetype(qstrlen(kPrefix));
    const qsizetype colon = stored.indexOf(u':', start);
    return colon < 0 ? QString() : stored.mid(start, colon - start);
}

std::optional<QString> DataCipher::open(const QString &stored, const char *column) const
{
    if (!isSealed(stored))
        return stored;
    const QString id = keyIdOf(stored);
    const Key *k = find(id);
    if (!k || stored.size() > kMaxValueBytes * 2)
        return std::nullopt;
    const qsizetype start = qsizetype(qstrlen(kPrefix)) + id.size() + 1;
    const auto decoded = QByteArray::fromBase64Encoding(QStringView(stored).mid(start).toLatin1(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() < kNonceBytes + kTagBytes)
        return std::nullopt;
    const QByteArray &box = decoded.decoded;
    const QByteArray ad = associatedData(column, k->id);
    QByteArray plain(box.size() - kNonceBytes - kTagBytes, '\0');
    unsigned long long length = 0;
    const auto *nonce = reinterpret_cast<const unsigned char *>(box.constData());
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char *>(plain.data()), &length, nullptr, nonce + kNonceBytes,
            size_t(box.size() - kNonceBytes), reinterpret_cast<const unsigned char *>(ad.constData()),
            size_t(ad.size()), nonce, reinterpret_cast<const unsigned char *>(k->secret.constData())) != 0)
        return std::nullopt;
    plain.truncate(qsizetype(length));
    return QString::fromUtf8(plain);
}

QString DataCipher::read(const QString &stored, const char *column) const
{
    if (auto v = open(stored, column))
        return *v;
    const QString id = keyIdOf(stored);
    return find(id) ? u"[encrypted; the value does not open with key %1 — damaged or altered]"_s.arg(id)
                    : u"[encrypted with key %1, which is not loaded (VAANI_DATA_KEY_FILE)]"_s.arg(id);
}

bool DataCipher::needsReseal(const QString &stored) const
{
    if (!enabled() || stored.isEmpty())
        return false;
    return !isSealed(stored) || keyIdOf(stored) != currentKeyId();
}

QString DataCipher::hashWith(const QString &id, const QByteArray &hashKey, const QString &number)
{
    (void)sodiumReady();
    const QByteArray in = number.toUtf8();
    unsigned char out[32];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char *>(in.constData()),
                       size_t(in.size()), reinterpret_cast<const unsigned char *>(hashKey.constData()),
                       size_t(hashKey.size()));
    return id + u':' +
           QString::fromLatin1(QByteArray(reinterpret_cast<const char *>(out), sizeof out)
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString DataCipher::phoneHash(const QString &normalizedNumber) const
{
    if (normalizedNumber.isEmpty())
        return {};
    if (!enabled())
        return hashWith(u"public"_s, QByteArray(kPublicHashKey, sizeof(kPublicHashKey) - 1),
                        normalizedNumber);
    return hashWith(m_keys.first().id, m_keys.first().hashKey, normalizedNumber);
}

QStringList DataCipher::phoneHashes(const QString &normalizedNumber) const
{
    QStringList out;
    if (normalizedNumber.isEmpty())
        return out;
    for (const Key &k : m_keys)
        out << hashWith(k.id, k.hashKey, normalizedNumber);
    out << hashWith(u"public"_s, QByteArray(kPublicHashKey, sizeof(kPublicHashKey) - 1), normalizedNumber);
    return out;
}

} // namespace vaani::db
