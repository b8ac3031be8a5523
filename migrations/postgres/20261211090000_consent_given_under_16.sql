-- consents.given_under_16: a victim's own consent given while under 16 by
-- the victim's stored ages opens nothing (domain.ConsentVoidedByAge). It
-- is kept by casework from the ages whenever they change; the consents
-- recorded before the column are decided by the Go migration that follows
-- this one (migrations/consent_ages.go), from the same rule.
-- +goose Up
ALTER TABLE "consents" ADD COLUMN "given_under_16" boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE "consents" DROP COLUMN "given_under_16";
