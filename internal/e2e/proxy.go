// Package e2e holds the end-to-end tests that prove what the CLI guarantees
// under faults, bad input and around secrets (issue #8), and Proxy, the
// fault-injecting reverse proxy they put between the CLI and the sandbox.
//
// The sandbox's own knobs cover whole-frame websocket drops, failure bursts
// on every request, and latency; the proxy adds what they cannot: faults
// aimed at chosen requests (one GraphQL operation, the upload), websocket
// connections cut mid-frame, responses held back after the server has
// acted, answers that are not the API's (an HTML page) and the API going
// away and coming back on the same address.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request is what a rule sees of a request.
type Request struct {
	Method string
	Path   string
	// Op is the GraphQL operation name of a POST /graphql request ("" for
	// anything else).
	Op string
	// Upgrade is true for websocket upgrades.
	Upgrade bool
}

// Match selects requests.
type Match func(Request) bool

// Op matches GraphQL requests of the given operations.
func Op(names ...string) Match {
	return func(r Request) bool {
		for _, n := range names {
			if r.Op == n {
				return true
			}
		}
		return false
	}
}

// Upload matches configuration-version uploads.
func Upload() Match {
	return func(r Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.Path, "/configuration-versions/")
	}
}

// Any matches every request but websocket upgrades.
func Any() Match { return func(r Request) bool { return !r.Upgrade } }

// Response is a canned answer the proxy gives instead of the API's.
type Response struct {
	Status      int
	ContentType string // application/json when empty
	Body        string // {"detail": "<status text>"} when empty
	Header      http.Header
}

type rule struct {
	match Match
	left  int // answers left; <0: forever
	resp  Response
	stall *Stall
}

// Stall holds matching requests: before they reach the API (the server
// never sees them) or after the API answered (the server acted; the client
// does not know yet). Each stalled request waits until Release, or until
// the client gives up.
type Stall struct {
	after   bool
	stalled chan struct{} // receives once per stalled request
	release chan struct{}
	once    sync.Once
}

// Stalled receives a value each time a request is being held.
func (s *Stall) Stalled() <-chan struct{} { return s.stalled }

// Release lets every held (and future) request of this stall go on.
func (s *Stall) Release() { s.once.Do(func() { close(s.release) }) }

// Proxy is a reverse proxy on 127.0.0.1 in front of one API (HTTP and
// websocket pass-through) whose faults tests switch on and off while it
// runs. It answers the Terraform service discovery document with its own
// address, so uploads go through it too.
type Proxy struct {
	backend *url.URL
	rp      *httputil.ReverseProxy

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	srv      *http.Server
	up       bool
	rules    []*rule
	latency  time.Duration
	dropLeft int   // websocket connections left to cut
	dropAt   int64 // after this many bytes from the server
	hijacked map[net.Conn]struct{}
	counts   map[string]int
	served   chan struct{} // closed and replaced on every request
	wg       sync.WaitGroup
}

// NewProxy starts a proxy for the API at backendURL (http://host:port).
func NewProxy(backendURL string) (*Proxy, error) {
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("proxy: backend must be an http:// URL, not %q", backendURL)
	}
	p := &Proxy{backend: u, hijacked: map[net.Conn]struct{}{}, counts: map[string]int{}, served: make(chan struct{})}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = u.Host
		},
		ModifyResponse: p.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The client went away, or the API is down: what a real
			// gateway says.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"detail":%q}`, "bad gateway: "+err.Error())
		},
	}
	if err := p.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return p, nil
}

// URL is the proxy's address, to use as the API endpoint.
func (p *Proxy) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "http://" + p.addr
}

func (p *Proxy) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock()
	p.ln, p.srv, p.addr, p.up = ln, srv, ln.Addr().String(), true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = srv.Serve(ln)
	}()
	return nil
}

// Down makes the API vanish: the listener closes (new connections are
// refused) and every open connection, websockets included, is cut.
func (p *Proxy) Down() {
	p.mu.Lock()
	srv, conns := p.srv, p.hijacked
	p.hijacked = map[net.Conn]struct{}{}
	p.up = false
	p.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
}

