-- When a proceeding's dismissal was asked of a court: a court's decision is
-- recorded only in a proceeding a court had (its trial or its dismissal
-- requested), and a dismissal the office decides alone is no court's.
-- A proceeding moved before this column had its dismissal requested when
-- its timeline says so, or when it still waits on the court; the day is
-- not kept (the timeline dates the recording, not the request), so it is
-- dated with the earliest it can be, the close of its investigation (or
-- its registration): a later date would pass for the proceeding's latest
-- and refuse its stages dated before it.
-- +goose Up
-- add column `dismissal_requested_at` to table: `prosecutions`
ALTER TABLE `prosecutions` ADD COLUMN `dismissal_requested_at` datetime NULL;
UPDATE `prosecutions` SET `dismissal_requested_at` = COALESCE(`prosecutions`.`investigation_closed_at`, `prosecutions`.`registered_at`)
WHERE `prosecutions`.`stage` = 'DISMISSAL_REQUESTED' OR EXISTS (
  SELECT 1 FROM `case_events` e
  WHERE e.`kind` = 'PROSECUTION_STAGE_CHANGED' AND e.`summary` LIKE '% to DISMISSAL_REQUESTED.'
    AND e.`subject_id` = CAST(`prosecutions`.`id` AS TEXT));

-- +goose Down
-- reverse: add column `dismissal_requested_at` to table: `prosecutions`
ALTER TABLE `prosecutions` DROP COLUMN `dismissal_requested_at`;
