package input_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/input"
)

// fieldCase is one value of one input field and whether it is accepted.
type fieldCase struct {
	name, field, value string
	ok                 bool
}

// checkEach runs check on each case as a subtest: an accepted value gives
// no error, a refused one BAD_USER_INPUT on input.<field>.
func checkEach(t *testing.T, cases []fieldCase, check func(path, field, value string) error) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := check("input."+tt.field, tt.field, tt.value)
			if tt.ok {
				if err != nil {
					t.Fatalf("%q refused: %v", tt.value, err)
				}
				return
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != "input."+tt.field {
				t.Fatalf("%q: err = %v, want BAD_USER_INPUT on input.%s", tt.value, err, tt.field)
			}
		})
	}
}

func TestCheckText(t *testing.T) {
	checkEach(t, []fieldCase{
		{"plain", "title", "Forced labour, Tiranë", true},
		{"right-to-left letters", "title", "عمل قسري", true},
		{"directional mark", "title", "abc\u200fdef", true},
		{"line feed in one line", "title", "a\nb", false},
		{"line feed in notes", "notes", "a\nb", true},
		{"tab in notes", "notes", "a\tb", true},
		{"CRLF in notes", "notes", "a\r\nb", true},
		{"lone CR in notes", "notes", "a\rb", false},
		{"CR at the end of notes", "notes", "a\r", false},
		{"vertical tab in notes", "notes", "a\vb", false},
		{"NUL", "title", "a\x00b", false},
		{"invalid UTF-8", "title", "a\xffb", false},
		{"replacement character", "title", "a\uFFFDb", false},
		{"C1 control", "title", "a\u009bb", false},
		{"LRO", "title", "a\u202db", false},
		{"RLI", "title", "a\u2067b", false},
		{"PDI", "title", "a\u2069b", false},
		{"zero-width space in a reference", "reference", "E-\u200b1", false},
		{"byte order mark in a name", "legalName", "\ufeffAna", false},
		{"zero-width joiner (emoji, scripts)", "title", "a\u200db", true},
		{"zero-width space in notes", "notes", "a\u200bb", true},
		// Keys (references, registration numbers, pseudonyms, codes) have
		// one spelling: no invisible character at all, no space but the
		// plain one, NFC, nothing around them (a hunt opened a second case
		// with a soft hyphen in its reference, a review with a joiner).
		{"soft hyphen in a reference", "reference", "H5-SHY-\u00ad1", false},
		{"invisible times in a reference", "reference", "H5-SHY-\u20621", false},
		{"zero-width joiner in a reference", "reference", "H5-\u200d1", false},
		{"directional mark in a registration number", "registrationNumber", "PR-\u200e1", false},
		{"no-break space in a pseudonym", "pseudonym", "S-1\u00a02", false},
		{"Hangul filler in a reference", "reference", "H5-\u31641", false},
		{"plain space in a reference", "reference", "TIR 2024 1", true},
		{"reference in NFC", "reference", "H5-\u00c9-1", true},
		{"reference in NFD", "reference", "H5-E\u0301-1", false},
		{"reference with a trailing space", "reference", "H5-IDEM-3 ", false},
		{"registration number with a leading no-break space", "registrationNumber", "\u00a0PR-1", false},
		{"variation selector in a reference", "reference", "H5-\u27640\ufe0f", false},
		// The same invisible characters as in a written reason
		// (CheckWritten): every default-ignorable one and the blank Braille
		// pattern (a hunt opened second cases with each), and a
		// noncharacter, which Unicode keeps from ever being text.
		{"Khmer inherent vowel in a reference", "reference", "H5-1\u17b4", false},
		{"Khmer inherent vowel in a registration number", "registrationNumber", "PR-1\u17b5", false},
		{"unassigned default-ignorable in a reference", "reference", "H5-1\u2065", false},
		{"blank Braille pattern in a pseudonym", "pseudonym", "V-2026-0001\u2800", false},
		{"noncharacter in a registration number", "registrationNumber", "PR-1\ufdd0", false},
		{"noncharacter U+FDEF in a reference", "reference", "H5-1\ufdef", false},
		{"noncharacter U+FFFE in a reference", "reference", "H5-1\ufffe", false},
		{"noncharacter U+FFFF in a pseudonym", "pseudonym", "S-1\uffff", false},
		{"noncharacter U+1FFFE in a reference", "reference", "H5-1\U0001FFFE", false},
		{"noncharacter U+10FFFF in a code", "code", "x\U0010FFFF", false},
		// A character Unicode assigned after Go's tables (Unicode 15.0)
		// cannot be told from an unassigned code point, and is taken (a
		// review had these refused as unassigned): an Emoji 16.0 face,
		// a Todhri letter (Unicode 16.0), a CJK ideograph of Extension I
		// (15.1), and so U+0378, unassigned as yet.
		{"Emoji 16.0 in a pseudonym", "pseudonym", "S-1-\U0001FAE9", true},
		{"Todhri letter in a pseudonym", "pseudonym", "S-1-\U000105C0", true},
		{"CJK Extension I in a reference", "reference", "H5-\U0002EBF0", true},
		{"code point Go does not know in a reference", "reference", "H5-1\u0378", true},
		{"private use in a reference", "reference", "H5-1\ue000", true},
		{"Braille letters in a reference", "reference", "H5-\u2801\u2803", true},
		{"Khmer letters in a reference", "reference", "H5-\u1780\u17b6", true},
		// Other one-line text is text: what scripts, emoji and pasted names
		// hold stays (a review: the Arabic letter mark, tag flags).
		{"title in NFD", "title", "E\u0301", true},
		{"title with a trailing space", "title", "Forced labour ", true},
		{"soft hyphen in a name", "legalName", "Ana\u00adMaria", true},
		{"Arabic letter mark in a title", "title", "\u061cعمل", true},
		{"emoji tag flag in a title", "title", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", true},
		{"variation selector in a title (emoji)", "title", "\u2764\ufe0f", true},
		{"empty", "title", "", false},
		{"spaces only", "notes", " \n\t ", false},
		// Lengths count characters, not bytes: ë is two bytes.
		{"longest line", "title", strings.Repeat("ë", input.MaxLine), true},
		{"line too long", "pseudonym", "V-2026-" + strings.Repeat("7", input.MaxLine), false},
		{"longest notes", "notes", strings.Repeat("ë\n", input.MaxText/2), true},
		{"notes too long", "healthNotes", strings.Repeat("a", input.MaxText+1), false},
	}, input.CheckText)
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	checkEach(t, []fieldCase{
		{"happened, past", "openedAt", "2026-05-01T09:00:00Z", true},
		{"happened, with offset and fraction", "openedAt", "2026-05-01T09:00:00.123+02:00", true},
		{"happened, letters in lower case (RFC 3339, 5.6)", "openedAt", "2026-05-01t09:00:00z", true},
		{"another letter in lower case", "openedAt", "2026-05-01x09:00:00z", false},
		{"happened, first allowed instant", "openedAt", "1900-01-01T00:00:00Z", true},
		{"happened, before 1900", "openedAt", "1899-12-31T23:59:59Z", false},
		{"happened, within a day ahead", "openedAt", "2026-06-02T11:59:59Z", true},
		{"happened, over a day ahead", "openedAt", "2026-06-02T12:00:01Z", false},
		{"planned, nine years ahead", "investigationDeadline", "2035-06-01T00:00:00Z", true},
		{"planned, eleven years ahead", "investigationDeadline", "2037-06-01T00:00:00Z", false},
		{"year 9999", "until", "9999-12-31T00:00:00Z", false},
		{"date only", "openedAt", "2026-05-01", false},
		{"no zone", "openedAt", "2026-05-01T09:00:00", false},
		{"space instead of T", "openedAt", "2026-05-01 09:00:00", false},
		// RFC 3339's offsets run to 23:59 either way; Go read +24:00.
		{"offset of 23:59", "openedAt", "2026-05-01T09:00:00+23:59", true},
		{"offset of 24 hours", "openedAt", "2026-05-01T09:00:00+24:00", false},
		{"offset of minus 24 hours", "openedAt", "2026-05-01T09:00:00-24:00", false},
	}, func(path, field, value string) error {
		_, err := input.ParseTime(path, field, value, now)
		return err
	})
}

// TestCheckTimeSaysWhy: a refused time is told the reason of its own side
// (a time before 1900 was told it "cannot lie in the future"), and ten
// years ahead are counted in the calendar (3,650 days fell short).
func TestCheckTimeSaysWhy(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, field string
		at          time.Time
		says        string // "" = accepted
	}{
		{"before 1900", "openedAt", time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), "before 1900"},
		{"tomorrow and more", "openedAt", now.Add(48 * time.Hour), "cannot lie in the future"},
		{"planned, ten years to the day", "investigationDeadline", now.AddDate(10, 0, 0), ""},
		{"planned, past ten years", "investigationDeadline", now.AddDate(10, 0, 1), "and 2036-12-06T12:00:00Z: a planned time may lie at most 10 years ahead"},
	} {
		err := input.CheckTime(tc.field, tc.field, tc.at, now)
		switch {
		case tc.says == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.says)
		}
	}
}

