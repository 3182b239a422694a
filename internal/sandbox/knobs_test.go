package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func (h *harness) admin(method, path, body string, key string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.s.URL()+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set(AdminKeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestAdminEndpoint(t *testing.T) {
	h := start(t)
	if st, _ := h.admin(http.MethodGet, "/_sandbox/knobs", "", "wrong"); st != 401 {
		t.Fatalf("wrong key: %d", st)
	}
	st, k := h.admin(http.MethodGet, "/_sandbox/knobs", "", h.s.AdminKey())
	if st != 200 || k["forceCancelDelay"] != "1m0s" || k["maxLogBytes"] != float64(defaultMaxLogBytes) {
		t.Fatalf("knobs %d %v", st, k)
	}
	st, k = h.admin(http.MethodPut, "/_sandbox/knobs", `{"failPlan": true, "jobDuration": "1ms", "httpFailures": [429, 503]}`, h.s.AdminKey())
	if st != 200 || k["failPlan"] != true || k["jobDuration"] != "1ms" || k["forceCancelDelay"] != "1m0s" {
		t.Fatalf("put knobs %d %v", st, k)
	}
	if got := h.s.Knobs(); !got.FailPlan || got.JobDuration != time.Millisecond {
		t.Fatalf("knobs = %+v", got)
	}
	if st, _ := h.admin(http.MethodPut, "/_sandbox/knobs", `{"jobDuration": "soon"}`, h.s.AdminKey()); st != 400 {
		t.Fatalf("bad duration: %d", st)
	}

	// The failure burst answers the next two requests, then clears.
	for _, want := range []int{429, 503, 200} {
		r := h.gql(`query Probe { version { version } }`, nil)
		_ = r
		if r.Status != want {
			t.Fatalf("status %d, want %d", r.Status, want)
		}
	}
	// /health is never failed; request counts by operation name.
	st, counts := h.admin(http.MethodGet, "/_sandbox/requests", "", h.s.AdminKey())
	if st != 200 || counts["Probe"] != float64(1) || counts["http_failure"] != float64(2) || h.s.RequestCount("Probe") != 1 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestLatencyKnob(t *testing.T) {
	h := start(t, func(k *Knobs) { k.Latency = 50 * time.Millisecond })
	// Correctness only: requests still succeed with added latency.
	if r := h.gql(`query { version { version } }`, nil); r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
}

func TestKnobsJSONRoundTrip(t *testing.T) {
	in := Knobs{JobDuration: 1500 * time.Millisecond, ForceCancelDelay: 2 * time.Second, LogVolumeBytes: 10,
		FailApply: true, HTTPFailures: []int{502}, Latency: time.Millisecond, RequireRunnerServiceAccount: true, MaxLogBytes: 99}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Knobs
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(out)
	if string(b) != string(b2) {
		t.Fatalf("round trip %s != %s", b, b2)
	}
}
