-- +goose Up
-- add column "canonical_hash" to table: "idempotency_records"
ALTER TABLE `idempotency_records` ADD COLUMN `canonical_hash` text NULL;

-- +goose Down
-- reverse: add column "canonical_hash" to table: "idempotency_records"
ALTER TABLE `idempotency_records` DROP COLUMN `canonical_hash`;
