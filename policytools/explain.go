package policytools

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/policies"
	"github.com/casegraph/casegraph/rowscope"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/viewer"
)

// Question asks the policy in force what a person holding Roles at an
// agency of Kind may do with one thing: a sensitive Field (Action read, the
// default, or write), a Mutation (by name, "openCase"), or an Object: a
// power (emergency, policy or audit, with its Action) or rows ("rows:cases",
// "rows:victims"; Action see, the default). Exactly one of Field, Mutation
// and Object is set.
type Question struct {
	Roles    []viewer.Role
	Kind     domain.AgencyKind
	Field    string
	Mutation string
	Object   string
	Action   string
}

// Explanation is the policy's answer to a Question, with the lines that
// give it and what the code still checks on the row. It agrees with what a
// request decides because it asks the same functions (Decide, rowLevel,
// the readers of ReadConditions, MayCall, MayUsePower).
type Explanation struct {
	Question Question
	// Object and Action are what the policy was asked: the field,
	// "Mutation.name", the power or the rows, and the action.
	Object string
	Action string
	// Allowed: for a field read, under at least one condition; for rows,
	// at some level.
	Allowed bool
	// Rules are the policy lines that allow it, as RuleString renders them.
	Rules []string
	// Category is the field's category object, e.g. "Victim:IDENTITY".
	Category string
	// Conditions are, for a field read, the answer under each of
	// policies.FieldConditions, in that order: one answer for a condition
	// none of the roles reads under, and one for each role that does, in
	// the roles' order, with that role's line and purposes (a request
	// reads by the first of them whose purposes the victim's consent
	// names, and files the read under its line).
	Conditions []ConditionAnswer
	// Emergency says, for a field read, whether emergency access opens it.
	Emergency *EmergencyAnswer
	// Level is, for rows, the widest level the roles see (rowscope.None:
	// no row).
	Level   rowscope.Level
	Summary string
}

// ConditionAnswer is whether a field may be read under one condition, and,
// when it may, by which role's line (authz.Reader).
type ConditionAnswer struct {
	Condition string
	Allowed   bool
	Role      viewer.Role
	Rule      string
	// ConsentRequired: reading under this condition by Rule also needs a
	// current consent of the victim naming the agency's kind and one of
	// Purposes, the purposes of Role.
	ConsentRequired bool
	Purposes        []domain.ConsentPurpose
	// Checks says what the code checks on the row for this condition.
	Checks string
}

// EmergencyAnswer is whether an emergency grant opens a field.
type EmergencyAnswer struct {
	// Opens: the roles read the field under some condition and one of
	// them may ask for a grant, so a grant opens it whatever the condition
	// and consent say (a grant is honoured only while its holder may ask).
	Opens bool
	// CanRequest: one of the roles may ask for a grant (emergency, request).
	CanRequest bool
	Note       string
}

// Explain answers q from the policy e holds now. An unknown role, kind,
// field, mutation, object or action is a BAD_USER_INPUT *apperr.Error
// naming it.
func Explain(e *authz.Enforcer, q Question) (Explanation, error) {
	if err := checkQuestion(e.Vocabulary(), q); err != nil {
		return Explanation{}, err
	}
	kind := string(q.Kind)
	x := Explanation{Question: q}
	switch {
	case q.Field != "" && (q.Action == "" || q.Action == policies.Read):
		explainRead(e, &x)
	case q.Field != "":
		x.Object, x.Action, x.Category = q.Field, policies.Write, e.Vocabulary().Fields[q.Field]
		explainAllows(e, &x)
		if x.Allowed {
			x.Summary += " A write is always limited to the rows the role sees."
		}
	case q.Mutation != "":
		mutation := strings.TrimPrefix(q.Mutation, "Mutation.")
		x.Object, x.Action = policies.MutationObject(mutation), policies.Call
		explainCall(e, &x, mutation)
		if x.Allowed {
			x.Summary += " Each sensitive field its input sets must also be one the role may write."
		}
	case isRows(q.Object):
		x.Object, x.Action = q.Object, policies.See
		x.Level = e.RowLevel(q.Roles, q.Kind, q.Object)
		x.Allowed = x.Level != rowscope.None
		if x.Allowed {
			x.Rules = rulesFor(e, q.Roles, kind, q.Object, policies.See, x.Level.Name())
		}
		x.Summary = fmt.Sprintf("%s sees %s.", who(q), rowsPhrase(q.Object, x.Level))
	case q.Object == policies.Statistics && q.Action == policies.Threshold:
		explainThreshold(e, &x)
	case q.Object == policies.Statistics && q.Action == policies.Exact:
		explainExact(e, &x)
	case q.Object == policies.ConsentObject:
		explainPurposes(e, &x)
	default:
		x.Object, x.Action = q.Object, q.Action
		if pw, ok := policies.PowerOf(q.Object, q.Action); ok {
			if mutation, ok := pw.NeededBy(); ok {
				explainCall(e, &x, mutation)
				break
			}
		}
		explainAllows(e, &x)
	}
	return x, nil
}

