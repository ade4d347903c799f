-- v2: richer call metrics (per-turn latency, token split, Twilio status), optimistic-locking row versions
-- for the admin app, VAD idle timeout on prompts, truncation marks on transcripts.

ALTER TABLE calls ADD COLUMN twilio_status TEXT;
ALTER TABLE calls ADD COLUMN duration_s INTEGER;
ALTER TABLE calls ADD COLUMN audio_input_tokens {{BIGINT}} NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN audio_output_tokens {{BIGINT}} NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN cached_input_tokens {{BIGINT}} NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN turn_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN turn_latency_p50_ms INTEGER;
ALTER TABLE calls ADD COLUMN turn_latency_p95_ms INTEGER;
ALTER TABLE calls ADD COLUMN updated_at TEXT;
UPDATE calls SET updated_at = COALESCE(ended_at, started_at);

ALTER TABLE orders ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE customers ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agent_prompts ADD COLUMN vad_idle_timeout_ms INTEGER;
ALTER TABLE agent_prompts ADD COLUMN note TEXT;
ALTER TABLE transcript_entries ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;

CREATE TABLE call_turns (
    id {{PK}},
    call_id {{BIGINT}} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    offset_ms {{BIGINT}} NOT NULL,
    UNIQUE (call_id, seq)
);
CREATE INDEX idx_tickets_call ON tickets(call_id);
CREATE INDEX idx_customers_name ON customers(name);
