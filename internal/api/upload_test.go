package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var cvGID = gid("C", "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")

// uploadServer is a fake of the discovery document and the upload route.
type uploadServer struct {
	t          *testing.T
	discovery  func(w http.ResponseWriter) // nil = 404
	discovered atomic.Int32
	uploads    atomic.Int32
	prefix     string // where the tfe.v2 routes live

	mu       sync.Mutex
	want     []byte // expected body
	uploaded bool
	// failFirst makes the first attempt fail after reading the body:
	// "before" = without storing, "after" = storing, then losing the answer.
	failFirst string
}

func (u *uploadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := u.t
	if r.URL.Path == "/.well-known/terraform.json" {
		u.discovered.Add(1)
		if r.Header.Get("Authorization") == "" {
			t.Errorf("discovery without the bearer token")
		}
		if u.discovery == nil {
			http.NotFound(w, r)
			return
		}
		u.discovery(w)
		return
	}
	wantPath := u.prefix + "workspaces/" + wsGID + "/configuration-versions/" + cvGID + "/upload"
	if r.URL.Path != wantPath || r.Method != http.MethodPut {
		t.Errorf("request %s %s, want PUT %s", r.Method, r.URL.Path, wantPath)
		http.NotFound(w, r)
		return
	}
	n := u.uploads.Add(1)
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("Content-Type = %q", got)
	}
	if len(r.TransferEncoding) > 0 {
		t.Errorf("chunked upload; want a Content-Length")
	}
	u.mu.Lock()
	want := u.want
	u.mu.Unlock()
	if got := r.Header.Get("Content-Length"); got != strconv.Itoa(len(want)) {
		t.Errorf("Content-Length = %q, want %d", got, len(want))
	}
	h := sha256.New()
	size, err := io.Copy(h, r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
		return
	}
	if sum := sha256.Sum256(want); !bytes.Equal(h.Sum(nil), sum[:]) || size != int64(len(want)) {
		t.Errorf("attempt %d: body hash or size (%d) differs", n, size)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if n == 1 && u.failFirst == "before" {
		writeJSON(w, 502, `{"detail":"bad gateway"}`)
		return
	}
	if u.uploaded {
		writeJSON(w, 409, `{"detail":"configuration version is already uploaded"}`)
		return
	}
	u.uploaded = true
	if n == 1 && u.failFirst == "after" {
		writeJSON(w, 503, `{"detail":"lost answer"}`)
		return
	}
	w.WriteHeader(200)
}

func newUploadServer(t *testing.T, body []byte) (*uploadServer, *httptest.Server) {
	u := &uploadServer{t: t, want: body, prefix: "/tfe/v2/"}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return u, srv
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// tempFile writes data after a prefix, positioned at the data's start.
func tempFile(t *testing.T, prefix, data []byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "config.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(append(append([]byte{}, prefix...), data...)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUploadConfigurationVersion(t *testing.T) {
	data := randomBytes(3<<20 + 17)
	u, srv := newUploadServer(t, data)
	u.discovery = func(w http.ResponseWriter) {
		// A relative URL, as Terraform's service discovery allows.
		writeJSON(w, 200, `{"modules.v1":"/v1/module-registry/modules/","tfe.v2":"/tfe/v2/","tfe.v2.1":"/tfe/v2/"}`)
	}
	var logs syncBuffer
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Logger = debugLogger(&logs) })
	ctx := context.Background()

	// From a file whose position is not 0: the upload starts there.
	f := tempFile(t, []byte("prefix-not-uploaded"), data)
	if err := c.UploadConfigurationVersion(ctx, wsGID, cvGID, f, int64(len(data))); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if u.uploads.Load() != 1 {
		t.Fatalf("uploads = %d", u.uploads.Load())
	}

	// Uploading again is a conflict, with the discovery cached.
	err := c.UploadConfigurationVersion(ctx, wsGID, cvGID, bytes.NewReader(data), int64(len(data)))
	e := asAPIError(t, err)
	if e.Kind != KindConflict || e.Message != "configuration version was already uploaded" || e.StatusCode != 409 {
		t.Fatalf("second upload: %+v", e)
	}
	if u.discovered.Load() != 1 {
		t.Fatalf("discovery fetched %d times, want 1 (cached)", u.discovered.Load())
	}
	if out := logs.String(); !strings.Contains(out, "api: upload") || strings.Contains(out, testToken) {
		t.Fatalf("debug log without the upload, or with the token:\n%s", out)
	}
}

