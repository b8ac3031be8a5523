-- court_decisions.reviewed_decision_id is the decision a review names as
-- the one it reviews (docs/domain.md, "Criminal proceedings"); NULL, as
-- for every review stored before it, leaves the decision reviewed
-- inferred, as before: no link is guessed. Generated from the ent schema;
-- the comments are by hand (after editing, `make migration-sums`).
-- +goose Up
ALTER TABLE "court_decisions" ADD COLUMN "reviewed_decision_id" bigint NULL, ADD CONSTRAINT "court_decisions_court_decisions_naming_reviews" FOREIGN KEY ("reviewed_decision_id") REFERENCES "court_decisions" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
CREATE INDEX "courtdecision_reviewed_decision_id" ON "court_decisions" ("reviewed_decision_id");

-- +goose Down
DROP INDEX "courtdecision_reviewed_decision_id";
ALTER TABLE "court_decisions" DROP CONSTRAINT "court_decisions_court_decisions_naming_reviews", DROP COLUMN "reviewed_decision_id";
