-- audit_event_records holds the records of an audit event about several
-- (the field reads of a page's victims decided alike are one event): one
-- row a record, indexed by record for "who looked at this victim". The
-- event's detail holds the digest of its rows (audit.RecordsDigest), so the
-- hash chain covers them. Append-only like audit_events.
-- Hand-written (ent does not model this table: package audit reads and
-- writes it); after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE `audit_event_records` (
  `event_id` integer NOT NULL,
  `entity_id` integer NOT NULL,
  -- 32 lower-case hex digits of randomness in the digest (audit.Record); a
  -- nonce holding a newline could pass two records off as one
  `nonce` text NOT NULL CHECK (length(`nonce`) = 32 AND `nonce` NOT GLOB '*[^0-9a-f]*'),
  PRIMARY KEY (`event_id`, `entity_id`)
) WITHOUT ROWID;
CREATE INDEX `audit_event_records_entity_id_event_id` ON `audit_event_records` (`entity_id`, `event_id`);
-- +goose StatementBegin
CREATE TRIGGER `audit_event_records_no_update` BEFORE UPDATE ON `audit_event_records`
BEGIN
  SELECT RAISE(ABORT, 'audit_event_records is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `audit_event_records_no_delete` BEFORE DELETE ON `audit_event_records`
BEGIN
  SELECT RAISE(ABORT, 'audit_event_records is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER `audit_event_records_no_delete`;
DROP TRIGGER `audit_event_records_no_update`;
DROP TABLE `audit_event_records`;
