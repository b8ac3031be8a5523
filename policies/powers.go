package policies

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// PowerObject is an object of the policy that is neither a sensitive field,
// rows nor a mutation: something a role may do besides reading and writing
// records (emergency access, the policy itself, the audit trail).
type PowerObject struct {
	Name string
	// Title heads the object's column in the matrix.
	Title string
	// Roles are the only roles a policy line may give the object's powers
	// to; none means any role.
	Roles []viewer.Role
	// Why says why only Roles may hold it (the validation error quotes it).
	Why string
}

// Power is one action on a PowerObject.
type Power struct {
	Object, Action string
	// Does completes "may …": what holding the power lets a person do
	// (explanations and the README).
	Does string
	// Cell is how the matrix writes a held power in its object's column.
	Cell string
	// Refusal is the message of the FORBIDDEN error a caller without the
	// power gets from @allowed, or from the code that checks it.
	Refusal string
	// Implies is another action on the same object that holding this one
	// gives as well: who reads every agency's audit events reads their own.
	Implies string
	// CheckedBy names where the power is checked when no field of the
	// schema declares it with @allowed (a mutation that checks it itself,
	// a row scope); graph's schema test holds every power to one or the
	// other. A mutation, written "Mutation.NAME", is the declaration that
	// NAME needs the power besides its own call line (NeededBy).
	CheckedBy string
}

// NeededBy is the mutation that needs the power besides its own call line,
// when CheckedBy names one: the power is used only through that call, so
// a person may make the call only holding the power as well, and holds
// the power to any use only while they may make the call (authz's
// callRefusal, which the server, explainAccess, the matrix and what-if
// all ask).
func (p Power) NeededBy() (mutation string, ok bool) {
	return strings.CutPrefix(p.CheckedBy, "Mutation.")
}

// PowerObjects are the non-field objects of the policy, in the matrix's
// order.
var PowerObjects = []PowerObject{
	{Name: Emergency, Title: "Emergency access"},
	{Name: Policy, Title: "Policy"},
	{Name: Audit, Title: "Audit trail", Roles: []viewer.Role{viewer.RoleDPO},
		Why: "who keeps the system running does not read who looked at whom: no policy change can give the audit trail to another role"},
	{Name: Statistics, Title: "Statistics"},
}

// Powers is every power the policy may give, in the matrix's order. A new
// power is one row here, its policy lines, and @allowed on the fields that
// need it (docs/powers.md).
var Powers = []Power{
	{Object: Emergency, Action: Request, Does: "ask for emergency access to one case", Cell: "request for one case",
		Refusal: "Your role may not ask for emergency access.", CheckedBy: "Mutation.requestEmergencyAccess"},
	{Object: Emergency, Action: Review, Does: "list and revoke the agency's emergency grants", Cell: "list and revoke the agency's grants",
		CheckedBy: "the row scope of emergency grants (rowscope.Scope.GrantsOfAgency)"},
	{Object: Policy, Action: Read, Does: "read the access policy", Cell: "read",
		Refusal: "Your role may not read the access policy."},
	{Object: Policy, Action: Change, Does: "change the access policy", Cell: "change",
		Refusal: "Your role may not change the access policy.", CheckedBy: "Mutation.changePolicy"},
	{Object: Audit, Action: Read, Does: "read the audit events of the agency's people and records", Cell: "read",
		Refusal: "Only data protection officers read the audit trail."},
	{Object: Audit, Action: ReadAll, Does: "read every agency's audit events", Cell: "read every agency's events",
		Implies: Read, CheckedBy: "the scope of Query.auditEvents"},
	{Object: Audit, Action: Verify, Does: "verify the audit trail's hash chain", Cell: "verify the hash chain",
		Refusal: "Only data protection officers verify the audit trail."},
	{Object: Statistics, Action: Read, Does: "read statistics tables of the rows the role sees, small counts of people suppressed", Cell: "read",
		Refusal: "Your role may not read statistics."},
	{Object: Statistics, Action: Exact, Does: "see exact statistics of the rows the role sees, no count suppressed", Cell: "exact counts",
		CheckedBy: "statistics.Control, from authz.Enforcer.StatisticsControl"},
}

// Thresholds of disclosure control: a line "p, ROLE, KIND, statistics,
// threshold, K" sets the threshold k below which statistics withhold a
// count of people from ROLE at KIND (smallest of the caller's wins; none:
// statistics.DefaultThreshold). k is at least MinThreshold, since k = 1
// would suppress nothing, which is what the exact power says openly, and
// at most MaxThreshold.
const (
	MinThreshold = 2
	MaxThreshold = 100
)

