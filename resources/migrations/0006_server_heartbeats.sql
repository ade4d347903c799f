-- v6: which servers are alive. Each vaani-server writes its row every few seconds while it runs and deletes it
-- when it stops cleanly; a row that stops moving means the server died (SIGKILL, crash, lost host), and the
-- servers still running mark that server's calls in progress as 'interrupted'. A server that restarts under
-- the same VAANI_INSTANCE does the same at once for the calls its previous run left behind.

CREATE TABLE server_heartbeats (
    instance TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE INDEX idx_calls_in_progress ON calls(server_instance) WHERE outcome = 'in_progress';
