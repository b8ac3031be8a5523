-- Whoever may INSERT into audit_events (the server's role) could stop the
-- trail for good with one row it cannot take back (a hunt): an event
-- numbered 9223372036854775807, after which the writers' next number
-- overflowed; one dated 'infinity', which no writer can read back as a
-- time ("reading the chain's end" failed for every batch); and one dated
-- years ahead, which the writers then dated every later event after, out
-- of every time range. So a statement's events must be numbered from the
-- chain's last plus 1, one after the other, and dated finitely, no later
-- than the clock plus a day (audit.ClockSkew: the writers date events by
-- this clock, read under the chain's lock, and carry a last time forward
-- only within it; a day, so that no clock a time service or a failover
-- sets back refuses a genuine event). One
-- check a statement, over the statement's rows, not one a row. The events
-- are already in the table when it runs (AFTER): the statement's last must
-- be the table's last, and the one before its first must be there.
-- The functions' search_path is pinned, pg_catalog first and pg_temp last:
-- otherwise a temporary table the server's role made, named audit_events,
-- answered for the chain's end (PostgreSQL searches pg_temp first for
-- tables it is not told of), or a function of its own named
-- clock_timestamp or isfinite, and the checks passed what they refuse (a
-- review). The records' trigger (20261211090002) is pinned alike.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION "audit_events_off_the_chain"() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  first_id bigint;
  last_id bigint;
  n bigint;
BEGIN
  SELECT min("id"), max("id"), count(*) INTO first_id, last_id, n FROM new_events;
  IF n > 0 AND (last_id - first_id + 1 <> n
      -- max(), not EXISTS (... "id" > last_id): PL/pgSQL's generic plan
      -- for a range of unknown bound scanned the whole table, a cost that
      -- grew with the trail; max() reads the primary key's last entry.
      OR (SELECT max("id") FROM "audit_events") <> last_id
      OR (first_id > 1 AND NOT EXISTS (SELECT 1 FROM "audit_events" WHERE "id" = first_id - 1))) THEN
    RAISE EXCEPTION 'audit_events are numbered from the chain''s last plus 1, one after the other'
      USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM new_events
      WHERE NOT isfinite("occurred_at") OR "occurred_at" > clock_timestamp() + interval '1 day') THEN
    RAISE EXCEPTION 'audit_events are dated by the clock, no later than a day past it'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "audit_events_follow_the_chain" AFTER INSERT ON "audit_events"
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_off_the_chain"();
ALTER FUNCTION "audit_event_records_of_new_events"() SET search_path = pg_catalog, public, pg_temp;

-- +goose Down
ALTER FUNCTION "audit_event_records_of_new_events"() RESET search_path;
DROP TRIGGER "audit_events_follow_the_chain" ON "audit_events";
DROP FUNCTION "audit_events_off_the_chain"();
