#pragma once
// Twilio request validation (X-Twilio-Signature, ../shared/reference/twilio.md §3): HMAC-SHA1 over the
// URL as Twilio requested it plus the sorted form parameters, base64; accepted with either port variant.
// Pure functions; thread-safe.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace vaani::twilio {

using FormParams = QList<QPair<QString, QString>>;

// application/x-www-form-urlencoded body → decoded pairs, in order ('+' is a space).
FormParams parseForm(QByteArrayView body);
QByteArray encodeForm(const FormParams &params);

QString signedString(const QString &url, const FormParams &params);
QByteArray computeSignature(const QString &authToken, const QString &url, const FormParams &params = {});

// The URL as given, with its port removed, and with the scheme's default port added (if none).
QStringList urlPortVariants(const QString &url);

// Constant-time check over all port variants. An empty signature never validates.
bool validateSignature(const QString &authToken, const QString &url, const FormParams &params,
                       QByteArrayView signature);

// JSON-bodied webhooks: URL carries bodySHA256=<hex>; the URL is signed with no params and the hash must
// match the raw body.
QByteArray bodySha256Hex(QByteArrayView body);
bool validateJsonBody(const QString &authToken, const QString &url, QByteArrayView body,
                      QByteArrayView signature);

bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

} // namespace vaani::twilio
