-- case_events.commit_txid is, on PostgreSQL, the transaction that wrote a
-- timeline entry, for the feed of Query.caseEvents in COMMIT_ORDER
-- (docs/mutations.md, "When a write becomes visible"). On SQLite it is 0:
-- every write transaction holds the database's write lock from its BEGIN
-- IMMEDIATE to its COMMIT, so ids are given out in commit order, and the
-- feed's order (commit_txid, id) is the id's.
-- Generated from the ent schema, but for the ADD COLUMN (by hand; after
-- editing, `make migration-sums`): atlas copied the table into a new one
-- to add a column with a default, which SQLite's ADD COLUMN takes when the
-- default is a constant, without copying a row.
-- +goose Up
ALTER TABLE `case_events` ADD COLUMN `commit_txid` integer NOT NULL DEFAULT 0;
-- A page of the feed is a range of this index.
CREATE INDEX `caseevent_commit_txid_id` ON `case_events` (`commit_txid`, `id`);

-- +goose Down
DROP INDEX `caseevent_commit_txid_id`;
ALTER TABLE `case_events` DROP COLUMN `commit_txid`;
