-- case_work made to match its definition once more, under a lock that keeps
-- writers out. 20261204100000 filled the table with one INSERT … SELECT and
-- created its triggers after: a write of a server still on the release
-- before (a rolling deploy runs `casegraph migrate` beside the old servers)
-- that committed after the INSERT's snapshot was neither filled in nor seen
-- by a trigger, and the triggers mend only rows they find (a hunt: a court
-- assigned to a case did not see it; an agency that no longer led a case
-- still did). SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock of
-- every INSERT, UPDATE and DELETE, so no write of the three tables runs
-- between the reconciliation and the commit, and every write after it goes
-- through the triggers. A backfill of a table that triggers keep must take
-- such a lock (or create the triggers first). PostgreSQL only: SQLite runs
-- one write transaction at a time.
-- Hand-written; after editing, `make migration-sums`.
-- +goose Up
-- One DO block: LOCK TABLE at the top level needs a transaction block,
-- which the schema tools' replay does not open (goose's migration does;
-- the lock then lasts to its commit).
-- +goose StatementBegin
DO $$
BEGIN
  LOCK TABLE "case_files", "case_assignments", "prosecutions" IN SHARE ROW EXCLUSIVE MODE;
  DELETE FROM "case_work" w WHERE NOT EXISTS (
    SELECT 1 FROM (
      SELECT "lead_agency_id" AS "agency_id", "id" AS "case_id", 'lead' AS "via", "id" AS "source_id" FROM "case_files"
      UNION ALL SELECT "agency_id", "case_id", 'assignment', "id" FROM "case_assignments"
      UNION ALL SELECT "office_id", "case_id", 'prosecution', "id" FROM "prosecutions") d
    WHERE d."via" = w."via" AND d."source_id" = w."source_id" AND d."agency_id" = w."agency_id" AND d."case_id" = w."case_id");
  INSERT INTO "case_work" ("agency_id", "case_id", "via", "source_id")
    SELECT d."agency_id", d."case_id", d."via", d."source_id" FROM (
      SELECT "lead_agency_id" AS "agency_id", "id" AS "case_id", 'lead' AS "via", "id" AS "source_id" FROM "case_files"
      UNION ALL SELECT "agency_id", "case_id", 'assignment', "id" FROM "case_assignments"
      UNION ALL SELECT "office_id", "case_id", 'prosecution', "id" FROM "prosecutions") d
    WHERE NOT EXISTS (SELECT 1 FROM "case_work" w WHERE w."via" = d."via" AND w."source_id" = d."source_id");
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- Nothing to undo: the rows are what the triggers would have kept.
SELECT 1;
