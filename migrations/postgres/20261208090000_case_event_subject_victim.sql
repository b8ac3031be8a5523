-- case_events.subject_victim_id is the victim a timeline entry concerns:
-- its subject when that is a victim, or the victim of the referral,
-- support service or consent that is. Row scope hides an entry from
-- whoever does not see that victim (rowscope.caseEventRows), with one probe
-- of the victim's primary key instead of reading the victim from the
-- subject's global id on every timeline statement.
-- The column is generated from the ent schema; the backfill of the entries
-- written before it is by hand (after editing, `make migration-sums`).
-- Global ids are unique across tables, so at most one branch matches; a
-- subject that is not a number (none is written so) concerns no victim.
-- +goose Up
ALTER TABLE "case_events" ADD COLUMN "subject_victim_id" bigint NULL;
UPDATE "case_events" SET "subject_victim_id" = COALESCE(
  (SELECT "id" FROM "victims" WHERE "id" = CAST("case_events"."subject_id" AS bigint)),
  (SELECT "victim_id" FROM "referrals" WHERE "id" = CAST("case_events"."subject_id" AS bigint)),
  (SELECT "victim_id" FROM "support_services" WHERE "id" = CAST("case_events"."subject_id" AS bigint)),
  (SELECT "victim_id" FROM "consents" WHERE "id" = CAST("case_events"."subject_id" AS bigint)))
WHERE "subject_id" ~ '^[0-9]{1,18}$';

-- +goose Down
ALTER TABLE "case_events" DROP COLUMN "subject_victim_id";
