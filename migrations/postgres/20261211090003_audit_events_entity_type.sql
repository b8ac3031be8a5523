-- The DPO's filters by type of record and by field read, indexed: each was
-- a scan of the whole trail (a hunt: 0.27 s a statement on a million
-- events, twenty of them in one request at a cost of about 100). The
-- fields read are a comma-separated list in one column (the hash covers it
-- so); on PostgreSQL its names are indexed as an array, hand-written (ent
-- does not model an index on an expression), and audit.fieldRead asks for
-- them as one. On SQLite the list is matched with LIKE.
-- +goose Up
CREATE INDEX "auditevent_entity_type_id" ON "audit_events" ("entity_type", "id");
CREATE INDEX "audit_events_field_names" ON "audit_events" USING gin ((string_to_array("fields", ',')));

-- +goose Down
DROP INDEX "audit_events_field_names";
DROP INDEX "auditevent_entity_type_id";
