-- audit_event_records holds the records of an audit event about several
-- (the field reads of a page's victims decided alike are one event): one
-- row a record, indexed by record for "who looked at this victim". The
-- event's detail holds the digest of its rows (audit.RecordsDigest), so the
-- hash chain covers them. Append-only like audit_events, and granted alike:
-- SELECT and INSERT only to the role `casegraph serve` runs as.
-- Hand-written (ent does not model this table: package audit reads and
-- writes it); after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE "audit_event_records" (
  "event_id" bigint NOT NULL,
  "entity_id" bigint NOT NULL,
  -- 32 lower-case hex digits of randomness in the digest (audit.Record); a
  -- nonce holding a newline could pass two records off as one
  "nonce" character varying NOT NULL CHECK ("nonce" ~ '^[0-9a-f]{32}$'),
  PRIMARY KEY ("event_id", "entity_id")
);
CREATE INDEX "audit_event_records_entity_id_event_id" ON "audit_event_records" ("entity_id", "event_id");

-- +goose StatementBegin
CREATE FUNCTION "audit_event_records_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event_records is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "audit_event_records_no_change" BEFORE UPDATE OR DELETE ON "audit_event_records"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_records_append_only"();
CREATE TRIGGER "audit_event_records_no_truncate" BEFORE TRUNCATE ON "audit_event_records"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_event_records_append_only"();

-- +goose Down
DROP TRIGGER "audit_event_records_no_truncate" ON "audit_event_records";
DROP TRIGGER "audit_event_records_no_change" ON "audit_event_records";
DROP FUNCTION "audit_event_records_append_only"();
DROP TABLE "audit_event_records";
