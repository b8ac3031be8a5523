-- case_work is the standing answer to "which agencies work on which case":
-- one row for each reason an agency works on a case (it leads the case, is
-- assigned to it, or is the prosecution office of one of its proceedings),
-- kept by the triggers below in the transaction of the write that gives or
-- takes the reason. The row scope asks it with one indexed look-up
-- (rowscope.CaseWorkedOnBy) instead of three subqueries over the agency's
-- cases, assignments and proceedings at every level of a page
-- (docs/row-scope.md, docs/performance.md).
-- Hand-written (ent does not model triggers): after editing, `make migration-sums`.
-- +goose Up
CREATE TABLE "case_work" (
  "agency_id" bigint NOT NULL,
  "case_id" bigint NOT NULL,
  -- why: 'lead' (source: the case), 'assignment', 'prosecution' (source: that record)
  "via" character varying NOT NULL,
  "source_id" bigint NOT NULL,
  PRIMARY KEY ("via", "source_id")
);
CREATE INDEX "case_work_agency_id_case_id" ON "case_work" ("agency_id", "case_id");
CREATE INDEX "case_work_case_id" ON "case_work" ("case_id");

INSERT INTO "case_work" ("agency_id", "case_id", "via", "source_id")
  SELECT "lead_agency_id", "id", 'lead', "id" FROM "case_files"
  UNION ALL SELECT "agency_id", "case_id", 'assignment', "id" FROM "case_assignments"
  UNION ALL SELECT "office_id", "case_id", 'prosecution', "id" FROM "prosecutions";

-- +goose StatementBegin
CREATE FUNCTION "case_work_lead"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM "case_work" WHERE "via" = 'lead' AND "source_id" = OLD."id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO "case_work" ("agency_id", "case_id", "via", "source_id")
      VALUES (NEW."lead_agency_id", NEW."id", 'lead', NEW."id");
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "case_work_lead" AFTER INSERT OR DELETE OR UPDATE OF "id", "lead_agency_id" ON "case_files"
  FOR EACH ROW EXECUTE FUNCTION "case_work_lead"();

-- +goose StatementBegin
CREATE FUNCTION "case_work_assignment"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM "case_work" WHERE "via" = 'assignment' AND "source_id" = OLD."id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO "case_work" ("agency_id", "case_id", "via", "source_id")
      VALUES (NEW."agency_id", NEW."case_id", 'assignment', NEW."id");
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "case_work_assignment" AFTER INSERT OR DELETE OR UPDATE OF "id", "agency_id", "case_id" ON "case_assignments"
  FOR EACH ROW EXECUTE FUNCTION "case_work_assignment"();

-- +goose StatementBegin
CREATE FUNCTION "case_work_prosecution"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM "case_work" WHERE "via" = 'prosecution' AND "source_id" = OLD."id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO "case_work" ("agency_id", "case_id", "via", "source_id")
      VALUES (NEW."office_id", NEW."case_id", 'prosecution', NEW."id");
  END IF;
  RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER "case_work_prosecution" AFTER INSERT OR DELETE OR UPDATE OF "id", "office_id", "case_id" ON "prosecutions"
  FOR EACH ROW EXECUTE FUNCTION "case_work_prosecution"();


-- +goose Down
DROP TRIGGER "case_work_prosecution" ON "prosecutions";
DROP FUNCTION "case_work_prosecution"();
DROP TRIGGER "case_work_assignment" ON "case_assignments";
DROP FUNCTION "case_work_assignment"();
DROP TRIGGER "case_work_lead" ON "case_files";
DROP FUNCTION "case_work_lead"();
DROP TABLE "case_work";
