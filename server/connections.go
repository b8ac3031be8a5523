package server

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"
	"golang.org/x/net/netutil"
)

// Bounds on the connections the server holds open. Each idle keep-alive
// connection holds a file descriptor and about 20 KB: one client holding
// 20,000 of them (a request to /healthz every two minutes keeps each
// alive) used up the server's descriptors, and every other client's new
// connection then failed until it let go (a helper's hunt).
const (
	// DefaultMaxConns bounds the connections open at once; past it the
	// server accepts no more until one closes (they wait in the kernel's
	// queue) instead of failing to accept in a loop.
	DefaultMaxConns = 8192
	// DefaultMaxConnsPerAddress bounds those of one client address (an
	// IPv6 address by its /64, as the rate limit counts it): room for an
	// office behind one NAT, and a small share of DefaultMaxConns. The
	// trusted proxies are exempt: every client behind them shares their
	// address.
	DefaultMaxConnsPerAddress = 256
)

// limitConnections bounds ln's connections in total (netutil.LimitListener)
// and per client address, as cfg says. Past three quarters of the total, keepAlive is
// told false (http.Server.SetKeepAlivesEnabled, which closes the idle
// connections) until the connections fall to half: a few dozen addresses
// holding idle keep-alive connections would otherwise fill the total, and
// every new connection, the load balancer's health check included, would
// wait (the second review's finding).
func limitConnections(cfg Config, ln net.Listener, keepAlive func(bool)) net.Listener {
	total, perAddress := cfg.MaxConns, cfg.MaxConnsPerAddress
	if total == 0 {
		total = DefaultMaxConns
	}
	if perAddress == 0 {
		perAddress = DefaultMaxConnsPerAddress
	}
	return &addressLimitListener{Listener: netutil.LimitListener(ln, total), max: perAddress,
		trusted: cfg.TrustedProxies, open: map[string]int{}, logger: cfg.Logger,
		crowded: total * 3 / 4, calm: total / 2, keepAlive: keepAlive}
}

// addressLimitListener answers a new connection 503 and closes it when its
// address already holds max open ones, and tells keepAlive when the
// connections open cross crowded (false) and fall back to calm (true).
type addressLimitListener struct {
	net.Listener
	max         int
	trusted     []netip.Prefix
	logger      *slog.Logger
	crowded     int
	calm        int
	keepAlive   func(bool)
	applying    sync.Mutex // one keepAlive call at a time, with the latest state
	mu          sync.Mutex
	open        map[string]int
	all         int          // connections open, of every address
	withoutIdle bool         // keep-alives are off
	lastLogged  atomic.Int64 // the second a refusal was last logged
}

func (l *addressLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.address(c.RemoteAddr())
		l.mu.Lock()
		if counted && l.open[key] >= l.max {
			l.mu.Unlock()
			if now := time.Now().Unix(); l.lastLogged.Swap(now) != now {
				// At most a line a second: refusals come as fast as a
				// client opens connections.
				l.logger.Warn("connection refused: its address holds its share of connections", "address", key)
			}
			go refuseConnection(c) // not in the accept loop: a slow client must not hold it
			continue
		}
		if counted {
			l.open[key]++
		}
		l.all++
		l.watchCrowd()
		l.mu.Unlock()
		return &addressConn{Conn: c, release: sync.OnceFunc(func() { l.release(key, counted) })}, nil
	}
}

func (l *addressLimitListener) release(key string, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if counted {
		if l.open[key]--; l.open[key] <= 0 {
			delete(l.open, key)
		}
	}
	l.all--
	l.watchCrowd()
}

// watchCrowd turns keep-alives off past crowded and on again at calm. It
// is called with mu held.
func (l *addressLimitListener) watchCrowd() {
	if l.keepAlive == nil {
		return
	}
	switch {
	case !l.withoutIdle && l.all >= l.crowded:
		l.withoutIdle = true
		l.logger.Warn("connections crowded: keep-alives off, idle connections closed", "open", l.all)
	case l.withoutIdle && l.all <= l.calm:
		l.withoutIdle = false
	default:
		return
	}
	// Not here: turning keep-alives off closes the idle connections,
	// whose release comes back to this listener.
	go l.applyKeepAlive()
}

// applyKeepAlive tells keepAlive the latest state; calls are serialised,
// so the last one applies the last state whatever order they ran in.
func (l *addressLimitListener) applyKeepAlive() {
	l.applying.Lock()
	defer l.applying.Unlock()
	l.mu.Lock()
	on := !l.withoutIdle
	l.mu.Unlock()
	l.keepAlive(on)
}

// refuseConnection answers a connection over its address's share 503 and
// closes it: a client (a browser behind a NAT) reads why, where a bare
// close read as a reset.
func refuseConnection(c net.Conn) {
	defer c.Close()
	const body = `{"errors":[{"message":"Too many connections from your address; close some and retry.","extensions":{"code":"RATE_LIMITED"}}]}`
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// address is the key a connection counts under, and whether it counts:
// a trusted proxy's do not.
func (l *addressLimitListener) address(a net.Addr) (string, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String(), true
	}
	if isTrustedProxy(l.trusted, ap.Addr()) {
		return "", false
	}
	return httprate.CanonicalizeIP(ap.Addr().Unmap().String()), true
}

// addressConn gives its address's slot back when it closes (once, however
// often Close is called).
type addressConn struct {
	net.Conn
	release func()
}

func (c *addressConn) Close() error {
	c.release()
	return c.Conn.Close()
}
