// Package input holds the rules every string and time a client sends must
// meet before CaseGraph stores it, whatever the field: text that displays
// and searches the same on SQLite and PostgreSQL, in a terminal, a browser
// and a printed report, and dates a person could mean.
//
// A string is refused when it
//   - is not valid UTF-8, or holds U+FFFD, the replacement character that
//     invalid UTF-8 and lone UTF-16 surrogates ("\ud800") become when a
//     JSON request is decoded: the client's text was already lost on the way;
//   - holds NUL or another control character (C0, DEL, C1). Multi-line
//     fields (free-text notes, an address, a justification; see [Multiline])
//     take line feeds, tabs and a carriage return that starts a CRLF line
//     break, nothing else;
//   - holds a bidirectional override or isolate (U+202A–U+202E,
//     U+2066–U+2069), which make a stored reference or name display
//     differently from what it is ("Trojan Source"), or, in one line, a
//     zero-width space, word joiner or byte order mark, which make two
//     that look alike differ; a key ([Identifiers]) holds no invisible
//     character at all (the same ones a written reason may not hold,
//     [CheckWritten]), no noncharacter, no space but the plain one and
//     none around it, and is in Unicode's composed form (NFC), since keys
//     are compared byte for byte;
//   - is empty or only white space: a name, title or note that says
//     nothing is a mistake, and clearing a field has its own clearX flag;
//   - is longer than MaxLine characters (one line) or MaxText (free text of
//     several lines): every string is read whole wherever it is listed,
//     so its length is what a page of records costs in memory (a field
//     may set a shorter limit of its own in ent/schema).
//
// A time is refused when it is not RFC 3339 (2026-03-01T09:30:00Z), or lies
// outside [Earliest, now + 1 day] for something that happened (a case was
// opened, a decision taken, a person born: one day of leeway for clocks and
// time zones), or outside [Earliest, now + 10 years] for something planned
// (a deadline, the end of a support service; see [Planned]).
//
// The rules are written once here; graph applies them to every string and
// time argument of every mutation, walking the arguments by their GraphQL
// types, so a new field or mutation is covered without anyone remembering
// to (docs/input.md).
package input

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/casegraph/casegraph/apperr"
)

// Earliest is the earliest time any input may name: nothing CaseGraph
// records (a case, a decision, a birth of a living person) is older.
var Earliest = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)

// Leeway is how far in the future a time of something that happened may
// lie: clocks and time zones of the clients differ.
const Leeway = 24 * time.Hour

// PlannedYears is how many years ahead a planned time may lie: counted in
// the calendar (3,650 days fell short of ten years by the leap days, and
// the message said 2036-12-03 for ten years from 2026-12-06).
const PlannedYears = 10

// MaxLine and MaxText are the most characters a string may hold: one line
// (a name, a reference, a pseudonym), and free text of several lines (see
// Multiline). A page of 300 victims whose three notes are each MaxText
// long is about 18 MB of text.
const (
	MaxLine = 500
	MaxText = 20_000
)

// Multiline lists the input fields, by name, that hold free text of several
// lines. Every other string is one line: a field missing here refuses a
// line break, which shows at once, where a field wrongly listed would let
// control characters through unnoticed.
var Multiline = map[string]bool{
	"notes":            true,
	"healthNotes":      true,
	"testimonySummary": true,
	"address":          true,
	"justification":    true,
	"reason":           true,
}

// Identifiers lists the input fields, by name, whose value is a record's
// unique key, compared byte for byte by the database: a reference that
// looks like another must be the other, so they are held to one spelling
// (NFC, no white space around them). A client that pasted a reference from
// macOS (decomposed accents) or with a trailing space opened a second case
// under what read as the same reference (a hunt over HTTP).
var Identifiers = map[string]bool{
	"reference":          true,
	"registrationNumber": true,
	"pseudonym":          true,
	"code":               true,
}

// Planned lists the time fields, by name, that name a time to come (a
// deadline, a planned end). Every other time is one of something that
// happened, which cannot lie in the future.
var Planned = map[string]bool{
	"investigationDeadline": true,
	"until":                 true,
	"endedOn":               true,
}

