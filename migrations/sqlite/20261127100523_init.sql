-- +goose Up
-- create "agencies" table
CREATE TABLE `agencies` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `code` text NOT NULL, `name` text NOT NULL, `kind` text NOT NULL, `region` text NULL, `parent_id` integer NULL, CONSTRAINT `agencies_agencies_children` FOREIGN KEY (`parent_id`) REFERENCES `agencies` (`id`) ON DELETE SET NULL);
-- create index "agencies_code_key" to table: "agencies"
CREATE UNIQUE INDEX `agencies_code_key` ON `agencies` (`code`);
-- create index "agency_created_at" to table: "agencies"
CREATE INDEX `agency_created_at` ON `agencies` (`created_at`);
-- create index "agency_updated_at" to table: "agencies"
CREATE INDEX `agency_updated_at` ON `agencies` (`updated_at`);
-- create index "agency_name" to table: "agencies"
CREATE INDEX `agency_name` ON `agencies` (`name`);
-- create index "agency_kind" to table: "agencies"
CREATE INDEX `agency_kind` ON `agencies` (`kind`);
-- create index "agency_region" to table: "agencies"
CREATE INDEX `agency_region` ON `agencies` (`region`);
-- create index "agency_parent_id" to table: "agencies"
CREATE INDEX `agency_parent_id` ON `agencies` (`parent_id`);
-- create "case_assignments" table
CREATE TABLE `case_assignments` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `part` text NOT NULL, `assigned_at` datetime NOT NULL, `case_id` integer NOT NULL, `agency_id` integer NOT NULL, CONSTRAINT `case_assignments_case_files_case` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION, CONSTRAINT `case_assignments_agencies_agency` FOREIGN KEY (`agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION);
-- set sequence for "case_assignments" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("case_assignments", 4294967296);
-- create index "caseassignment_created_at" to table: "case_assignments"
CREATE INDEX `caseassignment_created_at` ON `case_assignments` (`created_at`);
-- create index "caseassignment_updated_at" to table: "case_assignments"
CREATE INDEX `caseassignment_updated_at` ON `case_assignments` (`updated_at`);
-- create index "caseassignment_case_id_agency_id" to table: "case_assignments"
CREATE UNIQUE INDEX `caseassignment_case_id_agency_id` ON `case_assignments` (`case_id`, `agency_id`);
-- create index "caseassignment_agency_id" to table: "case_assignments"
CREATE INDEX `caseassignment_agency_id` ON `case_assignments` (`agency_id`);
-- create "case_events" table
CREATE TABLE `case_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `kind` text NOT NULL, `at` datetime NOT NULL, `actor_subject` text NOT NULL, `summary` text NOT NULL, `subject_id` text NULL, `actor_agency_id` integer NOT NULL, `case_id` integer NOT NULL, CONSTRAINT `case_events_agencies_actor_agency` FOREIGN KEY (`actor_agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `case_events_case_files_events` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION);
-- set sequence for "case_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("case_events", 8589934592);
-- create index "caseevent_created_at" to table: "case_events"
CREATE INDEX `caseevent_created_at` ON `case_events` (`created_at`);
-- create index "caseevent_updated_at" to table: "case_events"
CREATE INDEX `caseevent_updated_at` ON `case_events` (`updated_at`);
-- create index "caseevent_kind" to table: "case_events"
CREATE INDEX `caseevent_kind` ON `case_events` (`kind`);
-- create index "caseevent_at" to table: "case_events"
CREATE INDEX `caseevent_at` ON `case_events` (`at`);
-- create index "caseevent_case_id_at" to table: "case_events"
CREATE INDEX `caseevent_case_id_at` ON `case_events` (`case_id`, `at`);
-- create index "caseevent_actor_agency_id" to table: "case_events"
CREATE INDEX `caseevent_actor_agency_id` ON `case_events` (`actor_agency_id`);
-- create "case_files" table
CREATE TABLE `case_files` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `reference` text NOT NULL, `title` text NOT NULL, `stage` text NOT NULL DEFAULT ('NOTICE_RECEIVED'), `forms_of_exploitation` json NOT NULL, `region` text NOT NULL, `opened_at` datetime NOT NULL, `closed_at` datetime NULL, `lead_agency_id` integer NOT NULL, CONSTRAINT `case_files_agencies_lead_agency` FOREIGN KEY (`lead_agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION);
-- set sequence for "case_files" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("case_files", 12884901888);
-- create index "case_files_reference_key" to table: "case_files"
CREATE UNIQUE INDEX `case_files_reference_key` ON `case_files` (`reference`);
-- create index "casefile_created_at" to table: "case_files"
CREATE INDEX `casefile_created_at` ON `case_files` (`created_at`);
-- create index "casefile_updated_at" to table: "case_files"
CREATE INDEX `casefile_updated_at` ON `case_files` (`updated_at`);
-- create index "casefile_stage" to table: "case_files"
CREATE INDEX `casefile_stage` ON `case_files` (`stage`);
-- create index "casefile_region" to table: "case_files"
CREATE INDEX `casefile_region` ON `case_files` (`region`);
-- create index "casefile_opened_at" to table: "case_files"
CREATE INDEX `casefile_opened_at` ON `case_files` (`opened_at`);
-- create index "casefile_closed_at" to table: "case_files"
CREATE INDEX `casefile_closed_at` ON `case_files` (`closed_at`);
-- create index "casefile_lead_agency_id" to table: "case_files"
CREATE INDEX `casefile_lead_agency_id` ON `case_files` (`lead_agency_id`);
-- create "case_victims" table
CREATE TABLE `case_victims` (`linked_at` datetime NOT NULL, `case_id` integer NOT NULL, `victim_id` integer NOT NULL, PRIMARY KEY (`case_id`, `victim_id`), CONSTRAINT `case_victims_case_files_case` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION, CONSTRAINT `case_victims_victims_victim` FOREIGN KEY (`victim_id`) REFERENCES `victims` (`id`) ON DELETE NO ACTION);
-- set sequence for "case_victims" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("case_victims", 55834574848);
-- create index "casevictim_victim_id" to table: "case_victims"
CREATE INDEX `casevictim_victim_id` ON `case_victims` (`victim_id`);
-- create "charges" table
CREATE TABLE `charges` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `article` text NOT NULL, `reclassified_from` text NULL, `reclassified_at` datetime NULL, `suspect_id` integer NULL, `prosecution_id` integer NOT NULL, CONSTRAINT `charges_suspects_suspect` FOREIGN KEY (`suspect_id`) REFERENCES `suspects` (`id`) ON DELETE SET NULL, CONSTRAINT `charges_prosecutions_charges` FOREIGN KEY (`prosecution_id`) REFERENCES `prosecutions` (`id`) ON DELETE NO ACTION);
-- set sequence for "charges" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("charges", 17179869184);
-- create index "charge_created_at" to table: "charges"
CREATE INDEX `charge_created_at` ON `charges` (`created_at`);
-- create index "charge_updated_at" to table: "charges"
CREATE INDEX `charge_updated_at` ON `charges` (`updated_at`);
-- create index "charge_article" to table: "charges"
CREATE INDEX `charge_article` ON `charges` (`article`);
-- create index "charge_reclassified_from" to table: "charges"
CREATE INDEX `charge_reclassified_from` ON `charges` (`reclassified_from`);
-- create index "charge_prosecution_id" to table: "charges"
CREATE INDEX `charge_prosecution_id` ON `charges` (`prosecution_id`);
-- create index "charge_suspect_id" to table: "charges"
CREATE INDEX `charge_suspect_id` ON `charges` (`suspect_id`);
-- create "consents" table
CREATE TABLE `consents` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `agency_kinds` json NOT NULL, `purposes` json NOT NULL, `given_by` text NOT NULL, `given_at` datetime NOT NULL, `withdrawn_at` datetime NULL, `recorded_by` text NOT NULL, `recorded_by_agency_id` integer NOT NULL, `victim_id` integer NOT NULL, CONSTRAINT `consents_agencies_recorded_by_agency` FOREIGN KEY (`recorded_by_agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `consents_victims_consents` FOREIGN KEY (`victim_id`) REFERENCES `victims` (`id`) ON DELETE NO ACTION);
-- set sequence for "consents" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("consents", 21474836480);
-- create index "consent_created_at" to table: "consents"
CREATE INDEX `consent_created_at` ON `consents` (`created_at`);
-- create index "consent_updated_at" to table: "consents"
CREATE INDEX `consent_updated_at` ON `consents` (`updated_at`);
-- create index "consent_given_by" to table: "consents"
CREATE INDEX `consent_given_by` ON `consents` (`given_by`);
-- create index "consent_given_at" to table: "consents"
CREATE INDEX `consent_given_at` ON `consents` (`given_at`);
-- create index "consent_withdrawn_at" to table: "consents"
CREATE INDEX `consent_withdrawn_at` ON `consents` (`withdrawn_at`);
-- create index "consent_victim_id" to table: "consents"
CREATE INDEX `consent_victim_id` ON `consents` (`victim_id`);
-- create index "consent_recorded_by_agency_id" to table: "consents"
CREATE INDEX `consent_recorded_by_agency_id` ON `consents` (`recorded_by_agency_id`);
-- create "court_decisions" table
CREATE TABLE `court_decisions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `instance` text NOT NULL, `decided_on` datetime NOT NULL, `verdict` text NOT NULL, `sentence_kind` text NULL, `sentence_months` integer NULL, `compensation_ordered_lek` integer NULL, `compensation_paid` bool NOT NULL DEFAULT (false), `court_id` integer NOT NULL, `prosecution_id` integer NOT NULL, CONSTRAINT `court_decisions_agencies_court` FOREIGN KEY (`court_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `court_decisions_prosecutions_decisions` FOREIGN KEY (`prosecution_id`) REFERENCES `prosecutions` (`id`) ON DELETE NO ACTION);
-- set sequence for "court_decisions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("court_decisions", 25769803776);
-- create index "courtdecision_created_at" to table: "court_decisions"
CREATE INDEX `courtdecision_created_at` ON `court_decisions` (`created_at`);
-- create index "courtdecision_updated_at" to table: "court_decisions"
CREATE INDEX `courtdecision_updated_at` ON `court_decisions` (`updated_at`);
-- create index "courtdecision_instance" to table: "court_decisions"
CREATE INDEX `courtdecision_instance` ON `court_decisions` (`instance`);
-- create index "courtdecision_decided_on" to table: "court_decisions"
CREATE INDEX `courtdecision_decided_on` ON `court_decisions` (`decided_on`);
-- create index "courtdecision_verdict" to table: "court_decisions"
CREATE INDEX `courtdecision_verdict` ON `court_decisions` (`verdict`);
-- create index "courtdecision_sentence_kind" to table: "court_decisions"
CREATE INDEX `courtdecision_sentence_kind` ON `court_decisions` (`sentence_kind`);
-- create index "courtdecision_sentence_months" to table: "court_decisions"
CREATE INDEX `courtdecision_sentence_months` ON `court_decisions` (`sentence_months`);
-- create index "courtdecision_compensation_paid" to table: "court_decisions"
CREATE INDEX `courtdecision_compensation_paid` ON `court_decisions` (`compensation_paid`);
-- create index "courtdecision_prosecution_id" to table: "court_decisions"
CREATE INDEX `courtdecision_prosecution_id` ON `court_decisions` (`prosecution_id`);
-- create index "courtdecision_court_id" to table: "court_decisions"
CREATE INDEX `courtdecision_court_id` ON `court_decisions` (`court_id`);
-- create "idempotency_records" table
CREATE TABLE `idempotency_records` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `agency_code` text NOT NULL, `subject` text NOT NULL, `operation` text NOT NULL, `key` text NOT NULL, `request_hash` text NOT NULL, `result_id` integer NOT NULL, `created_at` datetime NOT NULL);
-- set sequence for "idempotency_records" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("idempotency_records", 30064771072);
-- create index "idempotencyrecord_agency_code_subject_operation_key" to table: "idempotency_records"
CREATE UNIQUE INDEX `idempotencyrecord_agency_code_subject_operation_key` ON `idempotency_records` (`agency_code`, `subject`, `operation`, `key`);
-- create index "idempotencyrecord_created_at" to table: "idempotency_records"
CREATE INDEX `idempotencyrecord_created_at` ON `idempotency_records` (`created_at`);
-- create "prosecutions" table
CREATE TABLE `prosecutions` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `registration_number` text NOT NULL, `stage` text NOT NULL DEFAULT ('REGISTERED'), `registered_at` datetime NOT NULL, `investigation_deadline` datetime NULL, `deadline_extensions` integer NOT NULL DEFAULT (0), `investigation_started_at` datetime NULL, `investigation_closed_at` datetime NULL, `trial_requested_at` datetime NULL, `dismissed_at` datetime NULL, `first_instance_decided_at` datetime NULL, `appeal_decided_at` datetime NULL, `closed_at` datetime NULL, `case_id` integer NOT NULL, `office_id` integer NOT NULL, CONSTRAINT `prosecutions_case_files_prosecutions` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION, CONSTRAINT `prosecutions_agencies_office` FOREIGN KEY (`office_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION);
-- set sequence for "prosecutions" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("prosecutions", 34359738368);
-- create index "prosecutions_registration_number_key" to table: "prosecutions"
CREATE UNIQUE INDEX `prosecutions_registration_number_key` ON `prosecutions` (`registration_number`);
-- create index "prosecution_created_at" to table: "prosecutions"
CREATE INDEX `prosecution_created_at` ON `prosecutions` (`created_at`);
-- create index "prosecution_updated_at" to table: "prosecutions"
CREATE INDEX `prosecution_updated_at` ON `prosecutions` (`updated_at`);
-- create index "prosecution_stage" to table: "prosecutions"
CREATE INDEX `prosecution_stage` ON `prosecutions` (`stage`);
-- create index "prosecution_registered_at" to table: "prosecutions"
CREATE INDEX `prosecution_registered_at` ON `prosecutions` (`registered_at`);
-- create index "prosecution_investigation_deadline" to table: "prosecutions"
CREATE INDEX `prosecution_investigation_deadline` ON `prosecutions` (`investigation_deadline`);
-- create index "prosecution_deadline_extensions" to table: "prosecutions"
CREATE INDEX `prosecution_deadline_extensions` ON `prosecutions` (`deadline_extensions`);
-- create index "prosecution_trial_requested_at" to table: "prosecutions"
CREATE INDEX `prosecution_trial_requested_at` ON `prosecutions` (`trial_requested_at`);
-- create index "prosecution_closed_at" to table: "prosecutions"
CREATE INDEX `prosecution_closed_at` ON `prosecutions` (`closed_at`);
-- create index "prosecution_case_id" to table: "prosecutions"
CREATE INDEX `prosecution_case_id` ON `prosecutions` (`case_id`);
-- create index "prosecution_office_id" to table: "prosecutions"
CREATE INDEX `prosecution_office_id` ON `prosecutions` (`office_id`);
-- create "prosecution_defendants" table
CREATE TABLE `prosecution_defendants` (`prosecution_id` integer NOT NULL, `suspect_id` integer NOT NULL, PRIMARY KEY (`prosecution_id`, `suspect_id`), CONSTRAINT `prosecution_defendants_prosecutions_prosecution` FOREIGN KEY (`prosecution_id`) REFERENCES `prosecutions` (`id`) ON DELETE NO ACTION, CONSTRAINT `prosecution_defendants_suspects_suspect` FOREIGN KEY (`suspect_id`) REFERENCES `suspects` (`id`) ON DELETE NO ACTION);
-- set sequence for "prosecution_defendants" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("prosecution_defendants", 60129542144);
-- create index "prosecutiondefendant_suspect_id" to table: "prosecution_defendants"
CREATE INDEX `prosecutiondefendant_suspect_id` ON `prosecution_defendants` (`suspect_id`);
-- create "referrals" table
CREATE TABLE `referrals` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `service_kind` text NOT NULL, `status` text NOT NULL DEFAULT ('PENDING'), `status_history` json NOT NULL, `referred_at` datetime NOT NULL, `case_id` integer NULL, `from_agency_id` integer NOT NULL, `to_agency_id` integer NOT NULL, `victim_id` integer NOT NULL, CONSTRAINT `referrals_case_files_referrals` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE SET NULL, CONSTRAINT `referrals_agencies_from_agency` FOREIGN KEY (`from_agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `referrals_agencies_to_agency` FOREIGN KEY (`to_agency_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `referrals_victims_referrals` FOREIGN KEY (`victim_id`) REFERENCES `victims` (`id`) ON DELETE NO ACTION);
-- set sequence for "referrals" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("referrals", 38654705664);
-- create index "referral_created_at" to table: "referrals"
CREATE INDEX `referral_created_at` ON `referrals` (`created_at`);
-- create index "referral_updated_at" to table: "referrals"
CREATE INDEX `referral_updated_at` ON `referrals` (`updated_at`);
-- create index "referral_service_kind" to table: "referrals"
CREATE INDEX `referral_service_kind` ON `referrals` (`service_kind`);
-- create index "referral_status" to table: "referrals"
CREATE INDEX `referral_status` ON `referrals` (`status`);
-- create index "referral_referred_at" to table: "referrals"
CREATE INDEX `referral_referred_at` ON `referrals` (`referred_at`);
-- create index "referral_victim_id" to table: "referrals"
CREATE INDEX `referral_victim_id` ON `referrals` (`victim_id`);
-- create index "referral_case_id" to table: "referrals"
CREATE INDEX `referral_case_id` ON `referrals` (`case_id`);
-- create index "referral_from_agency_id" to table: "referrals"
CREATE INDEX `referral_from_agency_id` ON `referrals` (`from_agency_id`);
-- create index "referral_to_agency_id" to table: "referrals"
CREATE INDEX `referral_to_agency_id` ON `referrals` (`to_agency_id`);
-- create "support_services" table
CREATE TABLE `support_services` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `kind` text NOT NULL, `started_on` datetime NOT NULL, `ended_on` datetime NULL, `notes` text NULL, `provider_id` integer NOT NULL, `victim_id` integer NOT NULL, CONSTRAINT `support_services_agencies_provider` FOREIGN KEY (`provider_id`) REFERENCES `agencies` (`id`) ON DELETE NO ACTION, CONSTRAINT `support_services_victims_services` FOREIGN KEY (`victim_id`) REFERENCES `victims` (`id`) ON DELETE NO ACTION);
-- set sequence for "support_services" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("support_services", 42949672960);
-- create index "supportservice_created_at" to table: "support_services"
CREATE INDEX `supportservice_created_at` ON `support_services` (`created_at`);
-- create index "supportservice_updated_at" to table: "support_services"
CREATE INDEX `supportservice_updated_at` ON `support_services` (`updated_at`);
-- create index "supportservice_kind" to table: "support_services"
CREATE INDEX `supportservice_kind` ON `support_services` (`kind`);
-- create index "supportservice_started_on" to table: "support_services"
CREATE INDEX `supportservice_started_on` ON `support_services` (`started_on`);
-- create index "supportservice_ended_on" to table: "support_services"
CREATE INDEX `supportservice_ended_on` ON `support_services` (`ended_on`);
-- create index "supportservice_victim_id" to table: "support_services"
CREATE INDEX `supportservice_victim_id` ON `support_services` (`victim_id`);
-- create index "supportservice_provider_id" to table: "support_services"
CREATE INDEX `supportservice_provider_id` ON `support_services` (`provider_id`);
-- create "suspects" table
CREATE TABLE `suspects` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `pseudonym` text NOT NULL, `sex` text NOT NULL, `nationality` text NOT NULL, `role` text NOT NULL, `legal_name` text NULL, `personal_number` text NULL, `case_id` integer NOT NULL, CONSTRAINT `suspects_case_files_suspects` FOREIGN KEY (`case_id`) REFERENCES `case_files` (`id`) ON DELETE NO ACTION);
-- set sequence for "suspects" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("suspects", 47244640256);
-- create index "suspects_pseudonym_key" to table: "suspects"
CREATE UNIQUE INDEX `suspects_pseudonym_key` ON `suspects` (`pseudonym`);
-- create index "suspect_created_at" to table: "suspects"
CREATE INDEX `suspect_created_at` ON `suspects` (`created_at`);
-- create index "suspect_updated_at" to table: "suspects"
CREATE INDEX `suspect_updated_at` ON `suspects` (`updated_at`);
-- create index "suspect_sex" to table: "suspects"
CREATE INDEX `suspect_sex` ON `suspects` (`sex`);
-- create index "suspect_nationality" to table: "suspects"
CREATE INDEX `suspect_nationality` ON `suspects` (`nationality`);
-- create index "suspect_role" to table: "suspects"
CREATE INDEX `suspect_role` ON `suspects` (`role`);
-- create index "suspect_case_id" to table: "suspects"
CREATE INDEX `suspect_case_id` ON `suspects` (`case_id`);
-- create "victims" table
CREATE TABLE `victims` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL DEFAULT (1), `pseudonym` text NOT NULL, `sex` text NOT NULL, `age_group` text NOT NULL, `identification_status` text NOT NULL, `identified_by` text NOT NULL, `identified_at` datetime NOT NULL, `forms_of_exploitation` json NOT NULL, `region` text NOT NULL, `foreign_national` bool NOT NULL DEFAULT (false), `legal_name` text NULL, `date_of_birth` datetime NULL, `personal_number` text NULL, `nationality` text NULL, `exact_age` integer NULL, `phone` text NULL, `address` text NULL, `health_notes` text NULL, `testimony_summary` text NULL, `shelter_location` text NULL);
-- set sequence for "victims" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("victims", 51539607552);
-- create index "victims_pseudonym_key" to table: "victims"
CREATE UNIQUE INDEX `victims_pseudonym_key` ON `victims` (`pseudonym`);
-- create index "victim_created_at" to table: "victims"
CREATE INDEX `victim_created_at` ON `victims` (`created_at`);
-- create index "victim_updated_at" to table: "victims"
CREATE INDEX `victim_updated_at` ON `victims` (`updated_at`);
-- create index "victim_sex" to table: "victims"
CREATE INDEX `victim_sex` ON `victims` (`sex`);
-- create index "victim_age_group" to table: "victims"
CREATE INDEX `victim_age_group` ON `victims` (`age_group`);
-- create index "victim_identification_status" to table: "victims"
CREATE INDEX `victim_identification_status` ON `victims` (`identification_status`);
-- create index "victim_identified_by" to table: "victims"
CREATE INDEX `victim_identified_by` ON `victims` (`identified_by`);
-- create index "victim_identified_at" to table: "victims"
CREATE INDEX `victim_identified_at` ON `victims` (`identified_at`);
-- create index "victim_region" to table: "victims"
CREATE INDEX `victim_region` ON `victims` (`region`);
-- create index "victim_foreign_national" to table: "victims"
CREATE INDEX `victim_foreign_national` ON `victims` (`foreign_national`);