// ParseThreshold reads the k of a threshold line, written as the enforcer
// asks for it (strconv.Itoa): "020" or "+20" would validate as 20 and
// never match, leaving the default in force (a hunt).
func ParseThreshold(cond string) (int, error) {
	k, err := strconv.Atoi(cond)
	if err != nil || strconv.Itoa(k) != cond || k < MinThreshold || k > MaxThreshold {
		return 0, fmt.Errorf("a statistics threshold is a whole number from %d to %d, not %q", MinThreshold, MaxThreshold, cond)
	}
	return k, nil
}

// PowerOf returns the power of action on object.
func PowerOf(object, action string) (Power, bool) {
	i := slices.IndexFunc(Powers, func(p Power) bool { return p.Object == object && p.Action == action })
	if i < 0 {
		return Power{}, false
	}
	return Powers[i], true
}

// PowerNeededBy returns the power mutation needs besides its call line
// (Power.NeededBy), if it needs one.
func PowerNeededBy(mutation string) (Power, bool) {
	i := slices.IndexFunc(Powers, func(p Power) bool {
		m, ok := p.NeededBy()
		return ok && m == mutation
	})
	if i < 0 {
		return Power{}, false
	}
	return Powers[i], true
}

// PowerObjectOf returns the power object named name.
func PowerObjectOf(name string) (PowerObject, bool) {
	i := slices.IndexFunc(PowerObjects, func(o PowerObject) bool { return o.Name == name })
	if i < 0 {
		return PowerObject{}, false
	}
	return PowerObjects[i], true
}

// ActionsOf lists the actions of a power object, in the table's order.
func ActionsOf(object string) []string {
	var out []string
	for _, p := range Powers {
		if p.Object == object {
			out = append(out, p.Action)
		}
	}
	return out
}

// ImpliedBy lists the actions on object whose holder also holds action
// (action itself first).
func ImpliedBy(object, action string) []string {
	out := []string{action}
	for _, p := range Powers {
		if p.Object == object && p.Implies == action {
			out = append(out, p.Action)
		}
	}
	return out
}

// validatePower checks a p line on a power object: a known action, the
// condition any, and a role that may hold the object's powers.
func validatePower(o PowerObject, role, act, cond string) error {
	if len(o.Roles) > 0 && !slices.Contains(o.Roles, viewer.Role(role)) {
		return fmt.Errorf("only the %s role may be given %s, not %q: %s", joinRoles(o.Roles), o.Name, role, o.Why)
	}
	if _, ok := PowerOf(o.Name, act); !ok {
		return fmt.Errorf("%s takes %s, not %q", o.Name, strings.Join(ActionsOf(o.Name), ", "), act)
	}
	return expect(act, cond, act, Any)
}

