-- court_decisions.reviewed_decision_id is the decision a review names as
-- the one it reviews (docs/domain.md, "Criminal proceedings"); NULL, as
-- for every review stored before it, leaves the decision reviewed
-- inferred, as before: no link is guessed. The column is ent's; the
-- statement is by hand (after editing, `make migration-sums`): ent's diff
-- rebuilt the table, setting its sequence back to its range's first id
-- (20261214090000). A column added with a reference is NULL in every row,
-- so SQLite takes it in place.
-- +goose Up
ALTER TABLE `court_decisions` ADD COLUMN `reviewed_decision_id` integer NULL CONSTRAINT `court_decisions_court_decisions_naming_reviews` REFERENCES `court_decisions` (`id`) ON DELETE SET NULL;
CREATE INDEX `courtdecision_reviewed_decision_id` ON `court_decisions` (`reviewed_decision_id`);

-- +goose Down
DROP INDEX `courtdecision_reviewed_decision_id`;
ALTER TABLE `court_decisions` DROP COLUMN `reviewed_decision_id`;
