-- An event is numbered the chain's last plus 1: one numbered
-- 9223372036854775807, appended by hand, made the writers' next number
-- overflow, and every later write failed (a hunt). As on PostgreSQL, where
-- the server's role may INSERT; here whoever can write the file can also
-- drop the trigger, so it refuses only what comes through SQL without
-- doing so. A row at a time: SQLite's trigger sees the rows of the
-- statement inserted before it, and the chain's last is the primary key's
-- largest. The times are checked by audit verify (DATED_IN_FUTURE,
-- STORED_OTHERWISE) and the writers date nothing after one dated ahead.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER "audit_events_follow_the_chain" BEFORE INSERT ON "audit_events"
WHEN NEW."id" != coalesce((SELECT max("id") FROM "audit_events"), 0) + 1
BEGIN
  SELECT RAISE(ABORT, 'audit_events are numbered from the chain''s last plus 1, one after the other');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER "audit_events_follow_the_chain";