func joinRoles(roles []viewer.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// Consent purposes: a line "p, ROLE, *, consent, purpose, PURPOSE" says
// that ROLE uses victims' data for PURPOSE, which a consent must name
// before the role reads a field that needs consent.
const (
	ConsentObject = "consent"
	PurposeAction = "purpose"
)

// consentCategories are the categories whose reading needs the victim's
// consent unless the law gives a basis without it.
var consentCategories = []string{"IDENTITY", "CONTACT", "HEALTH", "TESTIMONY"}

// ConsentRequired reports whether reading a field of category (e.g.
// "Victim:IDENTITY") under condition cond needs the victim's consent:
// identity, contact, health and testimony of victims and their support
// services, under every condition but proceedings, where the criminal
// proceeding is the legal basis.
func ConsentRequired(category, cond string) bool {
	typ, cat, ok := strings.Cut(category, ":")
	if !ok || (typ != "Victim" && typ != "SupportService") {
		return false
	}
	return cond != Proceedings && slices.Contains(consentCategories, cat)
}

// validatePurpose checks a consent purpose line.
func validatePurpose(kind, act, cond string) error {
	if kind != AnyKind {
		return fmt.Errorf("a role's consent purpose holds at every kind of agency: the kind must be *, not %q", kind)
	}
	if act != PurposeAction {
		return fmt.Errorf("consent takes purpose, not %q", act)
	}
	if !domain.ConsentPurpose(cond).Valid() {
		return fmt.Errorf("unknown consent purpose %q (%s)", cond, strings.Join(domain.ConsentPurpose("").Values(), ", "))
	}
	return nil
}

// purposesCovered reports each valid line that lets a role read a field
// under a condition that needs consent when the policy gives the role no
// consent purpose: no consent could ever open the field to it, which is
// a forgotten purpose line, not a policy.
func purposesCovered(lines []Line, v Vocabulary, valid func(int) bool) []string {
	hasPurpose := map[string]bool{}
	for i, l := range lines {
		if valid(i) && l[0] == PtypeP && l[3] == ConsentObject {
			hasPurpose[l[1]] = true
		}
	}
	var problems []string
	for i, l := range lines {
		if !valid(i) || l[0] != PtypeP || l[4] != Read || hasPurpose[l[1]] {
			continue
		}
		category, isField := v.Fields[l[3]]
		if !isField {
			category = l[3]
		}
		if ConsentRequired(category, l[5]) {
			problems = append(problems, fmt.Sprintf("%q: role %q reads under a consent it has no purpose for: add \"p, %s, *, consent, purpose, PURPOSE\"", l.String(), l[1], l[1]))
		}
	}
	return problems
}

// guardiansKept checks what keeps the policy governable and watched, which
// a change could otherwise remove in one request (a review removed each):
//   - some role holds the power to change the policy and may call
//     changePolicy, or no later change could mend it;
//   - the data protection officer reads and verifies the audit trail at
//     every kind of agency;
//   - while any role may ask for emergency access, the data protection
//     officer reviews and revokes grants at every kind of agency: the
//     break glass keeps its brake (an administrator's change could
//     otherwise leave grants nobody can end before they run out);
//   - the administrator and the data protection officer, who govern and
//     watch, are given no rows and no victim or suspect data to read (an
//     administrator's change could otherwise give the role every victim's
//     shelter location, audited but in one request).
func guardiansKept(lines []Line, v Vocabulary, valid func(int) bool) []string {
	var problems []string
	if !someoneChangesPolicy(lines, valid) {
		problems = append(problems, "no role both holds \"policy, change\" and may call Mutation.changePolicy at one kind of agency: nobody could change the policy again")
	}
	watches := [][2]string{{Audit, Read}, {Audit, Verify}}
	if someoneAsksForEmergency(lines, valid) {
		watches = append(watches, [2]string{Emergency, Review}, [2]string{MutationObject("revokeEmergencyAccess"), Call})
	}
	for _, w := range watches {
		if !dpoHoldsEverywhere(lines, valid, w[0], w[1]) {
			problems = append(problems, fmt.Sprintf("the data protection officer no longer holds \"%s, %s\" at every kind (\"p, dpo, *, %s, %s, any\")", w[0], w[1], w[0], w[1]))
		}
	}
	for i, l := range lines {
		if !valid(i) || l[0] != PtypeP || (l[1] != string(viewer.RoleAdmin) && l[1] != string(viewer.RoleDPO)) {
			continue
		}
		_, isField := v.Fields[l[3]]
		if strings.HasPrefix(l[3], "rows:") || l[4] == Read && (isField || strings.Contains(l[3], ":")) {
			problems = append(problems, fmt.Sprintf("%q: role %q governs or watches, and is given no rows nor victim or suspect data", l.String(), l[1]))
		}
	}
	return problems
}

// dpoHoldsEverywhere reports whether a valid line gives the data
// protection officer act on object at every kind of agency ("p, dpo, *,
// object, act, …").
func dpoHoldsEverywhere(lines []Line, valid func(int) bool, object, act string) bool {
	for i, l := range lines {
		// valid(i) first: an invalid line may be shorter than a policy
		// line (it panicked here).
		if valid(i) && l[0] == PtypeP && l[1] == string(viewer.RoleDPO) && l[2] == AnyKind && l[3] == object && l[4] == act {
			return true
		}
	}
	return false
}

// someoneAsksForEmergency reports whether a valid line lets some role ask
// for emergency access.
func someoneAsksForEmergency(lines []Line, valid func(int) bool) bool {
	for i, l := range lines {
		if valid(i) && l[0] == PtypeP && l[3] == Emergency && l[4] == Request {
			return true
		}
	}
	return false
}

// someoneChangesPolicy reports whether some role, at some kind of agency,
// both holds "policy, change" and may call changePolicy. A request checks
// both at the caller's one kind, so the two held at different kinds (the
// power at courts, the call at ministries) make nobody a changer: a hunt
// over HTTP locked every admin out so.
func someoneChangesPolicy(lines []Line, valid func(int) bool) bool {
	families := map[string][]string{} // family → its kinds
	for i, l := range lines {
		if valid(i) && l[0] == PtypeG2 {
			families[l[2]] = append(families[l[2]], l[1])
		}
	}
	// The kinds at which each role holds the power, and at which it may
	// call the mutation, each line read once: asking every line for each
	// line and kind took 40 ms for a change of 500 lines, checked before
	// what-if waits for a slot (a review's finding, 2026-12-07).
	type roleKind struct{ role, kind string }
	changes, calls := map[roleKind]bool{}, map[roleKind]bool{}
	for i, l := range lines {
		if !valid(i) || l[0] != PtypeP {
			continue
		}
		var held map[roleKind]bool
		switch {
		case l[3] == Policy && l[4] == Change:
			held = changes
		case l[3] == MutationObject("changePolicy") && l[4] == Call:
			held = calls
		default:
			continue
		}
		kinds := families[l[2]]
		if l[2] == AnyKind {
			kinds = domain.AgencyKind("").Values()
		} else if kinds == nil {
			kinds = []string{l[2]}
		}
		for _, kind := range kinds {
			held[roleKind{l[1], kind}] = true
		}
	}
	for held := range changes {
		if calls[held] {
			return true
		}
	}
	return false
}
