// Command floor is a measuring instrument, not a part of CaseGraph: the
// least work a server must do to answer the HTTP benchmark's allowed page
// (dashboard.graphql asked by a district prosecution office's prosecutor)
// while keeping CaseGraph's promises for it: the same rows (row scope), a
// decision for each victim's legalName, and one audit event for the
// page's reads, hash-chained and committed before the answer. It is the
// page compiled by hand: one prepared statement builds the whole JSON
// answer in PostgreSQL and decides every legalName in SQL, a single
// writer commits the audit events of concurrent requests together (group
// commit), and the handler copies the statement's text to the client. No
// GraphQL parsing or execution, no ent, no per-field work in Go.
//
// Its figures beside CaseGraph's and PostGraphile's say how far any
// rewrite of CaseGraph's query path could go on this machine
// (docs/performance.md, "The floor"). TestFloorAnswersAsCaseGraphDoes
// keeps it honest: its answer must be CaseGraph's answer, byte for byte
// once decoded, and its audit trail must hold one record for each
// legalName it showed. The rules in its SQL are written for that one
// principal's policy lines only (cases of its region or that it works on;
// victims of cases it works on or referred by or to it; legalName of the
// victims of cases it prosecutes or is assigned to prosecute), which is
// why it refuses other agencies.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// pageRows are the page's rows for one prosecution office ($1 its id, $2
// its region): its 50 cases (c), their victims with each legalName decided
// (v), their proceedings (p) and the proceedings' charges (ch). Both
// shapes of the floor select from them. v is MATERIALIZED so that each
// victim's decision is made once: inlined in the rows shape, PostgreSQL
// decided it twice (the legalName and the column that lists it), about a
// tenth of the statement's time.
const pageRows = `
WITH c AS (
  SELECT c.id, c.reference, c.stage, c.lead_agency_id FROM case_files c
  WHERE c.region = $2 OR EXISTS (SELECT 1 FROM case_work w WHERE w.agency_id = $1 AND w.case_id = c.id OFFSET 0)
  ORDER BY c.id LIMIT 50
), v AS MATERIALIZED (
  SELECT c.id AS case_id, x.id, x.pseudonym, x.sex, x.legal_name,
    (EXISTS (SELECT 1 FROM case_victims cv JOIN prosecutions p ON p.case_id = cv.case_id
             WHERE cv.victim_id = x.id AND p.office_id = $1)
     OR EXISTS (SELECT 1 FROM case_victims cv JOIN case_assignments a ON a.case_id = cv.case_id
             WHERE cv.victim_id = x.id AND a.agency_id = $1 AND a.part IN ('PROSECUTING', 'ADJUDICATING'))) AS allowed
  FROM c CROSS JOIN LATERAL (
    SELECT x.* FROM case_victims cv JOIN victims x ON x.id = cv.victim_id
    WHERE cv.case_id = c.id
      AND (EXISTS (SELECT 1 FROM case_victims cv JOIN case_work w ON w.case_id = cv.case_id
                   WHERE cv.victim_id = x.id AND w.agency_id = $1)
        OR EXISTS (SELECT 1 FROM referrals r WHERE r.victim_id = x.id AND $1 IN (r.to_agency_id, r.from_agency_id)))
    ORDER BY x.id LIMIT 20) x
), p AS (
  SELECT p.id, p.case_id, p.registration_number, p.stage
  FROM c CROSS JOIN LATERAL (SELECT * FROM prosecutions p WHERE p.case_id = c.id ORDER BY p.id LIMIT 10) p
), ch AS (
  SELECT ch.id, ch.prosecution_id, ch.article
  FROM p CROSS JOIN LATERAL (SELECT * FROM charges ch WHERE ch.prosecution_id = p.id ORDER BY ch.id LIMIT 10) ch
)`

// jsonStatement builds the whole answer in PostgreSQL (json_build_object,
// json_agg) and lists the victims whose legalName it shows. It reads the
// proceedings and charges in subqueries of their parents, not from p and
// ch (which it leaves unread): a subquery a parent scanning those CTEs
// cost PostgreSQL three times as much.
const jsonStatement = pageRows + `
SELECT json_build_object('cases', json_build_object('edges', coalesce(json_agg(json_build_object('node', json_build_object(
  'reference', c.reference, 'stage', c.stage,
  'leadAgency', json_build_object('name', a.name),
  'victims', json_build_object('edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
       'pseudonym', v.pseudonym, 'sex', v.sex, 'legalName', CASE WHEN v.allowed THEN v.legal_name END)) ORDER BY v.id), '[]')
     FROM v WHERE v.case_id = c.id)),
  'prosecutions', json_build_object('edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object(
       'registrationNumber', p.registration_number, 'stage', p.stage,
       'charges', json_build_object('edges', (SELECT coalesce(json_agg(json_build_object('node', json_build_object('article', ch.article)) ORDER BY ch.id), '[]')
          FROM (SELECT * FROM charges ch WHERE ch.prosecution_id = p.id ORDER BY ch.id LIMIT 10) ch)))) ORDER BY p.id), '[]')
     FROM (SELECT * FROM prosecutions p WHERE p.case_id = c.id ORDER BY p.id LIMIT 10) p))
)) ORDER BY c.id), '[]')))::text,
  (SELECT coalesce(array_agg(DISTINCT v.id), '{}') FROM v WHERE v.allowed)
FROM c JOIN agencies a ON a.id = c.lead_agency_id`

