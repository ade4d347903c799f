-- Vaani schema v1. Portable SQL: {{PK}}, {{REAL}} and {{BIGINT}} are replaced per engine
-- (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT / REAL / INTEGER; PostgreSQL: BIGSERIAL PRIMARY KEY /
-- DOUBLE PRECISION / BIGINT). Times are ISO-8601 UTC text ("2026-11-25T13:38:07.123Z"), which sorts
-- correctly and reads the same on both engines. Money is integer paise.

CREATE TABLE customers (
    id {{PK}},
    name TEXT NOT NULL,
    phone TEXT NOT NULL UNIQUE,
    email TEXT,
    city TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE orders (
    id {{PK}},
    code TEXT NOT NULL UNIQUE,
    customer_id {{BIGINT}} NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL CHECK (status IN ('placed','packed','shipped','out_for_delivery','delivered','cancelled','returned')),
    items TEXT NOT NULL,
    amount_paise {{BIGINT}} NOT NULL CHECK (amount_paise >= 0),
    placed_at TEXT NOT NULL,
    expected_delivery TEXT,
    delivered_at TEXT,
    carrier TEXT,
    tracking_number TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_orders_customer ON orders(customer_id);

CREATE TABLE agent_prompts (
    id {{PK}},
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    instructions TEXT NOT NULL,
    greeting TEXT NOT NULL,
    voice TEXT NOT NULL,
    vad_threshold {{REAL}} NOT NULL,
    vad_prefix_padding_ms INTEGER NOT NULL,
    vad_silence_duration_ms INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE calls (
    id {{PK}},
    call_sid TEXT NOT NULL UNIQUE,
    stream_sid TEXT,
    caller_masked TEXT NOT NULL,
    called_number TEXT,
    customer_id {{BIGINT}} REFERENCES customers(id),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT NOT NULL DEFAULT 'in_progress',
    end_reason TEXT,
    prompt_id {{BIGINT}} REFERENCES agent_prompts(id),
    prompt_version INTEGER,
    server_instance TEXT,
    input_tokens {{BIGINT}} NOT NULL DEFAULT 0,
    output_tokens {{BIGINT}} NOT NULL DEFAULT 0,
    cost_usd {{REAL}} NOT NULL DEFAULT 0,
    first_audio_ms INTEGER
);
CREATE INDEX idx_calls_started ON calls(started_at);
CREATE INDEX idx_calls_caller ON calls(caller_masked);

CREATE TABLE tickets (
    id {{PK}},
    code TEXT NOT NULL UNIQUE,
    order_id {{BIGINT}} REFERENCES orders(id),
    customer_id {{BIGINT}} REFERENCES customers(id),
    call_id {{BIGINT}} REFERENCES calls(id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low','normal','high','urgent')),
    status TEXT NOT NULL CHECK (status IN ('open','in_progress','resolved','closed')),
    summary TEXT NOT NULL,
    assignee TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_tickets_status ON tickets(status);
CREATE INDEX idx_tickets_order ON tickets(order_id);

CREATE TABLE ticket_events (
    id {{PK}},
    ticket_id {{BIGINT}} NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('created','status','note','assigned')),
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_ticket_events_ticket ON ticket_events(ticket_id);

CREATE TABLE transcript_entries (
    id {{PK}},
    call_id {{BIGINT}} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('caller','agent','system')),
    text TEXT NOT NULL,
    offset_ms {{BIGINT}} NOT NULL,
    UNIQUE (call_id, seq)
);

CREATE TABLE tool_invocations (
    id {{PK}},
    call_id {{BIGINT}} NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    result TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_tool_invocations_call ON tool_invocations(call_id);
