-- When a proceeding's dismissal was asked of a court: a court's decision is
-- recorded only in a proceeding a court had (its trial or its dismissal
-- requested), and a dismissal the office decides alone is no court's.
-- Proceedings moved before this column are dated from their timeline's
-- stage change, or, still waiting on the court, from their last change.
-- +goose Up
-- add column "dismissal_requested_at" to table: "prosecutions"
ALTER TABLE `prosecutions` ADD COLUMN `dismissal_requested_at` datetime NULL;
UPDATE `prosecutions` SET `dismissal_requested_at` = (
  SELECT min(`at`) FROM `case_events`
  WHERE `kind` = 'PROSECUTION_STAGE_CHANGED' AND `summary` LIKE '% to DISMISSAL_REQUESTED.'
    AND `subject_id` = CAST(`prosecutions`.`id` AS TEXT));
UPDATE `prosecutions` SET `dismissal_requested_at` = `updated_at`
WHERE `stage` = 'DISMISSAL_REQUESTED' AND `dismissal_requested_at` IS NULL;

-- +goose Down
-- reverse: add column "dismissal_requested_at" to table: "prosecutions"
ALTER TABLE `prosecutions` DROP COLUMN `dismissal_requested_at`;
