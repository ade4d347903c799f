-- v4 (SQLite): a masked copy of each customer's number, and audit triggers for changes to orders, tickets,
-- customers and agent prompts and for ticket notes (see the PostgreSQL variant). On one machine access is the
-- database file's permissions (0600): the actor is "local", the operating-system account that owns the file.
-- A number's change shows in its masked copy (re-sealing it with a new data key changes neither). Each trigger
-- statement is kept on lines that do not end in ';' except its last (the migration runner splits
-- statements at line ends).

ALTER TABLE customers ADD COLUMN phone_masked TEXT;
-- The same form as calls.caller_masked and the logs: +********3210.
UPDATE customers SET phone_masked = CASE WHEN phone GLOB '+[0-9][0-9][0-9][0-9][0-9]*' THEN '+' || substr('********************', 1, length(phone) - 5) || substr(phone, -4) ELSE phone END;

CREATE TRIGGER audit_orders AFTER UPDATE ON orders
WHEN OLD.status IS NOT NEW.status OR OLD.customer_id IS NOT NEW.customer_id OR OLD.amount_paise IS NOT NEW.amount_paise
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'orders.update', 'order ' || NEW.code,
  json_object('status', json_array(OLD.status, NEW.status), 'amount_paise', json_array(OLD.amount_paise, NEW.amount_paise))); END;
CREATE TRIGGER audit_tickets AFTER UPDATE ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.assignee IS NOT NEW.assignee OR OLD.priority IS NOT NEW.priority
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'tickets.update', 'ticket ' || NEW.code,
  json_object('status', json_array(OLD.status, NEW.status), 'assignee', json_array(OLD.assignee, NEW.assignee), 'priority', json_array(OLD.priority, NEW.priority))); END;
CREATE TRIGGER audit_customers AFTER UPDATE ON customers
WHEN OLD.name IS NOT NEW.name OR OLD.phone_masked IS NOT NEW.phone_masked OR OLD.email IS NOT NEW.email OR OLD.city IS NOT NEW.city
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'customers.update', 'customer ' || NEW.id, '{"customer":"changed"}'); END;
CREATE TRIGGER audit_prompts_insert AFTER INSERT ON agent_prompts
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'agent_prompts.insert', 'prompt ' || NEW.name || ' v' || NEW.version,
  json_object('active', json_array(NULL, NEW.active), 'author', json_array(NULL, NEW.author))); END;
CREATE TRIGGER audit_prompts_update AFTER UPDATE ON agent_prompts WHEN OLD.active IS NOT NEW.active
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'agent_prompts.update', 'prompt ' || NEW.name || ' v' || NEW.version,
  json_object('active', json_array(OLD.active, NEW.active))); END;
CREATE TRIGGER audit_ticket_notes AFTER INSERT ON ticket_events WHEN NEW.kind = 'note'
BEGIN INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'local', 'ticket_events.insert', 'ticket ' || (SELECT code FROM tickets WHERE id = NEW.ticket_id),
  '{"note":"changed"}'); END;
