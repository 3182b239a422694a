package executor

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// goldenV1 and goldenV2 are two versions of one configuration; planning v2
// against v1's state exercises every kind of change.
var goldenV1 = tf(
	"main.tf", `
variable "env" {
  type    = string
  default = "dev"
}

resource "null_resource" "app" {
  triggers = { version = "1" }
}

resource "aws_bucket" "logs" {
  bucket = "logs-${var.env}"
  tags   = { env = var.env, owner = "ops" }
}

resource "null_resource" "worker" {
  count = 3
}

resource "aws_bucket" "old" {
  bucket = "old"
}

output "bucket" { value = aws_bucket.logs.bucket }
output "legacy" { value = "yes" }
`)

var goldenV2 = tf(
	"main.tf", `
variable "env" {
  type    = string
  default = "dev"
}

variable "token" {
  type      = string
  default   = "t0k3n"
  sensitive = true
}

resource "null_resource" "app" {
  triggers = { version = "2" }
}

resource "aws_bucket" "logs" {
  bucket = "logs-${var.env}"
  tags   = { env = var.env, owner = "platform" }
  rules  = ["keep-30d"]
}

resource "null_resource" "worker" {
  count = 2
}

resource "aws_queue" "jobs" {
  for_each = toset(["high", "low"])
  name     = "jobs-${each.key}"
  app      = null_resource.app.id
}

data "aws_region" "current" {}

module "net" {
  source = "./modules/net"
  cidr   = "10.0.0.0/16"
}

output "bucket" { value = aws_bucket.logs.bucket }
output "queues" { value = [for q in aws_queue.jobs : q.arn] }
output "vpc_id" { value = module.net.vpc_id }
output "token" {
  value     = var.token
  sensitive = true
}
`,
	"modules/net/main.tf", `
variable "cidr" { type = string }

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

output "vpc_id" { value = aws_vpc.this.id }
`)

func TestGoldenLogs(t *testing.T) {
	prior := applied(t, goldenV1, nil)
	p := mustPlan(t, PlanRequest{Files: goldenV2, Prior: prior, Refresh: true})
	golden(t, "plan", p.Log)
	_, applyLog := Apply(p, false)
	golden(t, "apply", applyLog)

	destroy := mustPlan(t, PlanRequest{Files: goldenV1, Prior: prior, Destroy: true})
	golden(t, "destroy_plan", destroy.Log)

	pe := mustPlanError(t, PlanRequest{Files: tf("main.tf", "variable \"region\" {\n  type = string\n}\n\nresource \"null_resource\" \"a\" {\n  triggers = {\n    r = var.region\n    x = \n  }\n}\n")})
	golden(t, "syntax_error", pe.Log)
}
