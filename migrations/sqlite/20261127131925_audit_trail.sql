-- +goose Up
-- create "audit_events" table
CREATE TABLE `audit_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `occurred_at` datetime NOT NULL, `kind` text NOT NULL, `request_id` text NOT NULL DEFAULT (''), `operation` text NOT NULL DEFAULT (''), `client_address` text NOT NULL DEFAULT (''), `actor_subject` text NOT NULL DEFAULT (''), `actor_agency_id` integer NULL, `actor_agency` text NOT NULL DEFAULT (''), `actor_roles` text NOT NULL DEFAULT (''), `entity_type` text NOT NULL DEFAULT (''), `entity_id` integer NULL, `fields` text NOT NULL DEFAULT (''), `decision` text NOT NULL DEFAULT (''), `rule` text NOT NULL DEFAULT (''), `reason` text NOT NULL DEFAULT (''), `emergency` bool NOT NULL DEFAULT (false), `justification` text NOT NULL DEFAULT (''), `detail` text NOT NULL DEFAULT (''), `prev_hash` text NOT NULL, `hash` text NOT NULL);
-- set sequence for "audit_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_events", 77309411328);
-- create index "auditevent_occurred_at" to table: "audit_events"
CREATE INDEX `auditevent_occurred_at` ON `audit_events` (`occurred_at`);
-- create index "auditevent_entity_id_id" to table: "audit_events"
CREATE INDEX `auditevent_entity_id_id` ON `audit_events` (`entity_id`, `id`);
-- create index "auditevent_actor_subject_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_subject_id` ON `audit_events` (`actor_subject`, `id`);
-- create index "auditevent_actor_agency_id_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_agency_id_id` ON `audit_events` (`actor_agency_id`, `id`);
-- create index "auditevent_kind_id" to table: "audit_events"
CREATE INDEX `auditevent_kind_id` ON `audit_events` (`kind`, `id`);
-- create index "auditevent_emergency_id" to table: "audit_events"
CREATE INDEX `auditevent_emergency_id` ON `audit_events` (`emergency`, `id`);

-- +goose Down
-- reverse: create index "auditevent_emergency_id" to table: "audit_events"
DROP INDEX `auditevent_emergency_id`;
-- reverse: create index "auditevent_kind_id" to table: "audit_events"
DROP INDEX `auditevent_kind_id`;
-- reverse: create index "auditevent_actor_agency_id_id" to table: "audit_events"
DROP INDEX `auditevent_actor_agency_id_id`;
-- reverse: create index "auditevent_actor_subject_id" to table: "audit_events"
DROP INDEX `auditevent_actor_subject_id`;
-- reverse: create index "auditevent_entity_id_id" to table: "audit_events"
DROP INDEX `auditevent_entity_id_id`;
-- reverse: create index "auditevent_occurred_at" to table: "audit_events"
DROP INDEX `auditevent_occurred_at`;
-- reverse: set sequence for "audit_events" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "audit_events";
-- reverse: create "audit_events" table
DROP TABLE `audit_events`;
