-- statistics_editions holds the fixed editions of closed years; see the
-- PostgreSQL migration of the same name, statistics/editions.go and
-- docs/statistics.md, "Editions". Written once, never changed.
-- Hand-written (a table ent does not serve, and triggers): after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE `statistics_editions` (
  `scope` text NOT NULL,
  `year` integer NOT NULL,
  `taken_at` datetime NOT NULL,
  `content` text NOT NULL,
  PRIMARY KEY (`scope`, `year`)
);
-- +goose StatementBegin
CREATE TRIGGER `statistics_editions_no_update` BEFORE UPDATE ON `statistics_editions`
BEGIN
  SELECT RAISE(ABORT, 'statistics_editions are fixed once taken');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER `statistics_editions_no_delete` BEFORE DELETE ON `statistics_editions`
BEGIN
  SELECT RAISE(ABORT, 'statistics_editions are fixed once taken');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER `statistics_editions_no_delete`;
DROP TRIGGER `statistics_editions_no_update`;
DROP TABLE `statistics_editions`;
