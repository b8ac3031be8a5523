// Command enumgen writes domain/enums_gen.go from the table below: each
// enumeration of docs/domain.md once, as a Go string type with one constant
// per value, Values (which ent and GraphQL take their enums from), Valid and
// the gqlgen marshalling methods. The constants and Values cannot disagree,
// because both are written from the same list.
//
// go generate runs it first (see generate.go at the module root), before ent
// and gqlgen, which read the enumerations it writes. To add an enumeration or
// a value, edit the table and run `make generate`.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"strconv"
	"strings"
)

// enumeration is one Go string type of package domain.
type enumeration struct {
	name   string   // the Go type, also the prefix of each constant
	doc    string   // the rest of the type's doc comment, after its name
	values []string // the values, in docs/domain.md's order; each becomes a constant
}

// enumerations is every enumeration of docs/domain.md, in its order.
var enumerations = []enumeration{
	{
		name: "AgencyKind",
		doc:  "is the kind of an institution (docs/domain.md, Agencies).",
		values: []string{
			"STATE_POLICE_GENERAL_DIRECTORATE",
			"LOCAL_POLICE_DIRECTORATE",
			"BORDER_AND_MIGRATION_POLICE",
			"PROSECUTION_OFFICE",
			"GENERAL_PROSECUTION_OFFICE",
			"SPECIAL_PROSECUTION_OFFICE",
			"NATIONAL_BUREAU_OF_INVESTIGATION",
			"COURT_FIRST_INSTANCE",
			"SPECIAL_COURT_FIRST_INSTANCE",
			"COURT_OF_APPEAL",
			"SPECIAL_COURT_OF_APPEAL",
			"HIGH_COURT",
			"HIGH_PROSECUTORIAL_COUNCIL",
			"MINISTRY_OF_INTERIOR",
			"NATIONAL_ANTI_TRAFFICKING_COORDINATOR",
			"RESPONSIBLE_AUTHORITY",
			"STATE_SOCIAL_SERVICE",
			"STATE_AGENCY_FOR_CHILD_RIGHTS",
			"LABOUR_INSPECTORATE",
			"STATE_SHELTER",
			"NGO_SHELTER",
			"NGO_SERVICE_PROVIDER",
			"MOBILE_IDENTIFICATION_UNIT",
		},
	},
	{
		name: "Region",
		doc:  "is one of Albania's twelve regions (qarqe).",
		values: []string{
			"BERAT",
			"DIBER",
			"DURRES",
			"ELBASAN",
			"FIER",
			"GJIROKASTER",
			"KORCE",
			"KUKES",
			"LEZHE",
			"SHKODER",
			"TIRANE",
			"VLORE",
		},
	},
	{
		name: "Sex",
		doc:  "is a person's sex as recorded.",
		values: []string{
			"FEMALE",
			"MALE",
			"UNKNOWN",
		},
	},
	{
		name: "AgeGroup",
		doc:  "is whether a person is a minor or an adult.",
		values: []string{
			"MINOR",
			"ADULT",
		},
	},
	{
		name: "IdentificationStatus",
		doc:  "is a victim's identification status.",
		values: []string{
			"AT_RISK",
			"POTENTIAL_VICTIM",
			"OFFICIAL_VICTIM",
			"NOT_CONFIRMED",
		},
	},
	{
		name: "IdentifyingBody",
		doc:  "is who identified a victim.",
		values: []string{
			"STATE_POLICE",
			"BORDER_POLICE",
			"MOBILE_IDENTIFICATION_UNIT",
			"NGO",
			"SOCIAL_SERVICES",
			"LABOUR_INSPECTORATE",
			"SELF_REFERRAL",
			"CONSULAR_OR_FOREIGN",
		},
	},
	{
		name: "Exploitation",
		doc:  "is a form of exploitation.",
		values: []string{
			"SEXUAL",
			"FORCED_LABOUR",
			"FORCED_BEGGING",
			"FORCED_CRIMINALITY",
			"FORCED_MARRIAGE_DOMESTIC_SERVITUDE",
			"SLAVERY_SERVITUDE",
			"ORGAN_REMOVAL",
			"OTHER",
			"UNSPECIFIED",
		},
	},
	{
		name: "ReferralStatus",
		doc:  "is the status of a referral in the National Referral Mechanism.",
		values: []string{
			"PENDING",
			"ACCEPTED",
			"REJECTED",
			"COMPLETED",
			"REVOKED",
		},
	},
	{
		name: "ServiceKind",
		doc:  "is a kind of support service.",
		values: []string{
			"SHELTER",
			"MEDICAL",
			"PSYCHOLOGICAL",
			"LEGAL_AID",
			"INTERPRETATION",
			"EDUCATION",
			"VOCATIONAL_TRAINING",
			"EMPLOYMENT",
			"FAMILY_ASSESSMENT",
			"REINTEGRATION",
			"REPATRIATION",
			"TEMPORARY_RESIDENCE_PERMIT",
			"WITNESS_PROTECTION",
			"COMPENSATION_SUPPORT",
		},
	},
	{
		name: "Article",
		doc:  "is an article of the Criminal Code a charge is brought under.",
		values: []string{
			"CC_110A",
			"CC_110B",
			"CC_110C",
			"CC_128B",
			"CC_114",
			"CC_114A",
			"CC_115",
			"CC_124B",
			"OTHER",
		},
	},
	{
		name: "ProceedingStage",
		doc:  "is the stage of a criminal proceeding (and of the case it belongs to).",
		values: []string{
			"NOTICE_RECEIVED",
			"REGISTERED",
			"UNDER_INVESTIGATION",
			"INVESTIGATION_CLOSED",
			"DISMISSED",
			"DISMISSAL_REQUESTED",
			"TRIAL_REQUESTED",
			"FIRST_INSTANCE_TRIAL",
			"FIRST_INSTANCE_DECIDED",
			"APPEAL",
			"APPEAL_DECIDED",
			"HIGH_COURT_RECOURSE",
			"FINAL",
			"TRANSFERRED",
			"MERGED",
		},
	},
	{
		name: "Verdict",
		doc:  "is the outcome of a court decision.",
		values: []string{
			"CONVICTED",
			"CONVICTED_OF_LESSER_OFFENCE",
			"ACQUITTED",
			"DISMISSED",
			"UPHELD",
			"AMENDED",
			"QUASHED_RETRIAL",
		},
	},
	{
		name: "SentenceKind",
		doc:  "is the kind of a sentence.",
		values: []string{
			"IMPRISONMENT",
			"SUSPENDED_OR_PROBATION",
			"FINE",
		},
	},
	{
		name: "Instance",
		doc:  "is the instance of a court decision.",
		values: []string{
			"FIRST_INSTANCE",
			"APPEAL",
			"HIGH_COURT",
		},
	},
	{
		name: "CasePart",
		doc:  "is the part an agency plays in a case.",
		values: []string{
			"INVESTIGATING",
			"PROSECUTING",
			"ADJUDICATING",
			"SUPPORTING",
			"COORDINATING",
		},
	},
	{
		name: "ConsentPurpose",
		doc:  "is a purpose a victim consents to share data for.",
		values: []string{
			"SERVICES",
			"CRIMINAL_PROCEEDINGS",
			"STATISTICS",
		},
	},
	{
		name: "ConsentGivenBy",
		doc:  "is who gave a consent.",
		values: []string{
			"VICTIM",
			"PARENT_OR_GUARDIAN",
			"LEGAL_REPRESENTATIVE",
		},
	},
	{
		name: "SuspectRole",
		doc:  "is the role a suspect is alleged to have played.",
		values: []string{
			"ORGANISER",
			"RECRUITER",
			"TRANSPORTER",
			"EXPLOITER",
			"FACILITATOR",
			"CLIENT",
			"OTHER",
		},
	},
	{
		name: "CaseEventKind",
		doc:  "is the kind of a case timeline entry.",
		values: []string{
			"CASE_OPENED",
			"CASE_UPDATED",
			"STAGE_CHANGED",
			"AGENCY_ASSIGNED",
			"VICTIM_LINKED",
			"VICTIM_UPDATED",
			"CONSENT_RECORDED",
			"CONSENT_WITHDRAWN",
			"SUSPECT_RECORDED",
			"SUSPECT_UPDATED",
			"PROSECUTION_REGISTERED",
			"PROSECUTION_STAGE_CHANGED",
			"DEADLINE_EXTENDED",
			"CHARGE_ADDED",
			"CHARGE_RECLASSIFIED",
			"COURT_DECISION_RECORDED",
			"REFERRAL_CREATED",
			"REFERRAL_STATUS_CHANGED",
			"SUPPORT_RECORDED",
			"SUPPORT_UPDATED",
			"EMERGENCY_ACCESS_GRANTED",
			"EMERGENCY_ACCESS_REVOKED",
		},
	},
}

