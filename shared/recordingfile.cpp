#include "recordingfile.h"

#include "wav.h"

#include <sodium.h>

#include <QtEndian>

using namespace Qt::StringLiterals;

namespace vaani {

namespace {
constexpr char kMagic[] = "VAANIREC1\n";
constexpr qsizetype kMagicBytes = sizeof(kMagic) - 1;
constexpr qsizetype kHeaderBytes = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr qsizetype kTagBytes = crypto_secretstream_xchacha20poly1305_ABYTES;
using State = crypto_secretstream_xchacha20poly1305_state;

unsigned char *u(QByteArray &b)
{
    return reinterpret_cast<unsigned char *>(b.data());
}
const unsigned char *cu(const QByteArray &b)
{
    return reinterpret_cast<const unsigned char *>(b.constData());
}
} // namespace

RecordingEncoder::RecordingEncoder(const db::DataCipher *cipher)
{
    if (!cipher || !cipher->enabled())
        return;
    const QString id = cipher->currentKeyId();
    if (std::optional<QByteArray> key = cipher->fileKey(id)) {
        m_sealed = true;
        m_key = *key;
        m_ad = QByteArray(kMagic, kMagicBytes) + char(id.toUtf8().size()) + id.toUtf8();
    }
}

RecordingEncoder::~RecordingEncoder()
{
    if (!m_key.isEmpty())
        sodium_memzero(m_key.data(), size_t(m_key.size()));
    if (!m_state.isEmpty())
        sodium_memzero(m_state.data(), size_t(m_state.size()));
}

QByteArray RecordingEncoder::wavHeader(quint32 dataBytes)
{
    Wav w;
    w.format = Wav::Format::MuLaw;
    w.sampleRate = kSampleRate;
    w.channels = kChannels;
    QByteArray h = w.toBytes(); // 44 bytes with sizes for no data
    const quint32 riff = dataBytes > 0xFFFFFFFFu - 36 ? 0xFFFFFFFFu : dataBytes + 36;
    qToLittleEndian<quint32>(riff, h.data() + 4);
    qToLittleEndian<quint32>(dataBytes, h.data() + 40);
    return h;
}

QByteArray RecordingEncoder::begin()
{
    // Streaming sizes: the data chunk runs to the end of the file until the header is patched.
    const QByteArray header = wavHeader(0xFFFFFFFFu);
    if (!m_sealed)
        return header;
    QByteArray out = m_ad;
    QByteArray streamHeader(kHeaderBytes, '\0');
    m_state = QByteArray(qsizetype(sizeof(State)), '\0');
    crypto_secretstream_xchacha20poly1305_init_push(reinterpret_cast<State *>(m_state.data()),
                                                    u(streamHeader), cu(m_key));
    out += streamHeader;
    out += seal(header, false);
    return out;
}

QByteArray RecordingEncoder::seal(const QByteArray &plain, bool final)
{
    if (m_state.isEmpty())
        return {}; // begin() first: nothing sealed without the stream's header

    QByteArray block(4 + plain.size() + kTagBytes, '\0');
    unsigned long long written = 0;
    crypto_secretstream_xchacha20poly1305_push(reinterpret_cast<State *>(m_state.data()),
                                               reinterpret_cast<unsigned char *>(block.data() + 4), &written,
                                               cu(plain), size_t(plain.size()), cu(m_ad), size_t(m_ad.size()),
                                               final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    qToBigEndian<quint32>(quint32(written), block.data());
    return block;
}

QByteArray RecordingEncoder::push(const QByteArray &stereoMulaw)
{
    Q_ASSERT(stereoMulaw.size() <= kMaxBlockBytes);
    if (!m_sealed)
        return stereoMulaw;
    return seal(stereoMulaw, false);
}

QByteArray RecordingEncoder::finish()
{
    return m_sealed ? seal({}, true) : QByteArray();
}

std::optional<RecordingContents> openRecording(const QByteArray &file, const db::DataCipher &cipher,
                                               QString *error)
{
    auto fail = [error](const QString &message) -> std::optional<RecordingContents> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    RecordingContents out;
    if (!RecordingEncoder::isSealed(file)) {
        QString wavError;
        const Wav w = Wav::fromBytes(file, &wavError);
        if (!wavError.isEmpty())
            return fail(u"not a recording: "_s + wavError);
        out.wav = file;
        out.complete = file.size() >= 44 && qFromLittleEndian<quint32>(file.constData() + 40) != 0xFFFFFFFFu;
        return out;
    }
    out.wasSealed = true;
    qsizetype pos = kMagicBytes;
    if (file.size() < pos + 1)
        return fail(u"sealed recording cut short in its header"_s);
    const qsizetype idBytes = quint8(file.at(pos));
    pos += 1;
    if (idBytes == 0 || file.size() < pos + idBytes + kHeaderBytes)
        return fail(u"sealed recording cut short in its header"_s);
    const QString keyId = QString::fromUtf8(file.mid(pos, idBytes));
    const QByteArray ad = file.left(pos + idBytes);
    pos += idBytes;
    const std::optional<QByteArray> key = cipher.fileKey(keyId);
    if (!key)
        return fail(u"the recording is sealed with data key %1, which is not loaded"_s.arg(keyId));
    State state;
    if (crypto_secretstream_xchacha20poly1305_init_pull(
            &state, reinterpret_cast<const unsigned char *>(file.constData() + pos), cu(*key)) != 0)
        return fail(u"sealed recording has an invalid header"_s);
    pos += kHeaderBytes;
    QByteArray plain;
    QByteArray block;
    while (pos + 4 <= file.size()) {
        const quint32 length = qFromBigEndian<quint32>(file.constData() + pos);
        if (length < quint32(kTagBytes) || length > quint32(RecordingEncoder::kMaxBlockBytes + kTagBytes))
            return fail(u"sealed recording has a block of impossible length at byte %1"_s.arg(pos));
        if (file.size() - (pos + 4) < qsizetype(length))
            break; // the last block was cut short (a crash while writing): what came before stands
        block.resize(qsizetype(length) - kTagBytes);
        unsigned long long got = 0;
        unsigned char tag = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(
                &state, u(block), &got, &tag,
                reinterpret_cast<const unsigned char *>(file.constData() + pos + 4), length, cu(ad),
                size_t(ad.size())) != 0)
            return fail(
                u"sealed recording does not open: tampered with at byte %1, or a wrong key"_s.arg(pos));
        plain.append(block.constData(), qsizetype(got));
        pos += 4 + qsizetype(length);
        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
            out.complete = true;
            break;
        }
    }
    QString wavError;
    Wav::fromBytes(plain, &wavError);
    if (!wavError.isEmpty())
        return fail(u"sealed recording holds no audio: "_s + wavError);
    out.wav = plain;
    return out;
}

} // namespace vaani
