package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// Tree kinds generated for the packing benchmark.
const (
	TreeSmall    = "small"
	TreeLarge    = "large"
	TreeMonorepo = "monorepo"
)

// TreeStats describes a generated tree.
type TreeStats struct {
	Files int   // regular files on disk
	Bytes int64 // their total size
	// PackedFiles and PackedBytes are the files the ignore rules keep.
	PackedFiles int
	PackedBytes int64
}

// treeGen writes files with deterministic content. Binary blobs are slices
// of one random block (content is irrelevant to what is measured, but it
// must not be sparse or trivially compressible).
type treeGen struct {
	root  string
	rng   *rand.Rand
	block []byte
	st    TreeStats
	sb    strings.Builder
}

func newTreeGen(root string, seed uint64) *treeGen {
	g := &treeGen{root: root, rng: rand.New(rand.NewPCG(seed, 0x7e5))}
	g.block = make([]byte, 1<<20)
	for i := 0; i+8 <= len(g.block); i += 8 {
		v := g.rng.Uint64()
		for j := range 8 {
			g.block[i+j] = byte(v >> (8 * j))
		}
	}
	return g
}

// write creates root/rel with data; packed says whether the ignore rules
// keep it (for the stats only).
func (g *treeGen) write(rel string, data []byte, packed bool) error {
	p := filepath.Join(g.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	g.st.Files++
	g.st.Bytes += int64(len(data))
	if packed {
		g.st.PackedFiles++
		g.st.PackedBytes += int64(len(data))
	}
	return nil
}

// blob writes size bytes of binary content, in pieces of at most 1 MiB.
func (g *treeGen) blob(rel string, size int64, packed bool) error {
	p := filepath.Join(g.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	off := g.rng.IntN(len(g.block))
	for left := size; left > 0; {
		chunk := g.block[off:]
		if int64(len(chunk)) > left {
			chunk = chunk[:left]
		}
		if _, err := f.Write(chunk); err != nil {
			_ = f.Close()
			return err
		}
		left -= int64(len(chunk))
		off = 0
	}
	if err := f.Close(); err != nil {
		return err
	}
	g.st.Files++
	g.st.Bytes += size
	if packed {
		g.st.PackedFiles++
		g.st.PackedBytes += size
	}
	return nil
}

var instanceTypes = [...]string{"t3.micro", "t3.small", "m6i.large", "c7g.xlarge"}

// hcl returns Terraform text of about size bytes (at least one resource).
func (g *treeGen) hcl(file, size int) []byte {
	g.sb.Reset()
	for r := 0; r == 0 || g.sb.Len() < size; r++ {
		fmt.Fprintf(&g.sb, `resource "aws_instance" "r%d_%d" {
  ami           = "ami-%016x"
  instance_type = %q
  subnet_id     = "subnet-%04d"

  tags = {
    Name  = "node-%d-%d"
    Team  = "team-%02d"
    Owner = "owner-%x@example.com"
  }
}

`, file, r, g.rng.Uint64(), instanceTypes[g.rng.IntN(len(instanceTypes))], g.rng.IntN(6),
			file, r, g.rng.IntN(40), g.rng.Uint32())
	}
	return []byte(g.sb.String())
}

// gitDir writes a small .git directory (always excluded).
func (g *treeGen) gitDir(prefix string, objects int) error {
	if err := g.write(prefix+".git/HEAD", []byte("ref: refs/heads/main\n"), false); err != nil {
		return err
	}
	if err := g.write(prefix+".git/config", []byte("[core]\n\trepositoryformatversion = 0\n\tbare = false\n"), false); err != nil {
		return err
	}
	for i := range objects {
		if err := g.blob(fmt.Sprintf("%s.git/objects/%02x/%038x", prefix, i%256, i), 200+int64(g.rng.IntN(4000)), false); err != nil {
			return err
		}
	}
	return nil
}

// scaled returns max(lo, round(n*scale)).
func scaled(n int, scale float64, lo int) int {
	return max(lo, int(float64(n)*scale+0.5))
}

// GenTree writes a tree of the given kind under dir (which must not
// exist or be empty). scale (1 = the sizes of the issue) shrinks or grows
// the large module and the monorepo; the small module is always 20 files.
//
//	small     20 .tf files (about 40 KB) and a small .git
//	large     5,000 .tf files, 50 MB in all, in 100 module directories
//	monorepo  about 1 GB: 300 .tf files kept; .git (packs and loose
//	          objects), node_modules (excluded by .terraformignore) and
//	          .terraform/providers make up the rest
func GenTree(kind, dir string, scale float64) (TreeStats, error) {
	g := newTreeGen(dir, uint64(len(kind)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return TreeStats{}, err
	}
	var err error
	switch kind {
	case TreeSmall:
		err = g.small()
	case TreeLarge:
		err = g.large(scale)
	case TreeMonorepo:
		err = g.monorepo(scale)
	default:
		err = fmt.Errorf("unknown tree kind %q", kind)
	}
	return g.st, err
}

func (g *treeGen) small() error {
	names := []string{"main", "variables", "outputs", "versions", "providers", "locals", "data", "iam",
		"network", "security", "compute", "storage", "dns", "monitoring", "alarms", "backup", "kms", "s3",
		"lambda", "queues"}
	for i, n := range names {
		if err := g.write(n+".tf", g.hcl(i, 1000+g.rng.IntN(3000)), true); err != nil {
			return err
		}
	}
	return g.gitDir("", 20)
}

func (g *treeGen) large(scale float64) error {
	files := scaled(5000, scale, 50)
	per := int(50e6*scale) / files // about 10 KB each at every scale
	for i := range files {
		rel := fmt.Sprintf("modules/m%03d/file%04d.tf", i/50, i)
		if err := g.write(rel, g.hcl(i, per), true); err != nil {
			return err
		}
	}
	return g.gitDir("", 40)
}

// monorepoIgnore is the monorepo's .terraformignore; .git and .terraform
// are excluded by go-slug's built-in rules.
const monorepoIgnore = `# dependencies and local state
node_modules/
*.tfstate
*.tfstate.backup
.DS_Store
`

func (g *treeGen) monorepo(scale float64) error {
	if err := g.write(".terraformignore", []byte(monorepoIgnore), true); err != nil {
		return err
	}
	// The Terraform part that is packed: environments and modules.
	tf := scaled(300, scale, 20)
	for i := range tf {
		rel := fmt.Sprintf("modules/svc%02d/res%03d.tf", i/10, i)
		if i%10 == 0 {
			rel = fmt.Sprintf("envs/env%02d/main.tf", i/10)
		}
		if err := g.write(rel, g.hcl(i, 2000+g.rng.IntN(8000)), true); err != nil {
			return err
		}
	}
	// .git: two pack files and many loose objects (about 330 MB).
	for i := range 2 {
		if err := g.blob(fmt.Sprintf(".git/objects/pack/pack-%040x.pack", i), int64(150e6*scale), false); err != nil {
			return err
		}
	}
	if err := g.gitDir("", scaled(5000, scale, 10)); err != nil {
		return err
	}
	// node_modules: many small files in nested packages (about 300 MB),
	// at the root and in a frontend app.
	nm := scaled(20000, scale, 20)
	for i := range nm {
		base := "node_modules"
		if i%4 == 3 {
			base = "apps/web/node_modules"
		}
		rel := fmt.Sprintf("%s/pkg-%04d/lib/file%02d.js", base, i/20, i%20)
		if err := g.blob(rel, 5000+int64(g.rng.IntN(20000)), false); err != nil {
			return err
		}
	}
	// .terraform/providers: three provider binaries (about 360 MB), in the
	// root and in an environment.
	for i, p := range []string{"aws/5.80.0", "google/6.12.0", "random/3.6.3"} {
		prefix := ""
		if i == 2 {
			prefix = "envs/env00/"
		}
		rel := fmt.Sprintf("%s.terraform/providers/registry.terraform.io/hashicorp/%s/linux_amd64/terraform-provider-%s", prefix, p, strings.Split(p, "/")[0])
		if err := g.blob(rel, int64(120e6*scale), false); err != nil {
			return err
		}
	}
	return g.write(".terraform.lock.hcl", []byte("# lock file\n"), true)
}