// CheckText returns a BAD_USER_INPUT *apperr.Error naming field when s may
// not be stored in it, or nil. name is the field's own name (the last part
// of field), which decides whether it is multi-line.
func CheckText(field, name, s string) error {
	if !utf8.ValidString(s) {
		return apperr.InvalidField(field, "%s is not valid UTF-8 text.", field)
	}
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return apperr.InvalidField(field, "%s must not be empty or only white space.", field)
	}
	multiline := Multiline[name]
	longest := MaxLine
	if multiline {
		longest = MaxText
	}
	if n := utf8.RuneCountInString(s); n > longest {
		return apperr.InvalidField(field, "%s holds %d characters; it takes at most %d.", field, n, longest)
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			return apperr.InvalidField(field, "%s holds U+FFFD, which invalid UTF-8 or an unpaired UTF-16 surrogate (such as \\ud800) becomes; send the text as valid UTF-8.", field)
		case multiline && (r == '\n' || r == '\t' || r == '\r' && strings.HasPrefix(s[i+1:], "\n")):
		case unicode.IsControl(r):
			if multiline {
				return apperr.InvalidField(field, "%s holds the control character U+%04X; only line feeds, tabs and CRLF line breaks are allowed.", field, r)
			}
			return apperr.InvalidField(field, "%s holds the control character U+%04X; it takes one line of text without control characters.", field, r)
		case isBidiControl(r):
			return apperr.InvalidField(field, "%s holds the bidirectional formatting character U+%04X, which makes text display differently from what it is.", field, r)
		case !multiline && isInvisibleSpace(r):
			return apperr.InvalidField(field, "%s holds the invisible character U+%04X, which makes two values that look alike differ.", field, r)
		}
	}
	if Identifiers[name] {
		return CheckKey(field, s)
	}
	return nil
}

// CheckKey returns a BAD_USER_INPUT *apperr.Error naming field when s,
// text CheckText takes, breaks the rules of a key (Identifiers): one
// spelling, so that two keys that look alike are one. CheckText applies
// it to the fields listed there; casework applies it to a new
// idempotency key (createOnce), which is not refused here for every
// request, since the retry of a write an earlier release made under a
// key spelt otherwise must still be answered (docs/mutations.md).
func CheckKey(field, s string) error {
	for _, r := range s {
		switch {
		case invisible(r) || unicode.IsSpace(r) && r != ' ':
			return apperr.InvalidField(field, "%s holds U+%04X, which shows as nothing or as a space: two keys that look alike would differ.", field, r)
		case noncharacter(r):
			return apperr.InvalidField(field, "%s holds U+%04X, a noncharacter, which Unicode keeps from ever being text: it shows as nothing or as a box, and two keys that look alike would differ.", field, r)
		}
	}
	if strings.TrimFunc(s, unicode.IsSpace) != s {
		return apperr.InvalidField(field, "%s begins or ends with white space, which makes two keys that look alike differ.", field)
	}
	if !norm.NFC.IsNormalString(s) {
		return apperr.InvalidField(field, "%s is not in Unicode's composed form (NFC): an accented letter is sent as one character, not a letter and a combining accent, so that two keys that look alike are one.", field)
	}
	return nil
}

// isInvisibleSpace reports whether r is a zero-width space, word joiner or
// byte order mark: nothing a name or a title needs (the zero-width joiner
// and non-joiner, the directional marks, soft hyphens and tags, which
// scripts, emoji and pasted names hold, are text).
func isInvisibleSpace(r rune) bool {
	return r == 0x200B || r == 0x2060 || r == 0xFEFF
}

// invisible reports whether r shows nothing where it stands: a format
// character (Unicode's Cf: joiners, directional marks, the soft hyphen,
// invisible operators, tags…), any other default-ignorable code point
// (Other_Default_Ignorable_Code_Point: the Hangul fillers, the combining
// grapheme joiner, the Khmer inherent vowels U+17B4 and U+17B5, and code
// points kept for more, such as U+2065, assigned or not), a variation
// selector, or the blank Braille pattern U+2800, which displays as a
// space but is no white space. It is the one definition of invisible text:
// a key holds none (CheckText), nor does a written reason, but for one
// variation selector after what it selects (CheckWritten). Listing some
// by hand let the others through: a soft hyphen, then a joiner and a
// no-break space, then the Khmer vowels, U+2065 and U+2800 each made a
// second case of a reference that read the same (a hunt, a review, a
// hunt).
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) || r == '\u2800'
}

