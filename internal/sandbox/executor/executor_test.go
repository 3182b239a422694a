package executor

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// tf builds a Files map from alternating path/content pairs.
func tf(pairs ...string) map[string][]byte {
	files := map[string][]byte{}
	for i := 0; i+1 < len(pairs); i += 2 {
		files[pairs[i]] = []byte(pairs[i+1])
	}
	return files
}

func mustPlan(t *testing.T, req PlanRequest) *Plan {
	t.Helper()
	p, err := MakePlan(req)
	if err != nil {
		var pe *PlanError
		if errors.As(err, &pe) {
			t.Fatalf("MakePlan: %s\n%s", pe.Msg, pe.Log)
		}
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

func mustPlanError(t *testing.T, req PlanRequest) *PlanError {
	t.Helper()
	p, err := MakePlan(req)
	if err == nil {
		t.Fatalf("MakePlan succeeded, want an error; log:\n%s", p.Log)
	}
	var pe *PlanError
	if !errors.As(err, &pe) {
		t.Fatalf("MakePlan error %T %v, want *PlanError", err, err)
	}
	return pe
}

// applied plans and applies files from an empty state, then round-trips the
// state through JSON as the sandbox's store would.
func applied(t *testing.T, files map[string][]byte, vars map[string]string) State {
	t.Helper()
	st, _ := Apply(mustPlan(t, PlanRequest{Files: files, Variables: vars}), false)
	return jsonRoundTrip(t, st)
}

func jsonRoundTrip(t *testing.T, st State) State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func findResource(st State, addr string) (Resource, bool) {
	for _, r := range st.Resources {
		if r.Address == addr {
			return r, true
		}
	}
	return Resource{}, false
}

func findOutput(st State, name string) (Output, bool) {
	for _, o := range st.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return Output{}, false
}

func addresses(st State) []string {
	var out []string
	for _, r := range st.Resources {
		out = append(out, r.Address)
	}
	return out
}

func assertLog(t *testing.T, log []byte, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(log), w) {
			t.Errorf("log lacks %q; log:\n%s", w, log)
		}
	}
	for _, w := range notWant {
		if strings.Contains(string(log), w) {
			t.Errorf("log contains %q; log:\n%s", w, log)
		}
	}
}

const twoResources = `
resource "null_resource" "a" {
  triggers = { v = "1" }
}
resource "aws_thing" "b" {
  name = "b1"
  tags = { env = "dev", team = "x" }
}
output "b_name" { value = aws_thing.b.name }
`