// Up brings the API back on the same address after Down.
func (p *Proxy) Up(ctx context.Context) error {
	p.mu.Lock()
	addr, up := p.addr, p.up
	p.mu.Unlock()
	if up {
		return nil
	}
	// The port was just released; another process may grab it in theory,
	// in which case the test fails loudly here.
	var err error
	for range 50 {
		if err = p.listen(addr); err == nil {
			return nil
		}
		if !wait(ctx, 20*time.Millisecond, nil) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("proxy: listen again on %s: %w", addr, err)
}

// Restart is Down, a pause of d, then Up: what a client sees of an API
// process restarting behind a fixed address.
func (p *Proxy) Restart(ctx context.Context, d time.Duration) error {
	p.Down()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return p.Up(context.WithoutCancel(ctx))
}

// Close stops the proxy and waits for its goroutines.
func (p *Proxy) Close() {
	p.Down()
	p.wg.Wait()
}

// Respond answers the next n matching requests (n < 0: all of them) with
// resp instead of passing them on; the API never sees them.
func (p *Proxy) Respond(m Match, n int, resp Response) {
	p.addRule(&rule{match: m, left: n, resp: resp})
}

// Fail answers the next matching requests with these statuses, in order
// (e.g. 429, 503, 502): a burst of failures the API never saw.
func (p *Proxy) Fail(m Match, statuses ...int) {
	for _, st := range statuses {
		p.addRule(&rule{match: m, left: 1, resp: Response{Status: st}})
	}
}

// StallBefore holds the next n matching requests before they reach the API.
func (p *Proxy) StallBefore(m Match, n int) *Stall { return p.stall(m, n, false) }

// StallAfter passes the next n matching requests to the API and holds its
// answers back.
func (p *Proxy) StallAfter(m Match, n int) *Stall { return p.stall(m, n, true) }

func (p *Proxy) stall(m Match, n int, after bool) *Stall {
	s := &Stall{after: after, stalled: make(chan struct{}, 64), release: make(chan struct{})}
	p.addRule(&rule{match: m, left: n, stall: s})
	return s
}

// Latency delays every request (and websocket handshake) by d.
func (p *Proxy) Latency(d time.Duration) {
	p.mu.Lock()
	p.latency = d
	p.mu.Unlock()
}

// DropWebsockets cuts the next n websocket connections once the server has
// sent afterBytes bytes on each (the HTTP handshake included), wherever
// that falls, mid-frame most likely.
func (p *Proxy) DropWebsockets(afterBytes int64, n int) {
	p.mu.Lock()
	p.dropAt, p.dropLeft = afterBytes, n
	p.mu.Unlock()
}

// Reset removes every rule, the latency and pending websocket drops.
// Requests held by a stall stay held until released.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.rules, p.latency, p.dropLeft = nil, 0, 0
	p.mu.Unlock()
}

// Count returns how many requests the proxy received with this GraphQL
// operation name, or "upload", "websocket", "faulted" (answered by a
// rule), "dropped" (websockets cut) and "total".
func (p *Proxy) Count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[name]
}

// WaitFor blocks until cond (called under no lock) is true, re-checking
// after each request the proxy serves, or fails when ctx ends.
func (p *Proxy) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		ch := p.served
		p.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (p *Proxy) addRule(r *rule) {
	p.mu.Lock()
	p.rules = append(p.rules, r)
	p.mu.Unlock()
}

// take returns the first rule matching req and uses one of its answers.
func (p *Proxy) take(req Request) *rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.rules {
		if r.left == 0 || !r.match(req) {
			continue
		}
		if r.left > 0 {
			r.left--
		}
		if r.left == 0 {
			p.rules = append(p.rules[:i:i], p.rules[i+1:]...)
		}
		return r
	}
	return nil
}

func (p *Proxy) count(names ...string) {
	p.mu.Lock()
	for _, n := range names {
		if n != "" {
			p.counts[n]++
		}
	}
	close(p.served)
	p.served = make(chan struct{})
	p.mu.Unlock()
}

