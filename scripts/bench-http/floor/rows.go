package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
)

// rowsStatement returns the page's rows flat, one kind a row (1 case, 2
// victim, 3 proceeding, 4 charge) with the id of its parent, in the order
// the answer lists them; the server nests them and writes the JSON. It is
// how PostGraphile 5 works (PostgreSQL selects, the server writes the
// answer), and costs PostgreSQL less than building the JSON there.
const rowsStatement = pageRows + `
SELECT 1, c.id, 0, c.reference, c.stage, a.name, false FROM c JOIN agencies a ON a.id = c.lead_agency_id
UNION ALL SELECT 2, v.id, v.case_id, v.pseudonym, v.sex, CASE WHEN v.allowed THEN v.legal_name END, v.allowed FROM v
UNION ALL SELECT 3, p.id, p.case_id, p.registration_number, p.stage, NULL, false FROM p
UNION ALL SELECT 4, ch.id, ch.prosecution_id, ch.article, NULL, NULL, false FROM ch
ORDER BY 1, 3, 2`

type pageRow struct {
	id, parent int64
	a, b       string
	c          sql.NullString
}

// rowsPage runs rowsStatement and writes the answer's data member, and
// lists the victims whose legalName it shows, each once.
func (s *Server) rowsPage(ctx context.Context) ([]byte, []int64, error) {
	rows, err := s.page.QueryContext(ctx, s.agency, s.region)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cases []pageRow
	children := [5]map[int64][]pageRow{nil, nil, {}, {}, {}}
	var shown []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var kind int
		var r pageRow
		var allowed bool
		var b sql.NullString
		if err := rows.Scan(&kind, &r.id, &r.parent, &r.a, &b, &r.c, &allowed); err != nil {
			return nil, nil, err
		}
		r.b = b.String
		if kind == 1 {
			cases = append(cases, r)
			continue
		}
		children[kind][r.parent] = append(children[kind][r.parent], r)
		if allowed && !seen[r.id] {
			seen[r.id] = true
			shown = append(shown, r.id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out := make([]byte, 0, 32<<10)
	out = append(out, `{"cases":{"edges":[`...)
	for i, c := range cases {
		out = comma(out, i)
		out = append(out, `{"node":{"reference":`...)
		out = quote(out, c.a)
		out = append(out, `,"stage":`...)
		out = quote(out, c.b)
		out = append(out, `,"leadAgency":{"name":`...)
		out = quote(out, c.c.String)
		out = append(out, `},"victims":{"edges":[`...)
		for j, v := range children[2][c.id] {
			out = comma(out, j)
			out = append(out, `{"node":{"pseudonym":`...)
			out = quote(out, v.a)
			out = append(out, `,"sex":`...)
			out = quote(out, v.b)
			out = append(out, `,"legalName":`...)
			if v.c.Valid {
				out = quote(out, v.c.String)
			} else {
				out = append(out, "null"...)
			}
			out = append(out, "}}"...)
		}
		out = append(out, `]},"prosecutions":{"edges":[`...)
		for j, p := range children[3][c.id] {
			out = comma(out, j)
			out = append(out, `{"node":{"registrationNumber":`...)
			out = quote(out, p.a)
			out = append(out, `,"stage":`...)
			out = quote(out, p.b)
			out = append(out, `,"charges":{"edges":[`...)
			for k, ch := range children[4][p.id] {
				out = comma(out, k)
				out = append(out, `{"node":{"article":`...)
				out = quote(out, ch.a)
				out = append(out, "}}"...)
			}
			out = append(out, "]}}}"...)
		}
		out = append(out, "]}}}"...)
	}
	out = append(out, "]}}"...)
	return out, shown, nil
}

func comma(out []byte, i int) []byte {
	if i > 0 {
		return append(out, ',')
	}
	return out
}

// quote appends s as a JSON string: strconv's quoting where it agrees with
// JSON (printable ASCII), encoding/json's otherwise.
func quote(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '\\' || c == '"' {
			b, _ := json.Marshal(s)
			return append(out, b...)
		}
	}
	return strconv.AppendQuote(out, s)
}
