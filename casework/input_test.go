package casework_test

// Input that cannot be stored wrongly (docs/input.md): every string and
// time argument of a mutation is checked by one rule, before any resolver
// runs, the same on SQLite and PostgreSQL; a refused input is
// BAD_USER_INPUT naming the field, and nothing is written.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// Raw JSON values: encoding/json would turn the invalid UTF-8 into U+FFFD
// before sending, and cannot write an unpaired surrogate at all.
var (
	rawInvalidUTF8   = json.RawMessage("\"Forced \xff\xfe labour\"")
	rawLoneSurrogate = json.RawMessage(`"Forced \ud800 labour"`)
)

// badText is every kind of string no field may store.
var badText = []struct {
	name  string
	value any
}{
	{"NUL", "Forced\x00labour"},
	{"InvalidUTF8", rawInvalidUTF8},
	{"LoneSurrogate", rawLoneSurrogate},
	{"ReplacementCharacter", "Forced \uFFFD labour"},
	{"Escape", "Forced \x1b[2J labour"},
	{"Backspace", "Forced\blabour"},
	{"Delete", "Forced\x7flabour"},
	{"C1Control", "Forced\u0085labour"},
	{"LoneCarriageReturn", "Forced\rlabour"},
	{"BidiOverride", "Case \u202eruobal decroF"},
	{"BidiEmbedding", "Case \u202Aforced labour"},
	{"BidiIsolate", "Case \u2066forced labour\u2069"},
	{"Empty", ""},
	{"WhiteSpaceOnly", " \t\u00a0 "},
	{"TooLong", strings.Repeat("a", 20_001)}, // input.MaxText + 1: too long for any field
}

