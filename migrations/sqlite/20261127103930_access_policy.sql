-- +goose Up
-- create "emergency_grants" table
CREATE TABLE `emergency_grants` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `subject` text NOT NULL, `justification` text NOT NULL, `granted_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `revoked_by` text NULL, `agency_id` integer NOT NULL, `case_id` integer NOT NULL, CONSTRAINT `emergency_grants_agencies_agency` FOREIGN KEY (`agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `emergency_grants_case_files_case` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION);
-- set sequence for "emergency_grants" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("emergency_grants", 64424509440);
-- create index "emergencygrant_created_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_created_at` ON `emergency_grants` (`created_at`);
-- create index "emergencygrant_updated_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_updated_at` ON `emergency_grants` (`updated_at`);
-- create index "emergencygrant_subject_agency_id_expires_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_subject_agency_id_expires_at` ON `emergency_grants` (`subject`, `agency_id`, `expires_at`);
-- create index "emergencygrant_granted_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_granted_at` ON `emergency_grants` (`granted_at`);
-- create index "emergencygrant_expires_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_expires_at` ON `emergency_grants` (`expires_at`);
-- create index "emergencygrant_revoked_at" to table: "emergency_grants"
CREATE INDEX `emergencygrant_revoked_at` ON `emergency_grants` (`revoked_at`);
-- create index "emergencygrant_agency_id" to table: "emergency_grants"
CREATE INDEX `emergencygrant_agency_id` ON `emergency_grants` (`agency_id`);
-- create index "emergencygrant_case_id" to table: "emergency_grants"
CREATE INDEX `emergencygrant_case_id` ON `emergency_grants` (`case_id`);
-- create "policy_changes" table
CREATE TABLE `policy_changes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `at` datetime NOT NULL, `actor_subject` text NOT NULL, `actor_agency` text NOT NULL, `reason` text NOT NULL, `added` json NOT NULL, `removed` json NOT NULL);
-- set sequence for "policy_changes" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("policy_changes", 68719476736);
-- create index "policychange_at" to table: "policy_changes"
CREATE INDEX `policychange_at` ON `policy_changes` (`at`);
-- create "policy_rules" table
CREATE TABLE `policy_rules` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `ptype` text NOT NULL, `v0` text NOT NULL DEFAULT (''), `v1` text NOT NULL DEFAULT (''), `v2` text NOT NULL DEFAULT (''), `v3` text NOT NULL DEFAULT (''), `v4` text NOT NULL DEFAULT (''), `v5` text NOT NULL DEFAULT (''));
-- set sequence for "policy_rules" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("policy_rules", 73014444032);
-- create index "policyrule_ptype_v0_v1_v2_v3_v4_v5" to table: "policy_rules"
CREATE UNIQUE INDEX `policyrule_ptype_v0_v1_v2_v3_v4_v5` ON `policy_rules` (`ptype`, `v0`, `v1`, `v2`, `v3`, `v4`, `v5`);

-- +goose Down
-- reverse: create index "policyrule_ptype_v0_v1_v2_v3_v4_v5" to table: "policy_rules"
DROP INDEX `policyrule_ptype_v0_v1_v2_v3_v4_v5`;
-- reverse: set sequence for "policy_rules" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "policy_rules";
-- reverse: create "policy_rules" table
DROP TABLE `policy_rules`;
-- reverse: create index "policychange_at" to table: "policy_changes"
DROP INDEX `policychange_at`;
-- reverse: set sequence for "policy_changes" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "policy_changes";
-- reverse: create "policy_changes" table
DROP TABLE `policy_changes`;
-- reverse: create index "emergencygrant_case_id" to table: "emergency_grants"
DROP INDEX `emergencygrant_case_id`;
-- reverse: create index "emergencygrant_agency_id" to table: "emergency_grants"
DROP INDEX `emergencygrant_agency_id`;
-- reverse: create index "emergencygrant_revoked_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_revoked_at`;
-- reverse: create index "emergencygrant_expires_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_expires_at`;
-- reverse: create index "emergencygrant_granted_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_granted_at`;
-- reverse: create index "emergencygrant_subject_agency_id_expires_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_subject_agency_id_expires_at`;
-- reverse: create index "emergencygrant_updated_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_updated_at`;
-- reverse: create index "emergencygrant_created_at" to table: "emergency_grants"
DROP INDEX `emergencygrant_created_at`;
-- reverse: set sequence for "emergency_grants" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "emergency_grants";
-- reverse: create "emergency_grants" table
DROP TABLE `emergency_grants`;