// explainRead answers a field read, condition by condition, as
// Request.decide checks it.
func explainRead(e *authz.Enforcer, x *Explanation) {
	q := x.Question
	x.Object, x.Action, x.Category = q.Field, policies.Read, e.Vocabulary().Fields[q.Field]
	conds := e.ReadConditions(q.Roles, q.Kind, q.Field)
	var allowed []string
	for _, c := range policies.FieldConditions {
		readers := conds[c]
		if len(readers) == 0 {
			x.Conditions = append(x.Conditions, ConditionAnswer{Condition: c, Checks: conditionChecks(c)})
			continue
		}
		for _, rd := range readers {
			a := ConditionAnswer{Condition: c, Allowed: true, Role: rd.Role, Rule: authz.RuleString(rd.Rule),
				ConsentRequired: authz.ConsentRequired(x.Category, c), Purposes: rd.Purposes, Checks: conditionChecks(c)}
			if !slices.Contains(x.Rules, a.Rule) {
				x.Rules = append(x.Rules, a.Rule)
			}
			s := conditionSummary(a, q.Kind)
			if len(readers) > 1 {
				s += " (as " + string(rd.Role) + ")"
			}
			allowed = append(allowed, s)
			x.Conditions = append(x.Conditions, a)
		}
	}
	x.Allowed = len(conds) > 0
	// A grant opens a field only while its holder may still ask for one
	// (Request.decide): explaining a grant given before the power was
	// removed as open said what the server no longer does (a hunt).
	em := &EmergencyAnswer{CanRequest: e.MayRequestEmergency(q.Roles, q.Kind)}
	em.Opens = x.Allowed && em.CanRequest
	switch {
	case !x.Allowed:
		em.Note = "A grant cannot open it: a grant opens only the fields the role reads under some condition."
	case !em.CanRequest:
		em.Note = "A grant cannot open it: a grant opens a field only while one of the roles may ask for emergency access " +
			"(call requestEmergencyAccess, which needs its line and the power emergency request), and none of these may; " +
			"a grant given before that was taken from them opens nothing."
	default:
		em.Note = fmt.Sprintf("A grant opens it whatever the condition and consent say: for at most %d hours, "+
			"for the victims in one case when it was granted and the case's suspects, "+
			"asked with a written justification of at least %d letters or digits. These roles may ask for one.",
			casework.MaxEmergencyHours, casework.MinJustificationLength)
	}
	x.Emergency = em
	if x.Allowed {
		x.Summary = fmt.Sprintf("%s may read %s under the condition %s.", who(q), q.Field, strings.Join(allowed, "; or under the condition "))
	} else {
		x.Summary = fmt.Sprintf("%s may not read %s: no policy line allows it under any condition, and emergency access cannot open it.", who(q), q.Field)
	}
}