func TestMutationInputTextRefused(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		v := h.registerVictim(t, 30, c.ID)
		need(t, c.ID, v.ID)
		h.assign(t, c.ID, "PROSECUTING", "prosecution-tirane")

		// A single-line field refuses every kind, and a line break too.
		lines := append(badText, struct {
			name  string
			value any
		}{"LineFeed", "Forced\nlabour"}, struct {
			name  string
			value any
		}{"Tab", "Forced\tlabour"})
		for _, bad := range lines {
			t.Run("OpenCaseTitle/"+bad.name, func(t *testing.T) {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["title"] = bad.value
				h.refuse(t, h.police, openCaseMutation, map[string]any{"in": in}, badField("input.title"))
			})
		}
		// A case's reference is its key: a soft hyphen, a decomposed
		// accent or a trailing space made a second case of one that read
		// the same (a hunt over HTTP), and so did the Khmer inherent
		// vowels, the unassigned default-ignorable U+2065 and the blank
		// Braille pattern (a later hunt). Refused, naming the reference,
		// nothing written; so is a noncharacter, which is never text.
		for _, bad := range []struct{ name, suffix string }{
			{"SoftHyphen", "-\u00ad1"}, {"Decomposed", "-E\u0301"}, {"TrailingSpace", "-1 "}, {"InvisibleTimes", "-\u20621"},
			{"KhmerVowelInherentAq", "\u17b4"}, {"KhmerVowelInherentAa", "\u17b5"}, {"UnassignedIgnorable2065", "\u2065"},
			{"BrailleBlank", "\u2800"}, {"NoncharacterFDD0", "\ufdd0"}, {"NoncharacterFFFF", "\uffff"},
		} {
			t.Run("OpenCaseReference/"+bad.name, func(t *testing.T) {
				in := caseInput(h, t, c.Reference+bad.suffix, "police-tirane")
				h.refuse(t, h.police, openCaseMutation, map[string]any{"in": in}, badField("input.reference"))
			})
		}
		// A proceeding's registration number is a key by the same rule.
		t.Run("RegisterProsecutionRegistrationNumber/BrailleBlank", func(t *testing.T) {
			p := h.registerProsecution(t, c.ID, date(3, 2))
			need(t, p.ID)
			h.refuse(t, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": p.RegistrationNumber + "\u2800", "registeredAt": stamp(date(3, 2)), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane")}}, badField("input.registrationNumber"), c.ID)
		})
		// A multi-line field refuses the same, but takes line breaks and tabs.
		for _, bad := range badText {
			t.Run("UpdateVictimTestimony/"+bad.name, func(t *testing.T) {
				h.refuse(t, h.prosecutor, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
					"in": map[string]any{"testimonySummary": bad.value}}, badField("input.testimonySummary"), v.ID)
			})
		}
		t.Run("OKMultiLine", func(t *testing.T) {
			notes := "Recruited in March.\r\nTold the officer:\n\t- the flat\n\t- the debt"
			got := call[victimT](t, h, h.prosecutor, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
				"in": map[string]any{"testimonySummary": notes}})
			if s := h.stored(t, got.ID).TestimonySummary; s == nil || *s != notes {
				t.Errorf("testimonySummary stored as %q, want %q", ptrString(s), notes)
			}
			v = got
		})
		// The same in the document itself rather than in variables.
		for _, lit := range []string{`a\ud800b`, `a\u0000b`, `a\u202eb`, `   `} {
			t.Run("Literal/"+lit, func(t *testing.T) {
				q := `mutation { openCase(input: {reference: "` + newReference() + `", title: "` + lit + `", region: TIRANE, leadAgencyID: "` +
					h.agency(t, "police-tirane") + `"}) { id } }`
				h.refuse(t, h.police, q, nil, badField("input.title"))
			})
		}
		t.Run("OKOtherScripts", func(t *testing.T) {
			// Letters of any script, right-to-left ones included, are text;
			// only the invisible formatting characters are refused.
			in := caseInput(h, t, newReference(), "police-tirane")
			in["title"] = "Shfrytëzim në Tiranë, \u200fعمل قسري\u200e, Ελλάδα"
			got := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": in})
			if got.Title != in["title"] {
				t.Errorf("title = %q, want %q", got.Title, in["title"])
			}
		})

		// Every mutation's strings go through the same rule, wherever they
		// sit: input fields, plain arguments, lists.
		nul := "x\x00y"
		for _, tc := range []struct {
			name, query string
			who         principal
			vars        func() map[string]any
			field       string
		}{
			{"RegisterVictimPseudonym", registerVictimMutation, h.police, func() map[string]any {
				in := victimInput(newVictimName(), 30)
				in["pseudonym"] = "V-\u202e1234"
				return map[string]any{"in": in, "cases": []string{c.ID}}
			}, "input.pseudonym"},
			{"RegisterVictimLegalName", registerVictimMutation, h.police, func() map[string]any {
				in := victimInput(newVictimName(), 30)
				in["legalName"] = "   "
				return map[string]any{"in": in, "cases": []string{c.ID}}
			}, "input.legalName"},
			{"RecordSuspectNationality", recordSuspectMutation, h.police, func() map[string]any {
				return map[string]any{"in": map[string]any{"pseudonym": newSuspectName(), "sex": "MALE", "nationality": nul, "role": "RECRUITER", "caseID": c.ID}}
			}, "input.nationality"},
			{"UpdateSuspectPersonalNumber", updateSuspectMutation, h.police, func() map[string]any {
				s := h.recordSuspect(t, c.ID)
				return map[string]any{"id": s.ID, "v": s.Version, "in": map[string]any{"personalNumber": "J\x0c12345678"}}
			}, "input.personalNumber"},
			{"RegisterProsecutionNumber", registerProsMutation, h.prosecutor, func() map[string]any {
				return map[string]any{"in": map[string]any{"registrationNumber": rawLoneSurrogate, "registeredAt": stamp(date(3, 1)),
					"caseID": c.ID, "officeID": h.agency(t, "prosecution-tirane")}}
			}, "input.registrationNumber"},
			{"IdempotencyKey", openCaseMutation, h.police, func() map[string]any {
				return map[string]any{"in": caseInput(h, t, newReference(), "police-tirane"), "key": "key\u2067"}
			}, "idempotencyKey"},
			{"EmergencyJustification", `mutation ($c: ID!, $j: String!) { requestEmergencyAccess(caseID: $c, justification: $j, hours: 1) { id } }`, h.police, func() map[string]any {
				return map[string]any{"c": c.ID, "j": "A victim is missing and must be reached now\x00."}
			}, "justification"},
			{"ChangePolicyLine", `mutation ($add: [[String!]!], $r: String!) { changePolicy(add: $add, reason: $r) { added } }`, h.principal(t, "police-gd", viewer.RoleAdmin), func() map[string]any {
				return map[string]any{"add": [][]string{{"p", "judge", "court", "Victim.phone\u202e", "read", "proceedings"}}, "r": "Judges need to call victims."}
			}, "add[0][3]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, tc.who, tc.query, tc.vars(), badField(tc.field), c.ID)
			})
		}
	})
}

