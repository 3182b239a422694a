package executor

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	slug "github.com/hashicorp/go-slug"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadSlugRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.tf": `
module "m" { source = "./modules/m" }
output "greeting" { value = templatefile("greet.tpl", { who = module.m.who }) }
`,
		"vars.auto.tfvars":                 `unused = 1`,
		"greet.tpl":                        "hi ${who}",
		"modules/m/main.tf":                `output "who" { value = "mod" }`,
		"modules/m/data.tf.json":           `{"resource": {"null_resource": {"n": {}}}}`,
		"big.bin":                          strings.Repeat("x", maxAuxFileBytes+1),
		".terraform/modules/x/main.tf":     `this is not parsed`,
		".terraform/terraform.tfstate":     `{}`,
		"README.md":                        "docs",
		"modules/m/.terraform.lock.hcl":    "# lock",
		"modules/m/nested/ignored/file.tf": `# only loaded if referenced`,
	})
	if err := os.Symlink("main.tf", filepath.Join(dir, "link.tf.bak")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := slug.Pack(dir, &buf, false); err != nil {
		t.Fatal(err)
	}
	files, err := ReadSlug(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{
		"README.md", "greet.tpl", "link.tf.bak", "main.tf",
		"modules/m/.terraform.lock.hcl", "modules/m/data.tf.json", "modules/m/main.tf",
		"modules/m/nested/ignored/file.tf", "vars.auto.tfvars",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files = %q\nwant    %q", names, want)
	}
	if string(files["link.tf.bak"]) != string(files["main.tf"]) {
		t.Errorf("symlink not resolved: %q", files["link.tf.bak"])
	}
	p := mustPlan(t, PlanRequest{Files: files})
	if len(p.Changes) != 1 || p.Changes[0].Address != "module.m.null_resource.n" {
		t.Errorf("changes = %v", p.Changes)
	}
	if o, _ := findOutput(p.Planned, "greeting"); string(o.Value) != `"hi mod"` {
		t.Errorf("greeting = %s", o.Value)
	}
}

func tarGz(t *testing.T, entries map[string]string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		body := entries[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestReadSlugErrors(t *testing.T) {
	tests := []struct {
		name string
		data func(t *testing.T) *bytes.Buffer
		want string
	}{
		{"not gzip", func(*testing.T) *bytes.Buffer { return bytes.NewBufferString("plain text") }, "read slug"},
		{"parent path", func(t *testing.T) *bytes.Buffer { return tarGz(t, map[string]string{"../evil.tf": "x"}) }, "illegal path"},
		{"absolute path", func(t *testing.T) *bytes.Buffer { return tarGz(t, map[string]string{"/etc/evil.tf": "x"}) }, "illegal path"},
		{"truncated", func(t *testing.T) *bytes.Buffer {
			b := tarGz(t, map[string]string{"main.tf": strings.Repeat("a", 5000)})
			return bytes.NewBuffer(b.Bytes()[:b.Len()/2])
		}, "read slug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSlug(tt.data(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	files, err := ReadSlug(tarGz(t, map[string]string{"./main.tf": "# root", "a/./b.tf": "# b"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["main.tf"]; !ok || len(files) != 2 || files["a/b.tf"] == nil {
		t.Errorf("paths not cleaned: %v", files)
	}
}