// explainThreshold answers "below which count are counts of people
// withheld from these roles": the threshold line that applies, or the
// default, as the statistics of a request apply it (statisticsThreshold,
// the matrix's cell). Allowed means a threshold applies (not to those who
// may not read statistics, nor to those who see exact counts), as in the
// matrix.
func explainThreshold(e *authz.Enforcer, x *Explanation) {
	q := x.Question
	x.Object, x.Action = q.Object, q.Action
	kind := string(q.Kind)
	k := statisticsThreshold(e, q.Roles, q.Kind)
	switch {
	case !e.Allows(q.Roles, q.Kind, policies.Statistics, policies.Read):
		x.Summary = fmt.Sprintf("%s may not read statistics, so no threshold applies.", who(q))
	case k == 0:
		x.Rules = rulesFor(e, q.Roles, kind, policies.Statistics, policies.Exact, policies.Any)
		x.Summary = fmt.Sprintf("%s sees exact statistics of the rows the role sees: no threshold applies, no count is withheld.", who(q))
	default:
		x.Allowed = true
		if x.Rules = rulesFor(e, q.Roles, kind, policies.Statistics, policies.Threshold, strconv.Itoa(k)); len(x.Rules) > 0 {
			x.Summary = fmt.Sprintf("%s reads statistics with counts of people below %d withheld.", who(q), k)
		} else {
			x.Summary = fmt.Sprintf("%s reads statistics with counts of people below %d withheld: no threshold line applies, so the default.",
				who(q), statistics.DefaultThreshold)
		}
		if e.Allows(q.Roles, q.Kind, policies.Statistics, policies.Exact) {
			x.Summary += " A role's exact counts (statistics, exact) cover only the rows that role sees, and these roles together see more."
		}
	}
}

// explainExact answers "do these roles see exact statistics" as the server
// decides it (StatisticsControl, through statisticsThreshold): a role's
// line alone does not say so for several roles, whose exact counts cover
// only that role's rows (a review: explain said a prosecutor-analyst saw
// every count exact where the server withholds those below 10).
func explainExact(e *authz.Enforcer, x *Explanation) {
	q := x.Question
	x.Object, x.Action = q.Object, q.Action
	held := e.Allows(q.Roles, q.Kind, policies.Statistics, policies.Exact)
	if held {
		x.Rules = rulesFor(e, q.Roles, string(q.Kind), policies.Statistics, policies.Exact, policies.Any)
	}
	k := statisticsThreshold(e, q.Roles, q.Kind)
	switch {
	case !e.Allows(q.Roles, q.Kind, policies.Statistics, policies.Read):
		x.Summary = fmt.Sprintf("%s may not read statistics.", who(q))
	case k == 0:
		x.Allowed = true
		x.Summary = fmt.Sprintf("%s sees exact statistics of the rows the role sees: no count is withheld.", who(q))
	case held:
		x.Summary = fmt.Sprintf("%s reads statistics with counts of people below %d withheld: a role's exact counts (statistics, exact) cover only the rows that role sees, and these roles together see more.", who(q), k)
	default:
		x.Summary = fmt.Sprintf("%s reads statistics with counts of people below %d withheld.", who(q), k)
	}
}

// explainPurposes answers "which purposes must a victim's consent name to
// open a field that needs consent to these roles": their purpose lines.
// Allowed means they have one, as in the matrix.
func explainPurposes(e *authz.Enforcer, x *Explanation) {
	q := x.Question
	x.Object, x.Action = policies.ConsentObject, policies.PurposeAction
	var names []string
	for _, pu := range e.Purposes(q.Roles, string(q.Kind)) {
		names = append(names, string(pu))
		x.Rules = append(x.Rules, rulesFor(e, q.Roles, string(q.Kind), policies.ConsentObject, policies.PurposeAction, string(pu))...)
	}
	x.Allowed = len(names) > 0
	if x.Allowed {
		x.Summary = fmt.Sprintf("%s reads a field that needs consent only with a consent naming %s.", who(q), strings.Join(names, " or "))
	} else {
		x.Summary = fmt.Sprintf("%s has no consent purpose: no consent opens a field that needs one.", who(q))
	}
}