func TestUploadDiscovery(t *testing.T) {
	data := []byte("tarball")
	tests := []struct {
		name      string
		discovery func(w http.ResponseWriter)
		prefix    string
		wantErr   string
	}{
		{name: "404 falls back", discovery: nil, prefix: "/tfe/v2/"},
		{name: "absolute without slash", prefix: "/custom/tfe/", discovery: nil},
		{name: "no tfe.v2 key", prefix: "/tfe/v2/", discovery: func(w http.ResponseWriter) { writeJSON(w, 200, `{"modules.v1":"/v1/"}`) }},
		{name: "html", prefix: "/tfe/v2/", discovery: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>login</html>")
		}, wantErr: "did not answer like a Tharsis API"},
		{name: "forbidden", prefix: "/tfe/v2/", discovery: func(w http.ResponseWriter) { writeJSON(w, 403, `{"detail":"blocked"}`) }, wantErr: "blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, srv := newUploadServer(t, data)
			u.prefix = tt.prefix
			u.discovery = tt.discovery
			if tt.name == "absolute without slash" {
				u.discovery = func(w http.ResponseWriter) {
					writeJSON(w, 200, `{"tfe.v2":"`+srv.URL+`/custom/tfe"}`)
				}
			}
			c := newTestClient(t, srv.URL, nil)
			err := c.UploadConfigurationVersion(context.Background(), wsGID, cvGID, bytes.NewReader(data), int64(len(data)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || u.uploads.Load() != 0 {
					t.Fatalf("err = %v, uploads = %d", err, u.uploads.Load())
				}
				return
			}
			if err != nil || u.uploads.Load() != 1 {
				t.Fatalf("err = %v, uploads = %d", err, u.uploads.Load())
			}
		})
	}
}

func TestUploadRetries(t *testing.T) {
	data := randomBytes(256 << 10)
	for _, mode := range []string{"before", "after"} {
		t.Run(mode, func(t *testing.T) {
			u, srv := newUploadServer(t, data)
			u.failFirst = mode
			c := newTestClient(t, srv.URL, nil)
			f := tempFile(t, nil, data)
			// A 409 after a lost answer means the first attempt got through.
			if err := c.UploadConfigurationVersion(context.Background(), wsGID, cvGID, f, int64(len(data))); err != nil {
				t.Fatalf("upload: %v", err)
			}
			if u.uploads.Load() != 2 {
				t.Fatalf("attempts = %d, want 2", u.uploads.Load())
			}
		})
	}
	// A reader without ReaderAt is rewound with Seek.
	u, srv := newUploadServer(t, data)
	u.failFirst = "before"
	c := newTestClient(t, srv.URL, nil)
	if err := c.UploadConfigurationVersion(context.Background(), wsGID, cvGID, &seekOnly{r: bytes.NewReader(data)}, int64(len(data))); err != nil || u.uploads.Load() != 2 {
		t.Fatalf("seek-only upload: %v, attempts %d", err, u.uploads.Load())
	}
}

type seekOnly struct{ r *bytes.Reader }

func (s *seekOnly) Read(p []byte) (int, error)                { return s.r.Read(p) }
func (s *seekOnly) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

