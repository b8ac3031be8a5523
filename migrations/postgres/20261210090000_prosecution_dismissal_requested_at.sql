-- When a proceeding's dismissal was asked of a court: a court's decision is
-- recorded only in a proceeding a court had (its trial or its dismissal
-- requested), and a dismissal the office decides alone is no court's.
-- Proceedings moved before this column are dated from their timeline's
-- stage change, or, still waiting on the court, from their last change.
-- +goose Up
-- modify "prosecutions" table
ALTER TABLE "prosecutions" ADD COLUMN "dismissal_requested_at" timestamptz NULL;
UPDATE "prosecutions" p SET "dismissal_requested_at" = e.at
FROM (SELECT "subject_id", min("at") AS at FROM "case_events"
      WHERE "kind" = 'PROSECUTION_STAGE_CHANGED' AND "summary" LIKE '% to DISMISSAL_REQUESTED.'
      GROUP BY "subject_id") e
WHERE e."subject_id" = CAST(p."id" AS TEXT);
UPDATE "prosecutions" SET "dismissal_requested_at" = "updated_at"
WHERE "stage" = 'DISMISSAL_REQUESTED' AND "dismissal_requested_at" IS NULL;

-- +goose Down
-- reverse: modify "prosecutions" table
ALTER TABLE "prosecutions" DROP COLUMN "dismissal_requested_at";
