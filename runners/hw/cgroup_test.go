package hw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCgroupQuota(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  float64
		warn  string // substring of the one expected warning, "" for none
	}{
		{
			name: "v2 leaf looser than parent: parent wins",
			files: map[string]string{
				"proc/self/cgroup":                       "0::/kubepods/pod1/c1\n",
				"sys/fs/cgroup/kubepods/pod1/c1/cpu.max": "200000 100000\n",
				"sys/fs/cgroup/kubepods/pod1/cpu.max":    "50000 100000\n",
				"sys/fs/cgroup/kubepods/cpu.max":         "max 100000\n",
			},
			want: 0.5,
		},
		{
			name: "v2 unlimited",
			files: map[string]string{
				"proc/self/cgroup":      "0::/\n",
				"sys/fs/cgroup/cpu.max": "max 100000\n",
			},
		},
		{
			name: "v1 host path not visible in the container: mount root read",
			files: map[string]string{
				"proc/self/cgroup":                       "5:cpuacct,cpu:/docker/feed\n",
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":     "250000\n",
				"sys/fs/cgroup/cpu/cpu.cfs_period_us":    "100000\n",
				"sys/fs/cgroup/cpuacct/cpu.cfs_quota_us": "ignored: not a cpu mount",
			},
			want: 2.5,
		},
		{
			name: "hybrid: v2 under unified",
			files: map[string]string{
				"proc/self/cgroup":              "0::/\n",
				"sys/fs/cgroup/unified/cpu.max": "300000 100000\n",
			},
			want: 3,
		},
		{
			name: "malformed cpu.max is warned about",
			files: map[string]string{
				"proc/self/cgroup":      "0::/\n",
				"sys/fs/cgroup/cpu.max": "lots\n",
			},
			warn: "cannot parse",
		},
		{
			name:  "no cgroup files",
			files: map[string]string{"proc/self/cgroup": "0::/\n"},
			warn:  "assuming no limit",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tt.files {
				p := filepath.Join(root, filepath.FromSlash(rel))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			p := &prober{root: root}
			p.f.OS = "linux"
			if got := p.cgroupQuota(); got != tt.want {
				t.Errorf("quota = %g, want %g", got, tt.want)
			}
			switch {
			case tt.warn == "" && len(p.warnings) > 0:
				t.Errorf("warnings = %q, want none", p.warnings)
			case tt.warn != "" && (len(p.warnings) != 1 || !strings.Contains(p.warnings[0], tt.warn)):
				t.Errorf("warnings = %q, want one mentioning %q", p.warnings, tt.warn)
			}
		})
	}
}
