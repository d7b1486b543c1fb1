// Package version reports the m18-gate version recorded in every result and
// verdict: the release tag stamped at link time, else the module version or
// VCS revision Go recorded in the binary, else "devel".
package version

import "runtime/debug"

// stamped is set at link time: -ldflags "-X github.com/engram/m18-gate/internal/version.stamped=v1.2.3".
var stamped string

// String returns the version of the running binary.
func String() string {
	if stamped != "" {
		return stamped
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}
