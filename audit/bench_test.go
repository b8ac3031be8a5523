package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// trailSize is the number of events the reading benchmarks run over: a
// year of a busy region, far beyond the demo's volumes.
const trailSize = 300_000

// fillTrail loads the demo's cases and agencies and writes n synthetic
// events about its victims, read by people of its agencies, in batches as
// requests write them. It returns the victims' ids.
func fillTrail(b *testing.B, db *database.DB, n int) []int {
	b.Helper()
	ctx := context.Background()
	if _, err := demo.Load(ctx, db.Client, demo.Options{Scale: 1, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	sys := viewer.SystemContext(ctx)
	victims, err := db.Client.Victim.Query().IDs(sys)
	if err != nil {
		b.Fatal(err)
	}
	agencies, err := db.Client.Agency.Query().All(sys)
	if err != nil {
		b.Fatal(err)
	}
	w := audit.NewWriter(db.Client, db.Dialect)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-365 * 24 * time.Hour)
	const batch = 1000
	for i := 0; i < n; i += batch {
		events := make([]audit.Event, 0, batch)
		for j := 0; j < batch && i+j < n; j++ {
			a := agencies[rng.IntN(len(agencies))]
			ev := audit.Event{
				OccurredAt: start.Add(time.Duration(i+j) * time.Minute), Kind: audit.FieldAccess,
				RequestID: fmt.Sprintf("r%d", i+j), Operation: "query VictimFile", ClientAddress: "10.0.0.1",
				ActorSubject: fmt.Sprintf("user%d@%s", rng.IntN(5), a.Code), ActorAgencyID: a.ID, ActorAgency: a.Code,
				ActorRoles: []string{"investigator"}, EntityType: "Victim", EntityID: victims[rng.IntN(len(victims))],
				Fields: []string{"Victim.legalName", "Victim.dateOfBirth"}, Decision: audit.Allowed,
				Rule: "p, investigator, investigation, Victim:IDENTITY, read, on_case", Emergency: rng.IntN(500) == 0,
			}
			if rng.IntN(4) == 0 {
				ev.Decision, ev.Rule, ev.Reason = audit.Denied, "", "no policy rule lets your role read it"
				ev.Fields = []string{"Victim.healthNotes"}
			}
			events = append(events, ev)
		}
		if err := w.Write(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	return victims
}

// BenchmarkAuditTrailReading reads a page of 50 events from a trail of
// trailSize: the newest of every agency (the national DPO), of one agency
// (its DPO: its people's events and those about its cases' records), about
// one victim ("who looked at this person"), and one field's refusals.
func BenchmarkAuditTrailReading(b *testing.B) {
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			victims := fillTrail(b, db, trailSize)
			ctx := context.Background()
			all, err := db.Client.Agency.Query().All(viewer.SystemContext(ctx))
			if err != nil {
				b.Fatal(err)
			}
			agencyID := 0
			for _, a := range all {
				if a.Code == "police-tirane" {
					agencyID = a.ID
				}
			}
			cases := []struct {
				name  string
				scope audit.Scope
				f     audit.Filter
			}{
				{"national", audit.Scope{All: true}, audit.Filter{}},
				{"agency", audit.Scope{AgencyID: agencyID}, audit.Filter{}},
				{"victim", audit.Scope{All: true}, audit.Filter{EntityID: victims[len(victims)/2]}},
				{"agencyVictim", audit.Scope{AgencyID: agencyID}, audit.Filter{EntityID: victims[len(victims)/2]}},
				{"fieldDenied", audit.Scope{All: true}, audit.Filter{Field: "Victim.healthNotes", Decision: audit.Denied}},
				{"emergencyOnly", audit.Scope{All: true}, audit.Filter{EmergencyOnly: true}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := audit.Query(ctx, db.Client, c.scope, c.f, true, 50); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					v, err := audit.Verify(ctx, db.Client)
					if err != nil || !v.Valid {
						b.Fatalf("%+v %v", v, err)
					}
				}
				b.ReportMetric(float64(trailSize), "events")
			})
		})
	}
}

