package seed

import (
	"context"
	"fmt"
	"strings"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/viewer"
)

// AgencyDef describes one agency of the registry.
type AgencyDef struct {
	// Code is the agency's stable lower-kebab code, e.g. police-tirane.
	Code string
	// Name is the agency's proper name.
	Name string
	Kind domain.AgencyKind
	// Region is the region the agency serves; empty for national bodies.
	Region domain.Region
	// Parent is the code of the parent agency; empty for none.
	Parent string
}

// District is a first-instance judicial district (2023 judicial map).
type District struct {
	// Slug is the district's part of agency codes (prosecution-<slug>,
	// court-<slug>).
	Slug string
	// Name is the district's name in agency names and titles.
	Name   string
	Region domain.Region
	// Abbr is the three-letter code of registration numbers.
	Abbr string
}

// Districts lists the thirteen judicial districts in the order of
// docs/domain.md. It is read-only.
var Districts = []District{
	{"berat", "Berat", domain.RegionBerat, "BER"},
	{"diber", "Dibër", domain.RegionDiber, "DIB"},
	{"durres", "Durrës", domain.RegionDurres, "DUR"},
	{"elbasan", "Elbasan", domain.RegionElbasan, "ELB"},
	{"fier", "Fier", domain.RegionFier, "FIE"},
	{"gjirokaster", "Gjirokastër", domain.RegionGjirokaster, "GJI"},
	{"korce", "Korçë", domain.RegionKorce, "KOR"},
	{"kukes", "Kukës", domain.RegionKukes, "KUK"},
	{"lezhe", "Lezhë", domain.RegionLezhe, "LEZ"},
	{"sarande", "Sarandë", domain.RegionVlore, "SAR"},
	{"shkoder", "Shkodër", domain.RegionShkoder, "SHK"},
	{"tirane", "Tirana", domain.RegionTirane, "TIR"},
	{"vlore", "Vlorë", domain.RegionVlore, "VLO"},
}

// RegionDef is what agency names and case references need to know about a
// region: its main judicial district's name and code.
type RegionDef struct {
	Region domain.Region
	// Name is the region's English name, as in agency names.
	Name string
	// Abbr is the three-letter code of case references.
	Abbr string
	// District is the slug of the region's main judicial district.
	District string
}

// Regions lists the twelve regions in domain order, each named after its
// main judicial district (the one whose slug is the region's). It is
// read-only.
var Regions = regionsOf(Districts)

func regionsOf(ds []District) []RegionDef {
	var rs []RegionDef
	for _, d := range ds {
		if d.Slug == RegionSlug(d.Region) {
			rs = append(rs, RegionDef{Region: d.Region, Name: d.Name, Abbr: d.Abbr, District: d.Slug})
		}
	}
	return rs
}

// RegionSlug returns the lower-case slug of r used in agency codes
// (police-<slug>, miu-<slug>), or "" when r is not a known region.
func RegionSlug(r domain.Region) string {
	if !r.Valid() {
		return ""
	}
	return strings.ToLower(string(r))
}

// AgencyRegistry is every agency CaseGraph knows: all codes of docs/domain.md
// ("Agency codes") plus border-police, nbi and special-court-appeal.
// Parents come before their children.
var AgencyRegistry = buildRegistry()