// auditTables are the floor's own audit trail, shaped like CaseGraph's
// (audit_events with its indexes, audit_event_records, the chain's end in
// one row locked by each commit): made anew at each start, beside
// CaseGraph's tables, which the floor never writes.
const auditTables = `
DROP TABLE IF EXISTS bench_floor_events, bench_floor_event_records, bench_floor_chain;
CREATE TABLE bench_floor_events (id bigint PRIMARY KEY, occurred_at timestamptz NOT NULL, kind varchar NOT NULL,
  actor_subject varchar NOT NULL, actor_agency_id bigint, entity_type varchar NOT NULL, entity_id bigint,
  fields text NOT NULL, decision varchar NOT NULL, emergency boolean NOT NULL DEFAULT false,
  prev_hash varchar NOT NULL, hash varchar NOT NULL, records bigint[], nonces text[]);
CREATE INDEX ON bench_floor_events (actor_agency_id, id);
CREATE INDEX ON bench_floor_events (actor_subject, id);
CREATE INDEX ON bench_floor_events (emergency, id);
CREATE INDEX ON bench_floor_events (entity_id, id);
CREATE INDEX ON bench_floor_events (kind, id);
CREATE INDEX ON bench_floor_events (occurred_at);
CREATE TABLE bench_floor_event_records (event_id bigint NOT NULL, entity_id bigint NOT NULL, nonce varchar NOT NULL,
  PRIMARY KEY (event_id, entity_id));
CREATE INDEX ON bench_floor_event_records (entity_id, event_id);
CREATE TABLE bench_floor_chain (one boolean PRIMARY KEY CHECK (one), hash varchar NOT NULL, last_id bigint NOT NULL);
INSERT INTO bench_floor_chain VALUES (true, '', 0);`

// arrayIndex answers "who looked at this victim" for the array trail
// (records @> ARRAY[id]), as audit_event_records' entity index does for
// CaseGraph's.
const arrayIndex = `CREATE INDEX ON bench_floor_events USING gin (records)`

// Trail says how a page's audit event holds its records: "records", one
// row each in bench_floor_event_records as CaseGraph's trail does;
// "array", the ids and nonces as arrays in the event's own row, indexed
// by GIN; "none", no trail, to tell the statement's cost from the
// trail's.
type Trail string

// Shape says where the answer is written: "json" in PostgreSQL
// (jsonStatement), "rows" in the server from flat rows (rowsStatement).
type Shape string

// Server answers the page.
type Server struct {
	db      *sql.DB
	page    *sql.Stmt
	shape   Shape
	agency  int64
	region  string
	subject string
	trail   Trail
	events  chan *pending
	stop    chan struct{}
	stopped chan struct{} // closed when the writer has returned
}

type pending struct {
	victims []int64
	done    chan error
}

// New prepares the page for the prosecution office with the code agency,
// makes the floor's audit tables, and starts the audit writer.
func New(ctx context.Context, db *sql.DB, agency, subject string, shape Shape, trail Trail) (*Server, error) {
	s := &Server{db: db, subject: subject, shape: shape, trail: trail, events: make(chan *pending, 1024), stop: make(chan struct{}), stopped: make(chan struct{})}
	statement := map[Shape]string{"json": jsonStatement, "rows": rowsStatement}[shape]
	if statement == "" {
		return nil, fmt.Errorf("shape %q: json or rows", shape)
	}
	tables := map[Trail]string{"records": auditTables, "array": auditTables + ";" + arrayIndex, "none": auditTables}[trail]
	if tables == "" {
		return nil, fmt.Errorf("trail %q: records, array or none", trail)
	}
	var kind string
	err := db.QueryRowContext(ctx, `SELECT id, coalesce(region, ''), kind FROM agencies WHERE code = $1`, agency).Scan(&s.agency, &s.region, &kind)
	if err != nil {
		return nil, fmt.Errorf("agency %q: %w", agency, err)
	}
	if kind != "PROSECUTION_OFFICE" {
		return nil, fmt.Errorf("agency %q is a %s: the floor's statement decides as a district prosecution office's prosecutor only", agency, kind)
	}
	if _, err := db.ExecContext(ctx, tables); err != nil {
		return nil, fmt.Errorf("making the floor's audit tables: %w", err)
	}
	if s.page, err = db.PrepareContext(ctx, statement); err != nil {
		return nil, fmt.Errorf("preparing the page: %w", err)
	}
	go s.writeEvents()
	return s, nil
}

// errClosed answers the pages whose event the writer will not commit
// because the floor is closing.
var errClosed = errors.New("the floor is closing: the page's audit event was not written")

// Close stops the audit writer; a page waiting for it, or asked after,
// is answered with errClosed, not left waiting.
func (s *Server) Close() {
	close(s.stop)
	<-s.stopped
}