-- +goose Down
-- reverse: create index "victim_foreign_national" to table: "victims"
DROP INDEX `victim_foreign_national`;
-- reverse: create index "victim_region" to table: "victims"
DROP INDEX `victim_region`;
-- reverse: create index "victim_identified_at" to table: "victims"
DROP INDEX `victim_identified_at`;
-- reverse: create index "victim_identified_by" to table: "victims"
DROP INDEX `victim_identified_by`;
-- reverse: create index "victim_identification_status" to table: "victims"
DROP INDEX `victim_identification_status`;
-- reverse: create index "victim_age_group" to table: "victims"
DROP INDEX `victim_age_group`;
-- reverse: create index "victim_sex" to table: "victims"
DROP INDEX `victim_sex`;
-- reverse: create index "victim_updated_at" to table: "victims"
DROP INDEX `victim_updated_at`;
-- reverse: create index "victim_created_at" to table: "victims"
DROP INDEX `victim_created_at`;
-- reverse: create index "victims_pseudonym_key" to table: "victims"
DROP INDEX `victims_pseudonym_key`;
-- reverse: set sequence for "victims" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "victims";
-- reverse: create "victims" table
DROP TABLE `victims`;
-- reverse: create index "suspect_case_id" to table: "suspects"
DROP INDEX `suspect_case_id`;
-- reverse: create index "suspect_role" to table: "suspects"
DROP INDEX `suspect_role`;
-- reverse: create index "suspect_nationality" to table: "suspects"
DROP INDEX `suspect_nationality`;
-- reverse: create index "suspect_sex" to table: "suspects"
DROP INDEX `suspect_sex`;
-- reverse: create index "suspect_updated_at" to table: "suspects"
DROP INDEX `suspect_updated_at`;
-- reverse: create index "suspect_created_at" to table: "suspects"
DROP INDEX `suspect_created_at`;
-- reverse: create index "suspects_pseudonym_key" to table: "suspects"
DROP INDEX `suspects_pseudonym_key`;
-- reverse: set sequence for "suspects" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "suspects";
-- reverse: create "suspects" table
DROP TABLE `suspects`;
-- reverse: create index "supportservice_provider_id" to table: "support_services"
DROP INDEX `supportservice_provider_id`;
-- reverse: create index "supportservice_victim_id" to table: "support_services"
DROP INDEX `supportservice_victim_id`;
-- reverse: create index "supportservice_ended_on" to table: "support_services"
DROP INDEX `supportservice_ended_on`;
-- reverse: create index "supportservice_started_on" to table: "support_services"
DROP INDEX `supportservice_started_on`;
-- reverse: create index "supportservice_kind" to table: "support_services"
DROP INDEX `supportservice_kind`;
-- reverse: create index "supportservice_updated_at" to table: "support_services"
DROP INDEX `supportservice_updated_at`;
-- reverse: create index "supportservice_created_at" to table: "support_services"
DROP INDEX `supportservice_created_at`;
-- reverse: set sequence for "support_services" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "support_services";
-- reverse: create "support_services" table
DROP TABLE `support_services`;
-- reverse: create index "referral_to_agency_id" to table: "referrals"
DROP INDEX `referral_to_agency_id`;
-- reverse: create index "referral_from_agency_id" to table: "referrals"
DROP INDEX `referral_from_agency_id`;
-- reverse: create index "referral_case_id" to table: "referrals"
DROP INDEX `referral_case_id`;
-- reverse: create index "referral_victim_id" to table: "referrals"
DROP INDEX `referral_victim_id`;
-- reverse: create index "referral_referred_at" to table: "referrals"
DROP INDEX `referral_referred_at`;
-- reverse: create index "referral_status" to table: "referrals"
DROP INDEX `referral_status`;
-- reverse: create index "referral_service_kind" to table: "referrals"
DROP INDEX `referral_service_kind`;
-- reverse: create index "referral_updated_at" to table: "referrals"
DROP INDEX `referral_updated_at`;
-- reverse: create index "referral_created_at" to table: "referrals"
DROP INDEX `referral_created_at`;
-- reverse: set sequence for "referrals" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "referrals";
-- reverse: create "referrals" table
DROP TABLE `referrals`;
-- reverse: create index "prosecutiondefendant_suspect_id" to table: "prosecution_defendants"
DROP INDEX `prosecutiondefendant_suspect_id`;
-- reverse: set sequence for "prosecution_defendants" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "prosecution_defendants";
-- reverse: create "prosecution_defendants" table
DROP TABLE `prosecution_defendants`;
-- reverse: create index "prosecution_office_id" to table: "prosecutions"
DROP INDEX `prosecution_office_id`;
-- reverse: create index "prosecution_case_id" to table: "prosecutions"
DROP INDEX `prosecution_case_id`;
-- reverse: create index "prosecution_closed_at" to table: "prosecutions"
DROP INDEX `prosecution_closed_at`;
-- reverse: create index "prosecution_trial_requested_at" to table: "prosecutions"
DROP INDEX `prosecution_trial_requested_at`;
-- reverse: create index "prosecution_deadline_extensions" to table: "prosecutions"
DROP INDEX `prosecution_deadline_extensions`;
-- reverse: create index "prosecution_investigation_deadline" to table: "prosecutions"
DROP INDEX `prosecution_investigation_deadline`;
-- reverse: create index "prosecution_registered_at" to table: "prosecutions"
DROP INDEX `prosecution_registered_at`;
-- reverse: create index "prosecution_stage" to table: "prosecutions"
DROP INDEX `prosecution_stage`;
-- reverse: create index "prosecution_updated_at" to table: "prosecutions"
DROP INDEX `prosecution_updated_at`;
-- reverse: create index "prosecution_created_at" to table: "prosecutions"
DROP INDEX `prosecution_created_at`;
-- reverse: create index "prosecutions_registration_number_key" to table: "prosecutions"
DROP INDEX `prosecutions_registration_number_key`;
-- reverse: set sequence for "prosecutions" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "prosecutions";
-- reverse: create "prosecutions" table
DROP TABLE `prosecutions`;
-- reverse: create index "idempotencyrecord_created_at" to table: "idempotency_records"
DROP INDEX `idempotencyrecord_created_at`;
-- reverse: create index "idempotencyrecord_agency_code_subject_operation_key" to table: "idempotency_records"
DROP INDEX `idempotencyrecord_agency_code_subject_operation_key`;
-- reverse: set sequence for "idempotency_records" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "idempotency_records";
-- reverse: create "idempotency_records" table
DROP TABLE `idempotency_records`;
-- reverse: create index "courtdecision_court_id" to table: "court_decisions"
DROP INDEX `courtdecision_court_id`;
-- reverse: create index "courtdecision_prosecution_id" to table: "court_decisions"
DROP INDEX `courtdecision_prosecution_id`;
-- reverse: create index "courtdecision_compensation_paid" to table: "court_decisions"
DROP INDEX `courtdecision_compensation_paid`;
-- reverse: create index "courtdecision_sentence_months" to table: "court_decisions"
DROP INDEX `courtdecision_sentence_months`;
-- reverse: create index "courtdecision_sentence_kind" to table: "court_decisions"
DROP INDEX `courtdecision_sentence_kind`;
-- reverse: create index "courtdecision_verdict" to table: "court_decisions"
DROP INDEX `courtdecision_verdict`;
-- reverse: create index "courtdecision_decided_on" to table: "court_decisions"
DROP INDEX `courtdecision_decided_on`;
-- reverse: create index "courtdecision_instance" to table: "court_decisions"
DROP INDEX `courtdecision_instance`;
-- reverse: create index "courtdecision_updated_at" to table: "court_decisions"
DROP INDEX `courtdecision_updated_at`;
-- reverse: create index "courtdecision_created_at" to table: "court_decisions"
DROP INDEX `courtdecision_created_at`;
-- reverse: set sequence for "court_decisions" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "court_decisions";
-- reverse: create "court_decisions" table
DROP TABLE `court_decisions`;
-- reverse: create index "consent_recorded_by_agency_id" to table: "consents"
DROP INDEX `consent_recorded_by_agency_id`;
-- reverse: create index "consent_victim_id" to table: "consents"
DROP INDEX `consent_victim_id`;
-- reverse: create index "consent_withdrawn_at" to table: "consents"
DROP INDEX `consent_withdrawn_at`;
-- reverse: create index "consent_given_at" to table: "consents"
DROP INDEX `consent_given_at`;
-- reverse: create index "consent_given_by" to table: "consents"
DROP INDEX `consent_given_by`;
-- reverse: create index "consent_updated_at" to table: "consents"
DROP INDEX `consent_updated_at`;
-- reverse: create index "consent_created_at" to table: "consents"
DROP INDEX `consent_created_at`;
-- reverse: set sequence for "consents" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "consents";
-- reverse: create "consents" table
DROP TABLE `consents`;
-- reverse: create index "charge_suspect_id" to table: "charges"
DROP INDEX `charge_suspect_id`;
-- reverse: create index "charge_prosecution_id" to table: "charges"
DROP INDEX `charge_prosecution_id`;
-- reverse: create index "charge_reclassified_from" to table: "charges"
DROP INDEX `charge_reclassified_from`;
-- reverse: create index "charge_article" to table: "charges"
DROP INDEX `charge_article`;
-- reverse: create index "charge_updated_at" to table: "charges"
DROP INDEX `charge_updated_at`;
-- reverse: create index "charge_created_at" to table: "charges"
DROP INDEX `charge_created_at`;
-- reverse: set sequence for "charges" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "charges";
-- reverse: create "charges" table
DROP TABLE `charges`;
-- reverse: create index "casevictim_victim_id" to table: "case_victims"
DROP INDEX `casevictim_victim_id`;
-- reverse: set sequence for "case_victims" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "case_victims";
-- reverse: create "case_victims" table
DROP TABLE `case_victims`;
-- reverse: create index "casefile_lead_agency_id" to table: "case_files"
DROP INDEX `casefile_lead_agency_id`;
-- reverse: create index "casefile_closed_at" to table: "case_files"
DROP INDEX `casefile_closed_at`;
-- reverse: create index "casefile_opened_at" to table: "case_files"
DROP INDEX `casefile_opened_at`;
-- reverse: create index "casefile_region" to table: "case_files"
DROP INDEX `casefile_region`;
-- reverse: create index "casefile_stage" to table: "case_files"
DROP INDEX `casefile_stage`;
-- reverse: create index "casefile_updated_at" to table: "case_files"
DROP INDEX `casefile_updated_at`;
-- reverse: create index "casefile_created_at" to table: "case_files"
DROP INDEX `casefile_created_at`;
-- reverse: create index "case_files_reference_key" to table: "case_files"
DROP INDEX `case_files_reference_key`;
-- reverse: set sequence for "case_files" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "case_files";
-- reverse: create "case_files" table
DROP TABLE `case_files`;
-- reverse: create index "caseevent_actor_agency_id" to table: "case_events"
DROP INDEX `caseevent_actor_agency_id`;
-- reverse: create index "caseevent_case_id_at" to table: "case_events"
DROP INDEX `caseevent_case_id_at`;
-- reverse: create index "caseevent_at" to table: "case_events"
DROP INDEX `caseevent_at`;
-- reverse: create index "caseevent_kind" to table: "case_events"
DROP INDEX `caseevent_kind`;
-- reverse: create index "caseevent_updated_at" to table: "case_events"
DROP INDEX `caseevent_updated_at`;
-- reverse: create index "caseevent_created_at" to table: "case_events"
DROP INDEX `caseevent_created_at`;
-- reverse: set sequence for "case_events" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "case_events";
-- reverse: create "case_events" table
DROP TABLE `case_events`;
-- reverse: create index "caseassignment_agency_id" to table: "case_assignments"
DROP INDEX `caseassignment_agency_id`;
-- reverse: create index "caseassignment_case_id_agency_id" to table: "case_assignments"
DROP INDEX `caseassignment_case_id_agency_id`;
-- reverse: create index "caseassignment_updated_at" to table: "case_assignments"
DROP INDEX `caseassignment_updated_at`;
-- reverse: create index "caseassignment_created_at" to table: "case_assignments"
DROP INDEX `caseassignment_created_at`;
-- reverse: set sequence for "case_assignments" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "case_assignments";
-- reverse: create "case_assignments" table
DROP TABLE `case_assignments`;
-- reverse: create index "agency_parent_id" to table: "agencies"
DROP INDEX `agency_parent_id`;
-- reverse: create index "agency_region" to table: "agencies"
DROP INDEX `agency_region`;
-- reverse: create index "agency_kind" to table: "agencies"
DROP INDEX `agency_kind`;
-- reverse: create index "agency_name" to table: "agencies"
DROP INDEX `agency_name`;
-- reverse: create index "agency_updated_at" to table: "agencies"
DROP INDEX `agency_updated_at`;
-- reverse: create index "agency_created_at" to table: "agencies"
DROP INDEX `agency_created_at`;
-- reverse: create index "agencies_code_key" to table: "agencies"
DROP INDEX `agencies_code_key`;
-- reverse: create "agencies" table
DROP TABLE `agencies`;