// TestMutationInputKeyNewerCharacters: a key may hold a visible character
// Unicode assigned after the tables of the server's Go (Unicode 15.0): an
// emoji phones type since 2025 (U+1FAE9, U+1FAC6: Emoji 16.0), a letter of
// Todhri, the historical Albanian alphabet (U+105C0, Unicode 16.0), a CJK
// ideograph of Extension I (U+2EBF0, Unicode 15.1). A review had each
// refused as a code point "Unicode does not assign", which was false: the
// server cannot tell such a character from an unassigned code point, and
// takes both.
func TestMutationInputKeyNewerCharacters(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		for _, tc := range []struct{ name, suffix string }{
			{"Emoji16FaceWithBagsUnderEyes", "-\U0001FAE9"},
			{"Emoji16Fingerprint", "-\U0001FAC6"},
			{"TodhriLetterA", "-\U000105C0"},
			{"CJKExtensionI", "-\U0002EBF0"},
		} {
			t.Run("RecordSuspectPseudonym/"+tc.name, func(t *testing.T) {
				name := newSuspectName() + tc.suffix
				got := call[suspectT](t, h, h.police, recordSuspectMutation, map[string]any{"in": map[string]any{
					"pseudonym": name, "sex": "MALE", "nationality": "AL", "role": "RECRUITER", "caseID": c.ID,
				}})
				if got.Pseudonym != name {
					t.Errorf("pseudonym = %+q, want %+q", got.Pseudonym, name)
				}
			})
			t.Run("OpenCaseReference/"+tc.name, func(t *testing.T) {
				ref := newReference() + tc.suffix
				got := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": caseInput(h, t, ref, "police-tirane")})
				if got.Reference != ref {
					t.Errorf("reference = %+q, want %+q", got.Reference, ref)
				}
			})
		}
	})
}

// The policy is asked first: a caller who may not call a mutation is
// refused for that (and the refusal audited), whatever the input holds.
func TestMutationInputCheckedAfterPolicy(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		in := caseInput(h, t, newReference(), "police-tirane")
		in["title"] = "Forced\x00labour"
		e := h.refuse(t, h.principal(t, "onac", viewer.RoleAnalyst), openCaseMutation, map[string]any{"in": in}, want{Code: "FORBIDDEN"})
		if e.Extensions["field"] != "Mutation.openCase" {
			t.Errorf("extensions.field = %v, want Mutation.openCase", e.Extensions["field"])
		}
	})
}

// TestMutationRefusalsOnTheirPath: in a document of several mutations,
// each refusal names its mutation's path (its alias), whether the input
// check, the policy or the mutation itself refused it, so a client tells
// which null each error explains. The refusals made before a mutation
// resolves carried no path (a hunt over HTTP).
func TestMutationRefusalsOnTheirPath(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		bad, good := caseInput(h, t, newReference(), "police-tirane"), caseInput(h, t, newReference(), "police-tirane")
		bad["title"] = "Forced\x00labour"
		res := h.do(t, h.police, `mutation($bad: CreateCaseInput!, $good: CreateCaseInput!) {
			a: openCase(input: $bad) { id }
			b: openCase(input: $good) { id }
			c: changePolicy(add: [["p", "investigator", "*", "policy", "change", "any"]], reason: "Give myself the policy") { added }
			d: openCase(input: $good, idempotencyKey: " ") { id } }`, map[string]any{"bad": bad, "good": good})
		paths := map[string]string{}
		for _, e := range res.Errors {
			if len(e.Path) != 1 {
				t.Errorf("error %q (%s) has the path %v, want its mutation's", e.Message, e.Code(), e.Path)
				continue
			}
			paths[fmt.Sprint(e.Path[0])] = e.Code()
		}
		if want := map[string]string{"a": "BAD_USER_INPUT", "c": "FORBIDDEN", "d": "BAD_USER_INPUT"}; !maps.Equal(paths, want) {
			t.Errorf("errors by path %v, want %v\n%s", paths, want, res.Body)
		}
	})
}