func TestMakePlan(t *testing.T) {
	tests := []struct {
		name        string
		prior       map[string][]byte // applied first to make the prior state
		req         PlanRequest
		wantChanges []Change
		wantSummary Summary
		wantLog     []string
		notLog      []string
		wantState   []string // addresses in the planned state, in order
		check       func(t *testing.T, prior State, p *Plan)
	}{
		{
			name:        "create from empty state",
			req:         PlanRequest{Files: tf("main.tf", twoResources)},
			wantChanges: []Change{{"aws_thing.b", "create"}, {"null_resource.a", "create"}},
			wantSummary: Summary{Add: 2, OutputAdd: 1},
			wantLog: []string{
				"Terraform used the selected providers to generate the following execution\nplan.",
				"  + create\n",
				"  # null_resource.a will be created\n  + resource \"null_resource\" \"a\" {\n      + id       = (known after apply)\n      + triggers = {\n          + \"v\" = \"1\"\n        }\n    }\n",
				"Plan: 2 to add, 0 to change, 0 to destroy.",
				"Changes to Outputs:\n  + b_name = \"b1\"\n",
			},
			notLog:    []string{"~ update", "- destroy"},
			wantState: []string{"aws_thing.b", "null_resource.a"},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, "null_resource.a")
				id, _ := r.Attributes["id"].(string)
				if id == "" || r.Mode != "managed" || r.Type != "null_resource" || r.Name != "a" || r.Module != "" {
					t.Errorf("resource = %+v", r)
				}
				if p.Planned.Serial != 1 {
					t.Errorf("serial = %d, want 1", p.Planned.Serial)
				}
			},
		},
		{
			name:        "no changes",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", twoResources), Refresh: true},
			wantLog:     []string{"null_resource.a: Refreshing state... [id=", "No changes. Your infrastructure matches the configuration."},
			notLog:      []string{"Plan:", "Changes to Outputs"},
			wantState:   []string{"aws_thing.b", "null_resource.a"},
			wantChanges: nil,
			check: func(t *testing.T, prior State, p *Plan) {
				if p.HasChanges {
					t.Error("HasChanges = true")
				}
				if !reflect.DeepEqual(p.Planned.Resources, prior.Resources) {
					t.Errorf("planned resources changed:\n%+v\n%+v", p.Planned.Resources, prior.Resources)
				}
			},
		},
		{
			name:        "update in place keeps the id",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", strings.Replace(twoResources, `name = "b1"`, `name = "b2"`, 1))},
			wantChanges: []Change{{"aws_thing.b", "update"}},
			wantSummary: Summary{Change: 1, OutputChange: 1},
			wantLog: []string{
				"  # aws_thing.b will be updated in-place\n  ~ resource \"aws_thing\" \"b\" {\n",
				"      ~ name = \"b1\" -> \"b2\"\n",
				"        # (1 unchanged attribute hidden)\n",
				"Plan: 0 to add, 1 to change, 0 to destroy.",
				"  ~ b_name = \"b1\" -> \"b2\"",
			},
			check: func(t *testing.T, prior State, p *Plan) {
				before, _ := findResource(prior, "aws_thing.b")
				after, _ := findResource(p.Planned, "aws_thing.b")
				if before.Attributes["id"] != after.Attributes["id"] || after.Attributes["name"] != "b2" {
					t.Errorf("before %v after %v", before.Attributes, after.Attributes)
				}
			},
		},
		{
			name:        "map element change is shown per key",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", strings.Replace(twoResources, `team = "x"`, `team = "y", extra = "z"`, 1))},
			wantChanges: []Change{{"aws_thing.b", "update"}},
			wantSummary: Summary{Change: 1},
			wantLog:     []string{"      ~ tags = {\n          + \"extra\" = \"z\"\n          ~ \"team\"  = \"x\" -> \"y\"\n          # (1 unchanged element hidden)\n        }\n"},
		},
		{
			name:        "trigger change forces replacement",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", strings.Replace(twoResources, `v = "1"`, `v = "2"`, 1))},
			wantChanges: []Change{{"null_resource.a", "replace"}},
			wantSummary: Summary{Add: 1, Destroy: 1},
			wantLog: []string{
				"-/+ destroy and then create replacement",
				"  # null_resource.a must be replaced\n-/+ resource \"null_resource\" \"a\" {\n",
				"      ~ id       = \"",
				"\" -> (known after apply)\n",
				"      ~ triggers = { # forces replacement\n          ~ \"v\" = \"1\" -> \"2\"\n        }\n",
				"Plan: 1 to add, 0 to change, 1 to destroy.",
			},
			check: func(t *testing.T, prior State, p *Plan) {
				before, _ := findResource(prior, "null_resource.a")
				after, _ := findResource(p.Planned, "null_resource.a")
				if before.Attributes["id"] == after.Attributes["id"] {
					t.Errorf("replacement kept id %v", after.Attributes["id"])
				}
			},
		},
		{
			name:        "resource removed from configuration is destroyed",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", `resource "null_resource" "a" { triggers = { v = "1" } }`)},
			wantChanges: []Change{{"aws_thing.b", "delete"}},
			wantSummary: Summary{Destroy: 1, OutputDestroy: 1},
			wantLog: []string{
				"  # aws_thing.b will be destroyed\n  # (because aws_thing.b is not in configuration)\n  - resource \"aws_thing\" \"b\" {\n",
				"      - name = \"b1\" -> null\n",
				"        } -> null\n",
				"  - b_name = \"b1\" -> null",
			},
			wantState: []string{"null_resource.a"},
		},
		{
			name:        "destroy deletes everything and removes outputs",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", twoResources), Destroy: true, Refresh: true},
			wantChanges: []Change{{"aws_thing.b", "delete"}, {"null_resource.a", "delete"}},
			wantSummary: Summary{Destroy: 2, OutputDestroy: 1},
			wantLog:     []string{"Refreshing state...", "  - destroy\n", "Plan: 0 to add, 0 to change, 2 to destroy.", "  - b_name = \"b1\" -> null"},
			check: func(t *testing.T, _ State, p *Plan) {
				if len(p.Planned.Resources) != 0 || len(p.Planned.Outputs) != 0 {
					t.Errorf("planned state not empty: %+v", p.Planned)
				}
			},
		},
		{
			name:        "destroy needs no configuration",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Destroy: true},
			wantChanges: []Change{{"aws_thing.b", "delete"}, {"null_resource.a", "delete"}},
			wantSummary: Summary{Destroy: 2, OutputDestroy: 1},
		},
		{
			name: "module outputs are independent (no false cycle)",
			req: PlanRequest{Files: tf(
				"main.tf", `
resource "null_resource" "a" { triggers = { c = module.m.constant } }
module "m" {
  source = "./m"
  in     = null_resource.a.id
}
output "echo" { value = module.m.echo }`,
				"m/main.tf", `
variable "in" {}
output "constant" { value = "c" }
output "echo" { value = var.in }`)},
			wantChanges: []Change{{"null_resource.a", "create"}},
			wantSummary: Summary{Add: 1, OutputAdd: 1},
			wantLog:     []string{`+ "c" = "c"`, `+ echo = (known after apply)`},
		},
		{
			name:    "destroy with nothing to destroy",
			req:     PlanRequest{Files: tf("main.tf", twoResources), Destroy: true},
			wantLog: []string{"No changes. No objects need to be destroyed."},
		},
		{
			name:        "refresh-only changes outputs but no resources",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", strings.Replace(twoResources, `name = "b1"`, `name = "b2"`, 1)+`output "extra" { value = "new" }`), RefreshOnly: true, Refresh: true},
			wantSummary: Summary{OutputAdd: 1},
			wantLog:     []string{"Changes to Outputs:\n  + extra = \"new\"\n", "This is a refresh-only plan"},
			notLog:      []string{"Plan:", "will be updated"},
			check: func(t *testing.T, prior State, p *Plan) {
				if !reflect.DeepEqual(p.Planned.Resources, prior.Resources) {
					t.Errorf("refresh-only changed resources")
				}
				if o, _ := findOutput(p.Planned, "b_name"); string(o.Value) != `"b1"` {
					t.Errorf("b_name = %s, want the recorded \"b1\"", o.Value)
				}
			},
		},
		{
			name:      "refresh-only with nothing new",
			prior:     tf("main.tf", twoResources),
			req:       PlanRequest{Files: tf("main.tf", twoResources), RefreshOnly: true},
			wantLog:   []string{"No changes. Your infrastructure still matches the configuration."},
			wantState: []string{"aws_thing.b", "null_resource.a"},
		},
		{
			name: "targets select a resource and what it depends on",
			req: PlanRequest{Files: tf("main.tf", `
resource "null_resource" "a" {}
resource "null_resource" "b" { triggers = { a = null_resource.a.id } }
resource "null_resource" "c" {}
output "c" { value = null_resource.c.id }
`), Targets: []string{"null_resource.b"}},
			wantChanges: []Change{{"null_resource.a", "create"}, {"null_resource.b", "create"}},
			wantSummary: Summary{Add: 2},
			wantLog:     []string{"Warning: Resource targeting is in effect"},
			notLog:      []string{"null_resource.c will be created", "Changes to Outputs"},
			wantState:   []string{"null_resource.a", "null_resource.b"},
		},
		{
			name: "target on one instance",
			req: PlanRequest{Files: tf("main.tf", `resource "null_resource" "x" { count = 3 }`),
				Targets: []string{"null_resource.x[1]"}},
			wantChanges: []Change{{"null_resource.x[1]", "create"}},
			wantSummary: Summary{Add: 1},
			wantState:   []string{"null_resource.x[1]"},
		},
		{
			name:  "target leaves other orphans alone",
			prior: tf("main.tf", twoResources),
			req: PlanRequest{Files: tf("main.tf", `resource "null_resource" "n" {}`),
				Targets: []string{"aws_thing.b"}},
			wantChanges: []Change{{"aws_thing.b", "delete"}},
			wantSummary: Summary{Destroy: 1},
			wantState:   []string{"null_resource.a"},
			check: func(t *testing.T, _ State, p *Plan) {
				if _, ok := findOutput(p.Planned, "b_name"); !ok {
					t.Error("targeted plan dropped an output it did not evaluate")
				}
			},
		},
		{
			name: "count and for_each addresses",
			req: PlanRequest{Files: tf("main.tf", `
variable "n" {
  type    = number
  default = 2
}
resource "null_resource" "c" { count = var.n }
resource "null_resource" "m" {
  for_each = { one = 1, two = 2 }
  triggers = { k = each.key, v = each.value }
}
resource "null_resource" "s" { for_each = toset(["b", "a"]) }
`)},
			wantChanges: []Change{
				{"null_resource.c[0]", "create"}, {"null_resource.c[1]", "create"},
				{`null_resource.m["one"]`, "create"}, {`null_resource.m["two"]`, "create"},
				{`null_resource.s["a"]`, "create"}, {`null_resource.s["b"]`, "create"},
			},
			wantSummary: Summary{Add: 6},
			wantLog:     []string{`# null_resource.m["two"] will be created`, `+ "k" = "two"`, `+ "v" = 2`},
		},
		{
			name:        "count shrink destroys the out-of-range index",
			prior:       tf("main.tf", `resource "null_resource" "c" { count = 3 }`),
			req:         PlanRequest{Files: tf("main.tf", `resource "null_resource" "c" { count = 2 }`)},
			wantChanges: []Change{{"null_resource.c[2]", "delete"}},
			wantSummary: Summary{Destroy: 1},
			wantLog:     []string{"# (because index [2] is out of range for count)"},
		},
		{
			name:        "for_each key removed",
			prior:       tf("main.tf", `resource "null_resource" "m" { for_each = toset(["a", "b"]) }`),
			req:         PlanRequest{Files: tf("main.tf", `resource "null_resource" "m" { for_each = toset(["a"]) }`)},
			wantChanges: []Change{{`null_resource.m["b"]`, "delete"}},
			wantSummary: Summary{Destroy: 1},
			wantLog:     []string{`# (because key ["b"] is not in for_each map)`},
		},
		{
			name: "data source is read while planning and not counted",
			req: PlanRequest{Files: tf("main.tf", `
data "aws_region" "r" { name = "eu-west-1" }
resource "aws_thing" "t" { region = data.aws_region.r.name }
`)},
			wantChanges: []Change{{"aws_thing.t", "create"}},
			wantSummary: Summary{Add: 1},
			wantLog:     []string{"data.aws_region.r: Reading...\ndata.aws_region.r: Read complete after 0s [id=", `+ region = "eu-west-1"`},
			notLog:      []string{"<= data"},
			wantState:   []string{"aws_thing.t", "data.aws_region.r"},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, "data.aws_region.r")
				if r.Mode != "data" || r.Attributes["name"] != "eu-west-1" || r.Attributes["id"] == nil {
					t.Errorf("data resource = %+v", r)
				}
			},
		},
		{
			name: "data source that depends on a new resource is read during apply",
			req: PlanRequest{Files: tf("main.tf", `
resource "null_resource" "a" {}
data "aws_thing" "d" { ref = null_resource.a.id }
`)},
			wantChanges: []Change{{"null_resource.a", "create"}},
			wantSummary: Summary{Add: 1},
			wantLog: []string{" <= read (data resources)", "  # data.aws_thing.d will be read during apply\n  # (config refers to values not yet known)\n <= data \"aws_thing\" \"d\" {\n",
				"      + ref = (known after apply)"},
		},
		{
			name: "local module",
			req: PlanRequest{Files: tf(
				"main.tf", `
module "m" {
  source = "./modules/m"
  name   = "x"
}
output "greeting" { value = module.m.greeting }
`,
				"modules/m/main.tf", `
variable "name" { type = string }
resource "null_resource" "r" { triggers = { name = var.name } }
output "greeting" { value = "hello ${var.name}" }
`)},
			wantChanges: []Change{{"module.m.null_resource.r", "create"}},
			wantSummary: Summary{Add: 1, OutputAdd: 1},
			wantLog:     []string{"# module.m.null_resource.r will be created", `+ greeting = "hello x"`},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, "module.m.null_resource.r")
				if r.Module != "module.m" || r.Type != "null_resource" || r.Name != "r" {
					t.Errorf("module resource = %+v", r)
				}
			},
		},
		{
			name: "module count and for_each addresses",
			req: PlanRequest{Files: tf(
				"main.tf", `
module "c" {
  source = "./m"
  count  = 2
  v      = count.index
}
module "f" {
  source   = "./m"
  for_each = toset(["k"])
  v        = each.key
}
output "vs" { value = [for m in module.c : m.v] }
`,
				"m/main.tf", `
variable "v" {}
resource "null_resource" "r" {}
output "v" { value = var.v }
`)},
			wantChanges: []Change{{"module.c[0].null_resource.r", "create"}, {"module.c[1].null_resource.r", "create"}, {`module.f["k"].null_resource.r`, "create"}},
			wantSummary: Summary{Add: 3, OutputAdd: 1},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, `module.f["k"].null_resource.r`)
				if r.Module != `module.f["k"]` {
					t.Errorf("module = %q", r.Module)
				}
				if o, _ := findOutput(p.Planned, "vs"); string(o.Value) != "[0,1]" {
					t.Errorf("vs = %s", o.Value)
				}
			},
		},
		{
			name:  "ignore_changes hides configured differences",
			prior: tf("main.tf", `resource "aws_thing" "t" { name = "a" }`),
			req: PlanRequest{Files: tf("main.tf", `
resource "aws_thing" "t" {
  name = "b"
  lifecycle { ignore_changes = [name] }
}`)},
			wantLog: []string{"No changes."},
		},
		{
			name:        "create_before_destroy uses the +/- symbol",
			prior:       tf("main.tf", `resource "null_resource" "a" { triggers = { v = 1 } }`),
			req:         PlanRequest{Files: tf("main.tf", "resource \"null_resource\" \"a\" {\n  triggers = { v = 2 }\n  lifecycle { create_before_destroy = true }\n}")},
			wantChanges: []Change{{"null_resource.a", "replace"}},
			wantSummary: Summary{Add: 1, Destroy: 1},
			wantLog:     []string{"+/- create replacement and then destroy", "+/- resource \"null_resource\" \"a\" {"},
		},
		{
			name: "computed attributes are unknown in the plan and concrete in the state",
			req: PlanRequest{Files: tf("main.tf", `
resource "aws_bucket" "b" { bucket = "x" }
output "arn" { value = aws_bucket.b.arn }
`)},
			wantChanges: []Change{{"aws_bucket.b", "create"}},
			wantSummary: Summary{Add: 1, OutputAdd: 1},
			wantLog:     []string{"      + arn    = (known after apply)\n", "  + arn = (known after apply)"},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, "aws_bucket.b")
				arn, _ := r.Attributes["arn"].(string)
				o, _ := findOutput(p.Planned, "arn")
				if arn == "" || string(o.Value) != `"`+arn+`"` {
					t.Errorf("arn attribute %q, output %s", arn, o.Value)
				}
			},
		},
		{
			name: "for_each map values may be unknown",
			req: PlanRequest{Files: tf("main.tf", `
resource "null_resource" "a" {}
resource "null_resource" "b" {
  for_each = { x = null_resource.a.id }
  triggers = { v = each.value }
}`)},
			wantChanges: []Change{{"null_resource.a", "create"}, {`null_resource.b["x"]`, "create"}},
			wantSummary: Summary{Add: 2},
			wantLog:     []string{`+ "v" = (known after apply)`},
			check: func(t *testing.T, _ State, p *Plan) {
				a, _ := findResource(p.Planned, "null_resource.a")
				b, _ := findResource(p.Planned, `null_resource.b["x"]`)
				if b.Attributes["triggers"].(map[string]any)["v"] != a.Attributes["id"] {
					t.Errorf("b.triggers.v = %v, want a's id %v", b.Attributes["triggers"], a.Attributes["id"])
				}
			},
		},
		{
			name: "refresh-only of a configuration never applied",
			req: PlanRequest{Files: tf("main.tf", `
resource "null_resource" "many" { for_each = toset(["a", "b"]) }
resource "null_resource" "dep" {
  for_each = null_resource.many
  triggers = { id = each.value.id }
}
output "ids" { value = [for r in null_resource.many : r.id] }
output "fixed" { value = "f" }`), RefreshOnly: true},
			wantSummary: Summary{OutputAdd: 1},
			wantLog:     []string{"+ fixed = \"f\""},
			notLog:      []string{"ids"},
			wantState:   []string{},
		},
		{
			name:        "list change diffs element by element",
			prior:       tf("main.tf", `resource "aws_thing" "l" { items = ["a", "b", "c"] }`),
			req:         PlanRequest{Files: tf("main.tf", `resource "aws_thing" "l" { items = ["a", "c", "d"] }`)},
			wantChanges: []Change{{"aws_thing.l", "update"}},
			wantSummary: Summary{Change: 1},
			wantLog:     []string{"      ~ items = [\n          - \"b\",\n          + \"d\",\n          # (2 unchanged elements hidden)\n        ]\n"},
		},
		{
			name:        "terraform_data output follows its input",
			prior:       tf("main.tf", `resource "terraform_data" "d" { input = "one" }`),
			req:         PlanRequest{Files: tf("main.tf", `resource "terraform_data" "d" { input = "two" }`)},
			wantChanges: []Change{{"terraform_data.d", "update"}},
			wantSummary: Summary{Change: 1},
			wantLog:     []string{`~ input  = "one" -> "two"`, `~ output = "one" -> (known after apply)`},
			check: func(t *testing.T, _ State, p *Plan) {
				r, _ := findResource(p.Planned, "terraform_data.d")
				if r.Attributes["output"] != "two" {
					t.Errorf("output = %v", r.Attributes["output"])
				}
			},
		},
		{
			name:        "module call removed",
			prior:       tf("main.tf", `module "m" { source = "./m" }`, "m/main.tf", `resource "null_resource" "r" {}`),
			req:         PlanRequest{Files: tf("main.tf", `resource "null_resource" "top" {}`)},
			wantChanges: []Change{{"null_resource.top", "create"}, {"module.m.null_resource.r", "delete"}},
			wantSummary: Summary{Add: 1, Destroy: 1},
			wantLog:     []string{"# (because module.m is not in configuration)"},
		},
		{
			name:        "module instance out of range",
			prior:       tf("main.tf", "module \"m\" {\n  source = \"./m\"\n  count = 2\n}", "m/main.tf", `resource "null_resource" "r" {}`),
			req:         PlanRequest{Files: tf("main.tf", "module \"m\" {\n  source = \"./m\"\n  count = 1\n}", "m/main.tf", `resource "null_resource" "r" {}`)},
			wantChanges: []Change{{"module.m[1].null_resource.r", "delete"}},
			wantSummary: Summary{Destroy: 1},
			wantLog:     []string{"# (because module.m[1] is not in configuration)"},
		},
		{
			name:        "output-only change",
			prior:       tf("main.tf", twoResources),
			req:         PlanRequest{Files: tf("main.tf", twoResources+`output "more" { value = 1 }`)},
			wantSummary: Summary{OutputAdd: 1},
			wantLog:     []string{"Changes to Outputs:\n  + more = 1\n", "without changing any real infrastructure"},
			notLog:      []string{"Plan:"},
			check: func(t *testing.T, _ State, p *Plan) {
				if !p.HasChanges {
					t.Error("HasChanges = false for an output change")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			var prior State
			if tt.prior != nil {
				prior = applied(t, tt.prior, nil)
				req.Prior = prior
			}
			p := mustPlan(t, req)
			if !reflect.DeepEqual(p.Changes, tt.wantChanges) {
				t.Errorf("changes = %v, want %v", p.Changes, tt.wantChanges)
			}
			if p.Summary != tt.wantSummary {
				t.Errorf("summary = %+v, want %+v", p.Summary, tt.wantSummary)
			}
			s := p.Summary
			if want := s.Add+s.Change+s.Destroy+s.OutputAdd+s.OutputChange+s.OutputDestroy > 0; p.HasChanges != want {
				t.Errorf("HasChanges = %v, want %v", p.HasChanges, want)
			}
			assertLog(t, p.Log, tt.wantLog, tt.notLog)
			if tt.wantState != nil && !reflect.DeepEqual(addresses(p.Planned), tt.wantState) && len(tt.wantState)+len(p.Planned.Resources) > 0 {
				t.Errorf("planned addresses = %q, want %q", addresses(p.Planned), tt.wantState)
			}
			if tt.check != nil {
				tt.check(t, prior, p)
			}
			// Applying and planning again always converges.
			st, _ := Apply(p, false)
			if st.Serial != prior.Serial+1 {
				t.Errorf("applied serial = %d, want %d", st.Serial, prior.Serial+1)
			}
			again := req
			again.Prior = jsonRoundTrip(t, st)
			again.Targets, again.RefreshOnly = nil, false
			if req.Destroy || req.RefreshOnly || len(req.Targets) > 0 {
				return
			}
			if p2 := mustPlan(t, again); p2.HasChanges {
				t.Errorf("second plan has changes: %v\n%s", p2.Changes, p2.Log)
			}
		})
	}
}

