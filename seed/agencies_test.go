package seed_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/viewer"
)

var dbSeq atomic.Int64

// openClient opens a fresh, migrated in-memory SQLite database.
func openClient(tb testing.TB) *ent.Client {
	tb.Helper()
	name := fmt.Sprintf("seed%d", dbSeq.Add(1))
	db, err := sql.Open("sqlite", "file:"+name+"?mode=memory&cache=shared&_pragma=foreign_keys(1)")
	if err != nil {
		tb.Fatal(err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db)))
	tb.Cleanup(func() { _ = client.Close() })
	if err := client.Schema.Create(context.Background()); err != nil {
		tb.Fatalf("creating schema: %v", err)
	}
	return client
}

var regionSlugs = []string{"berat", "diber", "durres", "elbasan", "fier", "gjirokaster", "korce", "kukes", "lezhe", "shkoder", "tirane", "vlore"}
var districtSlugs = []string{"berat", "diber", "durres", "elbasan", "fier", "gjirokaster", "korce", "kukes", "lezhe", "sarande", "shkoder", "tirane", "vlore"}

// domainCodes is every agency code DOMAIN.md names ("Demo agency codes")
// plus the three the brief adds, with its kind, written out independently
// of the registry.
func domainCodes() map[string]domain.AgencyKind {
	m := map[string]domain.AgencyKind{
		"police-gd":             domain.AgencyKindStatePoliceGeneralDirectorate,
		"border-police":         domain.AgencyKindBorderAndMigrationPolice,
		"prosecution-general":   domain.AgencyKindGeneralProsecutionOffice,
		"spak":                  domain.AgencyKindSpecialProsecutionOffice,
		"nbi":                   domain.AgencyKindNationalBureauOfInvestigation,
		"court-appeal":          domain.AgencyKindCourtOfAppeal,
		"special-court":         domain.AgencyKindSpecialCourtFirstInstance,
		"special-court-appeal":  domain.AgencyKindSpecialCourtOfAppeal,
		"high-court":            domain.AgencyKindHighCourt,
		"hpc":                   domain.AgencyKindHighProsecutorialCouncil,
		"moi":                   domain.AgencyKindMinistryOfInterior,
		"onac":                  domain.AgencyKindNationalAntiTraffickingCoordinator,
		"responsible-authority": domain.AgencyKindResponsibleAuthority,
		"social-service":        domain.AgencyKindStateSocialService,
		"child-rights":          domain.AgencyKindStateAgencyForChildRights,
		"labour-inspectorate":   domain.AgencyKindLabourInspectorate,
		"shelter-national":      domain.AgencyKindStateShelter,
		"ngo-vatra":             domain.AgencyKindNgoShelter,
		"ngo-tjeter-vizion":     domain.AgencyKindNgoShelter,
		"ngo-different-equal":   domain.AgencyKindNgoServiceProvider,
	}
	for _, r := range regionSlugs {
		m["police-"+r] = domain.AgencyKindLocalPoliceDirectorate
		m["miu-"+r] = domain.AgencyKindMobileIdentificationUnit
	}
	for _, d := range districtSlugs {
		m["prosecution-"+d] = domain.AgencyKindProsecutionOffice
		m["court-"+d] = domain.AgencyKindCourtFirstInstance
	}
	return m
}

func TestRegionSlug(t *testing.T) {
	for i, r := range domain.Region("").Values() {
		if got := seed.RegionSlug(domain.Region(r)); got != regionSlugs[i] {
			t.Errorf("RegionSlug(%s) = %q, want %q", r, got, regionSlugs[i])
		}
	}
	if got := seed.RegionSlug("ATLANTIS"); got != "" {
		t.Errorf("RegionSlug(ATLANTIS) = %q, want empty", got)
	}
}

func TestAgencyRegistry(t *testing.T) {
	code := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, d := range seed.AgencyRegistry {
		if seen[d.Code] {
			t.Errorf("%s: duplicate code", d.Code)
		}
		if !code.MatchString(d.Code) || d.Name == "" || len(d.Name) > 200 || !d.Kind.Valid() {
			t.Errorf("%s: invalid definition %+v", d.Code, d)
		}
		if d.Region != "" && !d.Region.Valid() {
			t.Errorf("%s: invalid region %q", d.Code, d.Region)
		}
		if d.Parent != "" && !seen[d.Parent] {
			t.Errorf("%s: parent %s is not defined before it", d.Code, d.Parent)
		}
		seen[d.Code] = true
	}
	if len(seed.AgencyRegistry) != len(domainCodes()) {
		t.Errorf("registry has %d agencies, DOMAIN.md and the brief name %d", len(seed.AgencyRegistry), len(domainCodes()))
	}
}