// explainCall answers a call of mutation (x asks the call, or the power
// the call needs) as the mutation guard decides it (MayCall): the call
// line and, for a mutation that needs one, the power (policies.PowerNeededBy),
// each held by one of the roles. Explain answered from one of the two and
// said a role whose power was removed may still call requestEmergencyAccess,
// where the server refused it (a hunt).
func explainCall(e *authz.Enforcer, x *Explanation, mutation string) {
	q := x.Question
	kind := string(q.Kind)
	x.Allowed = e.MayCall(q.Roles, q.Kind, mutation)
	callLines := rulesFor(e, q.Roles, kind, policies.MutationObject(mutation), policies.Call, policies.Any)
	pw, needsPower := policies.PowerNeededBy(mutation)
	var powerLines []string
	if needsPower {
		powerLines = rulesFor(e, q.Roles, kind, pw.Object, pw.Action, policies.Any)
	}
	askedPower := x.Object != policies.MutationObject(mutation)
	phrase := actionPhrase(x.Object, x.Action)
	switch {
	case x.Allowed:
		x.Rules = slices.Concat(callLines, powerLines)
		x.Summary = fmt.Sprintf("%s may %s.", who(q), phrase)
	case askedPower && len(powerLines) == 0 || !askedPower && len(callLines) == 0:
		x.Summary = fmt.Sprintf("%s may not %s: no policy line allows it.", who(q), phrase)
	case askedPower:
		x.Summary = fmt.Sprintf("%s may not %s: one of the roles holds the power (%s, %s), but it is used only through %s, which no policy line lets them call.",
			who(q), phrase, pw.Object, pw.Action, mutation)
	default:
		x.Summary = fmt.Sprintf("%s may not %s: a policy line lets them call it, but it also needs the power to %s (%s, %s), which no line gives them.",
			who(q), phrase, pw.Does, pw.Object, pw.Action)
	}
}

// explainAllows answers a question without condition (a field write, a
// power no mutation needs), as allows and MayUsePower do.
func explainAllows(e *authz.Enforcer, x *Explanation) {
	q := x.Question
	acts := []string{x.Action}
	if _, power := policies.PowerOf(x.Object, x.Action); power {
		// A power is held through another that implies it, too.
		x.Allowed, acts = e.MayUsePower(q.Roles, q.Kind, x.Object, x.Action), policies.ImpliedBy(x.Object, x.Action)
	} else {
		x.Allowed = e.Allows(q.Roles, q.Kind, x.Object, x.Action)
	}
	for _, act := range acts {
		x.Rules = append(x.Rules, rulesFor(e, q.Roles, string(q.Kind), x.Object, act, policies.Any)...)
	}
	verb := "may"
	if !x.Allowed {
		verb = "may not"
	}
	x.Summary = fmt.Sprintf("%s %s %s.", who(x.Question), verb, actionPhrase(x.Object, x.Action))
	if !x.Allowed {
		x.Summary = strings.TrimSuffix(x.Summary, ".") + ": no policy line allows it."
	}
}

// rulesFor lists the distinct lines that allow any of roles to act.
func rulesFor(e *authz.Enforcer, roles []viewer.Role, kind, obj, act, cond string) []string {
	var out []string
	for _, r := range roles {
		if d := e.Decide(r, kind, obj, act, cond); d.Allowed && !slices.Contains(out, authz.RuleString(d.Rule)) {
			out = append(out, authz.RuleString(d.Rule))
		}
	}
	return out
}