// describe reads what rules need to know, restoring the body.
func describe(r *http.Request) Request {
	req := Request{Method: r.Method, Path: r.URL.Path, Upgrade: isUpgrade(r)}
	if r.Method == http.MethodPost && r.URL.Path == "/graphql" && r.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		var q struct {
			OperationName string `json:"operationName"`
		}
		_ = json.Unmarshal(body, &q)
		req.Op = q.OperationName
	}
	return req
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	req := describe(r)
	kind := req.Op
	switch {
	case req.Upgrade:
		kind = "websocket"
	case Upload()(req):
		kind = "upload"
	}
	p.mu.Lock()
	lat := p.latency
	p.mu.Unlock()
	if lat > 0 && !wait(r.Context(), lat, nil) {
		p.count("total", kind)
		return
	}
	rl := p.take(req)
	if rl != nil && rl.stall == nil {
		p.count("total", kind, "faulted")
		writeCanned(w, rl.resp)
		return
	}
	var st *Stall
	if rl != nil {
		st = rl.stall
	}
	if st != nil && !st.after {
		st.stalled <- struct{}{}
		if !wait(r.Context(), 0, st.release) {
			p.count("total", kind, "faulted")
			return
		}
	}
	if req.Upgrade {
		p.count("total", kind)
		p.splice(w, r)
		return
	}
	if st != nil && st.after {
		r = r.WithContext(context.WithValue(r.Context(), stallKey{}, st))
	}
	p.rp.ServeHTTP(w, r)
	p.count("total", kind)
}

type stallKey struct{}

// wait sleeps d (when > 0) or until release is closed; false when the
// client gave up first.
func wait(ctx context.Context, d time.Duration, release <-chan struct{}) bool {
	var tc <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-tc:
	case <-release:
	}
	return true
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	if st, ok := resp.Request.Context().Value(stallKey{}).(*Stall); ok {
		st.stalled <- struct{}{}
		if !wait(resp.Request.Context(), 0, st.release) {
			return resp.Request.Context().Err()
		}
	}
	if resp.Request.URL.Path == "/.well-known/terraform.json" && resp.StatusCode == http.StatusOK {
		// Service URLs name the API's own address; a gateway in front of
		// it is configured to advertise its public one instead.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		body = bytes.ReplaceAll(body, []byte(p.backend.Scheme+"://"+p.backend.Host), []byte(p.URL()))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
	}
	return nil
}

func writeCanned(w http.ResponseWriter, r Response) {
	for k, vs := range r.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	ct, body := r.ContentType, r.Body
	if ct == "" {
		ct = "application/json"
	}
	if body == "" {
		body = fmt.Sprintf(`{"detail":%q}`, strings.ToLower(http.StatusText(r.Status)))
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, body)
}

// splice passes a websocket upgrade through as raw bytes in both
// directions, cutting the connection when a drop is due.
func (p *Proxy) splice(w http.ResponseWriter, r *http.Request) {
	back, err := net.DialTimeout("tcp", p.backend.Host, 5*time.Second)
	if err != nil {
		writeCanned(w, Response{Status: http.StatusBadGateway})
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		back.Close()
		return
	}
	p.mu.Lock()
	if !p.up {
		p.mu.Unlock()
		client.Close()
		back.Close()
		return
	}
	p.hijacked[client] = struct{}{}
	p.hijacked[back] = struct{}{}
	limit := p.dropAt
	if p.dropLeft <= 0 {
		limit = -1
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.hijacked, client)
		delete(p.hijacked, back)
		p.mu.Unlock()
	}()

	out := r.Clone(context.Background())
	out.Host = p.backend.Host
	out.RequestURI = ""
	if err := out.Write(back); err != nil {
		client.Close()
		back.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(back, io.MultiReader(bufferedReader(brw), client))
		// The client is gone: end the server side too.
		back.Close()
	}()
	var sent int64
	buf := make([]byte, 32<<10)
	for {
		n, err := back.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			cut := limit >= 0 && sent+int64(n) >= limit && p.claimDrop()
			if cut {
				chunk = chunk[:max(limit-sent, 0)]
			}
			if _, werr := client.Write(chunk); werr != nil {
				break
			}
			sent += int64(len(chunk))
			if cut {
				p.count("dropped")
				break
			}
			if limit >= 0 && sent >= limit {
				limit = -1 // past the threshold with no drop left: pass through
			}
		}
		if err != nil {
			break
		}
	}
	client.Close()
	back.Close()
	<-done
}

// claimDrop uses one of the pending websocket drops; false when none is
// left (another connection took the last one).
func (p *Proxy) claimDrop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropLeft <= 0 {
		return false
	}
	p.dropLeft--
	return true
}

// bufferedReader returns what the server already read past the request
// headers (nothing, normally, for a websocket client waiting for 101).
func bufferedReader(brw *bufio.ReadWriter) io.Reader {
	if brw == nil || brw.Reader.Buffered() == 0 {
		return bytes.NewReader(nil)
	}
	b, _ := brw.Reader.Peek(brw.Reader.Buffered())
	return bytes.NewReader(append([]byte(nil), b...))
}
