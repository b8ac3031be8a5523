package testserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Inflight is a POST /graphql sent with "Expect: 100-continue": once the
// server has answered "100 Continue", its handler is running and waiting for
// the body, so the request stays in flight for as long as the test
// withholds the body. Graceful-shutdown tests use it: no sleeps, no slow
// queries.
type Inflight struct {
	conn net.Conn
	br   *bufio.Reader
	body []byte
}

// StartInflight sends the headers of a GraphQL request for query to addr
// and returns once the server's handler is running.
func StartInflight(t *testing.T, addr, token, query string) *Inflight {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		addr, token, len(body))
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("waiting for 100 Continue: %v", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		rest, _ := io.ReadAll(io.LimitReader(br, 4096))
		t.Fatalf("want 100 Continue, got %q%s", status, rest)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading 100 Continue: %v", err)
		}
		if line == "\r\n" {
			break
		}
	}
	return &Inflight{conn: conn, br: br, body: body}
}

// Finish sends the body and reads the response.
func (f *Inflight) Finish(t *testing.T) (int, []byte) {
	t.Helper()
	if _, err := f.conn.Write(f.body); err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	res, err := http.ReadResponse(f.br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return res.StatusCode, raw
}

// WaitRefused waits until addr refuses connections: the server has closed
// its listener, so its shutdown has begun.
func WaitRefused(tb testing.TB, addr string, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			tb.Fatalf("%s still accepts connections %v after shutdown began", addr, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
