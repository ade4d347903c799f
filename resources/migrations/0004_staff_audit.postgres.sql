-- v4 (PostgreSQL): a masked copy of each customer's number for staff who may not see full numbers, and the
-- audit trigger: every change to orders, tickets, customers and agent prompts, and every ticket note, writes
-- one audit_log row with the database user who made it (session_user), the time and, for each changed column,
-- old → new. Columns that hold personal data or long text record only that they changed, so the audit log
-- holds no personal data and survives erasure. The trigger runs as the table owner (SECURITY DEFINER): staff
-- need no right to write audit_log and cannot forge or skip rows. Staff roles and their grants live in
-- resources/postgres/staff_roles.sql.

ALTER TABLE customers ADD COLUMN phone_masked TEXT;
-- The same form as calls.caller_masked and the logs: +********3210.
UPDATE customers SET phone_masked = CASE WHEN phone ~ '^\+[0-9]{5,}$' THEN '+' || repeat('*', length(phone) - 5) || right(phone, 4) ELSE phone END;

CREATE OR REPLACE FUNCTION vaani_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    o jsonb;
    n jsonb;
    k text;
    changes jsonb := '{}'::jsonb;
    subject text;
BEGIN
    -- Re-sealing with a new data key (vaani-server --reencrypt) changes no value: not audited row by row
    -- (the command writes one audit row). Only the server's role or the owner may say so.
    IF current_setting('vaani.resealing', true) = 'on'
       AND (EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'vaani_server' AND pg_has_role(session_user, r.oid, 'MEMBER'))
            OR pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
    FOR k IN SELECT jsonb_object_keys(COALESCE(n, o)) LOOP
        -- Derived columns (the masked copy and keyed hash of a number) follow the number: not audited.
        CONTINUE WHEN k IN ('id', 'row_version', 'updated_at', 'created_at', 'phone_masked', 'phone_hash');
        CONTINUE WHEN (o -> k) IS NOT DISTINCT FROM (n -> k);
        IF k IN ('name', 'phone', 'phone_masked', 'email', 'city', 'summary', 'note', 'items', 'instructions',
                 'greeting', 'tracking_number') THEN
            changes := changes || jsonb_build_object(k, 'changed');
        ELSE
            changes := changes || jsonb_build_object(k, jsonb_build_array(o -> k, n -> k));
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND changes = '{}'::jsonb THEN
        RETURN NULL;
    END IF;
    subject := CASE TG_TABLE_NAME
        WHEN 'orders' THEN 'order ' || COALESCE(n ->> 'code', o ->> 'code')
        WHEN 'tickets' THEN 'ticket ' || COALESCE(n ->> 'code', o ->> 'code')
        WHEN 'agent_prompts' THEN 'prompt ' || COALESCE(n ->> 'name', o ->> 'name') || ' v' || COALESCE(n ->> 'version', o ->> 'version')
        WHEN 'ticket_events' THEN 'ticket ' || (SELECT code FROM tickets WHERE id = (COALESCE(n, o) ->> 'ticket_id')::bigint)
        ELSE 'customer ' || COALESCE(n ->> 'id', o ->> 'id')
    END;
    INSERT INTO audit_log (at, actor, action, subject, detail)
    VALUES (to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), session_user,
            TG_TABLE_NAME || '.' || lower(TG_OP), COALESCE(subject, TG_TABLE_NAME), changes::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_orders AFTER UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION vaani_audit();
CREATE TRIGGER audit_tickets AFTER UPDATE OR DELETE ON tickets FOR EACH ROW EXECUTE FUNCTION vaani_audit();
CREATE TRIGGER audit_customers AFTER UPDATE OR DELETE ON customers FOR EACH ROW EXECUTE FUNCTION vaani_audit();
CREATE TRIGGER audit_prompts AFTER INSERT OR UPDATE OR DELETE ON agent_prompts FOR EACH ROW EXECUTE FUNCTION vaani_audit();
CREATE TRIGGER audit_ticket_notes AFTER INSERT ON ticket_events FOR EACH ROW WHEN (NEW.kind = 'note') EXECUTE FUNCTION vaani_audit();

-- Exports leave the database as files: the admin app records each one through this function (the actor is
-- the signed-in database user, whatever the app says). Only vaani_admin may call it (staff_roles.sql).
CREATE OR REPLACE FUNCTION vaani_record_export(what text, row_count integer) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO audit_log (at, actor, action, subject, detail)
    VALUES (to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), session_user,
            'export', left(what, 80), row_count || ' rows');
$$;
REVOKE ALL ON FUNCTION vaani_record_export(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION vaani_audit() FROM PUBLIC;
