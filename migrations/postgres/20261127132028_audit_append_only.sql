-- The audit trail is append-only: no update, delete or truncate, whoever
-- asks, the table's owner included. Only the owner can get round it, by
-- disabling or dropping the triggers: run `casegraph serve` as a role that
-- does not own the table and is granted only SELECT, INSERT on it (see
-- README.md, "The audit trail"); `serve` warns when it owns it.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "audit_events_no_change" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- +goose Down
DROP TRIGGER "audit_events_no_truncate" ON "audit_events";
DROP TRIGGER "audit_events_no_change" ON "audit_events";
DROP FUNCTION "audit_events_append_only"();