func ptrString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestMutationInputTimeRefused(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		now := time.Now().UTC()

		for _, tc := range []struct {
			name    string
			value   any
			rfc3339 bool // the message must say RFC 3339 is expected
		}{
			{"Number", 1772323200, true},
			{"Object", map[string]any{"year": 2026}, true},
			{"YearOne", "0001-01-01T00:00:00Z", false},
			{"Year9999", "9999-12-31T00:00:00Z", false},
			{"Before1900", "1899-12-31T23:59:59Z", false},
			{"NextWeek", stamp(now.AddDate(0, 0, 7)), false},
			{"DateOnly", "2026-03-01", true},
			{"Words", "1 March 2026", true},
			{"Month13", "2026-13-01T00:00:00Z", true},
			{"NoZone", "2026-03-01T09:30:00", true},
		} {
			t.Run("OpenCaseOpenedAt/"+tc.name, func(t *testing.T) {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["openedAt"] = tc.value
				e := h.refuse(t, h.police, openCaseMutation, map[string]any{"in": in}, badField("input.openedAt"))
				if tc.rfc3339 && !strings.Contains(e.Message, "RFC 3339") {
					t.Errorf("message %q does not say that RFC 3339 is expected", e.Message)
				}
			})
		}

		t.Run("OKEdgesOfTheRange", func(t *testing.T) {
			for _, at := range []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), now.Add(time.Hour).Truncate(time.Second)} {
				in := caseInput(h, t, newReference(), "police-tirane")
				in["openedAt"] = stamp(at)
				got := call[caseT](t, h, h.police, openCaseMutation, map[string]any{"in": in})
				sameTime(t, "openedAt", &got.OpenedAt, at)
			}
		})

		// A deadline is planned: a year ahead is fine, eleven are not.
		t.Run("DeadlineTooFar", func(t *testing.T) {
			h.refuse(t, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 1)), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane"), "investigationDeadline": stamp(now.AddDate(11, 0, 0)),
			}}, badField("input.investigationDeadline"), c.ID)
		})
		t.Run("OKDeadlineNextYear", func(t *testing.T) {
			deadline := now.AddDate(1, 0, 0).Truncate(time.Second)
			got := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 1)), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane"), "investigationDeadline": stamp(deadline),
			}})
			sameTime(t, "investigationDeadline", got.InvestigationDeadline, deadline)
		})
		t.Run("StageDateArgument", func(t *testing.T) {
			p := h.registerProsecution(t, c.ID, date(3, 1))
			h.refuse(t, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version,
				"stage": "UNDER_INVESTIGATION", "at": "0001-01-01T00:00:00Z"}, badField("at"), p.ID)
		})
	})
}

// A time sent with any offset is the instant it names: stored, answered in
// UTC, compared and ordered as that instant on both databases (the SQLite
// driver stores a time as text with its zone, and read none back with a
// bare offset: every such mutation failed with INTERNAL).
func TestMutationInputTimeOffsets(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Opened in this order, a minute apart, each sent with another offset.
		base := time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)
		sent := []string{"2026-02-20T10:00:00+01:00", "2026-02-20T04:01:00-05:00", "2026-02-20T14:32:00+05:30"}
		var ids, refs []string
		for i, at := range sent {
			refs = append(refs, newReference())
			in := caseInput(h, t, refs[i], "police-tirane")
			in["openedAt"] = at
			r := h.do(t, h.police, `mutation ($in: CreateCaseInput!) { openCase(input: $in) { id openedAt } }`, map[string]any{"in": in}).MustOK(t)
			want := `"openedAt":"` + base.Add(time.Duration(i)*time.Minute).Format(time.RFC3339) + `"`
			if !strings.Contains(string(r.Data), want) {
				t.Errorf("openCase with openedAt %s answered %s, want %s", at, r.Data, want)
			}
			var data struct{ OpenCase struct{ ID string } }
			r.Decode(t, &data)
			ids = append(ids, data.OpenCase.ID)
		}
		// Ordered and filtered by instant, whatever the offsets.
		var got struct {
			Cases struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		h.do(t, h.police, `query ($refs: [String!]!, $after: Time!) { cases(first: 10, where: {referenceIn: $refs, openedAtGT: $after},
			orderBy: {field: OPENED_AT, direction: DESC}) { edges { node { id } } } }`,
			map[string]any{"refs": refs, "after": "2026-02-20T10:00:30+01:00"}).MustOK(t).Decode(t, &got)
		var order []string
		for _, e := range got.Cases.Edges {
			order = append(order, e.Node.ID)
		}
		if want := []string{ids[2], ids[1]}; fmt.Sprint(order) != fmt.Sprint(want) {
			t.Errorf("cases opened after 09:00:30Z, latest first = %v, want %v", order, want)
		}
	})
}

