package executor

import (
	"errors"
	"strings"
	"testing"
)

// FuzzMakePlan checks that no configuration makes the executor panic and
// that every failure is a *PlanError with a log.
func FuzzMakePlan(f *testing.F) {
	seeds := []string{
		twoResources,
		`resource "null_resource" "x" { count = 2 }`,
		`resource "null_resource" "x" { for_each = { a = 1 } }`,
		`variable "v" { type = list(string) }`,
		`locals { a = [for x in range(3) : x * 2] }
output "o" { value = local.a }`,
		`data "d" "x" {}
output "o" { value = data.d.x[*].id }`,
		`resource "a" "b" { dynamic "c" {
  for_each = [1, 2]
  content { v = c.value }
} }`,
		`module "m" { source = "./" }`,
		`output "o" { value = { for k, v in { a = 1 } : k => v if v > 0 } }`,
		`resource "a" "b" { x = null }
resource "a" "c" { y = a.b.z }`,
	}
	for _, s := range seeds {
		f.Add(s, "3")
	}
	f.Fuzz(func(t *testing.T, src, raw string) {
		files := map[string][]byte{"main.tf": []byte(src)}
		prior := State{Resources: []Resource{{
			Address: "null_resource.x[0]", Mode: "managed", Type: "null_resource", Name: "x",
			Attributes: map[string]any{"id": "1", "triggers": map[string]any{"a": "b"}},
		}}}
		for _, req := range []PlanRequest{
			{Files: files, Variables: map[string]string{"v": raw}},
			{Files: files, Prior: prior, Variables: map[string]string{"v": raw}, Targets: []string{"null_resource.x"}},
			{Files: files, Prior: prior, RefreshOnly: true},
			{Files: files, Prior: prior, Destroy: true},
		} {
			p, err := MakePlan(req)
			if err != nil {
				var pe *PlanError
				if !errors.As(err, &pe) || len(pe.Log) == 0 || !strings.Contains(string(pe.Log), "Error: ") {
					t.Fatalf("bad error %T %v", err, err)
				}
				continue
			}
			Apply(p, true)
		}
	})
}
