-- Every statement that changes a table the statistics count notifies the
-- channel casegraph_statistics with the table's name. PostgreSQL delivers a
-- notification only once its transaction has committed, and NOTIFY takes
-- no row lock, so writers do not wait on each other for it. Each server
-- listens and forgets the statistics it keeps across requests
-- (statistics.Cache, docs/statistics.md). SQLite has no such channel; its
-- servers keep statistics for one request only.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION "statistics_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('casegraph_statistics', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "victims"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "case_files"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "prosecutions"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "referrals"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "court_decisions"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "support_services"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "agencies"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();

-- +goose Down
DROP TRIGGER "statistics_changed" ON "agencies";
DROP TRIGGER "statistics_changed" ON "support_services";
DROP TRIGGER "statistics_changed" ON "court_decisions";
DROP TRIGGER "statistics_changed" ON "referrals";
DROP TRIGGER "statistics_changed" ON "prosecutions";
DROP TRIGGER "statistics_changed" ON "case_files";
DROP TRIGGER "statistics_changed" ON "victims";
DROP FUNCTION "statistics_changed"();
