-- statistics_editions holds the fixed editions of closed years: for each
-- row scope that reads statistics of people (the whole country, or one
-- agency's view) and each closed year, the year's finest cells of victims
-- and referrals and the rows of support and of days to accept, taken once
-- from one snapshot and served unchanged from then on, so that a change to
-- a closed year (a late registration, a referral decided) is never shown
-- by two looks at it (statistics/editions.go, docs/statistics.md,
-- "Editions"). Written once, never changed: the triggers refuse updates,
-- deletes and truncation, as for the audit trail.
-- Hand-written (a table ent does not serve, and triggers): after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE "statistics_editions" (
  -- statistics.scopeKey: 'all', or an agency and its level of victims' rows
  "scope" character varying NOT NULL,
  "year" integer NOT NULL,
  "taken_at" timestamptz NOT NULL,
  -- JSON: statistics.edition
  "content" text NOT NULL,
  PRIMARY KEY ("scope", "year")
);
-- +goose StatementBegin
CREATE FUNCTION "statistics_editions_fixed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'statistics_editions are fixed once taken' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "statistics_editions_no_change" BEFORE UPDATE OR DELETE ON "statistics_editions"
  FOR EACH ROW EXECUTE FUNCTION "statistics_editions_fixed"();
CREATE TRIGGER "statistics_editions_no_truncate" BEFORE TRUNCATE ON "statistics_editions"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_editions_fixed"();

-- +goose Down
DROP TRIGGER "statistics_editions_no_truncate" ON "statistics_editions";
DROP TRIGGER "statistics_editions_no_change" ON "statistics_editions";
DROP FUNCTION "statistics_editions_fixed"();
DROP TABLE "statistics_editions";