// BenchmarkWrite writes the events of one dashboard request (98, the
// audited 50-case page of graph's BenchmarkAuditOverhead) in one
// transaction: the audit's own share of that request.
func BenchmarkWrite(b *testing.B) {
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			w := audit.NewWriter(db.Client, db.Dialect)
			events := make([]audit.Event, 98)
			for i := range events {
				events[i] = audit.Event{Kind: audit.FieldAccess, RequestID: "r", Operation: "query Dashboard",
					ClientAddress: "10.0.0.1", ActorSubject: "bench@prosecution-tirane", ActorAgencyID: 3,
					ActorAgency: "prosecution-tirane", ActorRoles: []string{"prosecutor"}, EntityType: "Victim",
					EntityID: 51539607552 + i, Fields: []string{"Victim.legalName", "Victim.dateOfBirth", "Victim.personalNumber"},
					Decision: audit.Allowed, Rule: "p, prosecutor, prosecution, Victim:IDENTITY, read, proceedings"}
			}
			// The same reads as a request records them now: one event about
			// the 98 records (recorder.go, groupReads).
			rec := audit.NewRecorder("r", "10.0.0.1", nil)
			for _, e := range events {
				for _, f := range e.Fields {
					rec.FieldRead(e.EntityType, e.EntityID, f, audit.Access{Allowed: true, Rule: e.Rule}, nil)
				}
			}
			grouped := rec.Take()
			ctx := context.Background()
			for _, arm := range []struct {
				name   string
				events []audit.Event
			}{{"eventEach", events}, {"grouped", grouped}} {
				b.Run(arm.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						batch := append([]audit.Event(nil), arm.events...)
						for i := range batch {
							batch[i].OccurredAt = time.Now()
						}
						if err := w.Write(ctx, batch); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkConcurrentWrite is the audit trail under concurrent requests:
// 1, 4, 16 and 64 writers, each writing the events of one request at a
// time (eventsPerRequest, reads of a few victims), on PostgreSQL and the
// SQLite file the server uses. Two arms in the same run: groupCommit is
// Write (requests waiting together share a transaction); perRequest is
// the path Write had before, each request in a transaction of its own that
// takes the chain's lock (Begin, WriteTx, Commit). It reports events/s and
// a request's latency (p50, p99, in ms) and, for group commit, the mean
// requests per transaction.
func BenchmarkConcurrentWrite(b *testing.B) {
	const eventsPerRequest = 10
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			if d == dialect.SQLite {
				db = testdb.SQLiteFile(b) // its writers wait for one another; the in-memory one's fail
			}
			for _, writers := range []int{1, 4, 16, 64} {
				for _, arm := range []string{"groupCommit", "perRequest"} {
					b.Run(fmt.Sprintf("writers=%d/%s", writers, arm), func(b *testing.B) {
						w := audit.NewWriter(db.Client, db.Dialect)
						write := w.Write
						if arm == "perRequest" {
							write = func(ctx context.Context, events []audit.Event) error {
								tx, err := db.Client.BeginTx(viewer.SystemContext(ctx), audit.TxOptions(db.Dialect))
								if err != nil {
									return err
								}
								if err := w.WriteTx(ctx, tx, events); err != nil {
									_ = tx.Rollback()
									return err
								}
								return tx.Commit()
							}
						}
						concurrentWrites(b, writers, eventsPerRequest, write)
						if s := w.Stats(); arm == "groupCommit" && s.Batches > 0 {
							b.ReportMetric(float64(b.N)/float64(s.Batches), "requests/tx")
						}
					})
				}
			}
		})
	}
}

// concurrentWrites makes b.N requests of n events each from writers
// goroutines, and reports events/s and the latency of a request.
func concurrentWrites(b *testing.B, writers, n int, write func(context.Context, []audit.Event) error) {
	ctx := context.Background()
	var next atomic.Int64
	latencies := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				events := make([]audit.Event, n)
				for i := range events {
					events[i] = audit.Event{OccurredAt: time.Now(), Kind: audit.FieldAccess, RequestID: fmt.Sprintf("g%d", g),
						Operation: "query VictimFile", ClientAddress: "10.0.0.1", ActorSubject: "bench@prosecution-tirane",
						ActorAgencyID: 3, ActorAgency: "prosecution-tirane", ActorRoles: []string{"prosecutor"},
						EntityType: "Victim", EntityID: 51539607552 + i, Fields: []string{"Victim.legalName"},
						Decision: audit.Allowed, Rule: "p, prosecutor, prosecution, Victim:IDENTITY, read, proceedings"}
				}
				t0 := time.Now()
				if err := write(ctx, events); err != nil {
					b.Error(err)
					return
				}
				latencies[g] = append(latencies[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(latencies...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	ms := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all)*n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
