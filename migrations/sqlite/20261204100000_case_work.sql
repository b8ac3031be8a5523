-- case_work is the standing answer to "which agencies work on which case":
-- one row for each reason an agency works on a case (it leads the case, is
-- assigned to it, or is the prosecution office of one of its proceedings),
-- kept by the triggers below in the transaction of the write that gives or
-- takes the reason. The row scope asks it with one indexed look-up
-- (rowscope.CaseWorkedOnBy); see the PostgreSQL migration of the same name.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE `case_work` (
  `agency_id` integer NOT NULL,
  `case_id` integer NOT NULL,
  -- why: 'lead' (source: the case), 'assignment', 'prosecution' (source: that record)
  `via` text NOT NULL,
  `source_id` integer NOT NULL,
  PRIMARY KEY (`via`, `source_id`)
);
CREATE INDEX `case_work_agency_id_case_id` ON `case_work` (`agency_id`, `case_id`);
CREATE INDEX `case_work_case_id` ON `case_work` (`case_id`);

INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`)
  SELECT `lead_agency_id`, `id`, 'lead', `id` FROM `case_files`
  UNION ALL SELECT `agency_id`, `case_id`, 'assignment', `id` FROM `case_assignments`
  UNION ALL SELECT `office_id`, `case_id`, 'prosecution', `id` FROM `prosecutions`;

-- +goose StatementBegin
CREATE TRIGGER `case_work_lead_insert` AFTER INSERT ON `case_files`
BEGIN
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`lead_agency_id`, NEW.`id`, 'lead', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_lead_update` AFTER UPDATE OF `id`, `lead_agency_id` ON `case_files`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'lead' AND `source_id` = OLD.`id`;
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`lead_agency_id`, NEW.`id`, 'lead', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_lead_delete` AFTER DELETE ON `case_files`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'lead' AND `source_id` = OLD.`id`;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `case_work_assignment_insert` AFTER INSERT ON `case_assignments`
BEGIN
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`agency_id`, NEW.`case_id`, 'assignment', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_assignment_update` AFTER UPDATE OF `id`, `agency_id`, `case_id` ON `case_assignments`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'assignment' AND `source_id` = OLD.`id`;
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`agency_id`, NEW.`case_id`, 'assignment', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_assignment_delete` AFTER DELETE ON `case_assignments`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'assignment' AND `source_id` = OLD.`id`;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER `case_work_prosecution_insert` AFTER INSERT ON `prosecutions`
BEGIN
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`office_id`, NEW.`case_id`, 'prosecution', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_prosecution_update` AFTER UPDATE OF `id`, `office_id`, `case_id` ON `prosecutions`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'prosecution' AND `source_id` = OLD.`id`;
  INSERT INTO `case_work` (`agency_id`, `case_id`, `via`, `source_id`) VALUES (NEW.`office_id`, NEW.`case_id`, 'prosecution', NEW.`id`);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `case_work_prosecution_delete` AFTER DELETE ON `prosecutions`
BEGIN
  DELETE FROM `case_work` WHERE `via` = 'prosecution' AND `source_id` = OLD.`id`;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER `case_work_prosecution_delete`;
DROP TRIGGER `case_work_prosecution_update`;
DROP TRIGGER `case_work_prosecution_insert`;
DROP TRIGGER `case_work_assignment_delete`;
DROP TRIGGER `case_work_assignment_update`;
DROP TRIGGER `case_work_assignment_insert`;
DROP TRIGGER `case_work_lead_delete`;
DROP TRIGGER `case_work_lead_update`;
DROP TRIGGER `case_work_lead_insert`;
DROP TABLE `case_work`;
