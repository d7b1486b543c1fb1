package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate/render"
)

//go:embed templates/*.html
var templateFS embed.FS

// Marker is the file every dashboard directory holds, so that Write only
// ever replaces a directory it wrote itself.
const Marker = ".m18-dash"

// Files renders the site: every page and chart, by path relative to the
// site's root.
func (s *Site) Files() (map[string][]byte, error) {
	t, err := template.New("").Funcs(s.funcs()).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		Marker:      []byte("written by m18-dash; the whole directory is replaced on each build\n"),
		".nojekyll": nil,
	}
	page := func(path, name string, data any) error {
		var b bytes.Buffer
		root := strings.Repeat("../", strings.Count(path, "/"))
		if err := t.ExecuteTemplate(&b, name, map[string]any{"Site": s, "Root": root, "D": data}); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		files[path] = b.Bytes()
		return nil
	}
	if err := page("index.html", "index.html", s); err != nil {
		return nil, err
	}
	cps, err := s.ChangePoints()
	if err != nil {
		return nil, err
	}
	files[ChangePointsFile] = cps
	for _, g := range s.Groups {
		if err := page(g.Path(), "group.html", g); err != nil {
			return nil, err
		}
		for _, c := range g.Charts {
			img, err := TrendSVG(c)
			if err != nil {
				return nil, fmt.Errorf("chart %s: %w", c.Path(), err)
			}
			files[c.SVGPath()] = img
			if err := page(c.Path(), "chart.html", map[string]any{"Group": g, "Chart": c}); err != nil {
				return nil, err
			}
		}
		for _, tc := range g.Tasks {
			img, err := TaskSVG(tc)
			if err != nil {
				s.Warnings = append(s.Warnings, err.Error())
				continue
			}
			files[tc.SVGPath()] = img
		}
		for _, cc := range g.Competitors {
			img, err := CompetitorSVG(cc)
			if err != nil {
				return nil, fmt.Errorf("competitor chart %s: %w", cc.SVGPath(), err)
			}
			files[cc.SVGPath()] = img
		}
	}
	return files, nil
}

// Write renders the site into dir. dir must not exist, be empty, or hold a
// dashboard written before (it has the Marker file); its contents are then
// replaced whole — the site is built in a sibling directory first, so a
// failed build leaves the old one in place.
func (s *Site) Write(dir string) error {
	files, err := s.Files()
	if err != nil {
		return err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
			return fmt.Errorf("--out %s: directory is not empty and holds no dashboard (no %s file): choose a new or empty directory", dir, Marker)
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for p, data := range files {
		full := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(old, dir)
		return err
	}
	return os.RemoveAll(old)
}

func (s *Site) funcs() template.FuncMap {
	o := s.opts
	return template.FuncMap{
		"value": func(v float64, unit string) string { return render.Value(v, unit) },
		"pct": func(x float64) string {
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return "—"
			}
			return fmt.Sprintf("%+.1f%%", x*100)
		},
		"num":  func(x float64) string { return fmt.Sprintf("%.4g", x) },
		"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") },
		"short": func(c string) string {
			return c[:min(12, len(c))]
		},
		"commitURL": func(c string) string {
			if o.RepoURL == "" || c == "" {
				return ""
			}
			return o.RepoURL + "/commit/" + c
		},
		"worse": func(c *Chart, rel float64) bool { return c.worse(rel) },
		"sub":   func(a, b int) int { return a - b },
		"rel":   func(root, path string) string { return root + path },
	}
}
