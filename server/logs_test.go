package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

func TestLogsCarryNoVictimData(t *testing.T) {
	s := startParallel(t)
	// A prosecutor reads the identity of the victims of the proceedings
	// their office conducts (the proceeding is the legal basis; no consent
	// needed): build such a case.
	token := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
	ctx := viewer.SystemContext(context.Background())
	agencyID := func(code string) int {
		id, err := s.DB.Client.Agency.Query().Where(agency.Code(code)).OnlyID(ctx)
		if err != nil {
			t.Fatalf("agency %s: %v", code, err)
		}
		return id
	}
	name := fmt.Sprintf("Zanafina Qyrbashi-%d", time.Now().UnixNano())
	phone := "+355 69 555 0199"
	v, err := s.DB.Client.Victim.Create().
		SetPseudonym("V-2099-0001").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).
		SetIdentifiedBy(domain.IdentifyingBodyStatePolice).SetIdentifiedAt(time.Now().Add(-24 * time.Hour)).
		SetRegion(domain.RegionTirane).SetLegalName(name).SetPhone(phone).
		Save(ctx)
	if err != nil {
		t.Fatalf("creating the victim: %v", err)
	}
	cf, err := s.DB.Client.CaseFile.Create().
		SetReference("TIR-2099-0001").SetTitle("Log test").SetStage(domain.ProceedingStageRegistered).
		SetRegion(domain.RegionTirane).SetLeadAgencyID(agencyID("police-tirane")).
		Save(ctx)
	if err != nil {
		t.Fatalf("creating the case: %v", err)
	}
	if err := s.DB.Client.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(agencyID("prosecution-tirane")).
		SetPart(domain.CasePartProsecuting).Exec(ctx); err != nil {
		t.Fatalf("assigning the prosecution office: %v", err)
	}
	if err := s.DB.Client.CaseVictim.Create().SetCaseID(cf.ID).SetVictimID(v.ID).Exec(ctx); err != nil {
		t.Fatalf("linking the victim: %v", err)
	}

	req := post(t, s.URL, token, `query($p: String) { victims(first: 10, where: {pseudonym: $p}) { edges { node { pseudonym legalName phone } } } }`,
		map[string]any{"p": "V-2099-0001"})
	r := send(t, req)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d:\n%s\nlog:\n%s", r.Status, r.Body, s.Logs())
	}
	if !strings.Contains(string(r.Body), name) {
		t.Fatalf("the response lacks the legal name (the query did not read it):\n%s", r.Body)
	}
	// The same read over GET, whose query string the log must not copy.
	q := url.Values{"query": {`query($n: String) { victims(first: 1, where: {pseudonym: $n}) { edges { node { legalName } } } }`}, "variables": {`{"n": "` + name + `"}`}}
	getReq := get(t, s.URL, "/graphql?"+q.Encode())
	getReq.Header.Set("Authorization", "Bearer "+token)
	if r := send(t, getReq); r.Status != http.StatusOK {
		t.Fatalf("GET: status %d:\n%s", r.Status, r.Body)
	}

	logs := s.Logs()
	id := r.Header.Get("X-Request-Id")
	var requestLine bool
	for _, rec := range s.LogRecordsWith(t, "request_id", id) {
		requestLine = requestLine || rec.String("path") == "/graphql"
	}
	if !requestLine {
		t.Errorf("no request line with request id %s:\n%s", id, logs)
	}
	for _, secret := range []string{name, "Zanafina", phone} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds victim data %q:\n%s", secret, logs)
		}
	}

}
