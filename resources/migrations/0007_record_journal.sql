-- v7: call records are written through each server's local journal (JOURNAL_DIR), which replays what the
-- database missed once it is back, and after a crash. A replayed write must not be applied twice: transcript
-- lines and turns already carry (call_id, seq); tool calls get theirs here.
ALTER TABLE tool_invocations ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX idx_tool_invocations_seq ON tool_invocations(call_id, seq);
