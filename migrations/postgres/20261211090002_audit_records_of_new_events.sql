-- The server's role may INSERT into audit_event_records (the writer adds
-- each event's records in the transaction that writes the event), and so
-- could add a record to an event written long ago: its digest then no
-- longer matches, the chain is broken there for good (the role cannot take
-- the row back), and a hunt over HTTP found it a way to blind verification
-- of everything after it, or, a record planted for the next event's
-- number, to refuse the writer's next batch. Records are now taken only
-- for events written in the same transaction (the events' xmin is the
-- transaction's id; the writer uses no savepoints). One check a statement,
-- over the statement's rows, not one a row. PostgreSQL only: whoever can
-- write the SQLite file can rewrite it whole.
-- Hand-written; after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION "audit_event_records_of_new_events"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  -- xmin is the 32-bit transaction id; pg_current_xact_id() the 64-bit one
  this_transaction bigint := pg_current_xact_id()::text::bigint & 4294967295;
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_records r
    WHERE NOT EXISTS (
      SELECT 1 FROM "audit_events" e
      WHERE e."id" = r."event_id" AND e.xmin::text::bigint = this_transaction)
  ) THEN
    RAISE EXCEPTION 'audit_event_records takes only the records of events written in the same transaction'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "audit_event_records_of_new_events" AFTER INSERT ON "audit_event_records"
  REFERENCING NEW TABLE AS new_records
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_records_of_new_events"();

-- +goose Down
DROP TRIGGER "audit_event_records_of_new_events" ON "audit_event_records";
DROP FUNCTION "audit_event_records_of_new_events"();