func main() {
	out := flag.String("o", "domain/enums_gen.go", "file to write")
	flag.Parse()
	src, err := render(enumerations)
	if err != nil {
		log.Fatalf("enumgen: %v", err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatalf("enumgen: %v", err)
	}
}

// render returns the formatted source of domain/enums_gen.go.
func render(es []enumeration) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by domain/internal/enumgen from its table; DO NOT EDIT.\n\n")
	b.WriteString("// The enumerations of docs/domain.md, in its order.\n\n")
	b.WriteString("package domain\n\nimport \"io\"\n")
	for _, e := range es {
		fmt.Fprintf(&b, "\n// %s %s\ntype %s string\n\n", e.name, e.doc, e.name)
		fmt.Fprintf(&b, "// The values of %s.\nconst (\n", e.name)
		quoted := make([]string, len(e.values))
		for i, v := range e.values {
			quoted[i] = strconv.Quote(v)
			fmt.Fprintf(&b, "\t%s %s = %s\n", constName(e.name, v), e.name, quoted[i])
		}
		b.WriteString(")\n\n")
		fmt.Fprintf(&b, "// Values lists every %s; ent and GraphQL take their enums from it.\n", e.name)
		fmt.Fprintf(&b, "func (%s) Values() []string {\n\treturn []string{%s}\n}\n\n", e.name, strings.Join(quoted, ", "))
		fmt.Fprintf(&b, "// Valid reports whether e is a known %s.\n", e.name)
		fmt.Fprintf(&b, "func (e %s) Valid() bool { return valid(e) }\n\n", e.name)
		b.WriteString("// MarshalGQL writes e as a GraphQL enum value.\n")
		fmt.Fprintf(&b, "func (e %s) MarshalGQL(w io.Writer) { marshalEnum(w, e) }\n\n", e.name)
		b.WriteString("// UnmarshalGQL reads a GraphQL enum value into e.\n")
		fmt.Fprintf(&b, "func (e *%s) UnmarshalGQL(v any) error { return unmarshalEnum(v, e) }\n", e.name)
	}
	return format.Source(b.Bytes())
}

// constName is the Go constant for value v of enumeration typ: the type's
// name followed by each word of v capitalised (AgencyKind, NGO_SHELTER:
// AgencyKindNgoShelter; Article, CC_110A: ArticleCc110a).
func constName(typ, v string) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, w := range strings.Split(v, "_") {
		if w == "" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + strings.ToLower(w[1:]))
	}
	return b.String()
}