// TestUnmarshalInt: an Int is a number, whole, within 32 bits for Go's
// int and 64 for an amount; a string of digits is not one (gqlgen's own
// read it as the number).
func TestUnmarshalInt(t *testing.T) {
	for _, tt := range []struct {
		value   any
		int, ok bool // read as an int; read as an int64
	}{
		{json.Number("3"), true, true},
		{json.Number("3.0"), true, true}, // JSON does not tell 3.0 from 3
		{json.Number("-2147483648"), true, true},
		{json.Number("2147483647"), true, true},
		{json.Number("2147483648"), false, true},
		{json.Number("-2147483649"), false, true},
		{json.Number("9223372036854775807"), false, true},
		{json.Number("9223372036854775808"), false, false},
		{json.Number("3.5"), false, false},
		{json.Number("1e3"), true, true},
		{int64(5_000_000_000), false, true}, // a literal in the document
		{int64(7), true, true},
		{"3", false, false},
		{"x", false, false},
		{true, false, false},
		{nil, false, false},
		{3.0, false, false}, // never a float64: variables are read with UseNumber
	} {
		_, errInt := input.UnmarshalInt(tt.value)
		_, errInt64 := input.UnmarshalInt64(tt.value)
		for _, c := range []struct {
			name string
			err  error
			want bool
		}{{"UnmarshalInt", errInt, tt.int}, {"UnmarshalInt64", errInt64, tt.ok}} {
			if c.want != (c.err == nil) {
				t.Errorf("%s(%T %v): err = %v, want accepted %v", c.name, tt.value, tt.value, c.err, c.want)
			}
			if c.err != nil && !apperr.HasCode(c.err, apperr.BadUserInput) {
				t.Errorf("%s(%T %v): err = %v, want BAD_USER_INPUT", c.name, tt.value, tt.value, c.err)
			}
		}
	}
}

