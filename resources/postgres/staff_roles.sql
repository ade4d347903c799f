-- Vaani's staff roles on PostgreSQL, enforced by the database. Idempotent: the server applies it after its
-- migrations whenever its database user may create roles (the owner with CREATEROLE), and
-- `vaani-server --setup-roles` applies it on demand. Each staff member logs in as their own database user,
-- a member of exactly one of:
--   vaani_agent       orders and tickets (read; tickets: status, assignee, priority, notes), customers with
--                     masked numbers only, calls without transcripts; no prompts, no audit log.
--   vaani_supervisor  + full numbers and customer edits, transcripts and tool calls, order status changes,
--                     reading prompts and saving drafts (never active).
--   vaani_admin       + activating prompts, staff accounts, exports, the audit log.
--   vaani_server      what vaani-server needs and nothing more (no prompt writes, no audit reads).
-- Column privileges do the masking: an agent's SELECT phone FROM customers fails with "permission denied".

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['vaani_agent', 'vaani_supervisor', 'vaani_admin', 'vaani_server'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;
GRANT vaani_agent TO vaani_supervisor;
GRANT vaani_supervisor TO vaani_admin;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM vaani_agent, vaani_supervisor, vaani_admin, vaani_server;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM vaani_agent, vaani_supervisor, vaani_admin, vaani_server;
GRANT USAGE ON SCHEMA public TO vaani_agent, vaani_server;

GRANT SELECT ON schema_migrations, orders, tickets, ticket_events, calls, call_turns TO vaani_agent;
GRANT SELECT (id, name, phone_masked, email, city, created_at, row_version) ON customers TO vaani_agent;
GRANT INSERT ON tickets, ticket_events TO vaani_agent;
GRANT UPDATE (status, assignee, priority, updated_at, row_version) ON tickets TO vaani_agent;
GRANT USAGE ON SEQUENCE tickets_id_seq, ticket_events_id_seq TO vaani_agent;

GRANT SELECT ON customers, transcript_entries, tool_invocations, agent_prompts TO vaani_supervisor;
GRANT INSERT (name, phone, phone_masked, phone_hash, email, city, created_at) ON customers TO vaani_supervisor;
GRANT UPDATE (name, phone, phone_masked, phone_hash, email, city, row_version) ON customers TO vaani_supervisor;
GRANT UPDATE (status, updated_at, delivered_at, row_version) ON orders TO vaani_supervisor;
GRANT INSERT (name, version, instructions, greeting, voice, vad_threshold, vad_prefix_padding_ms,
              vad_silence_duration_ms, vad_idle_timeout_ms, author, created_at, note, recording_notice)
    ON agent_prompts TO vaani_supervisor;
GRANT USAGE ON SEQUENCE customers_id_seq, agent_prompts_id_seq TO vaani_supervisor;

GRANT UPDATE (active) ON agent_prompts TO vaani_admin;
GRANT SELECT ON audit_log TO vaani_admin;
GRANT EXECUTE ON FUNCTION vaani_record_export(text, integer) TO vaani_admin;

GRANT SELECT ON schema_migrations, customers, orders, agent_prompts, tickets, ticket_events, calls,
               transcript_entries, tool_invocations, call_turns TO vaani_server;
GRANT INSERT, UPDATE ON calls, transcript_entries, tool_invocations, call_turns TO vaani_server;
GRANT DELETE ON transcript_entries TO vaani_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON server_heartbeats TO vaani_server;
GRANT INSERT ON tickets, ticket_events, audit_log TO vaani_server;
GRANT UPDATE (summary, updated_at, row_version) ON tickets TO vaani_server;
GRANT UPDATE (note) ON ticket_events TO vaani_server;
GRANT UPDATE (name, phone, phone_masked, phone_hash, email, city, row_version) ON customers TO vaani_server;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO vaani_server;

-- Staff accounts, managed by admins from vaani-admin. These run as the owner (who may create roles) and
-- touch only roles that are Vaani staff; the password arrives as a SCRAM-SHA-256 verifier computed by the
-- app, so no clear password reaches the server or its logs.
CREATE OR REPLACE FUNCTION vaani_staff_save(login text, staff_role text, scram_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    group_role text := 'vaani_' || staff_role;
    existing oid;
    g text;
BEGIN
    IF login !~ '^[a-z][a-z0-9_.]{1,39}$' OR login LIKE 'vaani\_%' OR login LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'a staff login is 2-40 lower-case letters, digits, _ or ., starting with a letter (not vaani_ or pg_)'
            USING ERRCODE = '22023';
    END IF;
    IF staff_role NOT IN ('agent', 'supervisor', 'admin') THEN
        RAISE EXCEPTION 'staff role must be agent, supervisor or admin' USING ERRCODE = '22023';
    END IF;
    IF scram_verifier IS NOT NULL AND scram_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'the password must arrive as a SCRAM-SHA-256 verifier' USING ERRCODE = '22023';
    END IF;
    SELECT oid INTO existing FROM pg_roles WHERE rolname = login;
    IF existing IS NULL THEN
        IF scram_verifier IS NULL THEN
            RAISE EXCEPTION 'a new staff account needs a password' USING ERRCODE = '22023';
        END IF;
        EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', login, scram_verifier);
    ELSE
        IF NOT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                       WHERE m.member = existing AND g.rolname IN ('vaani_agent', 'vaani_supervisor', 'vaani_admin'))
           OR EXISTS (SELECT 1 FROM pg_roles WHERE oid = existing AND (rolsuper OR rolcreaterole)) THEN
            RAISE EXCEPTION '% is a database user but not Vaani staff; it cannot be changed from here', login
                USING ERRCODE = '42501';
        END IF;
        IF scram_verifier IS NOT NULL THEN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', login, scram_verifier);
        END IF;
    END IF;
    FOREACH g IN ARRAY ARRAY['vaani_agent', 'vaani_supervisor', 'vaani_admin'] LOOP
        IF g <> group_role THEN
            EXECUTE format('REVOKE %I FROM %I', g, login);
        END IF;
    END LOOP;
    EXECUTE format('GRANT %I TO %I', group_role, login);
    INSERT INTO audit_log (at, actor, action, subject, detail)
    VALUES (to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), session_user,
            CASE WHEN existing IS NULL THEN 'staff.create' ELSE 'staff.update' END, 'staff ' || login,
            jsonb_build_object('role', staff_role, 'password', CASE WHEN scram_verifier IS NULL THEN 'unchanged' ELSE 'set' END)::text);
END
$$;

CREATE OR REPLACE FUNCTION vaani_staff_set_login(login text, can_login boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid
                   WHERE r.rolname = login AND NOT r.rolsuper AND NOT r.rolcreaterole
                     AND g.rolname IN ('vaani_agent', 'vaani_supervisor', 'vaani_admin')) THEN
        RAISE EXCEPTION '% is not a Vaani staff account', login USING ERRCODE = '42501';
    END IF;
    IF login = session_user AND NOT can_login THEN
        RAISE EXCEPTION 'you cannot disable your own account' USING ERRCODE = '42501';
    END IF;
    EXECUTE format('ALTER ROLE %I %s', login, CASE WHEN can_login THEN 'LOGIN' ELSE 'NOLOGIN' END);
    INSERT INTO audit_log (at, actor, action, subject, detail)
    VALUES (to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), session_user,
            CASE WHEN can_login THEN 'staff.enable' ELSE 'staff.disable' END, 'staff ' || login, NULL);
END
$$;

REVOKE ALL ON FUNCTION vaani_staff_save(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vaani_staff_set_login(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vaani_staff_save(text, text, text), vaani_staff_set_login(text, boolean) TO vaani_admin;