// A filter the database could not run, or a string it could not compare,
// is refused before any SQL runs, the same on both databases; a filter at
// the limits runs on both.
func TestFilterInputRefused(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		ids := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprint(12884900000 + i)
			}
			out[0] = c.ID
			return out
		}
		// orTree nests depth-1 levels of "or" around an id.
		var orTree func(depth int) map[string]any
		orTree = func(depth int) map[string]any {
			if depth <= 2 {
				return map[string]any{"id": c.ID}
			}
			return map[string]any{"or": []any{orTree(depth - 1)}}
		}
		const casesQuery = `query ($w: CaseWhereInput) { cases(where: $w) { totalCount } }`
		// Another root field after a harmless one: each is measured.
		const secondQuery = `query ($w: AgencyWhereInput) { cases { totalCount } agencies(where: $w) { totalCount } }`
		branches := func(n int) []any {
			var out []any
			for _, id := range ids(n) {
				out = append(out, map[string]any{"id": id})
			}
			return out
		}

		for _, tc := range []struct {
			name, query string
			where       map[string]any
			field       string
		}{
			{"TooManyIDs", casesQuery, map[string]any{"idIn": ids(1001)}, "where"},
			{"TooManyConditions", casesQuery, map[string]any{"or": branches(200)}, "where"},
			{"TooDeep", casesQuery, orTree(17), "where"},
			{"SecondFieldTooManyIDs", secondQuery, map[string]any{"idIn": ids(1001)}, "where"},
			{"NUL", casesQuery, map[string]any{"reference": "TIR\x00"}, "where.reference"},
			// A single value for a list is a list of one (input coercion),
			// which gqlparser hands over from variables as a typed slice:
			// its strings were not checked (a review), and PostgreSQL could
			// not compare the NUL.
			{"NULInASingleValueForAList", casesQuery, map[string]any{"referenceIn": "TIR\x00"}, "where.referenceIn"},
			// SQLite refuses a LIKE pattern over 50,000 bytes (INTERNAL
			// there, nothing found on PostgreSQL).
			// A string compared whole is held to MaxComparedBytes (a
			// pattern is refused before, by the bound on patterns).
			{"LongString", casesQuery, map[string]any{"reference": strings.Repeat("%", 25_000)}, "where.reference"},
			{"LongPattern", casesQuery, map[string]any{"referenceContains": strings.Repeat("%", 25_000)}, "where"},
			// PostgreSQL's ILIKE lowers the pattern again for every row:
			// 45 patterns of 20 KB were 5 s of a core. The patterns of a
			// filter add up to 256 bytes at most, however many.
			{"TooMuchPattern", casesQuery, map[string]any{"or": []any{
				map[string]any{"referenceContainsFold": strings.Repeat("a", 200)},
				map[string]any{"referenceHasSuffix": strings.Repeat("b", 57)}}}, "where"},
			// Year 10000 in UTC: SQLite's times (text) sort it before 2021,
			// PostgreSQL's after, and the answers were opposite.
			{"TimeBeyond9999", casesQuery, map[string]any{"openedAtLT": "9999-12-31T23:59:59-23:59"}, "where.openedAtLT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := h.rows(t)
				var w any = tc.where
				if tc.where == nil {
					w = ids(1001)
				}
				r := h.do(t, h.police, tc.query, map[string]any{"w": w})
				if len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_USER_INPUT" {
					t.Log(string(r.Body))
					t.Fatalf("want one BAD_USER_INPUT error:\n%s", r.Body)
				}
				if f, _ := r.Errors[0].Extensions["field"].(string); f != tc.field {
					t.Errorf("extensions.field = %q, want %q", f, tc.field)
				}
				if strings.HasSuffix(tc.name, "Pattern") {
					if r.Errors[0].Extensions["maxPatternBytes"] != float64(256) || !strings.Contains(r.Errors[0].Message, "more than 256") {
						t.Errorf("the error does not name the limit:\n%s", r.Body)
					}
				} else if strings.HasPrefix(tc.name, "Too") || strings.HasPrefix(tc.name, "Second") {
					if r.Errors[0].Extensions["maxValues"] != float64(1000) || !strings.Contains(r.Errors[0].Message, "at most 1000 values") {
						t.Errorf("the error does not name the limit:\n%s", r.Body)
					}
				}
				if diff := diffCounts(before, h.rows(t)); diff != "" {
					t.Errorf("a refused query changed the database: %s", diff)
				}
			})
		}

		for _, tc := range []struct {
			name  string
			where map[string]any
		}{
			{"OKAtValueLimit", map[string]any{"idIn": ids(1000)}},
			{"OKAtConditionLimit", map[string]any{"or": branches(199)}},
			{"OKAtDepthLimit", orTree(16)},
			{"OKTimeAt9999", map[string]any{"id": c.ID, "openedAtLT": "9999-12-31T23:59:59Z"}},
			// A single time for a list of times is one time, not a value
			// that "must be a time in RFC 3339 format" (a review).
			{"OKSingleTimeForAList", map[string]any{"id": c.ID, "openedAtIn": stamp(date(2, 20))}},
			{"OKAtPatternLimit", map[string]any{"id": c.ID, "or": []any{
				map[string]any{"referenceContainsFold": c.Reference},
				map[string]any{"referenceHasPrefix": strings.Repeat("x", 256-len(c.Reference))}}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var data struct{ Cases struct{ TotalCount int } }
				h.do(t, h.police, casesQuery, map[string]any{"w": tc.where}).MustOK(t).Decode(t, &data)
				if data.Cases.TotalCount != 1 {
					t.Errorf("totalCount = %d, want 1 (the case opened)", data.Cases.TotalCount)
				}
			})
		}
	})
}