// record hands the page's event to the writer and waits for its commit.
func (s *Server) record(victims []int64) error {
	p := &pending{victims: victims, done: make(chan error, 1)}
	select {
	case s.events <- p:
	case <-s.stopped:
		return errClosed
	}
	select {
	case err := <-p.done:
		return err
	case <-s.stopped:
		// The writer answers every batch it commits before it returns:
		// an answer already given is the truth, none means not written.
		select {
		case err := <-p.done:
			return err
		default:
			return errClosed
		}
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	page, victims, err := s.answer(r.Context())
	if err != nil {
		http.Error(w, "the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if s.trail != "none" && len(victims) > 0 {
		if err := s.record(victims); err != nil {
			http.Error(w, "the audit trail failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/graphql-response+json")
	_, _ = io.WriteString(w, `{"data":`)
	_, _ = w.Write(page)
	_, _ = io.WriteString(w, `}`)
}

// answer is the page's data member and the victims whose legalName it
// shows.
func (s *Server) answer(ctx context.Context) ([]byte, []int64, error) {
	if s.shape == "rows" {
		return s.rowsPage(ctx)
	}
	var page string
	var victims pq.Int64Array
	if err := s.page.QueryRowContext(ctx, s.agency, s.region).Scan(&page, &victims); err != nil {
		return nil, nil, err
	}
	return []byte(page), victims, nil
}

// writeEvents commits the events waiting at the same moment in one
// transaction, as CaseGraph's audit trail does (group commit).
func (s *Server) writeEvents() {
	defer close(s.stopped)
	for {
		var first *pending
		select {
		case first = <-s.events:
		case <-s.stop:
			return
		}
		batch := []*pending{first}
	gather:
		for len(batch) < 256 {
			select {
			case p := <-s.events:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		err := s.commit(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (s *Server) commit(batch []*pending) error {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var head string
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT hash, last_id FROM bench_floor_chain WHERE one FOR UPDATE`).Scan(&head, &last); err != nil {
		return err
	}
	at := time.Now().UTC().Format(time.RFC3339Nano)
	var ids, recordEvents, recordVictims []int64
	var prevs, hashes, nonces []string
	for _, p := range batch {
		last++
		h := sha256.New()
		fmt.Fprintf(h, "%d\n%s\n%s\n%d\nread\nVictim\nlegalName\nallow\n%s\n", last, at, s.subject, s.agency, head)
		for _, v := range p.victims {
			var n [16]byte
			if _, err := rand.Read(n[:]); err != nil {
				return err
			}
			nonce := hex.EncodeToString(n[:])
			fmt.Fprintf(h, "%d %s\n", v, nonce)
			recordEvents, recordVictims, nonces = append(recordEvents, last), append(recordVictims, v), append(nonces, nonce)
		}
		ids, prevs = append(ids, last), append(prevs, head)
		head = hex.EncodeToString(h.Sum(nil))
		hashes = append(hashes, head)
	}
	if s.trail == "array" {
		eventRecords, eventNonces := arrayLiterals(ids, recordEvents, recordVictims, nonces)
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_floor_events
			  (id, occurred_at, kind, actor_subject, actor_agency_id, entity_type, fields, decision, prev_hash, hash, records, nonces)
			SELECT i, $2, 'read', $3, $4, 'Victim', 'legalName', 'allow', p, h, r::bigint[], n::text[]
			FROM unnest($1::bigint[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t(i, p, h, r, n)`,
			pq.Array(ids), at, s.subject, s.agency, pq.Array(prevs), pq.Array(hashes), pq.Array(eventRecords), pq.Array(eventNonces)); err != nil {
			return err
		}
	} else {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_floor_events
			  (id, occurred_at, kind, actor_subject, actor_agency_id, entity_type, fields, decision, prev_hash, hash)
			SELECT i, $2, 'read', $3, $4, 'Victim', 'legalName', 'allow', p, h
			FROM unnest($1::bigint[], $5::text[], $6::text[]) AS t(i, p, h)`,
			pq.Array(ids), at, s.subject, s.agency, pq.Array(prevs), pq.Array(hashes)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bench_floor_event_records (event_id, entity_id, nonce)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])`,
			pq.Array(recordEvents), pq.Array(recordVictims), pq.Array(nonces)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bench_floor_chain SET hash = $1, last_id = $2 WHERE one`, head, last); err != nil {
		return err
	}
	return tx.Commit()
}

// arrayLiterals groups the batch's records (in the order of their events)
// into one array literal an event ("{1,2}", hex nonces and ids need no
// quoting), for the array trail alone: the records trail does not pay for
// them.
func arrayLiterals(events, recordEvents, victims []int64, nonces []string) (records, eventNonces []string) {
	i := 0
	for _, e := range events {
		var ids, ns []string
		for ; i < len(recordEvents) && recordEvents[i] == e; i++ {
			ids, ns = append(ids, strconv.FormatInt(victims[i], 10)), append(ns, nonces[i])
		}
		records = append(records, "{"+strings.Join(ids, ",")+"}")
		eventNonces = append(eventNonces, "{"+strings.Join(ns, ",")+"}")
	}
	return records, eventNonces
}