// noncharacter reports whether r is one of the 66 code points Unicode
// keeps from ever being a character (U+FDD0–U+FDEF, and the last two of
// every plane, U+xxFFFE and U+xxFFFF): no client means one in a key. It is
// a fixed set, unlike the unassigned code points: a key does not refuse
// what Go's tables (Unicode 15.0 in this Go) do not assign, since Unicode
// assigns more each year and those tables lag it; a review had a
// pseudonym with an Emoji 16.0 face or a letter of Todhri, the historical
// Albanian alphabet (Unicode 16.0), refused as unassigned. A character the
// server cannot classify is taken; the invisible ones to come are
// default-ignorable code points, which invisible refuses assigned or not.
func noncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}

// isBidiControl reports whether r is a bidirectional embedding, override or
// isolate.
func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// ParseTime parses a time as the GraphQL Time scalar takes it (RFC 3339,
// with or without fractions of a second) and checks it with CheckTime.
func ParseTime(field, name, s string, now time.Time) (time.Time, error) {
	t, ok := ParseRFC3339(s)
	if !ok {
		return time.Time{}, NotRFC3339(field)
	}
	return t, CheckTime(field, name, t, now)
}

// NotRFC3339 is the error for a time that cannot be read.
func NotRFC3339(field string) error {
	return apperr.InvalidField(field, "%s must be a time in RFC 3339 format, such as 2026-03-01T09:30:00Z.", field)
}

// CheckTime returns a BAD_USER_INPUT *apperr.Error naming field when t lies
// outside the range a field of that name takes, or nil.
func CheckTime(field, name string, t, now time.Time) error {
	latest, what := now.Add(Leeway), "something that happened cannot lie in the future"
	if Planned[name] {
		latest, what = now.AddDate(PlannedYears, 0, 0), fmt.Sprintf("a planned time may lie at most %d years ahead", PlannedYears)
	}
	if t.Before(Earliest) {
		// Said for what it is: a time before 1900 was told it "cannot lie
		// in the future" (a hunt over HTTP).
		what = "nothing CaseGraph records happened before 1900"
	}
	if t.Before(Earliest) || t.After(latest) {
		// The bounds as the instants compared: named as days (Tirana's),
		// the first day named refused its own first hour (a review).
		return apperr.InvalidField(field, "%s must lie between %s and %s: %s.", field,
			Earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339), what)
	}
	return nil
}

// CheckWritten refuses a written reason a reader cannot read (an emergency
// access's justification, a policy change's reason: what the audit trail
// and the policy's history show beside what was done): fewer than min
// letters or digits, or a character that shows nothing (invisible: a
// format character such as a zero-width joiner or a left-to-right mark, a
// default-ignorable character such as a Hangul filler or a Khmer invisible
// vowel, a blank Braille pattern; a variation selector only when it
// selects nothing). need says
// what is asked for, as in "Emergency access needs a written
// justification". A review had twenty zero-width
// spaces accepted as a justification, and the audit trail then showed a
// blank one beside every read under the grant; a hunt had four accepted as
// a policy change's reason.
func CheckWritten(field, need, s string, min int) error {
	readable := 0
	afterVisible := false // the rune before was shown, so a variation selector may follow it
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Variation_Selector, r):
			// One selector after a character chooses how it shows (the
			// emoji ⚠️ is U+26A0 U+FE0F, as phone keyboards type it);
			// more, or one after nothing shown, hides text.
			if !afterVisible {
				return invisibleIn(field)
			}
			afterVisible = false
			continue
		case invisible(r):
			return invisibleIn(field)
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			readable++
		}
		afterVisible = !unicode.IsSpace(r)
	}
	if readable < min {
		return apperr.InvalidField(field, "%s of at least %d letters or digits.", need, min)
	}
	return nil
}

// invisibleIn is CheckWritten's refusal of a character that shows nothing.
func invisibleIn(field string) error {
	return apperr.InvalidField(field, "The %s holds no invisible or formatting characters (zero-width, direction marks, fillers, runs of variation selectors).", field)
}
