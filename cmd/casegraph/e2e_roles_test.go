//go:build unix

package main_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// The server's role as README.md sets it up ("Roles on PostgreSQL"): the
// owner migrates and loads the registry, runs README's block of grants as it
// is written there, and `casegraph serve` runs as the role. Nothing else
// runs that block, so this test is what keeps it sufficient (everything the
// server does works under it) and true (what it revokes stays revoked).

// readmeRoleName and readmePassword are the placeholders of README's block,
// the only words the test changes in it.
const (
	readmeRoleName = "casegraph_app"
	readmePassword = "'…'"
)

// readmeRoleBlock returns the statements of README.md's ```sql block of
// its section "Roles on PostgreSQL", in order, each without its semicolon.
// It fails the test, naming what it looked for, when README has no such
// block: the test guards that block and cannot guard one it does not find.
func readmeRoleBlock(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	text := string(raw)
	const heading = "\n### Roles on PostgreSQL\n"
	at := strings.Index(text, heading)
	if at < 0 {
		t.Fatalf("README.md has no %q: this test runs that section's ```sql block of grants; say where it went", heading)
	}
	section := text[at+len(heading):]
	// The section ends at the next heading.
	if end := regexp.MustCompile(`\n#`).FindStringIndex(section); end != nil {
		section = section[:end[0]]
	}
	block := regexp.MustCompile("(?s)\n[ \t]*```sql\n(.*?)\n[ \t]*```").FindStringSubmatch(section)
	if block == nil {
		t.Fatalf("README.md's %q has no ```sql block of grants: this test runs it as the owner; put it back or change the test", heading)
	}
	var statements []string
	for _, s := range strings.Split(block[1], ";") {
		if s = strings.TrimSpace(s); s != "" {
			statements = append(statements, s)
		}
	}
	if len(statements) == 0 {
		t.Fatalf("README.md's %q has an empty ```sql block", heading)
	}
	return statements
}

// readmeRoleStatements is the block with the role named role and password
// as its password; it fails the test when either placeholder is gone.
func readmeRoleStatements(t *testing.T, role, password string) []string {
	t.Helper()
	statements := readmeRoleBlock(t)
	name := regexp.MustCompile(`\b` + readmeRoleName + `\b`)
	joined := strings.Join(statements, ";\n")
	if !name.MatchString(joined) || !strings.Contains(joined, readmePassword) {
		t.Fatalf("README.md's block of grants no longer names the role %s or its password %s, which the test replaces:\n%s", readmeRoleName, readmePassword, joined)
	}
	for i, s := range statements {
		s = name.ReplaceAllLiteralString(s, role)
		statements[i] = strings.ReplaceAll(s, readmePassword, "'"+password+"'")
	}
	return statements
}

