-- Each table's ids start at the first of its type's range on both
-- databases, so that the same demo (same seed, same day) has the same ids
-- on SQLite and on PostgreSQL and an id in README or docs/ names the same
-- record on either. PostgreSQL's identities START WITH the range's first
-- id; SQLite's sequences were set to it, and AUTOINCREMENT gives the next,
-- one above (until 2026-12-07, nineteenth session). A sequence still at a
-- range's first id is a table that never held a row: only those move, so
-- no id already given out is given again. Written by hand (no schema
-- change); after editing, `make migration-sums`.
-- +goose Up
UPDATE sqlite_sequence SET seq = seq - 1 WHERE seq > 0 AND seq % 4294967296 = 0;

-- +goose Down
UPDATE sqlite_sequence SET seq = seq + 1 WHERE seq > 0 AND (seq + 1) % 4294967296 = 0;