func TestApplyLog(t *testing.T) {
	files := tf("main.tf", twoResources+`
output "secret" {
  value     = "hunter2"
  sensitive = true
}
output "list" { value = ["a", "b"] }
`)
	tests := []struct {
		name    string
		prior   map[string][]byte
		req     PlanRequest
		want    []string
		notWant []string
	}{
		{
			name: "create",
			req:  PlanRequest{Files: files},
			want: []string{
				"null_resource.a: Creating...\nnull_resource.a: Creation complete after 0s [id=",
				"\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n",
				"\nOutputs:\n\nb_name = \"b1\"\nlist = [\n  \"a\",\n  \"b\",\n]\nsecret = <sensitive>\n",
			},
			notWant: []string{"hunter2"},
		},
		{
			name:  "update and destroy",
			prior: files,
			req:   PlanRequest{Files: tf("main.tf", `resource "aws_thing" "b" { name = "b2" }`)},
			want: []string{
				"null_resource.a: Destroying... [id=", "null_resource.a: Destruction complete after 0s\n",
				"aws_thing.b: Modifying... [id=", "aws_thing.b: Modifications complete after 0s [id=",
				"Apply complete! Resources: 0 added, 1 changed, 1 destroyed.",
			},
			notWant: []string{"Outputs:"},
		},
		{
			name:  "destroy",
			prior: files,
			req:   PlanRequest{Files: files, Destroy: true},
			want:  []string{"Destroy complete! Resources: 2 destroyed."},
		},
		{
			name:  "targeted",
			prior: nil,
			req:   PlanRequest{Files: files, Targets: []string{"null_resource.a"}},
			want:  []string{"Warning: Applied changes may be incomplete", "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			if tt.prior != nil {
				req.Prior = applied(t, tt.prior, nil)
			}
			p := mustPlan(t, req)
			st, log := Apply(p, false)
			assertLog(t, log, tt.want, tt.notWant)
			if !reflect.DeepEqual(st.Resources, p.Planned.Resources) || !reflect.DeepEqual(st.Outputs, p.Planned.Outputs) {
				t.Errorf("applied state differs from planned state")
			}
			st2, log2 := Apply(p, false)
			if string(log2) != string(log) || !reflect.DeepEqual(st2, st) {
				t.Errorf("Apply is not repeatable")
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	files := tf("main.tf", `
variable "pw" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
output "s"      { value = "hi" }
output "n"      { value = 3 }
output "b"      { value = true }
output "obj"    { value = { a = 1, b = "x" } }
output "tuple"  { value = ["a", 1] }
output "list"   { value = tolist(["a", "b"]) }
output "map"    { value = tomap({ k = "v" }) }
output "nested" { value = { inner = [{ x = null }] } }
output "secret" {
  value     = var.pw
  sensitive = true
}
output "gone" { value = null }
`)
	p := mustPlan(t, PlanRequest{Files: files})
	want := map[string][2]string{
		"s":      {`"hi"`, `"string"`},
		"n":      {`3`, `"number"`},
		"b":      {`true`, `"bool"`},
		"obj":    {`{"a":1,"b":"x"}`, `["object",{"a":"number","b":"string"}]`},
		"tuple":  {`["a",1]`, `["tuple",["string","number"]]`},
		"list":   {`["a","b"]`, `["list","string"]`},
		"map":    {`{"k":"v"}`, `["map","string"]`},
		"nested": {`{"inner":[{"x":null}]}`, `["object",{"inner":["tuple",[["object",{"x":"dynamic"}]]]}]`},
		"secret": {`"hunter2"`, `"string"`},
	}
	if len(p.Planned.Outputs) != len(want) {
		t.Errorf("outputs = %d, want %d (null outputs are not stored)", len(p.Planned.Outputs), len(want))
	}
	for name, w := range want {
		o, ok := findOutput(p.Planned, name)
		if !ok {
			t.Errorf("output %s missing", name)
			continue
		}
		if string(o.Value) != w[0] || string(o.Type) != w[1] {
			t.Errorf("output %s = %s %s, want %s %s", name, o.Value, o.Type, w[0], w[1])
		}
		if o.Sensitive != (name == "secret") {
			t.Errorf("output %s sensitive = %v", name, o.Sensitive)
		}
	}
	assertLog(t, p.Log, []string{"  + secret = (sensitive value)\n", "  + obj    = {\n      + \"a\" = 1\n      + \"b\" = \"x\"\n    }\n"}, []string{"hunter2"})
	_, log := Apply(p, false)
	assertLog(t, log, []string{"secret = <sensitive>\n", "n = 3\n"}, []string{"hunter2"})

	// A sensitive value in an output not marked sensitive is an error.
	pe := mustPlanError(t, PlanRequest{Files: tf("main.tf", `
variable "pw" {
  default   = "x"
  sensitive = true
}
output "leak" { value = var.pw }
`)})
	assertLog(t, pe.Log, []string{"Error: Output refers to sensitive values", "on main.tf line 6:"}, nil)
}

func TestFunctions(t *testing.T) {
	files := tf(
		"main.tf", `
locals { items = ["a", "b", "c"] }
output "upper"  { value = upper("abc") }
output "lower"  { value = lower("ABC") }
output "format" { value = format("%s-%03d", "x", 7) }
output "join"   { value = join(",", local.items) }
output "length" { value = length(local.items) }
output "strlen" { value = length("four") }
output "tostr"  { value = tostring(12) }
output "json"   { value = jsonencode({ a = [1, 2] }) }
output "file"   { value = file("${path.module}/hello.txt") }
output "tmpl"   { value = templatefile("greet.tpl", { who = "you" }) }
output "try"    { value = try(local.items[10], "fallback") }
output "sha"    { value = sha256("x") }
output "b64"    { value = base64encode("hi") }
output "sum"    { value = sum([1, 2, 3]) }
output "regexr" { value = replace("a-b-c", "/-/", "+") }
`,
		"hello.txt", "hello\n",
		"greet.tpl", "hi ${who}",
	)
	p := mustPlan(t, PlanRequest{Files: files})
	want := map[string]string{
		"upper": `"ABC"`, "lower": `"abc"`, "format": `"x-007"`, "join": `"a,b,c"`,
		"length": `3`, "strlen": `4`, "tostr": `"12"`, "json": `"{\"a\":[1,2]}"`,
		"file": `"hello\n"`, "tmpl": `"hi you"`, "try": `"fallback"`,
		"sha": `"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"`,
		"b64": `"aGk="`, "sum": `6`, "regexr": `"a+b+c"`,
	}
	for name, w := range want {
		o, ok := findOutput(p.Planned, name)
		if !ok || string(o.Value) != w {
			t.Errorf("output %s = %s, want %s", name, o.Value, w)
		}
	}
}

func TestVariables(t *testing.T) {
	tests := []struct {
		name      string
		decl      string // body of variable "v"
		raw       *string
		wantValue string
		wantType  string
		wantErr   []string
	}{
		{name: "string", decl: `type = string`, raw: ptr("hi there"), wantValue: `"hi there"`, wantType: `"string"`},
		{name: "string keeps quotes raw", decl: `type = string`, raw: ptr(`"q"`), wantValue: `"\"q\""`, wantType: `"string"`},
		{name: "number", decl: `type = number`, raw: ptr("42"), wantValue: `42`, wantType: `"number"`},
		{name: "fractional number", decl: `type = number`, raw: ptr("1.5"), wantValue: `1.5`, wantType: `"number"`},
		{name: "bool", decl: `type = bool`, raw: ptr("true"), wantValue: `true`, wantType: `"bool"`},
		{name: "list", decl: `type = list(string)`, raw: ptr(`["a","b"]`), wantValue: `["a","b"]`, wantType: `["list","string"]`},
		{name: "set", decl: `type = set(string)`, raw: ptr(`["b","a","b"]`), wantValue: `["a","b"]`, wantType: `["set","string"]`},
		{name: "map", decl: `type = map(number)`, raw: ptr(`{"a":1,"b":2}`), wantValue: `{"a":1,"b":2}`, wantType: `["map","number"]`},
		{name: "object", decl: `type = object({ name = string, size = number })`, raw: ptr(`{"name":"x","size":3}`),
			wantValue: `{"name":"x","size":3}`, wantType: `["object",{"name":"string","size":"number"}]`},
		{name: "object optional default", decl: `type = object({ name = string, size = optional(number, 9) })`, raw: ptr(`{"name":"x"}`),
			wantValue: `{"name":"x","size":9}`, wantType: `["object",{"name":"string","size":"number"}]`},
		{name: "number from string converts", decl: `type = string`, raw: ptr("7"), wantValue: `"7"`, wantType: `"string"`},
		{name: "untyped word is a string", decl: ``, raw: ptr("hello"), wantValue: `"hello"`, wantType: `"string"`},
		{name: "untyped text with spaces is a string", decl: ``, raw: ptr("two words"), wantValue: `"two words"`, wantType: `"string"`},
		{name: "untyped number literal", decl: ``, raw: ptr("42"), wantValue: `42`, wantType: `"number"`},
		{name: "untyped list literal", decl: ``, raw: ptr(`["a"]`), wantValue: `["a"]`, wantType: `["tuple",["string"]]`},
		{name: "default", decl: "type = number\ndefault = 5", wantValue: `5`, wantType: `"number"`},
		{name: "run value beats default", decl: "type = number\ndefault = 5", raw: ptr("6"), wantValue: `6`, wantType: `"number"`},
		{name: "bad number", decl: `type = number`, raw: ptr("abc"), wantErr: []string{"Error: Invalid value for input variable", `variable "v"`, `"abc" is not a valid number`}},
		{name: "bad bool", decl: `type = bool`, raw: ptr("maybe"), wantErr: []string{"Invalid value for input variable", `variable "v"`}},
		{name: "bad list syntax", decl: `type = list(string)`, raw: ptr(`["a",`), wantErr: []string{"Invalid value for input variable", `variable "v"`}},
		{name: "wrong shape", decl: `type = map(string)`, raw: ptr(`["a"]`), wantErr: []string{"Invalid value for input variable", "var.v"}},
		{name: "missing required", decl: `type = string`, wantErr: []string{"Error: No value for required variable", `input variable "v" is not set`, "on main.tf line 2:"}},
		{name: "validation", decl: "type = number\nvalidation {\n  condition = var.v > 10\n  error_message = \"Must be over ten.\"\n}", raw: ptr("3"),
			wantErr: []string{"Error: Invalid value for variable", "Must be over ten."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := tf("main.tf", "\nvariable \"v\" {\n"+tt.decl+"\n}\noutput \"v\" { value = var.v }\n")
			vars := map[string]string{}
			if tt.raw != nil {
				vars["v"] = *tt.raw
			}
			req := PlanRequest{Files: files, Variables: vars}
			if tt.wantErr != nil {
				pe := mustPlanError(t, req)
				assertLog(t, pe.Log, tt.wantErr, nil)
				if pe.Msg == "" || pe.Error() != pe.Msg {
					t.Errorf("Msg = %q", pe.Msg)
				}
				return
			}
			p := mustPlan(t, req)
			o, ok := findOutput(p.Planned, "v")
			if !ok || string(o.Value) != tt.wantValue || string(o.Type) != tt.wantType {
				t.Errorf("v = %s %s, want %s %s", o.Value, o.Type, tt.wantValue, tt.wantType)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestVariableSources(t *testing.T) {
	files := tf(
		"main.tf", `
variable "a" { type = string }
variable "b" { type = number }
output "a" { value = var.a }
output "b" { value = var.b }
`,
		"terraform.tfvars", "a = \"from-file\"\nb = 1\n",
		"x.auto.tfvars.json", `{"b": 2}`,
		"sub/terraform.tfvars", `a = "not loaded"`,
	)
	p := mustPlan(t, PlanRequest{Files: files, Variables: map[string]string{"b": "3", "unused": "x"}})
	if o, _ := findOutput(p.Planned, "a"); string(o.Value) != `"from-file"` {
		t.Errorf("a = %s", o.Value)
	}
	if o, _ := findOutput(p.Planned, "b"); string(o.Value) != `3` {
		t.Errorf("b = %s, want the run variable", o.Value)
	}
	if !reflect.DeepEqual(p.UndeclaredVariables, []string{"unused"}) {
		t.Errorf("undeclared = %v", p.UndeclaredVariables)
	}
	assertLog(t, p.Log, []string{`Run variable "unused" has a value but is not declared`}, nil)

	p = mustPlan(t, PlanRequest{Files: files})
	if o, _ := findOutput(p.Planned, "b"); string(o.Value) != `2` {
		t.Errorf("b = %s, want the auto.tfvars value", o.Value)
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string][]byte
		req   PlanRequest
		want  []string
		msg   string
	}{
		{
			name:  "syntax error has file and line",
			files: tf("main.tf", "resource \"null_resource\" \"a\" {\n  triggers = {\n    a = \n  }\n}\n"),
			want:  []string{"╷\n│ Error: ", "│   on main.tf line 3:\n│    3:     a =\n"},
			msg:   "main.tf:3",
		},
		{
			name:  "syntax error in a module file",
			files: tf("main.tf", "module \"m\" { source = \"./m\" }\n", "m/main.tf", "resource {\n"),
			want:  []string{"on m/main.tf line 1:"},
			msg:   "m/main.tf:1",
		},
		{
			name:  "unsupported block",
			files: tf("main.tf", "widget \"x\" {}\n"),
			want:  []string{"Error: Unsupported block type", `Blocks of type "widget" are not expected here.`},
		},
		{
			name:  "undeclared variable reference",
			files: tf("main.tf", "output \"x\" { value = var.nope }\n"),
			want:  []string{"Error: Reference to undeclared input variable", `"nope"`},
		},
		{
			name:  "undeclared resource reference",
			files: tf("main.tf", "output \"x\" { value = aws_thing.nope.id }\n"),
			want:  []string{"Error: Reference to undeclared resource"},
		},
		{
			name:  "remote module source",
			files: tf("main.tf", "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n"),
			want:  []string{"Error: Unsupported module source", "only supports local modules"},
		},
		{
			name:  "module argument not declared",
			files: tf("main.tf", "module \"m\" {\n  source = \"./m\"\n  nope = 1\n}\n", "m/main.tf", "output \"o\" { value = 1 }\n"),
			want:  []string{"Error: Unsupported argument", `"nope"`},
		},
		{
			name:  "module argument missing",
			files: tf("main.tf", "module \"m\" {\n  source = \"./m\"\n}\n", "m/main.tf", "variable \"need\" {}\n"),
			want:  []string{"Error: Missing required argument", `"need"`},
		},
		{
			name:  "missing module directory",
			files: tf("main.tf", "module \"m\" { source = \"./absent\" }\n"),
			want:  []string{"contains no Terraform configuration files"},
		},
		{
			name:  "reference cycle",
			files: tf("main.tf", "locals {\n  a = local.b\n  b = local.a\n}\n"),
			want:  []string{"Error: Cycle in references"},
		},
		{
			name:  "count from an unknown value",
			files: tf("main.tf", "resource \"aws_thing\" \"a\" {}\nresource \"null_resource\" \"b\" { count = length(aws_thing.a.id) }\n"),
			want:  []string{"Error: Invalid count argument"},
		},
		{
			name:  "for_each over a list",
			files: tf("main.tf", "resource \"null_resource\" \"b\" { for_each = [\"a\"] }\n"),
			want:  []string{"Error: Invalid for_each argument", "tuple"},
		},
		{
			name:  "count and for_each together",
			files: tf("main.tf", "resource \"null_resource\" \"b\" {\n  count = 1\n  for_each = {}\n}\n"),
			want:  []string{`Invalid combination of "count" and "for_each"`},
		},
		{
			name:  "each outside for_each",
			files: tf("main.tf", "resource \"null_resource\" \"b\" { triggers = { k = each.key } }\n"),
			want:  []string{`Reference to "each" in context without for_each`},
		},
		{
			name:  "duplicate resource",
			files: tf("main.tf", "resource \"null_resource\" \"a\" {}\n", "other.tf", "resource \"null_resource\" \"a\" {}\n"),
			want:  []string{"Error: Duplicate resource configuration"},
		},
		{
			name:  "unknown function",
			files: tf("main.tf", "output \"x\" { value = nosuch(1) }\n"),
			want:  []string{"Call to unknown function"},
		},
		{
			name:  "override files",
			files: tf("main.tf", "", "main_override.tf", ""),
			want:  []string{"Override files are not supported"},
		},
		{
			name:  "no configuration files",
			files: tf("README.md", "nothing here", "sub/x.tf", ""),
			want:  []string{"Error: No configuration files"},
		},
		{
			name:  "prevent_destroy",
			files: tf("main.tf", "resource \"null_resource\" \"a\" {\n  lifecycle { prevent_destroy = true }\n}\n"),
			req:   PlanRequest{Destroy: true, Prior: State{Resources: []Resource{{Address: "null_resource.a", Mode: "managed", Type: "null_resource", Name: "a", Attributes: map[string]any{"id": "1"}}}}},
			want:  []string{"Error: Instance cannot be destroyed", "null_resource.a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Files = tt.files
			pe := mustPlanError(t, req)
			assertLog(t, pe.Log, tt.want, []string{"\x1b"})
			if tt.msg != "" && !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
		})
	}
}

func TestJSONConfiguration(t *testing.T) {
	files := tf("main.tf.json", `{
  "variable": {"size": {"type": "number", "default": 2}},
  "resource": {"null_resource": {"j": {"count": "${var.size}", "triggers": {"i": "${count.index}"}}}},
  "output": {"first": {"value": "${null_resource.j[0].triggers.i}"}}
}`)
	p := mustPlan(t, PlanRequest{Files: files})
	want := []Change{{"null_resource.j[0]", "create"}, {"null_resource.j[1]", "create"}}
	if !reflect.DeepEqual(p.Changes, want) {
		t.Errorf("changes = %v, want %v", p.Changes, want)
	}
	if o, _ := findOutput(p.Planned, "first"); string(o.Value) != `0` {
		t.Errorf("first = %s", o.Value)
	}
}

func TestDynamicBlocks(t *testing.T) {
	files := tf("main.tf", `
resource "aws_sg" "s" {
  dynamic "rule" {
    for_each = { web = 80, ssh = 22 }
    content {
      name = rule.key
      port = rule.value
    }
  }
  rule {
    name = "static"
    port = 1
  }
}`)
	p := mustPlan(t, PlanRequest{Files: files})
	r, _ := findResource(p.Planned, "aws_sg.s")
	got, _ := json.Marshal(r.Attributes["rule"])
	if want := `[{"name":"ssh","port":22},{"name":"web","port":80},{"name":"static","port":1}]`; string(got) != want {
		t.Errorf("rule = %s, want %s", got, want)
	}
}

func TestDeterminism(t *testing.T) {
	files := tf(
		"main.tf", twoResources+`
resource "null_resource" "many" {
  for_each = toset(["x", "y", "z"])
  triggers = { a = null_resource.a.id, k = each.key }
}
module "m" { source = "./m" }
data "aws_region" "r" {}
output "ids" { value = { for k, r in null_resource.many : k => r.id } }
`,
		"m/main.tf", `resource "random_string" "s" { length = 12 }
output "s" { value = random_string.s.result }`,
	)
	prior := applied(t, tf("main.tf", twoResources), nil)
	prior.Resources[0].Address = "" // exercise the fallback; must not be written back
	before, _ := json.Marshal(prior)
	for _, color := range []bool{false, true} {
		req := PlanRequest{Files: files, Prior: prior, Refresh: true, Color: color}
		p1, p2 := mustPlan(t, req), mustPlan(t, req)
		if after, _ := json.Marshal(prior); string(after) != string(before) {
			t.Fatalf("MakePlan modified the prior state:\n%s\n%s", before, after)
		}
		if string(p1.Log) != string(p2.Log) {
			t.Errorf("plan logs differ:\n%s\n---\n%s", p1.Log, p2.Log)
		}
		s1, l1 := Apply(p1, color)
		s2, l2 := Apply(p2, color)
		if string(l1) != string(l2) {
			t.Errorf("apply logs differ")
		}
		b1, _ := json.Marshal(s1)
		b2, _ := json.Marshal(s2)
		if string(b1) != string(b2) {
			t.Errorf("states differ:\n%s\n%s", b1, b2)
		}
		r, _ := findResource(s1, "module.m.random_string.s")
		if s, _ := r.Attributes["result"].(string); len(s) != 12 {
			t.Errorf("random_string result = %q, want 12 characters", s)
		}
	}
}

func TestColor(t *testing.T) {
	files := tf("main.tf", twoResources+`
output "secret" {
  value     = "s"
  sensitive = true
}`)
	prior := applied(t, tf("main.tf", twoResources), nil)
	changed := tf("main.tf", strings.Replace(strings.Replace(twoResources, `name = "b1"`, `name = "b2"`, 1), `v = "1"`, `v = "2"`, 1)+`resource "null_resource" "new" {}`)
	reqs := []PlanRequest{
		{Files: files},
		{Files: changed, Prior: prior, Refresh: true},
		{Files: files, Prior: prior, Destroy: true},
		{Files: files, Prior: prior, RefreshOnly: true},
		{Files: files, Prior: prior},
		{Files: files, Targets: []string{"null_resource.a"}},
	}
	for i, req := range reqs {
		for _, color := range []bool{false, true} {
			req.Color = color
			p := mustPlan(t, req)
			_, applyLog := Apply(p, color)
			for _, log := range [][]byte{p.Log, applyLog} {
				hasANSI := strings.Contains(string(log), "\x1b")
				if hasANSI != color {
					t.Errorf("request %d color=%v: ANSI present = %v in:\n%q", i, color, hasANSI, log)
				}
			}
		}
	}
	pe := mustPlanError(t, PlanRequest{Files: tf("main.tf", "x {"), Color: true})
	if !strings.Contains(string(pe.Log), "\x1b[31m") {
		t.Errorf("coloured error lacks red: %q", pe.Log)
	}
	p := mustPlan(t, PlanRequest{Files: changed, Prior: prior, Color: true})
	assertLog(t, p.Log, []string{"\x1b[1m# null_resource.new\x1b[0m will be created", "\x1b[32m+\x1b[0m create", "\x1b[33m~\x1b[0m update in-place", "\x1b[1mPlan:\x1b[0m"}, nil)
}

func TestPriorNumbersInAnyRepresentation(t *testing.T) {
	// A store may hand back numbers as json.Number or ints; the plan
	// must still see no change.
	files := tf("main.tf", `resource "aws_thing" "t" { size = 3 }`)
	st := applied(t, files, nil)
	for _, v := range []any{json.Number("3"), 3, int64(3), float32(3)} {
		prior := State{Serial: st.Serial, Resources: []Resource{st.Resources[0]}}
		prior.Resources[0].Attributes = map[string]any{"id": st.Resources[0].Attributes["id"], "size": v}
		if p := mustPlan(t, PlanRequest{Files: files, Prior: prior}); p.HasChanges {
			t.Errorf("size %T: unexpected changes %v", v, p.Changes)
		}
	}
}

func TestSensitiveValuesNeverLogged(t *testing.T) {
	config := func(tokenDefault string) map[string][]byte {
		return tf("main.tf", `
variable "token" {
  type      = string
  default   = "`+tokenDefault+`"
  sensitive = true
}
resource "aws_secret" "s" {
  name  = "db"
  value = var.token
  tags  = { owner = "ops", key = var.token }
}
`)
	}
	steps := []struct {
		name string
		req  func(prior State) PlanRequest
		want []string
	}{
		{"create", func(State) PlanRequest { return PlanRequest{Files: config("first-secret")} },
			[]string{`+ value = (sensitive value)`, `+ "key"   = (sensitive value)`}},
		{"update", func(p State) PlanRequest { return PlanRequest{Files: config("second-secret"), Prior: p} },
			[]string{`~ value = (sensitive value)`, `~ "key" = (sensitive value)`}},
		{"destroy", func(p State) PlanRequest { return PlanRequest{Files: config("second-secret"), Prior: p, Destroy: true} },
			[]string{`- value = (sensitive value) -> null`}},
		{"removed from configuration", func(p State) PlanRequest {
			return PlanRequest{Files: tf("main.tf", `resource "null_resource" "other" {}`), Prior: p}
		}, []string{`- value = (sensitive value) -> null`}},
	}
	var prior State
	for i, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			p := mustPlan(t, step.req(prior))
			_, applyLog := Apply(p, false)
			for _, log := range [][]byte{p.Log, applyLog} {
				assertLog(t, log, nil, []string{"first-secret", "second-secret"})
			}
			assertLog(t, p.Log, step.want, nil)
			if i < 2 {
				st, _ := Apply(p, false)
				r, _ := findResource(st, "aws_secret.s")
				if want := []string{`["tags"]["key"]`, `["value"]`}; !reflect.DeepEqual(r.SensitivePaths, want) {
					t.Errorf("SensitivePaths = %q, want %q", r.SensitivePaths, want)
				}
				prior = jsonRoundTrip(t, st)
			}
		})
	}

	// Tharsis refuses a sensitive run variable for a non-sensitive declaration.
	pe := mustPlanError(t, PlanRequest{
		Files:              tf("main.tf", `variable "plain" { type = string }`),
		Variables:          map[string]string{"plain": "s3cret"},
		SensitiveVariables: []string{"plain"},
	})
	assertLog(t, pe.Log, []string{"Error: Sensitive value for a non-sensitive variable"}, []string{"s3cret"})
}

func TestBadSensitiveValueNotEchoed(t *testing.T) {
	pe := mustPlanError(t, PlanRequest{
		Files:     tf("main.tf", "variable \"n\" {\n  type = number\n  sensitive = true\n}\n"),
		Variables: map[string]string{"n": "hunter2"},
	})
	assertLog(t, pe.Log, []string{"Invalid value for input variable", `variable "n"`}, []string{"hunter2"})
	if strings.Contains(pe.Msg, "hunter2") {
		t.Errorf("Msg leaks the value: %s", pe.Msg)
	}
}