func TestUploadGivesUp(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/terraform.json" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, 503, `{"detail":"object store unavailable"}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	err := c.UploadConfigurationVersion(context.Background(), wsGID, cvGID, bytes.NewReader([]byte("x")), 1)
	e := asAPIError(t, err)
	if e.Kind != KindTransient || !strings.Contains(e.Message, "object store unavailable") || hits.Load() != 4 {
		t.Fatalf("err = %+v, hits = %d", e, hits.Load())
	}
}

// blockingReader yields the first part, then waits until the server has
// received it before yielding the rest: it deadlocks unless the body is
// streamed.
type blockingReader struct {
	first, rest []byte
	release     <-chan struct{}
	off         int64
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.off < int64(len(b.first)) {
		n := copy(p, b.first[b.off:])
		b.off += int64(n)
		return n, nil
	}
	if b.off == int64(len(b.first)) {
		select {
		case <-b.release:
		case <-time.After(30 * time.Second):
			return 0, errors.New("the server never saw the first part: the body was not streamed")
		}
	}
	i := b.off - int64(len(b.first))
	if i >= int64(len(b.rest)) {
		return 0, io.EOF
	}
	n := copy(p, b.rest[i:])
	b.off += int64(n)
	return n, nil
}

func (b *blockingReader) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent && off == 0 {
		return b.off, nil
	}
	if whence != io.SeekStart {
		return 0, errors.New("unsupported")
	}
	b.off = off
	return off, nil
}

func TestUploadStreams(t *testing.T) {
	first, rest := randomBytes(1<<20), []byte("the rest of the archive")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/terraform.json" {
			http.NotFound(w, r)
			return
		}
		got := make([]byte, len(first))
		if _, err := io.ReadFull(r.Body, got); err != nil || !bytes.Equal(got, first) {
			t.Errorf("first part: %v", err)
		}
		close(release)
		tail, _ := io.ReadAll(r.Body)
		if !bytes.Equal(tail, rest) {
			t.Errorf("tail = %q", tail)
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	body := &blockingReader{first: first, rest: rest, release: release}
	if err := c.UploadConfigurationVersion(context.Background(), wsGID, cvGID, body, int64(len(first)+len(rest))); err != nil {
		t.Fatal(err)
	}
}

func TestUploadModuleVersion(t *testing.T) {
	data := randomBytes(1000)
	mvGID := gid("TMV", "0d9e3f4a-1b2c-4d5e-8f90-123456789abd")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method != http.MethodPut || r.URL.Path != "/v1/module-registry/versions/"+mvGID+"/upload" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		if !bytes.Equal(body, data) || r.ContentLength != int64(len(data)) {
			t.Errorf("body differs")
		}
		if hits.Load() == 2 {
			writeJSON(w, 413, `{"detail":"upload failed, module size exceeds maximum size of 10 bytes"}`)
			return
		}
		writeJSON(w, 200, `{}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if err := c.UploadModuleVersion(context.Background(), mvGID, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	err := c.UploadModuleVersion(context.Background(), mvGID, bytes.NewReader(data), int64(len(data)))
	if e := asAPIError(t, err); e.Kind != KindBadRequest || e.StatusCode != 413 || !strings.Contains(e.Message, "exceeds maximum size") {
		t.Fatalf("413: %+v", e)
	}
}

func TestUploadRejectsBadIDs(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", nil)
	ctx := context.Background()
	for _, err := range []error{
		c.UploadConfigurationVersion(ctx, wsGID, "trn:configuration_version:a/b/x", bytes.NewReader(nil), 0),
		c.UploadConfigurationVersion(ctx, "a/b", cvGID, bytes.NewReader(nil), 0),
		c.UploadModuleVersion(ctx, "mod", bytes.NewReader(nil), 0),
		c.UploadConfigurationVersion(ctx, wsGID, cvGID, bytes.NewReader(nil), -1),
	} {
		if KindOf(err) != KindBadRequest {
			t.Fatalf("err = %v", err)
		}
	}
}
