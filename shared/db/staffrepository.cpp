#include "repositories.h"
#include "sqlhelpers.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QPasswordDigestor>
#include <QRandomGenerator>

using namespace Qt::StringLiterals;

namespace vaani::db {

using detail::Stmt;

using detail::isPostgres;

QString StaffRepository::scramVerifier(const QString &password, const QByteArray &salt, int iterations)
{
    // SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, i); ClientKey = HMAC(SaltedPassword, "Client
    // Key"); StoredKey = SHA-256(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key").
    const QByteArray salted = QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256,
                                                                 password.toUtf8(), salt, iterations, 32);
    const QByteArray clientKey =
        QMessageAuthenticationCode::hash("Client Key", salted, QCryptographicHash::Sha256);
    const QByteArray storedKey = QCryptographicHash::hash(clientKey, QCryptographicHash::Sha256);
    const QByteArray serverKey =
        QMessageAuthenticationCode::hash("Server Key", salted, QCryptographicHash::Sha256);
    return u"SCRAM-SHA-256$%1:%2$%3:%4"_s.arg(iterations)
        .arg(QString::fromLatin1(salt.toBase64()), QString::fromLatin1(storedKey.toBase64()),
             QString::fromLatin1(serverKey.toBase64()));
}

DbResult<QList<StaffMember>> StaffRepository::list()
{
    QList<StaffMember> out;
    if (!isPostgres(m_db))
        return out;
    Stmt s(m_db,
           u"SELECT r.rolname AS login, substr(g.rolname, 7) AS role, r.rolcanlogin AS can_login "
           "FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid "
           "WHERE g.rolname IN ('vaani_agent', 'vaani_supervisor', 'vaani_admin') AND r.rolname NOT IN "
           "('vaani_agent', 'vaani_supervisor', 'vaani_admin', 'vaani_server') ORDER BY r.rolname"_s);
    if (auto e = s.exec())
        return e;
    while (s.next())
        out.append({s.text("login"), s.text("role"), s.value("can_login").toBool()});
    return out;
}

DbResult<bool> StaffRepository::save(const QString &login, const QString &role, const QString &password)
{
    if (!isPostgres(m_db))
        return DbError::make(
            DbError::Kind::Invalid,
            u"staff accounts exist on PostgreSQL; on SQLite access is the file's permissions"_s);
    QVariant verifier(QMetaType::fromType<QString>());
    if (!password.isEmpty()) {
        if (password.size() < 12)
            return DbError::make(DbError::Kind::Invalid, u"a staff password has at least 12 characters"_s);
        QByteArray salt(16, '\0');
        QRandomGenerator::system()->generate(salt.begin(), salt.end());
        verifier = scramVerifier(password, salt);
    }
    Stmt s(m_db, u"SELECT vaani_staff_save(?, ?, ?)"_s);
    s.bind(login).bind(role).bind(verifier);
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<bool> StaffRepository::setCanLogin(const QString &login, bool canLogin)
{
    if (!isPostgres(m_db))
        return DbError::make(DbError::Kind::Invalid, u"staff accounts exist on PostgreSQL"_s);
    Stmt s(m_db, u"SELECT vaani_staff_set_login(?, ?)"_s);
    s.bind(login).bind(QVariant(canLogin));
    if (auto e = s.exec())
        return e;
    return true;
}

DbResult<bool> StaffRepository::recordExport(const QString &what, int rows)
{
    if (isPostgres(m_db)) {
        Stmt s(m_db, u"SELECT vaani_record_export(?, ?)"_s);
        s.bind(what.left(80)).bind(rows);
        if (auto e = s.exec())
            return e;
        return true;
    }
    Stmt s(
        m_db,
        u"INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, 'local', 'export', ?, ?)"_s);
    s.bind(detail::now()).bind(what.left(80)).bind(u"%1 rows"_s.arg(rows));
    if (auto e = s.exec())
        return e;
    return true;
}

} // namespace vaani::db