func TestAgencies(t *testing.T) {
	// Agencies is called with a plain context (it marks its work as system
	// work itself); the test's own reads need the system marker.
	ctx := context.Background()
	sys := viewer.SystemContext(ctx)
	client := openClient(t)

	// An agency that already exists is kept as it is.
	pre, err := client.Agency.Create().SetCode("police-gd").SetName("Existing directorate").
		SetKind(domain.AgencyKindStatePoliceGeneralDirectorate).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Agencies(ctx, client); err != nil {
		t.Fatalf("Agencies: %v", err)
	}
	all, err := client.Agency.Query().WithParent().Order(agency.ByID()).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]*ent.Agency{}
	for _, a := range all {
		byCode[a.Code] = a
	}
	for c, kind := range domainCodes() {
		a, ok := byCode[c]
		if !ok {
			t.Errorf("agency %s is missing", c)
			continue
		}
		if a.Kind != kind {
			t.Errorf("agency %s has kind %s, want %s", c, a.Kind, kind)
		}
	}
	if a := byCode["police-gd"]; a == nil || a.ID != pre.ID || a.Name != "Existing directorate" {
		t.Errorf("the existing police-gd was replaced: %+v", a)
	}
	parentOf := func(c string) string {
		if a := byCode[c]; a != nil && a.Edges.Parent != nil {
			return a.Edges.Parent.Code
		}
		return ""
	}
	regionOf := func(c string) domain.Region {
		if a := byCode[c]; a != nil && a.Region != nil {
			return *a.Region
		}
		return ""
	}
	for i, r := range regionSlugs {
		want := domain.Region(domain.Region("").Values()[i])
		for _, c := range []string{"police-" + r, "miu-" + r} {
			if regionOf(c) != want {
				t.Errorf("%s has region %q, want %s", c, regionOf(c), want)
			}
		}
		if p := parentOf("police-" + r); p != "police-gd" {
			t.Errorf("police-%s has parent %q, want police-gd", r, p)
		}
		if p := parentOf("miu-" + r); p != "social-service" {
			t.Errorf("miu-%s has parent %q, want social-service", r, p)
		}
	}
	for _, d := range districtSlugs {
		if p := parentOf("prosecution-" + d); p != "prosecution-general" {
			t.Errorf("prosecution-%s has parent %q, want prosecution-general", d, p)
		}
	}
	for c, want := range map[string]domain.Region{
		"prosecution-sarande": domain.RegionVlore, "court-sarande": domain.RegionVlore,
		"ngo-vatra": domain.RegionVlore, "ngo-tjeter-vizion": domain.RegionElbasan, "ngo-different-equal": domain.RegionTirane,
		"police-gd": "", "spak": "", "high-court": "",
	} {
		if regionOf(c) != want {
			t.Errorf("%s has region %q, want %q", c, regionOf(c), want)
		}
	}

	// Idempotent: a second call creates nothing and changes nothing.
	if err := seed.Agencies(ctx, client); err != nil {
		t.Fatalf("second Agencies: %v", err)
	}
	again, err := client.Agency.Query().Order(agency.ByID()).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(all) {
		t.Fatalf("second call: %d agencies, want %d", len(again), len(all))
	}
	for i := range again {
		if again[i].ID != all[i].ID || again[i].Code != all[i].Code || again[i].Version != all[i].Version {
			t.Errorf("second call changed %s", again[i].Code)
		}
	}
}

func TestDemoErrors(t *testing.T) {
	ctx := context.Background()
	client := openClient(t)
	if _, err := seed.Demo(ctx, client, seed.Options{Scale: 0, Seed: 1}); err == nil {
		t.Error("Demo with scale 0: no error")
	}
	empty, err := seed.IsEmpty(ctx, client)
	if err != nil || !empty {
		t.Fatalf("IsEmpty on a new database = %v, %v; want true", empty, err)
	}
	if _, err := seed.Demo(ctx, client, seed.Options{Scale: 1, Seed: 1}); err != nil {
		t.Fatalf("Demo: %v", err)
	}
	empty, err = seed.IsEmpty(ctx, client)
	if err != nil || empty {
		t.Fatalf("IsEmpty after Demo = %v, %v; want false", empty, err)
	}
	if _, err := seed.Demo(ctx, client, seed.Options{Scale: 1, Seed: 2}); err != seed.ErrNotEmpty {
		t.Errorf("second Demo: %v, want ErrNotEmpty", err)
	}
}
