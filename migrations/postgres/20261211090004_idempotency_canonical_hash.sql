-- +goose Up
-- modify "idempotency_records" table
ALTER TABLE "idempotency_records" ADD COLUMN "canonical_hash" character varying NULL;

-- +goose Down
-- reverse: modify "idempotency_records" table
ALTER TABLE "idempotency_records" DROP COLUMN "canonical_hash";
