package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestJobLogsPaging(t *testing.T) {
	h := start(t, func(k *Knobs) { k.LogVolumeBytes = 3 << 20 })
	id := h.newRun(true, nil)
	h.waitStatus(id, runPlannedAndFinished)
	job := toGID(gidJob, h.latestJob(id).ID)
	full := h.s.JobLog(job)
	if len(full) < 3<<20 {
		t.Fatalf("log is %d bytes, want the filler", len(full))
	}
	const q = `query($id: String!, $o: Int!, $l: Int!) { node(id: $id) { ... on Job { logSize logs(startOffset: $o, limit: $l) } } }`

	// Page through by bytes and get the log back exactly.
	var got []byte
	for off := 0; off < len(full); {
		d := h.ok(h.gql(q, map[string]any{"id": job, "o": off, "l": maxLogReadBytes}))
		page := str(d, "node", "logs")
		n := min(maxLogReadBytes, len(full)-off)
		// A page boundary may split a multi-byte character (JSON then
		// carries U+FFFD), so compare by the bytes stored.
		if !bytes.Equal([]byte(page), full[off:off+n]) && !strings.ContainsRune(page, '\uFFFD') {
			t.Fatalf("page at %d differs", off)
		}
		got = append(got, full[off:off+n]...)
		off += n
	}
	if !bytes.Equal(got, full) {
		t.Fatal("paged log differs")
	}

	tests := []struct {
		name        string
		offset, lim int
		want        string
		code        string
		msg         string
	}{
		{name: "limit over 1 MiB", offset: 0, lim: maxLogReadBytes + 1, code: "BAD_REQUEST", msg: "log read limit of 1048577 bytes exceeds the maximum of 1048576 bytes"},
		{name: "negative offset", offset: -1, lim: 10, code: "BAD_REQUEST", msg: "limit and offset cannot be negative"},
		{name: "zero limit", offset: 0, lim: 0, want: ""},
		{name: "past the end", offset: len(full) + 10, lim: 10, want: ""},
		{name: "middle", offset: 5, lim: 7, want: string(full[5:12])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.gql(q, map[string]any{"id": job, "o": tc.offset, "l": tc.lim})
			if tc.code != "" {
				if r.code() != tc.code || r.Errors[0].Message != tc.msg || dig(r.Data, "node") != nil {
					t.Fatalf("got %s", r.Raw)
				}
				return
			}
			if got := str(h.ok(r), "node", "logs"); got != tc.want {
				t.Fatalf("logs = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogTruncation(t *testing.T) {
	h := start(t, func(k *Knobs) { k.MaxLogBytes = 1000; k.LogVolumeBytes = 5000 })
	id := h.newRun(true, nil)
	h.waitStatus(id, runPlannedAndFinished)
	j := h.latestJob(id)
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on Job { logSize logTruncated completed } } }`, map[string]any{"id": toGID(gidJob, j.ID)}))
	if dig(d, "node", "logSize") != float64(1000) || dig(d, "node", "logTruncated") != true || dig(d, "node", "completed") != true {
		t.Fatalf("job = %v", d["node"])
	}
}

func TestLogStreamReplayAndCompletion(t *testing.T) {
	h := start(t, func(k *Knobs) { k.LogVolumeBytes = 2<<20 + 100 })
	id := h.newRun(true, nil)
	h.waitStatus(id, runPlannedAndFinished)
	j := h.latestJob(id)
	full := h.s.JobLog(toGID(gidJob, j.ID))
	for _, from := range []int{0, 10, len(full)} {
		out := make(chan logEvent)
		go h.s.streamLogs(t.Context(), j.ID, &from, out)
		var got []byte
		var last logEvent
		n := 0
		for ev := range out {
			n++
			if last.completed {
				t.Fatal("event after completion")
			}
			if ev.logs != nil {
				if ev.offset != from+len(got) || len(*ev.logs) > maxLogReadBytes || ev.size != ev.offset+len(*ev.logs) {
					t.Fatalf("event offset %d size %d len %d", ev.offset, ev.size, len(*ev.logs))
				}
				got = append(got, *ev.logs...)
			}
			last = ev
		}
		if !last.completed || last.logs != nil || last.size != len(full) {
			t.Fatalf("last event = %+v", last)
		}
		if !bytes.Equal(got, full[from:]) {
			t.Fatalf("replay from %d differs", from)
		}
	}
}

func TestLogStreamLive(t *testing.T) {
	h := start(t, func(k *Knobs) { k.JobDuration = time.Hour })
	id := h.newRun(true, nil)
	j := h.waitJob(id, "plan", jobRunning)
	from := 0
	out := make(chan logEvent)
	go h.s.streamLogs(t.Context(), j.ID, &from, out)
	ev := <-out
	if ev.logs == nil || ev.offset != 0 {
		t.Fatalf("first event = %+v", ev)
	}
	h.noProblems(h.runAction("cancelRun", "CancelRunInput", id, nil))
	var last logEvent
	for ev := range out {
		last = ev
	}
	if !last.completed {
		t.Fatal("stream did not complete after the cancel")
	}
}

func TestRoles(t *testing.T) {
	h := start(t)
	viewer, err := h.s.CreateUser("vera", false)
	if err != nil {
		t.Fatal(err)
	}
	deployer, _ := h.s.CreateUser("dan", false)
	stranger, _ := h.s.CreateUser("sam", false)
	if err := h.s.AddMembership(SeedGroup, "user", "vera", "viewer"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.AddMembership(SeedWorkspace, "user", "dan", "deployer"); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetNamespaceVariable(SeedGroup, "terraform", "secret", "s3cr3t", true); err != nil {
		t.Fatal(err)
	}
	id := h.newRun(false, map[string]any{"variables": []map[string]any{{"category": "terraform", "key": "name", "value": "vera"}}})
	h.waitStatus(id, runPlanned)
	cv := h.ConfigurationVersion()

	// Viewer: can see, cannot create runs, sees no values.
	p := h.createRunAs(viewer, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv})
	if typ, msg := problemOf(p); typ != "FORBIDDEN" || !strings.Contains(msg, "user vera@sandbox.local is not authorized") {
		t.Fatalf("viewer createRun: %s %s", typ, msg)
	}
	const varsQ = `query($id: String!) { node(id: $id) { ... on Run { id variables { key value sensitive namespacePath versionId } } } }`
	d := h.ok(h.gqlAs(viewer, varsQ, map[string]any{"id": id}))
	vars := dig(d, "node", "variables").([]any)
	if len(vars) != 2 {
		t.Fatalf("variables = %v", vars)
	}
	for _, v := range vars {
		if dig(v, "value") != nil {
			t.Fatalf("viewer sees a value: %v", v)
		}
	}
	r := h.gqlAs(viewer, `query($id: String!) { node(id: $id) { ... on Run { sensitiveVariableValues { value } } } }`, map[string]any{"id": id})
	if r.code() != "FORBIDDEN" || r.Errors[0].Message != "caller does not have permission to view sensitive variable values" {
		t.Fatalf("viewer sensitive values: %s", r.Raw)
	}
	p = h.runAction("cancelRun", "CancelRunInput", id, nil)
	_ = p

	// Deployer (on the workspace only): sees values, but not sensitive ones in variables.
	d = h.ok(h.gqlAs(deployer, varsQ, map[string]any{"id": id}))
	vars = dig(d, "node", "variables").([]any)
	// Run-level variables come first.
	if str(vars[0], "key") != "name" || str(vars[0], "value") != "vera" || dig(vars[0], "namespacePath") != nil {
		t.Fatalf("run variable = %v", vars[0])
	}
	if str(vars[1], "key") != "secret" || dig(vars[1], "value") != nil || dig(vars[1], "sensitive") != true || str(vars[1], "namespacePath") != SeedGroup {
		t.Fatalf("sensitive variable = %v", vars[1])
	}
	d = h.ok(h.gqlAs(deployer, `query($id: String!) { node(id: $id) { ... on Run { sensitiveVariableValues { versionId value } } } }`, map[string]any{"id": id}))
	if sv := dig(d, "node", "sensitiveVariableValues").([]any); len(sv) != 1 || str(sv[0], "value") != "s3cr3t" || str(sv[0], "versionId") != str(vars[1], "versionId") {
		t.Fatalf("sensitive values = %v", sv)
	}
	// A deployer cannot create runners (owner only) and sees no parent group.
	p = h.mutation(deployer, "createRunner", "CreateRunnerInput", "runner { id }", map[string]any{
		"name": "r1", "description": "", "groupId": "trn:group:" + SeedGroup, "runUntaggedJobs": true, "tags": []string{}})
	if typ, _ := problemOf(p); typ != "NOT_FOUND" {
		t.Fatalf("deployer on the workspace creating a group runner: %s", typ)
	}

	// No membership: lookups are null, mutations NOT_FOUND.
	d = h.ok(h.gqlAs(stranger, `query { node(id: "trn:workspace:sandbox/demo") { id } namespace(fullPath: "sandbox") { id } }`, nil))
	if d["node"] != nil || d["namespace"] != nil {
		t.Fatalf("stranger sees %v", d)
	}
	p = h.createRunAs(stranger, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv})
	if typ, msg := problemOf(p); typ != "NOT_FOUND" || !strings.HasPrefix(msg, "either the requested resource does not exist") {
		t.Fatalf("stranger createRun: %s %s", typ, msg)
	}
	d = h.ok(h.gqlAs(stranger, `query { workspaces(first: 10) { totalCount } }`, nil))
	if dig(d, "workspaces", "totalCount") != float64(0) {
		t.Fatalf("stranger lists %v", d)
	}

	// Service account members.
	saPath, err := h.s.CreateServiceAccount(SeedGroup, "ci")
	if err != nil {
		t.Fatal(err)
	}
	saTok, _ := h.s.IssueServiceAccountToken(saPath, 0)
	r = h.gqlAs(saTok, `query { me { ... on ServiceAccount { resourcePath } } node(id: "trn:workspace:sandbox/demo") { id } }`, nil)
	if d := h.ok(r); str(d, "me", "resourcePath") != saPath || d["node"] != nil {
		t.Fatalf("service account without membership: %s", r.Raw)
	}
	if err := h.s.AddMembership(SeedWorkspace, "service_account", saPath, "deployer"); err != nil {
		t.Fatal(err)
	}
	p = h.createRunAs(saTok, map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace, "configurationVersionId": cv, "speculative": true})
	h.noProblems(p)
	if r := h.run(str(p, "run", "id")); r.CreatedBy != saPath {
		t.Fatalf("createdBy = %q", r.CreatedBy)
	}
	r = h.gqlAs(saTok, `query { runs(first: 1) { totalCount } }`, nil)
	if r.code() != "FORBIDDEN" {
		t.Fatalf("service account runs without workspace: %s", r.Raw)
	}
}

// ConfigurationVersion returns the newest configuration version of the seed workspace.
func (h *harness) ConfigurationVersion() string {
	cvs := h.s.ConfigurationVersions(SeedWorkspace)
	return toGID(gidConfigVersion, cvs[len(cvs)-1].ID)
}

func TestAuthentication(t *testing.T) {
	h := start(t)
	expired, err := h.s.IssueToken(SeedAdmin, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, msg string
	}{
		{"expired", expired, "token is expired"},
		{"garbage", "not-a-jwt", ""},
		{"none", "", "Authorization is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.gqlAs(tc.token, `query { me { __typename } }`, nil)
			if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" || (tc.msg != "" && r.Errors[0].Message != tc.msg) {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
		})
	}
	// An anonymous query of a public field works.
	if r := h.gqlAs("", `query { authSettings { authType } terraformCLIVersions { versions } }`, nil); r.Status != 200 || str(r.Data, "authSettings", "authType") != "BASIC" {
		t.Fatalf("anonymous: %s", r.Raw)
	}
	// Mutations without a caller are top-level errors, not problems.
	r := h.gqlAs(expired, `mutation { lockWorkspace(input: {workspaceId: "trn:workspace:sandbox/demo"}) { problems { message } } }`, nil)
	if r.Status != http.StatusUnauthorized || r.Data != nil {
		t.Fatalf("mutation with an expired token: %d %s", r.Status, r.Raw)
	}
}

func TestHTTPTransport(t *testing.T) {
	h := start(t)
	do := func(method, ct, body string) (int, string) {
		req, _ := http.NewRequest(method, h.s.URL()+"/graphql", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", "Bearer "+h.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, ct, body string
		status                 int
		want                   string
	}{
		{"put", http.MethodPut, "application/json", `{}`, 405, `"only POST or GET requests are supported"`},
		{"bad content type", http.MethodPost, "text/plain", `{"query":"{ me { __typename } }"}`, 400, `"error"`},
		{"empty body", http.MethodPost, "application/json", ``, 400, `no queries to execute`},
		{"not json", http.MethodPost, "application/json", `{nope`, 400, `"error"`},
		{"batch", http.MethodPost, "application/json", `[{"query":"{ me { __typename } }"},{"query":"{ version { version } }"}]`, 200, `[{"data":{"me":{"__typename":"User"}}`},
		{"syntax error", http.MethodPost, "application/json", `{"query":"{ me { "}`, 200, `"code":"BAD_REQUEST"`},
		{"unknown field", http.MethodPost, "application/json", `{"query":"{ nope }"}`, 200, `"code":"BAD_REQUEST"`},
		{"bare path as id", http.MethodPost, "application/json", `{"query":"{ node(id: \"sandbox/demo\") { id } }"}`, 200, `invalid identifier format`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := do(tc.method, tc.ct, tc.body)
			if st != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s", st, body)
			}
		})
	}
	r := h.gql(`query { version { version } }`, nil)
	if dig(r.Extensions, "cost", "throttled") != false {
		t.Fatalf("no cost extension: %s", r.Raw)
	}
}

func TestIdentifiers(t *testing.T) {
	h := start(t)
	id := h.newRun(false, nil)
	r := h.waitStatus(id, runPlanned)
	wsGID := h.wsGID(SeedWorkspace)
	tests := []struct {
		id, typename string
	}{
		{"trn:workspace:sandbox/demo", "Workspace"},
		{wsGID, "Workspace"},
		{"trn:group:sandbox", "Group"},
		{id, "Run"},
		{"trn:run:sandbox/demo/" + id, "Run"},
		{toGID(gidPlan, r.Plan.ID), "Run"},
		{"trn:apply:sandbox/demo/" + id + "/apply", "Run"},
		{toGID(gidJob, h.latestJob(id).ID), "Job"},
		{"trn:job:sandbox/demo/" + toGID(gidJob, h.latestJob(id).ID), "Job"},
		{"trn:configuration_version:sandbox/demo/" + h.ConfigurationVersion(), "ConfigurationVersion"},
		{"trn:user:admin", "User"},
		{"trn:role:viewer", "Role"},
		{"trn:runner:" + SeedRunner, "Runner"},
		{"trn:workspace:sandbox/nope", ""},
		{toGID(gidRun, "0d9e3f4a-1b2c-4d5e-8f90-123456789abc"), ""},
	}
	for _, tc := range tests {
		d := h.ok(h.gql(`query($id: String!) { node(id: $id) { __typename id } }`, map[string]any{"id": tc.id}))
		if got := str(d, "node", "__typename"); got != tc.typename {
			t.Errorf("node(%s) = %q, want %q", tc.id, got, tc.typename)
		}
	}
	d := h.ok(h.gql(`query { node(id: "trn:workspace:sandbox/demo") { ... on Workspace { id metadata { trn } fullPath groupPath } } }`, nil))
	if str(d, "node", "id") != wsGID || str(d, "node", "metadata", "trn") != "trn:workspace:sandbox/demo" || str(d, "node", "groupPath") != SeedGroup {
		t.Fatalf("workspace = %v", d)
	}
	// A bare path in an id argument of a mutation is a BAD_REQUEST problem.
	p := h.mutation(h.token, "lockWorkspace", "LockWorkspaceInput", "workspace { id }", map[string]any{"workspaceId": "sandbox/demo"})
	if typ, _ := problemOf(p); typ != "BAD_REQUEST" {
		t.Fatalf("bare path: %s", typ)
	}
}

func TestPagination(t *testing.T) {
	h := start(t)
	var ids []string
	for range 5 {
		id := h.newRun(true, nil)
		h.waitStatus(id, runPlannedAndFinished)
		ids = append(ids, id)
	}
	const q = `query($ws: String!, $first: Int, $last: Int, $after: String, $before: String, $sort: RunSort) {
	  runs(workspaceId: $ws, first: $first, last: $last, after: $after, before: $before, sort: $sort) {
	    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { cursor node { id } } } }`
	ws := "trn:workspace:" + SeedWorkspace
	bad := []struct {
		vars map[string]any
		msg  string
	}{
		{map[string]any{"ws": ws}, "invalid args: either first or last must be specified"},
		{map[string]any{"ws": ws, "first": 1, "last": 1}, "invalid args: only first or last can be used"},
		{map[string]any{"ws": ws, "first": 101}, "invalid args: first must be between 0-100"},
		{map[string]any{"ws": ws, "first": -1}, "invalid args: first must be between 0-100"},
		{map[string]any{"ws": ws, "last": 101}, "invalid args: last must be between 0-100"},
	}
	for _, b := range bad {
		r := h.gql(q, b.vars)
		if r.code() != "BAD_REQUEST" || r.Errors[0].Message != b.msg {
			t.Errorf("%v: %s", b.vars, r.Raw)
		}
	}
	// Newest first, two at a time.
	var got []string
	var after any
	for {
		d := h.ok(h.gql(q, map[string]any{"ws": ws, "first": 2, "after": after, "sort": "CREATED_AT_DESC"}))
		if dig(d, "runs", "totalCount") != float64(5) {
			t.Fatalf("totalCount = %v", dig(d, "runs", "totalCount"))
		}
		for _, e := range dig(d, "runs", "edges").([]any) {
			got = append(got, str(e, "node", "id"))
		}
		if dig(d, "runs", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(d, "runs", "pageInfo", "endCursor")
	}
	for i := range ids {
		if got[i] != ids[len(ids)-1-i] {
			t.Fatalf("order %v, want reverse of %v", got, ids)
		}
	}
	// first: 0 gives only the count.
	d := h.ok(h.gql(q, map[string]any{"ws": ws, "first": 0}))
	if dig(d, "runs", "totalCount") != float64(5) || len(dig(d, "runs", "edges").([]any)) != 0 {
		t.Fatalf("first 0 = %v", d)
	}
	// last/before and a cursor reused with another sort.
	d = h.ok(h.gql(q, map[string]any{"ws": ws, "last": 2, "sort": "CREATED_AT_ASC"}))
	edges := dig(d, "runs", "edges").([]any)
	if len(edges) != 2 || str(edges[1], "node", "id") != ids[4] || dig(d, "runs", "pageInfo", "hasPreviousPage") != true {
		t.Fatalf("last 2 = %v", d)
	}
	r := h.gql(q, map[string]any{"ws": ws, "first": 2, "after": str(edges[0], "cursor"), "sort": "CREATED_AT_DESC"})
	if r.code() != "BAD_REQUEST" || r.Errors[0].Message != "sort by argument does not match cursor" {
		t.Fatalf("cursor with another sort: %s", r.Raw)
	}
}

func TestUpload(t *testing.T) {
	h := start(t)
	p := h.mutation(h.token, "createConfigurationVersion", "CreateConfigurationVersionInput", "configurationVersion { id status }",
		map[string]any{"workspaceId": "trn:workspace:" + SeedWorkspace})
	cv := str(p, "configurationVersion", "id")
	ws := h.wsGID(SeedWorkspace)
	slug := makeSlug(map[string]string{"main.tf": testConfig})
	viewer, _ := h.s.CreateUser("vic", false)
	_ = h.s.AddMembership(SeedWorkspace, "user", "vic", "viewer")
	tests := []struct {
		name, token, cv string
		body            []byte
		status          int
		detail          string
	}{
		{"no token", "", cv, slug, 401, "Authorization is required"},
		{"trn instead of gid", h.token, "trn:configuration_version:sandbox/demo/" + cv, slug, 400, "the id must be a valid uuid"},
		{"viewer", viewer, cv, slug, 403, "is not authorized"},
		{"too large", h.token, cv, bytes.Repeat([]byte("x"), 2<<20), 413, "exceeds the maximum size"},
		{"ok", h.token, cv, slug, 200, ""},
		{"again", h.token, cv, slug, 409, "configuration version is already uploaded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := h.upload(tc.token, ws, tc.cv, tc.body)
			if st != tc.status {
				t.Fatalf("status %d %s", st, body)
			}
			if tc.detail != "" {
				var e struct{ Detail string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.Contains(e.Detail, tc.detail) {
					t.Fatalf("body %s", body)
				}
			}
		})
	}
	d := h.ok(h.gql(`query($id: String!) { node(id: $id) { ... on ConfigurationVersion { status workspaceId } } }`, map[string]any{"id": cv}))
	if str(d, "node", "status") != "uploaded" || str(d, "node", "workspaceId") != ws {
		t.Fatalf("cv = %v", d)
	}
}

func TestRESTDiscoveryAndHealth(t *testing.T) {
	h := start(t)
	get := func(path string) map[string]any {
		resp, err := http.Get(h.s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return out
	}
	if get("/health")["ok"] != true {
		t.Fatal("health")
	}
	d := get("/.well-known/terraform.json")
	if d["tfe.v2"] != h.s.URL()+"/tfe/v2/" || str(d, "login.v1", "client") != "tharsis" {
		t.Fatalf("discovery = %v", d)
	}
	if keys := get("/oauth/discovery/keys")["keys"].([]any); len(keys) != 1 || str(keys[0], "alg") != "RS256" {
		t.Fatalf("jwks = %v", keys)
	}
}