// TestMutationInputSetAndCleared: an update that sets a field and clears
// it at once is refused, naming the field, and changes nothing (ent kept
// the value set, quietly).
func TestMutationInputSetAndCleared(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		v := h.registerVictim(t, 30, c.ID)
		need(t, v.ID)
		h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"phone": "+355690000002", "clearPhone": true}}, badField("input.phone"), v.ID)
		// Clearing alone, or setting alone, is fine.
		call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"phone": "+355690000002", "clearPhone": false}})

		// Adding and removing one record at once is the same ambiguity (a
		// hunt: the removal won, silently, as ent drops the id from those
		// it adds). Refused naming the list it is added in; one added and
		// another removed is fine.
		p, s, other := h.proceedingAndSuspect(t, c.ID)
		h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
			"in": map[string]any{"addDefendantIDs": []string{s.ID}, "removeDefendantIDs": []string{other.ID, s.ID}}},
			badField("input.addDefendantIDs"), p.ID, c.ID)
		got := call[prosecutionT](t, h, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
			"in": map[string]any{"addDefendantIDs": []string{s.ID}, "removeDefendantIDs": []string{other.ID}}})
		wantDefendantInstead(t, got, s, other)
	})
}

// proceedingAndSuspect registers, on case caseID, a proceeding against a
// new suspect (other), and records another suspect (s), not its
// defendant: a test adds s and removes other, or adds and removes s at
// once.
func (h *harness) proceedingAndSuspect(t *testing.T, caseID string) (p prosecutionT, s, other suspectT) {
	t.Helper()
	s, other = h.recordSuspect(t, caseID), h.recordSuspect(t, caseID)
	p = h.registerProsecution(t, caseID, date(3, 2), other.ID)
	need(t, p.ID, s.ID)
	return p, s, other
}

// wantDefendantInstead checks that got, the proceeding of
// proceedingAndSuspect updated to add s and remove other, has s alone as
// its defendant.
func wantDefendantInstead(t *testing.T, got prosecutionT, s, other suspectT) {
	t.Helper()
	if len(got.Defendants) != 1 || got.Defendants[0].ID != s.ID {
		t.Errorf("defendants after adding %s and removing %s = %+v", s.ID, other.ID, got.Defendants)
	}
}

