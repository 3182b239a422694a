package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Status of a row against its target.
const (
	Pass = "pass"
	Miss = "MISS"
	Info = "info" // measured, no target
)

// Row is one line of the summary table.
type Row struct {
	Benchmark string
	Measured  string
	Target    string
	Status    string
}

// check returns Pass or Miss.
func check(ok bool) string {
	if ok {
		return Pass
	}
	return Miss
}

// WriteTable prints rows as an aligned text table.
func WriteTable(w io.Writer, rows []Row) {
	head := Row{"benchmark", "measured", "target", "result"}
	wd := [3]int{len(head.Benchmark), len(head.Measured), len(head.Target)}
	for _, r := range rows {
		wd[0] = max(wd[0], len(r.Benchmark))
		wd[1] = max(wd[1], len(r.Measured))
		wd[2] = max(wd[2], len(r.Target))
	}
	line := func(r Row) {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", wd[0], r.Benchmark, wd[1], r.Measured, wd[2], r.Target, r.Status)
	}
	line(head)
	fmt.Fprintln(w, strings.Repeat("-", wd[0]+wd[1]+wd[2]+6+len("result")))
	for _, r := range rows {
		line(r)
	}
}

// WriteMarkdown prints rows as a Markdown table.
func WriteMarkdown(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| benchmark | measured | target | result |")
	fmt.Fprintln(w, "|---|---|---|---|")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", esc(r.Benchmark), esc(r.Measured), esc(r.Target), r.Status)
	}
}

// Machine describes the machine the benchmarks ran on.
func Machine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpus: %d (%s)\n", runtime.NumCPU(), cpuModel())
	fmt.Fprintf(&b, "memory: %s\n", memTotal())
	fmt.Fprintf(&b, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(l))
		if len(f) >= 3 {
			fmt.Fprintf(&b, "load average at start: %s %s %s\n", f[0], f[1], f[2])
		}
	}
	if v, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		fmt.Fprintf(&b, "kernel: %s\n", strings.TrimSpace(string(v)))
	}
	return b.String()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &kb); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

// Formatting helpers.

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / (1 << 20) / d.Seconds()
}
