-- v5: encryption at rest (shared/db/datacipher.h). Phone numbers get a keyed hash beside the (possibly sealed)
-- number so lookups work without decrypting; calls keep the caller's number only sealed (never in clear) and
-- its keyed hash, so erasure finds the calls of callers who never were customers. Transcripts, tool
-- arguments and results, ticket summaries and notes keep their columns: sealed values are text
-- ("enc:v1:<key id>:…") and carry their key id.

ALTER TABLE customers ADD COLUMN phone_hash TEXT;
ALTER TABLE calls ADD COLUMN caller_hash TEXT;
ALTER TABLE calls ADD COLUMN caller_number TEXT;
CREATE INDEX idx_customers_phone_hash ON customers(phone_hash);
CREATE INDEX idx_calls_caller_hash ON calls(caller_hash);