// TestMutationInputAddedAndRemovedSingleValue: GraphQL takes a single value
// for a list (input coercion), so addDefendantIDs: S is a list of one. A
// review had a record added and removed at once accepted when either side
// was sent so, and the removal silently won again; refused as the lists
// are. A single value alone adds it: a change, taken.
func TestMutationInputAddedAndRemovedSingleValue(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		for _, tc := range []struct {
			name        string
			add, remove func(id string) any
		}{
			{"BothSingle", func(id string) any { return id }, func(id string) any { return id }},
			{"AddListRemoveSingle", func(id string) any { return []string{id} }, func(id string) any { return id }},
			{"AddSingleRemoveList", func(id string) any { return id }, func(id string) any { return []string{id} }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, s, _ := h.proceedingAndSuspect(t, c.ID)
				h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
					"in": map[string]any{"addDefendantIDs": tc.add(s.ID), "removeDefendantIDs": tc.remove(s.ID)}},
					badField("input.addDefendantIDs"), p.ID, c.ID)
			})
		}
		t.Run("BothSingleInTheDocument", func(t *testing.T) {
			p, s, _ := h.proceedingAndSuspect(t, c.ID)
			q := fmt.Sprintf(`mutation { updateProsecution(id: %q, expectedVersion: %d, input: {addDefendantIDs: %q, removeDefendantIDs: %q}) { id } }`,
				p.ID, p.Version, s.ID, s.ID)
			h.refuse(t, h.prosecutor, q, nil, badField("input.addDefendantIDs"), p.ID, c.ID)
		})
		t.Run("OKAddSingle", func(t *testing.T) {
			p, s, other := h.proceedingAndSuspect(t, c.ID)
			got := call[prosecutionT](t, h, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"addDefendantIDs": s.ID, "removeDefendantIDs": other.ID}})
			wantDefendantInstead(t, got, s, other)
		})
	})
}

// TestMutationInputEmptyUpdate: an update that names no field, or only
// fields that do nothing, is refused, and changes nothing: it moved the
// version and wrote a timeline entry.
func TestMutationInputEmptyUpdate(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		for _, in := range []map[string]any{
			{},
			// Fields that do nothing: null, a clear that is false, an
			// empty append.
			{"title": nil},
			{"title": nil, "appendFormsOfExploitation": []string{}},
		} {
			h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": in}, badField("input"), c.ID)
		}
		v := h.registerVictim(t, 30, c.ID)
		need(t, v.ID)
		h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"clearPhone": false, "phone": nil}}, badField("input"), v.ID)
		// A false that is a value, not a clear, is a change.
		call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"foreignNational": false}})
		// An empty list of records to add or remove adds or removes none
		// (a hunt: each moved the proceeding's version and wrote a
		// timeline entry).
		p := h.registerProsecution(t, c.ID, date(3, 2), h.recordSuspect(t, c.ID).ID)
		need(t, p.ID)
		for _, field := range []string{"addDefendantIDs", "removeDefendantIDs"} {
			t.Run("UpdateProsecution/"+field, func(t *testing.T) {
				h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
					"in": map[string]any{field: []string{}}}, badField("input"), p.ID, c.ID)
			})
		}
	})
}

// TestMutationInputRepeatedValue: a list of enumeration values a mutation
// writes is a set. Naming a value twice is refused, naming the list, and
// writes nothing (a consent could hold one purpose a thousand times);
// appending a form of exploitation already recorded keeps it once.
func TestMutationInputRepeatedValue(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		v := h.registerVictim(t, 30, c.ID)
		need(t, v.ID)
		consent := func(kinds, purposes []string) map[string]any {
			return map[string]any{"in": map[string]any{
				"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
				"agencyKinds": kinds, "purposes": purposes,
			}}
		}
		h.refuse(t, h.police, recordConsentMutation,
			consent([]string{"NGO_SHELTER", "LOCAL_POLICE_DIRECTORATE", "NGO_SHELTER"}, []string{"SERVICES"}),
			badField("input.agencyKinds"), v.ID)
		h.refuse(t, h.police, recordConsentMutation,
			consent([]string{"NGO_SHELTER"}, []string{"SERVICES", "SERVICES"}),
			badField("input.purposes"), v.ID)
		h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"formsOfExploitation": []string{"SEXUAL", "SEXUAL"}}}, badField("input.formsOfExploitation"), v.ID)
		h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version,
			"in": map[string]any{"appendFormsOfExploitation": []string{"FORCED_BEGGING", "FORCED_BEGGING"}}},
			badField("input.appendFormsOfExploitation"), c.ID)
		// A list of ids a mutation writes is a set too (a hunt: caseIDs
		// [c, c] linked c once, and a retry under its idempotency key
		// naming [c], the same set, was CONFLICT).
		h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30), "cases": []string{c.ID, c.ID}, "key": "cases-twice"},
			badField("caseIDs"), c.ID)
		suspect := h.recordSuspect(t, c.ID)
		need(t, suspect.ID)
		h.refuse(t, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
			"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 2)), "caseID": c.ID,
			"officeID": h.agency(t, "prosecution-tirane"), "defendantIDs": []string{suspect.ID, suspect.ID}}},
			badField("input.defendantIDs"), c.ID)
		// Each value once is fine.
		call[consentT](t, h, h.police, recordConsentMutation, consent([]string{"NGO_SHELTER", "LOCAL_POLICE_DIRECTORATE"}, []string{"SERVICES"}))
		call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30), "cases": []string{c.ID}, "key": "cases-twice"})

		// Appending a form the case names already, and one it does not:
		// each is there once.
		if len(c.FormsOfExploitation) == 0 || slices.Contains(c.FormsOfExploitation, "FORCED_BEGGING") {
			t.Fatalf("the case's forms %v: want some, and not FORCED_BEGGING", c.FormsOfExploitation)
		}
		present := c.FormsOfExploitation[0]
		got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version,
			"in": map[string]any{"appendFormsOfExploitation": []string{present, "FORCED_BEGGING"}}})
		want := append(slices.Clone(c.FormsOfExploitation), "FORCED_BEGGING")
		if !slices.Equal(got.FormsOfExploitation, want) {
			t.Errorf("formsOfExploitation = %v after appending [%s FORCED_BEGGING] to %v, want %v", got.FormsOfExploitation, present, c.FormsOfExploitation, want)
		}
	})
}