// TestCheckWritten: a written reason is refused when it has too few
// letters or digits or hides text in characters that show nothing; an
// emoji's one variation selector, as phone keyboards type it, is no such
// character.
func TestCheckWritten(t *testing.T) {
	const sentence = "Victim in danger need contact now"
	for _, tt := range []struct {
		name, s string
		ok      bool
	}{
		{"a sentence", sentence, true},
		{"an emoji with its variation selector", "Danger \u26a0\ufe0f " + sentence, true},
		{"too few letters", "Danger!!!", false},
		{"punctuation alone", strings.Repeat(".", 40), false},
		{"zero-width spaces", sentence + strings.Repeat("\u200b", 3), false},
		{"a run of variation selectors", "Victim" + strings.Repeat("\ufe0f", 300) + " in danger need contact now", false},
		{"a variation selector after a space", "Victim \ufe00in danger need contact now", false},
		{"a supplementary variation selector run", "Victim" + strings.Repeat("\U000e0100", 2) + " in danger need contact now", false},
		{"Khmer invisible vowels", "Victim\u17b4\u17b5 in danger need contact now", false},
		{"a Hangul filler", "Victim\u3164 in danger need contact now", false},
		{"a blank Braille pattern", "Victim\u2800 in danger need contact now", false},
		{"the combining grapheme joiner", "Victim\u034f in danger need contact now", false},
		{"an unassigned default-ignorable", "Victim\u2065 in danger need contact now", false},
		{"Mongolian free variation selector after a letter", "Victim\u180b in danger need contact now", true},
	} {
		err := input.CheckWritten("justification", "A justification", tt.s, 20)
		if tt.ok != (err == nil) {
			t.Errorf("%s: err = %v, want accepted %v", tt.name, err, tt.ok)
		}
		if err != nil && !apperr.HasCode(err, apperr.BadUserInput) {
			t.Errorf("%s: err = %v, want BAD_USER_INPUT", tt.name, err)
		}
	}
}

// TestUnmarshalTimeLowerCaseLetters: a Time argument with RFC 3339's letters
// in lower case is the same instant (it was refused).
func TestUnmarshalTimeLowerCaseLetters(t *testing.T) {
	got, err := input.UnmarshalTime("2026-01-01t10:30:00+01:00")
	if want := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("UnmarshalTime: %v, %v; want %v", got, err, want)
	}
	if got, err := input.UnmarshalTime("2026-01-01t09:30:00z"); err != nil || !got.Equal(time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("UnmarshalTime with z: %v, %v", got, err)
	}
	// The scalar, which reads compared times too, holds the offset to
	// RFC 3339's range.
	if _, err := input.UnmarshalTime("2026-01-01T09:30:00+24:00"); !apperr.HasCode(err, apperr.BadUserInput) {
		t.Errorf("UnmarshalTime with +24:00: %v, want BAD_USER_INPUT", err)
	}
}
