-- +goose Up
-- create index "auditevent_entity_type_id" to table: "audit_events"
CREATE INDEX `auditevent_entity_type_id` ON `audit_events` (`entity_type`, `id`);

-- +goose Down
-- reverse: create index "auditevent_entity_type_id" to table: "audit_events"
DROP INDEX `auditevent_entity_type_id`;
