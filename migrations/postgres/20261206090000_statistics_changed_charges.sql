-- Court decisions are counted by their sentence against the statutory
-- range, which reads the articles their proceeding is charged under now
-- (statistics.sentenceRange): a change to a charge (a reclassification)
-- changes those counts, so it notifies like a change to the other counted
-- tables (20261204140000_statistics_changed), and servers forget what they
-- kept of the decisions.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
CREATE TRIGGER "statistics_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "charges"
  FOR EACH STATEMENT EXECUTE FUNCTION "statistics_changed"();

-- +goose Down
DROP TRIGGER "statistics_changed" ON "charges";