func checkQuestion(vocab policies.Vocabulary, q Question) error {
	if len(q.Roles) == 0 {
		return apperr.InvalidField("role", "Name at least one role.")
	}
	for i, r := range q.Roles {
		if !r.Valid() {
			return apperr.InvalidField("role", "Unknown role %q (known: %s).", r, joinRoles(viewer.Roles))
		}
		// Each role once: 72,000 roles in one question (the eight
		// repeated) cost a second of CPU and 175 MB for one answer.
		if slices.Contains(q.Roles[:i], r) {
			return apperr.InvalidField("role", "The role %q is named twice; name each role once.", r)
		}
	}
	if !q.Kind.Valid() {
		// The kinds there are, as the role's refusal lists the roles: the
		// command line's --kind takes any word (--kind COURT was answered
		// with no hint of COURT_FIRST_INSTANCE).
		kinds := domain.All[domain.AgencyKind]()
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		return apperr.InvalidField("kind", "Unknown agency kind %q (known: %s).", q.Kind, strings.Join(names, ", "))
	}
	asked := 0
	for _, s := range []string{q.Field, q.Mutation, q.Object} {
		if s != "" {
			asked++
		}
	}
	if asked != 1 {
		return apperr.InvalidField("field", "Ask about exactly one field, mutation or object.")
	}
	switch {
	case q.Field != "":
		if _, ok := vocab.Fields[q.Field]; !ok {
			if slices.Contains(vocab.Categories(), q.Field) {
				return apperr.InvalidField("field", "%q is a category; ask about one of its fields: %s.", q.Field, strings.Join(fieldsIn(vocab.Fields, q.Field), ", "))
			}
			return apperr.InvalidField("field", "%q is not a sensitive field.", q.Field)
		}
		if q.Action != "" && q.Action != policies.Read && q.Action != policies.Write {
			return apperr.InvalidField("action", "A field takes read or write, not %q.", q.Action)
		}
	case q.Mutation != "":
		if !slices.Contains(vocab.Mutations, strings.TrimPrefix(q.Mutation, "Mutation.")) {
			return apperr.InvalidField("mutation", "Unknown mutation %q.", q.Mutation)
		}
		if q.Action != "" && q.Action != policies.Call {
			return apperr.InvalidField("action", "A mutation takes call, not %q.", q.Action)
		}
	case isRows(q.Object):
		if q.Action != "" && q.Action != policies.See {
			return apperr.InvalidField("action", "Rows take see, not %q.", q.Action)
		}
	default:
		actions := policies.ActionsOf(q.Object)
		switch q.Object {
		case policies.Statistics:
			actions = append(actions, policies.Threshold) // a value, not a power: explainThreshold
		case policies.ConsentObject:
			actions = []string{policies.PurposeAction} // values, not a power: explainPurposes
		}
		if len(actions) == 0 {
			return apperr.InvalidField("object", "Unknown object %q (rows:cases, rows:victims, emergency, policy or audit; or ask about a field or mutation).", q.Object)
		}
		if !slices.Contains(actions, q.Action) {
			return apperr.InvalidField("action", "%s takes %s, not %q.", q.Object, strings.Join(actions, ", "), q.Action)
		}
	}
	return nil
}

func isRows(obj string) bool { return obj == policies.RowsCases || obj == policies.RowsVictims }