// sqlOpen opens dbURL, closed at cleanup.
func sqlOpen(t *testing.T, dbURL string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestE2EPostgresREADMERole follows README.md's PostgreSQL steps: migrate
// and load the agency registry as the owner, run the grants of "Roles on
// PostgreSQL" as written (the role's name and password aside), then serve
// as the role. Everything the server writes works under those grants (an
// audited sensitive read, casework whose triggers keep case_work, a policy
// change, a statistics read that takes editions, a read of the trail),
// serve does not warn that its role owns the trail, and what README
// revokes the role cannot do.
func TestE2EPostgresREADMERole(t *testing.T) {
	t.Parallel()
	// README's block first: without PostgreSQL too, the test fails when it
	// cannot find it.
	role := fmt.Sprintf("casegraph_app_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	password := "readme-role-secret"
	statements := readmeRoleStatements(t, role, password)
	ownerURL := testdb.CreatePostgres(t)
	binary(t)

	dataDir := filepath.Join(t.TempDir(), "data")
	owner := childEnv("DATABASE_URL="+ownerURL, "CASEGRAPH_DATA_DIR="+dataDir)
	mustRun(t, owner, "migrate")
	mustRun(t, owner, "seed", "--agencies")

	ownerDB := sqlOpen(t, ownerURL)
	ctx := context.Background()
	// The role is the cluster's, not the database's: dropped at cleanup
	// (after serve and the test's own connections as the role have ended).
	t.Cleanup(func() {
		_, _ = ownerDB.Exec("DROP OWNED BY " + role)
		_, _ = ownerDB.Exec("DROP ROLE IF EXISTS " + role)
	})
	for i, s := range statements {
		if _, err := ownerDB.ExecContext(ctx, s); err != nil {
			t.Fatalf("README.md's block of grants, statement %d, run as the owner after migrate: %v\n%s", i+1, err, s)
		}
	}

	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	roleURL := u.String()
	roleDB := sqlOpen(t, roleURL)
	if err := roleDB.PingContext(ctx); err != nil {
		// pg_hba.conf decides whether a password login works; CI's trusts
		// local connections, so there it must.
		testdb.PostgresUnusable(t, "cannot log in as the role %s the test created (%v): allow password or trust logins on 127.0.0.1 in pg_hba.conf", role, err)
	}

	dev := childEnv("DATABASE_URL="+roleURL, "CASEGRAPH_DATA_DIR="+dataDir, "CASEGRAPH_DEV=1")
	s := startServe(t, dev)
	base := s.base()
	if status, _, body := httpGet(t, base, "/readyz"); status != http.StatusOK {
		t.Errorf("/readyz as the role: status %d: %s", status, body)
	}

	t.Run("serving", func(t *testing.T) { checkServesAsRole(t, s, dev, ownerDB) })
	t.Run("revoked", func(t *testing.T) { checkRevoked(t, roleDB) })

	s.terminate(t, 10*time.Second)
	// Its log (stdout; stderr is the banner for people).
	for _, rec := range testserver.DecodeLog(t, s.stdout.String()) {
		if strings.EqualFold(rec.Level(), "WARN") && strings.Contains(rec.Msg(), "owns") {
			t.Errorf("serve, as the role README's grants make, warns that it owns the tables: %s", rec.Msg())
		}
	}
	if owns := ownerOf(t, ownerDB, "audit_events"); owns == role {
		t.Errorf("the role %s owns audit_events", role)
	}
}

// ownerOf returns the role owning table.
func ownerOf(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var owner string
	if err := db.QueryRow("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", table).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	return owner
}

// asRole sends query with vars and token to the server s and decodes
// data into out; any error fails the test, naming the operation, its
// codes, and what the server logged of the request: a statement the role
// may not run is INTERNAL to the client and "permission denied for table
// …" in the log; a trail the role cannot write is AUDIT_UNAVAILABLE.
func asRole(t *testing.T, s *serving, what, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := testserver.Send(t, testserver.Post(t, s.base(), token, query, vars))
	if r.Status != http.StatusOK || len(r.Errors) > 0 || r.Top == nil {
		var logged []string
		for _, e := range r.Errors {
			id, _ := e.Extensions["requestId"].(string)
			for _, rec := range testserver.DecodeLog(t, s.stdout.String()) {
				if id != "" && rec.String("request_id") == id && rec.Msg() != "request" {
					logged = append(logged, rec.Msg()+": "+rec.String("error"))
				}
			}
		}
		t.Fatalf("%s, served as README's role: status %d, errors %v, the server logged %q (a grant missing?):\n%.2000s", what, r.Status, r.Codes(), logged, r.Body)
	}
	r.Decode(t, out)
}

// countRows returns the number of rows of table, read as the owner.
func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "` + table + `"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkServesAsRole does over HTTP, with tokens `casegraph token` signs,
// each kind of write the server makes, and checks as the owner that the
// rows are there.
func checkServesAsRole(t *testing.T, s *serving, env []string, ownerDB *sql.DB) {
	var agency int
	if err := ownerDB.QueryRow("SELECT id FROM agencies WHERE code = 'police-tirane'").Scan(&agency); err != nil {
		t.Fatalf("the agency registry as seed --agencies loads it: %v", err)
	}
	police := token(t, env, "--subject", "readme-role-police", "--agency", "police-tirane", "--role", "investigator")
	workBefore := countRows(t, ownerDB, "case_work")

	// Casework: the case's lead agency enters case_work by a trigger that
	// runs as the role; the key is kept in idempotency_records.
	year := time.Now().UTC().Year() - 1
	at := func(m time.Month, d int) string {
		return time.Date(year, m, d, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	}
	var opened struct{ OpenCase struct{ ID string } }
	asRole(t, s, "openCase", police, `mutation($in: CreateCaseInput!, $key: String) { openCase(input: $in, idempotencyKey: $key) { id } }`, map[string]any{"key": "readme-role-case", "in": map[string]any{
		"reference": fmt.Sprintf("TIR-%d-0001", year), "title": "Recruitment through false job offers", "region": "TIRANE",
		"formsOfExploitation": []string{"SEXUAL"}, "openedAt": at(2, 20), "leadAgencyID": testserver.GlobalID(agency),
	}}, &opened)
	if after := countRows(t, ownerDB, "case_work"); after <= workBefore {
		t.Errorf("case_work has %d rows after openCase, %d before: its trigger did not add the lead agency", after, workBefore)
	}
	if n := countRows(t, ownerDB, "idempotency_records"); n == 0 {
		t.Errorf("idempotency_records is empty after openCase with a key")
	}
	const legalName = "Readme Role Victim"
	var registered struct{ RegisterVictim struct{ ID string } }
	asRole(t, s, "registerVictim", police, `mutation($in: CreateVictimInput!, $cases: [ID!]) { registerVictim(input: $in, caseIDs: $cases) { id } }`, map[string]any{
		"in": map[string]any{
			"pseudonym": fmt.Sprintf("V-%d-0001", year), "legalName": legalName, "sex": "FEMALE", "ageGroup": "ADULT", "exactAge": 30,
			"identificationStatus": "POTENTIAL_VICTIM", "identifiedBy": "STATE_POLICE", "identifiedAt": at(2, 15), "region": "TIRANE",
			"formsOfExploitation": []string{"SEXUAL"},
		},
		"cases": []string{opened.OpenCase.ID},
	}, &registered)
	victim := registered.RegisterVictim.ID
	var consent struct{ RecordConsent struct{ ID string } }
	asRole(t, s, "recordConsent", police, `mutation($in: CreateConsentInput!) { recordConsent(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"victimID": victim, "givenBy": "VICTIM", "givenAt": at(3, 1),
		"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"},
	}}, &consent)

	// A sensitive read, audited before it is answered: AUDIT_UNAVAILABLE
	// (an error, failing asRole) when the role cannot write the trail.
	var read struct{ Node struct{ LegalName *string } }
	asRole(t, s, "a read of Victim.legalName", police, `query($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`, map[string]any{"id": victim}, &read)
	if read.Node.LegalName == nil || *read.Node.LegalName != legalName {
		t.Errorf("Victim.legalName read as the case's lead agency: %v, want %q", read.Node.LegalName, legalName)
	}

	// The national coordinator's DPO finds that read in the trail (itself
	// a read recorded as AUDIT_TRAIL_READ).
	dpo := token(t, env, "--subject", "readme-role-dpo", "--agency", "onac", "--role", "dpo")
	var trail struct {
		AuditEvents struct {
			Edges []struct {
				Node struct{ Kind, Decision, ActorSubject string }
			}
		}
	}
	asRole(t, s, "auditEvents", dpo, `query($id: ID!) { auditEvents(where: {entity: $id}, first: 50) { edges { node { kind decision actorSubject } } } }`, map[string]any{"id": victim}, &trail)
	found := false
	for _, e := range trail.AuditEvents.Edges {
		found = found || (e.Node.Kind == "FIELD_ACCESS" && e.Node.Decision == "ALLOWED" && e.Node.ActorSubject == "readme-role-police")
	}
	if !found {
		t.Errorf("the trail has no allowed FIELD_ACCESS by readme-role-police about victim %s: %+v", victim, trail.AuditEvents.Edges)
	}

	// A policy change: policy_changes and policy_rules, and the trail.
	admin := token(t, env, "--subject", "readme-role-admin", "--agency", "onac", "--role", "admin")
	changesBefore := countRows(t, ownerDB, "policy_changes")
	var changed struct{ ChangePolicy struct{ Added int } }
	asRole(t, s, "changePolicy", admin, `mutation { changePolicy(add: [["p", "analyst", "*", "statistics", "exact", "any"]], reason: "README's role test") { added } }`, nil, &changed)
	if changed.ChangePolicy.Added != 1 {
		t.Errorf("changePolicy added %d lines, want 1", changed.ChangePolicy.Added)
	}
	if after := countRows(t, ownerDB, "policy_changes"); after != changesBefore+1 {
		t.Errorf("policy_changes has %d rows after a change, %d before", after, changesBefore)
	}
	var history struct{ PolicyChanges []struct{ Reason string } }
	asRole(t, s, "policyChanges", admin, `{ policyChanges(first: 5) { reason } }`, nil, &history)
	if len(history.PolicyChanges) == 0 || history.PolicyChanges[0].Reason != "README's role test" {
		t.Errorf("policyChanges does not lead with the change: %+v", history.PolicyChanges)
	}

	// Statistics under disclosure control take the editions of the closed
	// years at the first look: statistics_editions.
	coordinator := token(t, env, "--subject", "readme-role-coordinator", "--agency", "onac", "--role", "coordinator")
	var stats struct{ VictimStatistics struct{ Threshold int } }
	asRole(t, s, "victimStatistics", coordinator, `{ victimStatistics(period: YEAR) { threshold total { count suppressed } } }`, nil, &stats)
	if stats.VictimStatistics.Threshold == 0 {
		t.Errorf("the coordinator reads exact statistics: no edition is taken, so the test does not check statistics_editions")
	}
	if n := countRows(t, ownerDB, "statistics_editions"); n == 0 {
		t.Errorf("statistics_editions is empty after a look under disclosure control")
	}
}

// checkRevoked checks, as the role, what README's block revokes: the role
// may not change the trail or the policy's history, nor record a migration
// (SQLSTATE 42501, insufficient_privilege, not a trigger's refusal).
func checkRevoked(t *testing.T, roleDB *sql.DB) {
	ctx := context.Background()
	var refused []string
	for _, table := range []string{"audit_events", "audit_event_records", "policy_changes"} {
		refused = append(refused,
			`UPDATE "`+table+`" SET "`+firstColumn(table)+`" = "`+firstColumn(table)+`"`,
			`DELETE FROM "`+table+`"`,
			`TRUNCATE "`+table+`"`)
	}
	refused = append(refused,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999999999999, true)`,
		`UPDATE goose_db_version SET is_applied = false`,
		`DELETE FROM goose_db_version`)
	for _, q := range refused {
		// Each in a transaction rolled back, should it be allowed.
		tx, err := roleDB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(ctx, q)
		_ = tx.Rollback()
		var pqErr *pq.Error
		switch {
		case err == nil:
			t.Errorf("README's role may run %q: README says it is revoked", q)
		case !errors.As(err, &pqErr) || pqErr.Code != "42501":
			t.Errorf("README's role running %q: %v, want insufficient_privilege (42501), as README's REVOKE makes it", q, err)
		}
	}
	// What it keeps: reading the migrations applied (serve refuses to
	// start while one is pending).
	var n int
	if err := roleDB.QueryRowContext(ctx, "SELECT count(*) FROM goose_db_version").Scan(&n); err != nil || n == 0 {
		t.Errorf("README's role reads goose_db_version: %d rows, %v", n, err)
	}
}

// firstColumn is a column of table, for an UPDATE that would change nothing.
func firstColumn(table string) string {
	if table == "audit_event_records" {
		return "event_id"
	}
	return "id"
}
