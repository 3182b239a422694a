package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRunPrintsEnvironmentAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--port", "0", "--job-duration", "0s", "--http-failures", "503"}, pw, io.Discard)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var endpoint, token string
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			for _, f := range strings.Fields(rest) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "THARSIS_ENDPOINT":
					endpoint = v
				case "THARSIS_STATIC_TOKEN":
					token = v
				}
			}
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || token == "" {
		t.Fatalf("endpoint %q token %q", endpoint, token)
	}
	get := func() int {
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/graphql", strings.NewReader(`{"query":"{ me { __typename } }"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != 503 {
		t.Fatalf("first request %d, want the 503 of --http-failures", st)
	}
	if st := get(); st != 200 {
		t.Fatalf("second request %d", st)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--http-failures", "abc"}, {"--state-dir", "/tmp/x"}, {"extra"}, {"--nope"}} {
		if code := run(t.Context(), args, io.Discard, io.Discard); code != 64 {
			t.Errorf("%v: exit %d, want 64", args, code)
		}
	}
}