// fieldsIn lists, by name, the fields that fields (field → category)
// puts in category.
func fieldsIn(fields map[string]string, category string) []string {
	var out []string
	for f, c := range fields {
		if c == category {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func joinRoles(roles []viewer.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// who names the asker: "case_worker at NGO_SHELTER", "dpo and admin at
// HIGH_COURT".
func who(q Question) string {
	names := strings.Split(joinRoles(q.Roles), ", ")
	if n := len(names); n > 1 {
		names = append(names[:n-2], names[n-2]+" and "+names[n-1])
	}
	return strings.Join(names, ", ") + " at " + string(q.Kind)
}

// conditionChecks says what facts.holds checks on the row for c.
func conditionChecks(c string) string {
	switch c {
	case policies.Any:
		return "Nothing is checked on the row: every row the role sees qualifies."
	case policies.Proceedings:
		return "The agency prosecutes or adjudicates a case of the victim (assigned to it as PROSECUTING or ADJUDICATING, " +
			"the office of one of its prosecutions, or the court of a decision in one); for a suspect, the suspect's case."
	case policies.OnCase:
		return "The victim is in a case the agency leads, is assigned to or prosecutes; for a suspect, the suspect's case."
	case policies.Referred:
		return "Another agency referred the victim to this one and it accepted or completed the referral " +
			"(support the agency records itself does not count); never a suspect."
	}
	return ""
}

// conditionSummary is one allowed condition in a summary: "referred, with
// the victim's consent for NGO_SHELTER and SERVICES".
func conditionSummary(a ConditionAnswer, kind domain.AgencyKind) string {
	s := a.Condition
	if a.ConsentRequired {
		s += ", with " + consentPhrase(a.Purposes, kind)
	}
	return s
}

func consentPhrase(purposes []domain.ConsentPurpose, kind domain.AgencyKind) string {
	if len(purposes) == 0 {
		return "a consent of the victim, which no consent can give: the role has no purpose a consent names"
	}
	names := make([]string, len(purposes))
	for i, p := range purposes {
		names[i] = string(p)
	}
	return fmt.Sprintf("a current consent of the victim naming %s and the purpose %s", kind, strings.Join(names, " or "))
}

// rowsPhrase says which rows a level shows, as the matrix's note does.
func rowsPhrase(obj string, l rowscope.Level) string {
	what := "cases"
	if obj == policies.RowsVictims {
		what = "victims"
	}
	switch l {
	case rowscope.All:
		return "every one of the " + what + " in the country (all)"
	case rowscope.Region:
		return "the " + what + " of the agency's region and those it works on (region; an agency without a region: only those it works on)"
	case rowscope.Assigned:
		if what == "victims" {
			return "the victims in cases the agency leads, is assigned to or prosecutes, referred to or by it, or supported by it (assigned)"
		}
		return "the cases the agency leads, is assigned to or prosecutes (assigned)"
	}
	return "no " + what + " at all"
}

// actionPhrase says what a condition-free question asks.
func actionPhrase(obj, act string) string {
	switch {
	case strings.HasPrefix(obj, "Mutation."):
		return "call " + strings.TrimPrefix(obj, "Mutation.")
	case act == policies.Write:
		return "write " + obj
	}
	if pw, ok := policies.PowerOf(obj, act); ok {
		return pw.Does
	}
	return act + " " + obj
}

// Text renders x for people, as the command line prints it.
func (x Explanation) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Question: may %s %s %s", who(x.Question), x.Action, x.Object)
	if x.Category != "" {
		fmt.Fprintf(&b, " (category %s)", x.Category)
	}
	b.WriteString("?")
	answer := "denied"
	if x.Allowed {
		answer = "allowed"
	}
	fmt.Fprintf(&b, "\nAnswer:   %s\n\n%s\n", answer, x.Summary)
	if x.Conditions != nil {
		b.WriteString("\nUnder each condition:\n")
		for i, c := range x.Conditions {
			if c.Allowed {
				fmt.Fprintf(&b, "  %-12s allowed by %s\n", c.Condition, c.Rule)
			} else {
				fmt.Fprintf(&b, "  %-12s denied\n", c.Condition)
			}
			// Said once a condition, before its first role's line.
			if i == 0 || x.Conditions[i-1].Condition != c.Condition {
				fmt.Fprintf(&b, "  %-12s %s\n", "", c.Checks)
			}
			switch {
			case c.Allowed && c.ConsentRequired:
				fmt.Fprintf(&b, "  %-12s Consent: also needs %s.\n", "", consentPhrase(c.Purposes, x.Question.Kind))
			case c.Allowed && c.Condition == policies.Proceedings && authz.ConsentRequired(x.Category, policies.Any):
				fmt.Fprintf(&b, "  %-12s Consent: not needed; the criminal proceeding is the legal basis.\n", "")
			}
		}
	}
	if x.Emergency != nil {
		fmt.Fprintf(&b, "\nEmergency access: %s\n", x.Emergency.Note)
	}
	b.WriteString("\nPolicy lines that allow it:\n")
	if len(x.Rules) == 0 {
		b.WriteString("  none (the policy denies what no line allows)\n")
	}
	for _, r := range x.Rules {
		fmt.Fprintf(&b, "  %s\n", r)
	}
	return b.String()
}
