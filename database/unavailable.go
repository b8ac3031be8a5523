package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
)

// IsUnavailable reports whether err says that the database could not be
// used at all, as opposed to refusing one statement: the server is
// unreachable, the connection was lost or reset, the server is shutting
// down or refuses more connections, or SQLite stayed busy or locked beyond
// its busy timeout. Such a failure is not the client's fault nor a bug:
// clients are told UNAVAILABLE (retry later), never INTERNAL. It is the
// one place that knows what the drivers' connection errors look like
// (docs/errors.md says which requests are retried).
//
// It recognises:
//   - driver.ErrBadConn, sql.ErrConnDone and database/sql's "sql: database
//     is closed";
//   - io.EOF and io.ErrUnexpectedEOF (lib/pq reading from a closed socket),
//     any net.Error (dial refused, reset, timeout) and ECONNREFUSED,
//     ECONNRESET, ECONNABORTED, EPIPE;
//   - PostgreSQL errors of class 08 (connection exception), 57P01
//     admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
//     53300 too_many_connections, and the sessions the server ends (57P05
//     idle_session_timeout, 25P03 idle_in_transaction_session_timeout,
//     25P04 transaction_timeout), and 55000 as a session starts in a
//     database whose connections an operator stopped;
//   - SQLite's SQLITE_BUSY and SQLITE_LOCKED (with their extended codes).
func IsUnavailable(err error) bool {
	// The request's own deadline or cancellation is not the database's
	// fault; context.DeadlineExceeded would otherwise pass for a net.Error.
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return postgresUnavailable(pqErr)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return sqliteUnavailable(liteErr.Code())
	}
	// database/sql keeps this error unexported; its text is part of the
	// standard library's behaviour and has not changed since Go 1.0.
	return strings.Contains(err.Error(), "sql: database is closed")
}

// postgresUnavailable reports whether a SQLSTATE says the server cannot
// serve this session, rather than that it refused the statement.
func postgresUnavailable(e *pq.Error) bool {
	code := string(e.Code)
	switch {
	case strings.HasPrefix(code, "08"): // connection_exception
		return true
	case code == "57P01", code == "57P02", code == "57P03": // shutting down, crashed, starting up
		return true
	case code == "53300": // too_many_connections
		return true
	// The server ended the session: idle too long, in a transaction or out
	// of one, or a transaction past transaction_timeout (PostgreSQL 17).
	case code == "57P05", code == "25P03", code == "25P04":
		return true
	// An operator stopped the database's connections (ALTER DATABASE …
	// ALLOW_CONNECTIONS false): object_not_in_prerequisite_state, raised
	// as the session starts (CheckMyDatabase; the routine, unlike the
	// severity, is not translated). Of a statement, the same code is the
	// statement's fault (currval before nextval).
	case code == "55000" && e.Routine == "CheckMyDatabase":
		return true
	}
	return false
}

// IsStatementCanceled reports whether err is PostgreSQL's query_canceled
// (57014): the statement was stopped because the request's context ended
// (lib/pq then asks the server to cancel it and returns the server's
// error, not the context's) or it ran past statement_timeout. Either way
// the request took too long; nothing of its transaction is written.
func IsStatementCanceled(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "57014"
}

// IsCollision reports whether err is PostgreSQL's answer to transactions
// that could not all go on: a deadlock (40P01), a serialization failure
// (40001), or a lock not had within an operator's lock_timeout (55P03).
// PostgreSQL has then aborted the whole transaction, so nothing of it is
// written and the same request sent again normally succeeds: the client is
// told to send it again (UNAVAILABLE), never INTERNAL. Unlike
// IsUnavailable, the database itself is fine.
func IsCollision(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	switch pqErr.Code {
	case "40P01", "40001", "55P03": // deadlock_detected, serialization_failure, lock_not_available
		return true
	}
	return false
}

// SQLite's primary result codes for a database held by another writer;
// the extended codes (SQLITE_BUSY_SNAPSHOT, …) keep them in the low byte.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

func sqliteUnavailable(code int) bool {
	primary := code & 0xff
	return primary == sqliteBusy || primary == sqliteLocked
}

// IsBusy reports whether err is SQLite's busy or locked error, returned
// after waiting out the busy timeout: retrying at once would only wait as
// long again, and a COMMIT that answered busy did not take effect.
func IsBusy(err error) bool {
	var liteErr *sqlite.Error
	return errors.As(err, &liteErr) && sqliteUnavailable(liteErr.Code())
}
