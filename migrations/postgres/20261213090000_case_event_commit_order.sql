-- case_events.commit_txid is the transaction that wrote a timeline entry,
-- for the feed of Query.caseEvents in COMMIT_ORDER (docs/mutations.md,
-- "When a write becomes visible"): entries are ordered by it, then by id,
-- and a page answers only those below its statement's snapshot xmin.
-- Generated from the ent schema; the comments are by hand (after editing,
-- `make migration-sums`).
-- The default is the writing transaction's id, set in that transaction by
-- every INSERT that leaves the column out (the code never sets it), so it
-- costs no statement. pg_current_xact_id() is stable, not volatile: the
-- column is added without rewriting the table, and every entry written
-- before it gets this migration's transaction id, one value for all, so
-- that they are ordered by id among themselves and before every later one.
-- +goose Up
ALTER TABLE "case_events" ADD COLUMN "commit_txid" bigint NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint;
-- A page of the feed is a range of this index.
CREATE INDEX "caseevent_commit_txid_id" ON "case_events" ("commit_txid", "id");

-- +goose Down
DROP INDEX "caseevent_commit_txid_id";
ALTER TABLE "case_events" DROP COLUMN "commit_txid";
