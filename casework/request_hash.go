package casework

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	entgo "entgo.io/ent"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/schema"
)

// requestHashes is what an idempotency record keeps of a request (hash),
// and the hashes records written under earlier rules keep (older), which a
// retry of one of those still matches:
//
//   - hash (since 2026-12-06): the SHA-256 of the request's canonical form
//     (omittedAsOmitted): every value that means what leaving it out means
//     is left out, so that a retry spelling out a default the first request
//     left out (foreignNational: false, formsOfExploitation: [], caseIDs:
//     [], a null) is the same request, and every list of values is in
//     order (inOrder), so that a retry naming the same set in another order
//     is too;
//   - older[0] (2026-12-05 to 2026-12-06): the input as JSON with its
//     lists in order, nulls and defaults as sent;
//   - older[1] (before 2026-12-05): the input as JSON as it was.
//
// A record written under an older rule matches a retry sent exactly as its
// first request was (in any order of its lists, since 2026-12-05), not one
// that spells out a default the first left out: its hash cannot be
// recomputed in the new form.
func requestHashes(input any) (hash string, older [2]string, err error) {
	canonical, err := omittedAsOmitted(input)
	if err != nil {
		return "", older, err
	}
	if hash, err = orderedHash(canonical); err != nil {
		return "", older, err
	}
	if older[0], err = orderedHash(input); err != nil {
		return "", older, err
	}
	buf, err := json.Marshal(input)
	if err != nil {
		return "", older, err
	}
	sum := sha256.Sum256(buf)
	older[1] = hex.EncodeToString(sum[:])
	return hash, older, nil
}

// orderedHash is the SHA-256 of v as JSON with every list of values in
// order (inOrder).
func orderedHash(v any) (string, error) {
	buf, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var decoded any
	d := json.NewDecoder(bytes.NewReader(buf))
	d.UseNumber() // numbers as written: ids beyond 2^53 stay exact
	if err := d.Decode(&decoded); err != nil {
		return "", err
	}
	if buf, err = json.Marshal(inOrder(decoded)); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), nil
}

// inOrder sorts, in place, every list of scalars within a decoded JSON
// value (an object's keys are written in order by encoding/json already).
func inOrder(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = inOrder(x)
		}
	case []any:
		scalars := true
		for i, x := range v {
			v[i] = inOrder(x)
			switch x.(type) {
			case map[string]any, []any:
				scalars = false
			}
		}
		if scalars {
			slices.SortFunc(v, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		}
	}
	return v
}

// omittedAsOmitted is input (a struct, as casework keys a create on it) as
// a JSON-ready tree of maps, less every field whose value stores what
// leaving the field out stores. The rule is read from the input's own
// meaning, not from a list of fields, so that a field added later follows
// it:
//
//   - null (a nil pointer, list or map) is omission: the GraphQL layer gives
//     casework nil for both.
//   - A value equal to the static default of the ent field it sets is
//     omission: ent stores that default when the field is left out
//     (foreignNational: false, a case's or victim's formsOfExploitation: [],
//     a decision's compensationPaid: false). The default is read from the
//     same descriptor ent's runtime takes it from (entDefaults). A default
//     made by a function (a case's openedAt: now) is never equal to a value
//     sent: "now" at the retry is not the first request's time.
//   - An empty list that sets no ent field (defendantIDs, registerVictim's
//     caseIDs) names the records to link: none is what omission links.
//   - Anything else is a value, even the zero of its type: an exact age of
//     0 is not an unknown age, compensation of 0 lek ordered is not none
//     ordered, an empty string is refused, and an empty list for an ent
//     field without a default stores [] where omission stores nothing.
//
// An input struct sets the ent fields of the entity its Mutate method
// takes the mutation of (ent's CreateXInput.Mutate(*XMutation)); a struct
// without one (registerVictim's input and caseIDs, an emergency request)
// sets none.
func omittedAsOmitted(input any) (any, error) {
	return canonical(reflect.ValueOf(input))
}

func canonical(v reflect.Value) (any, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	if marshals(v.Type()) {
		return v.Interface(), nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return canonicalStruct(v)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil, nil
		}
		list := make([]any, v.Len())
		for i := range list {
			x, err := canonical(v.Index(i))
			if err != nil {
				return nil, err
			}
			list[i] = x
		}
		return list, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := canonical(it.Value())
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(it.Key().Interface())] = x
		}
		return m, nil
	}
	return v.Interface(), nil
}