// TestServerTimeSentBack: a time the server wrote (a case closed "now"),
// sent back as read, finds its record as a filter's bound, on both
// databases. The SQLite driver stored the monotonic clock reading with it
// ("… UTC m=+66.47"), so the stored text sorted after the same instant
// sent back, and closedAtLTE of it found nothing (database.wallClock).
func TestServerTimeSentBack(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		closed := call[caseT](t, h, h.police, moveCaseStageMutation, map[string]any{"id": c.ID, "v": c.Version, "stage": "TRANSFERRED"})
		if closed.ClosedAt == nil {
			t.Fatalf("not closed: %+v", closed)
		}
		var got struct{ Cases struct{ TotalCount int } }
		h.do(t, h.police, `query ($id: ID!, $at: Time!) { cases(where: {id: $id, closedAtLTE: $at, closedAtGTE: $at}) { totalCount } }`,
			map[string]any{"id": c.ID, "at": closed.ClosedAt.Format(time.RFC3339Nano)}).MustOK(t).Decode(t, &got)
		if got.Cases.TotalCount != 1 {
			t.Errorf("closedAt %s as a filter's bounds found %d cases, want the one closed then", closed.ClosedAt.Format(time.RFC3339Nano), got.Cases.TotalCount)
		}
	})
}

// TestValidationSaysTheRule: a value the schema refuses is told what it
// must be: the form of a pattern, the limit of a length in bytes. ent's
// own words named neither ("value does not match validation", "value is
// greater than the required length"; a hunt over HTTP).
func TestValidationSaysTheRule(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		for _, tc := range []struct {
			name, field, value, says string
		}{
			{"VictimPseudonym", "pseudonym", "V-2026-123", "V-2024-0042"},
			{"LegalNameInBytes", "legalName", strings.Repeat("ë", 101), "200 bytes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := victimInput(newVictimName(), 30)
				in[tc.field] = tc.value
				e := h.refuse(t, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{c.ID}}, badField("input."+tc.field))
				if !strings.Contains(e.Message, tc.says) {
					t.Errorf("the refusal of %s does not say %q: %s", tc.field, tc.says, e.Message)
				}
			})
		}
	})
}

// TestArgumentOfTheWrongScalar: an Int sent as a string is refused at the
// field's path, naming the argument in extensions.field as every refusal
// of input does; it sat at ["updateCase", "expectedVersion"], no response
// key, without extensions.field (a hunt over HTTP). Nothing is written.
func TestArgumentOfTheWrongScalar(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		need(t, c.ID)
		e := h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": strconv.Itoa(c.Version),
			"in": map[string]any{"title": "Renamed"}}, badField("expectedVersion"), c.ID)
		if len(e.Path) != 1 || e.Path[0] != "updateCase" {
			t.Errorf("path %v, want [updateCase]", e.Path)
		}
	})
}
