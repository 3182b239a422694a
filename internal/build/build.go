// Package build carries the version information injected at link time.
package build

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by -ldflags at release time.
var (
	Version = ""
	Commit  = ""
)

// Info returns the version and commit, falling back to the module build info
// for `go install` builds.
func Info() (version, commit string) {
	version, commit = Version, Commit
	if version == "" {
		version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	if commit == "" {
		commit = "none"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 7 {
					commit = s.Value[:7]
				}
			}
		}
	}
	return version, commit
}

// UserAgent is sent on every request the CLI makes.
func UserAgent() string {
	v, _ := Info()
	return fmt.Sprintf("tharsis-cli/%s (%s/%s)", v, runtime.GOOS, runtime.GOARCH)
}