func canonicalStruct(v reflect.Value) (any, error) {
	fields, err := entFieldsSetBy(v.Type())
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for i := range v.NumField() {
		sf := v.Type().Field(i)
		name, skip := jsonName(sf)
		if skip {
			continue
		}
		f := v.Field(i)
		if nullable(f) && f.IsNil() {
			continue
		}
		d, isEntField := fields[fold(sf.Name)]
		switch {
		case isEntField && d.static:
			same, err := sameJSON(f.Interface(), d.value)
			if err != nil {
				return nil, err
			}
			if same {
				continue
			}
		case !isEntField && f.Kind() == reflect.Slice && f.Len() == 0:
			continue
		}
		x, err := canonical(f)
		if err != nil {
			return nil, err
		}
		out[name] = x
	}
	return out, nil
}

// marshals tells whether t writes itself as JSON (time.Time): it is a
// value, whose fields are not the input's.
func marshals(t reflect.Type) bool {
	for _, t := range []reflect.Type{t, reflect.PointerTo(t)} {
		if t.Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
			return true
		}
	}
	return false
}

func nullable(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return true
	}
	return false
}

// jsonName is the name encoding/json gives the field, and whether it
// leaves the field out.
func jsonName(sf reflect.StructField) (string, bool) {
	if !sf.IsExported() {
		return "", true
	}
	tag, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
	switch tag {
	case "-":
		return "", true
	case "":
		return sf.Name, false
	}
	return tag, false
}

func sameJSON(a, b any) (bool, error) {
	x, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	y, err := json.Marshal(b)
	return bytes.Equal(x, y), err
}

// fold is a field's name as both spellings reduce to it: the ent field
// foreign_national and the input's ForeignNational are foreignnational.
func fold(name string) string { return strings.ToLower(strings.ReplaceAll(name, "_", "")) }

// entDefault is what an ent field stores when left out: static when it is
// a value (not made by a function).
type entDefault struct {
	static bool
	value  any
}

// entSchemas are the ent schemas, by entity name, whose defaults an input
// may set. A create input of an entity missing here is an error
// (TestEntSchemasAreAll lists the schemas entc loads).
var entSchemas = []entgo.Interface{
	schema.Agency{}, schema.AuditEvent{}, schema.CaseAssignment{}, schema.CaseEvent{},
	schema.CaseFile{}, schema.CaseVictim{}, schema.Charge{}, schema.Consent{},
	schema.CourtDecision{}, schema.EmergencyGrant{}, schema.IdempotencyRecord{},
	schema.PolicyChange{}, schema.PolicyRule{}, schema.Prosecution{},
	schema.ProsecutionDefendant{}, schema.Referral{}, schema.SupportService{},
	schema.Suspect{}, schema.Victim{},
}

var (
	entFieldsOnce sync.Once
	entFields     map[string]map[string]entDefault // entity → folded field name → default
)

// entFieldsSetBy is the ent fields, with their defaults, that an input of
// type t sets: those of the entity its Mutate method takes the mutation
// of, none when it has none.
func entFieldsSetBy(t reflect.Type) (map[string]entDefault, error) {
	m, ok := reflect.PointerTo(t).MethodByName("Mutate")
	if !ok || m.Type.NumIn() != 2 {
		return nil, nil
	}
	mutation := m.Type.In(1)
	if mutation.Kind() != reflect.Pointer || !mutation.Implements(reflect.TypeFor[ent.Mutation]()) {
		return nil, nil
	}
	entFieldsOnce.Do(func() {
		entFields = map[string]map[string]entDefault{}
		for _, s := range entSchemas {
			fields := s.Fields()
			for _, mx := range s.Mixin() {
				fields = append(fields, mx.Fields()...)
			}
			byName := map[string]entDefault{}
			for _, f := range fields {
				d := f.Descriptor()
				byName[fold(d.Name)] = entDefault{
					static: d.Default != nil && reflect.TypeOf(d.Default).Kind() != reflect.Func,
					value:  d.Default,
				}
			}
			entFields[reflect.TypeOf(s).Name()] = byName
		}
	})
	entity := strings.TrimSuffix(mutation.Elem().Name(), "Mutation")
	fields, ok := entFields[entity]
	if !ok {
		return nil, fmt.Errorf("casework: %s sets fields of %s, which is not among casework's ent schemas (entSchemas)", t, entity)
	}
	return fields, nil
}
