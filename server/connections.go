package server

import (
	"net"
	"net/netip"
	"sync"

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
// and per client address.
func (s *Server) limitConnections(ln net.Listener) net.Listener {
	total, perAddress := s.cfg.MaxConns, s.cfg.MaxConnsPerAddress
	if total == 0 {
		total = DefaultMaxConns
	}
	if perAddress == 0 {
		perAddress = DefaultMaxConnsPerAddress
	}
	return &addressLimitListener{Listener: netutil.LimitListener(ln, total), max: perAddress,
		trusted: s.cfg.TrustedProxies, open: map[string]int{}}
}

// addressLimitListener closes a new connection at once when its address
// already holds max open ones.
type addressLimitListener struct {
	net.Listener
	max     int
	trusted []netip.Prefix
	mu      sync.Mutex
	open    map[string]int
}

func (l *addressLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.address(c.RemoteAddr())
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.mu.Unlock()
			_ = c.Close() // refused: the client already holds its share
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &addressConn{Conn: c, release: sync.OnceFunc(func() { l.release(key) })}, nil
	}
}

func (l *addressLimitListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// address is the key a connection counts under, and whether it counts:
// a trusted proxy's do not.
func (l *addressLimitListener) address(a net.Addr) (string, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String(), true
	}
	for _, p := range l.trusted {
		if p.Contains(ap.Addr().Unmap()) {
			return "", false
		}
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
