-- v8: call recordings (RECORD_CALLS) and the language of each transcript line.
-- recording_file: the file's path under RECORDINGS_DIR of the server that recorded the call (that server's
-- instance is calls.server_instance). recording_status: NULL when the call was not recorded; 'recording' while
-- it is written, 'complete', 'declined' (the caller said no: nothing kept), 'failed' (the disk refused),
-- 'erased' (retention or a caller's erasure removed it; the file is deleted by the server that holds it).
ALTER TABLE calls ADD COLUMN recording_file TEXT;
ALTER TABLE calls ADD COLUMN recording_status TEXT;
ALTER TABLE calls ADD COLUMN recording_ms INTEGER;
-- language: 'hi', 'en' or 'hi-en' (Hindi-English code-mixed), for caller and agent lines; NULL for system lines
-- and lines written before v8.
ALTER TABLE transcript_entries ADD COLUMN language TEXT;
-- The line the greeting adds when RECORD_CALLS is on (empty: the built-in one), asking the caller's consent.
ALTER TABLE agent_prompts ADD COLUMN recording_notice TEXT;
-- Each server looks for the erased recordings it still holds.
CREATE INDEX idx_calls_recordings_erased ON calls(server_instance)
    WHERE recording_status = 'erased' AND recording_file IS NOT NULL;
