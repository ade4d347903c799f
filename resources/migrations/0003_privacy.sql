-- v3: an audit log of actions on personal data (who, when, what, on which record), written by the server's
-- erasure and retention jobs; staff actions join it later.

CREATE TABLE audit_log (
    id {{PK}},
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX idx_audit_log_at ON audit_log(at);
