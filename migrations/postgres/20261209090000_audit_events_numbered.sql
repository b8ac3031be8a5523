-- An audit event is numbered from 1, and an id it names is a record's or
-- none (NULL), never 0: an event numbered 0 or below lies outside the chain
-- that audit verify walks, yet the DPO's queries would list it, and a 0
-- where the writer stores NULL hashes alike (the hash writes an absent id
-- as 0) while the DPO's scope reads it otherwise. The writer never inserts
-- either; whoever may INSERT (the server's role) is refused them too. The
-- trigger's WHEN is evaluated without calling the function, so a row the
-- writer inserts costs no PL/pgSQL call.
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION "audit_events_misnumbered"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events are numbered from 1, and name no id 0' USING ERRCODE = 'check_violation';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "audit_events_numbered" BEFORE INSERT ON "audit_events"
  FOR EACH ROW WHEN (NEW."id" <= 0 OR NEW."entity_id" = 0 OR NEW."actor_agency_id" = 0)
  EXECUTE FUNCTION "audit_events_misnumbered"();

-- +goose Down
DROP TRIGGER "audit_events_numbered" ON "audit_events";
DROP FUNCTION "audit_events_misnumbered"();
