package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/auditevent"
	"github.com/casegraph/casegraph/viewer"
)

// Export formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// CSVHeader is the header line of a CSV export, one column per Event
// field; lists are joined with ";", and the records of an event about
// several are written "id:nonce".
var CSVHeader = []string{"seq", "occurred_at", "kind", "request_id", "operation", "client_address",
	"actor_subject", "actor_agency_id", "actor_agency", "actor_roles", "entity_type", "entity_id",
	"fields", "decision", "rule", "reason", "emergency", "justification", "detail", "prev_hash", "hash",
	"records"}

// exportBatch is how many events are read at a time, with all their
// records: an event about a page of victims holds tens of them, so a batch
// of 1,000 such events is a few MB (two statements a batch).
const exportBatch = 1000

// Export writes every event that occurred at or after since, in chain
// order, as JSON lines or CSV, with their hashes so that the reader can
// check the chain on their own. It returns how many it wrote.
func Export(ctx context.Context, client *ent.Client, since time.Time, format string, w io.Writer) (int, error) {
	var write func(Event) error
	var flush func() error
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		write = func(e Event) error { return enc.Encode(e) }
		flush = func() error { return nil }
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVHeader); err != nil {
			return 0, err
		}
		write = func(e Event) error { return cw.Write(csvRecord(e)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		return 0, fmt.Errorf("unknown format %q (jsonl or csv)", format)
	}
	// The export is a contiguous run of the chain, from the first event
	// dated at or after since to the end, so that its reader can check
	// every link (the first event's prevHash is the anchor before it).
	n := 0
	first, err := client.AuditEvent.Query().Where(auditevent.OccurredAtGTE(since.UTC())).
		Order(ent.Asc(auditevent.FieldID)).FirstID(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return 0, flush()
	}
	if err != nil {
		return 0, err
	}
	f := Filter{AfterSeq: first - 1}
	for {
		events, err := Query(ctx, client, Scope{All: true}, f, false, exportBatch)
		if err != nil {
			return n, err
		}
		for _, e := range events {
			if err := write(e); err != nil {
				return n, err
			}
			n++
		}
		if len(events) < exportBatch {
			return n, flush()
		}
		f.AfterSeq = events[len(events)-1].Seq
	}
}

func csvRecord(e Event) []string {
	return defuse([]string{
		strconv.FormatInt(e.Seq, 10), e.OccurredAt.UTC().Format(time.RFC3339Nano), string(e.Kind),
		e.RequestID, e.Operation, e.ClientAddress, e.ActorSubject, optionalInt(e.ActorAgencyID),
		e.ActorAgency, strings.Join(e.ActorRoles, ";"), e.EntityType, optionalInt(e.EntityID),
		strings.Join(e.Fields, ";"), e.Decision, e.Rule, e.Reason, strconv.FormatBool(e.Emergency),
		e.Justification, e.Detail, e.PrevHash, e.Hash, joinRecords(e.Records),
	})
}

func joinRecords(records []Record) string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = strconv.Itoa(r.ID) + ":" + r.Nonce
	}
	return strings.Join(out, ";")
}

// defuse prefixes with ' a cell a spreadsheet would run as a formula (a
// justification is free text), and a cell that starts with ' itself, so
// that a leading ' always means one was added: remove one to read the
// value. The JSON lines keep the exact values, and the hashes are computed
// from them.
func defuse(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r'", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

func optionalInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