func buildRegistry() []AgencyDef {
	var defs []AgencyDef
	add := func(code, name string, kind domain.AgencyKind, region domain.Region, parent string) {
		defs = append(defs, AgencyDef{Code: code, Name: name, Kind: kind, Region: region, Parent: parent})
	}

	add("police-gd", "General Directorate of State Police", domain.AgencyKindStatePoliceGeneralDirectorate, "", "")
	for _, r := range Regions {
		add("police-"+RegionSlug(r.Region), r.Name+" Local Police Directorate",
			domain.AgencyKindLocalPoliceDirectorate, r.Region, "police-gd")
	}
	add("border-police", "Border and Migration Police Department", domain.AgencyKindBorderAndMigrationPolice, "", "police-gd")

	add("prosecution-general", "General Prosecution Office", domain.AgencyKindGeneralProsecutionOffice, "", "")
	for _, d := range Districts {
		add("prosecution-"+d.Slug, "Prosecution Office of the "+d.Name+" Judicial District",
			domain.AgencyKindProsecutionOffice, d.Region, "prosecution-general")
	}
	add("spak", "Special Prosecution Office against Corruption and Organised Crime (SPAK)",
		domain.AgencyKindSpecialProsecutionOffice, "", "")
	add("nbi", "National Bureau of Investigation (BKH)", domain.AgencyKindNationalBureauOfInvestigation, "", "spak")

	for _, d := range Districts {
		add("court-"+d.Slug, d.Name+" Court of First Instance", domain.AgencyKindCourtFirstInstance, d.Region, "")
	}
	add("court-appeal", "Court of Appeal of General Jurisdiction, Tirana", domain.AgencyKindCourtOfAppeal, "", "")
	add("special-court", "Special Court of First Instance for Corruption and Organised Crime",
		domain.AgencyKindSpecialCourtFirstInstance, "", "")
	add("special-court-appeal", "Special Court of Appeal for Corruption and Organised Crime",
		domain.AgencyKindSpecialCourtOfAppeal, "", "")
	add("high-court", "High Court", domain.AgencyKindHighCourt, "", "")

	add("hpc", "High Prosecutorial Council", domain.AgencyKindHighProsecutorialCouncil, "", "")
	add("moi", "Ministry of Interior", domain.AgencyKindMinistryOfInterior, "", "")
	add("onac", "Office of the National Anti-Trafficking Coordinator",
		domain.AgencyKindNationalAntiTraffickingCoordinator, "", "")
	add("responsible-authority", "Responsible Authority of the National Referral Mechanism",
		domain.AgencyKindResponsibleAuthority, "", "")

	add("social-service", "State Social Service", domain.AgencyKindStateSocialService, "", "")
	add("child-rights", "State Agency for the Rights and Protection of the Child",
		domain.AgencyKindStateAgencyForChildRights, "", "")
	add("labour-inspectorate", "State Labour and Social Services Inspectorate", domain.AgencyKindLabourInspectorate, "", "")

	add("shelter-national", "National Reception Centre for Victims of Trafficking, Linzë", domain.AgencyKindStateShelter, "", "")
	add("ngo-vatra", "Vatra Psycho-Social Centre", domain.AgencyKindNgoShelter, domain.RegionVlore, "")
	add("ngo-tjeter-vizion", "Tjetër Vizion", domain.AgencyKindNgoShelter, domain.RegionElbasan, "")
	add("ngo-different-equal", "Different & Equal (Të Ndryshëm dhe të Barabartë)",
		domain.AgencyKindNgoServiceProvider, domain.RegionTirane, "")
	for _, r := range Regions {
		add("miu-"+RegionSlug(r.Region), "Mobile Identification Unit, "+r.Name,
			domain.AgencyKindMobileIdentificationUnit, r.Region, "social-service")
	}
	return defs
}

// Agencies creates every agency of AgencyRegistry whose code does not exist
// yet, with its parent, in one transaction. Existing agencies are left as
// they are, so calling it again creates nothing.
func Agencies(ctx context.Context, client *ent.Client) (err error) {
	ctx = viewer.SystemContext(ctx)
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("seed: starting transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := AgencyIDs(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: committing agencies: %w", err)
	}
	return nil
}

// AgencyIDs is Agencies inside the caller's transaction, returning the id of
// every code of AgencyRegistry: the demo data refers to agencies by code,
// and writes them in the one transaction that holds all of it.
func AgencyIDs(ctx context.Context, tx *ent.Tx) (map[string]int, error) {
	ctx = viewer.SystemContext(ctx)
	codes := make([]string, len(AgencyRegistry))
	for i, d := range AgencyRegistry {
		codes[i] = d.Code
	}
	existing, err := tx.Agency.Query().Where(agency.CodeIn(codes...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: reading agencies: %w", err)
	}
	ids := make(map[string]int, len(AgencyRegistry))
	for _, a := range existing {
		ids[a.Code] = a.ID
	}
	for _, d := range AgencyRegistry {
		if _, ok := ids[d.Code]; ok {
			continue
		}
		c := tx.Agency.Create().SetCode(d.Code).SetName(d.Name).SetKind(d.Kind)
		if d.Region != "" {
			c.SetRegion(d.Region)
		}
		if d.Parent != "" {
			pid, ok := ids[d.Parent]
			if !ok {
				return nil, fmt.Errorf("seed: agency %s: parent %s is not defined before it", d.Code, d.Parent)
			}
			c.SetParentID(pid)
		}
		a, err := c.Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("seed: creating agency %s: %w", d.Code, err)
		}
		ids[d.Code] = a.ID
	}
	return ids, nil
}
