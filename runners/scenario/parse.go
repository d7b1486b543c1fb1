package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// Defaults that a scenario file may leave out.
const (
	// DefaultTotalSeconds is Engram's default when [duration] is absent.
	DefaultTotalSeconds = 300
	// DefaultMaxWarmupSeconds caps the default warmup (10 % of the run).
	DefaultMaxWarmupSeconds = 10
	// DefaultHotFraction and DefaultHotProbability are hot_spot's defaults.
	DefaultHotFraction    = 0.01
	DefaultHotProbability = 0.9
	// DefaultHotSpotStdDev is the noise around hot_spot's centre (Engram's).
	DefaultHotSpotStdDev = 0.01
)

// DefaultDistribution is Engram's embedding_distribution when a file has
// none: clustered, 10 clusters, std_dev 0.1.
var DefaultDistribution = Distribution{Type: "clustered", NumClusters: 10, StdDev: 0.1}

// Limits on values, to catch nonsense (a rate of 1e12) before a run starts.
const (
	maxRate      = 10_000_000
	maxSeconds   = 30 * 24 * 3600 // 30 days
	maxNodes     = 1_000_000_000
	maxDim       = 65_536
	maxSpaces    = 100_000
	maxClusters  = 10_000_000
	maxFileBytes = 1 << 20
)

// Patterns are the accepted [arrival] patterns, and the keys each takes
// besides "pattern".
var patternKeys = map[string][]string{
	"constant":       {"rate"},
	"poisson":        {"lambda"},
	"exponential":    {"lambda", "rate"},
	"periodic_burst": {"base_rate", "burst_rate", "burst_duration_sec", "burst_period_sec"},
	// M18 patterns (arrival_m18.go).
	"diurnal":        {"base_rate", "peak_multiplier", "peak_hour", "trough_hour", "cycle_sec", "spacing"},
	"bursts":         {"base_rate", "burst_rate", "burst_duration_sec", "mean_gap_sec", "spacing"},
	"ramp":           {"from_rate", "to_rate", "ramp_sec", "spacing"},
	"steps":          {"from_rate", "step_rate", "step_sec", "max_rate", "spacing"},
	"burst_sequence": {"base_rate", "multipliers", "burst_duration_sec", "gap_sec", "spacing"},
	"composite":      {"spacing"},
}

// patternNames lists the patterns in the order messages name them.
var patternNames = []string{"constant", "poisson", "exponential", "periodic_burst", "diurnal", "bursts", "ramp", "steps", "burst_sequence", "composite"}

var distributionKeys = map[string][]string{
	"clustered": {"num_clusters", "std_dev"},
	"uniform":   {},
	"hot_spot":  {"center", "std_dev", "hot_fraction", "hot_probability"},
}

// schema lists every key each table accepts, for unknown-key errors and the
// "belongs in another table" hint.
var schema = map[string][]string{
	"":         {"name", "description", "duration", "arrival", "operations", "data", "validation", "chaos"},
	"duration": {"total_seconds", "warmup_seconds", "max_requests"},
	"arrival": {"pattern", "rate", "lambda", "base_rate", "burst_rate", "burst_duration_sec", "burst_period_sec",
		"spacing", "peak_multiplier", "peak_hour", "trough_hour", "cycle_sec", "mean_gap_sec", "from_rate", "to_rate",
		"ramp_sec", "step_rate", "step_sec", "max_rate", "multipliers", "gap_sec"},
	"operations":                  {"store_weight", "recall_weight", "embedding_search_weight", "pattern_completion_weight"},
	"data":                        {"num_nodes", "embedding_dim", "memory_spaces", "embedding_distribution"},
	"data.embedding_distribution": {"type", "num_clusters", "std_dev", "center", "hot_fraction", "hot_probability"},
	"validation":                  {"expected_p99_latency_ms", "expected_throughput_ops_sec", "max_error_rate"},
	"chaos":                       {"enabled"},
}

// Parse reads one scenario file's bytes. ref names the file in messages and
// is stored in Scenario.Ref. The result is defaulted and validated; on any
// problem the error is an Errors listing every problem of the file.
func Parse(ref string, data []byte) (*Scenario, error) {
	return parse(ref, ref, data)
}

// parse is Parse with a separate name for messages (display) and for
// Scenario.Ref (ref): built-ins are asked for as "ci/smoke" but their
// messages say "ci/smoke.toml".
func parse(ref, display string, data []byte) (*Scenario, error) {
	if len(data) > maxFileBytes {
		return nil, Errors{{Ref: display, Msg: fmt.Sprintf("file is %d bytes; a scenario is at most %d", len(data), maxFileBytes)}}
	}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{Ref: display, Line: errorLine(data, pe.Position), Msg: "TOML syntax error: " + pe.Message}}
		}
		return nil, Errors{{Ref: display, Msg: "TOML error: " + err.Error()}}
	}
	w := &walker{ref: display, lines: tomlcheck.Lines(string(data))}
	sc := w.scenario(doc)
	if len(w.errs) > 0 {
		sort.SliceStable(w.errs, func(i, j int) bool {
			li, lj := w.errs[i].Line, w.errs[j].Line
			if li == 0 || lj == 0 {
				return li != 0 && lj == 0 // located problems first
			}
			return li < lj
		})
		return nil, w.errs
	}
	sum := sha256.Sum256(data)
	sc.Ref = ref
	sc.SHA256 = hex.EncodeToString(sum[:])
	sc.Raw = slices.Clone(data)
	return sc, nil
}

// errorLine is the line of a parse error. The parser reports an error found
// at a newline (an unclosed "[data") on the next line; the byte offset says
// where it really is.
func errorLine(data []byte, p toml.Position) int {
	if p.Start > 0 && p.Start <= len(data) {
		return 1 + bytes.Count(data[:p.Start], []byte("\n"))
	}
	return p.Line
}

// walker checks a decoded document against the schema, collecting problems.
type walker struct {
	ref   string
	lines map[string]int
	errs  Errors
}

// line finds the line of path, or of its closest ancestor that has one.
func (w *walker) line(path []string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := w.lines[toml.Key(path[:n]).String()]; ok {
			return l
		}
	}
	return 0
}

func (w *walker) problem(table []string, key, format string, args ...any) {
	path := table
	if key != "" {
		path = join(table, []string{key})
	}
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = key + " " + msg
	}
	w.errs = append(w.errs, &Problem{
		Ref:   w.ref,
		Line:  w.line(path),
		Table: strings.Join(table, "."),
		Key:   key,
		Msg:   msg,
	})
}

// table is one TOML table being read.
type table struct {
	w    *walker
	path []string
	m    map[string]any
}

func (t *table) get(key string) (any, bool) {
	v, ok := t.m[key]
	return v, ok
}

// section is sub for a section of the file ([duration], [data], …): its
// keys are checked against the schema when it is there.
func (t *table) section(key string) (*table, bool) {
	s, ok := t.sub(key)
	if ok {
		s.unknown(schema[key], nil)
	}
	return s, ok
}

// sub returns the table under key; ok is false if absent or not a table
// (the latter reported).
func (t *table) sub(key string) (*table, bool) {
	v, ok := t.m[key]
	if !ok {
		return &table{w: t.w, path: join(t.path, []string{key}), m: map[string]any{}}, false
	}
	m, isTable := v.(map[string]any)
	if !isTable {
		t.w.problem(t.path, key, "must be a table (got %s)", describe(v))
		return &table{w: t.w, path: join(t.path, []string{key}), m: map[string]any{}}, false
	}
	return &table{w: t.w, path: join(t.path, []string{key}), m: m}, true
}

// number reads a finite int or float.
func (t *table) number(key string) (float64, bool) {
	v, ok := t.m[key]
	if !ok {
		return 0, false
	}
	f, isNum := tomlcheck.Number(v)
	if !isNum {
		t.w.problem(t.path, key, "must be a number (got %s)", describe(v))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		t.w.problem(t.path, key, "must be a finite number (got %s)", describe(v))
		return 0, false
	}
	return f, true
}

// typed reads a value of Go type T (as the TOML decoder gives it); a value
// of another type is a problem: key "must be <want>".
func typed[T any](t *table, key, want string) (T, bool) {
	var zero T
	v, ok := t.m[key]
	if !ok {
		return zero, false
	}
	x, isT := v.(T)
	if !isT {
		t.w.problem(t.path, key, "must be %s (got %s)", want, describe(v))
		return zero, false
	}
	return x, true
}

// integer reads an int (a float such as 1e6 is rejected, as Engram does).
func (t *table) integer(key string) (int64, bool) { return typed[int64](t, key, "an integer") }

func (t *table) str(key string) (string, bool) { return typed[string](t, key, "a string") }

func (t *table) boolean(key string) (bool, bool) { return typed[bool](t, key, "true or false") }

// rangeNum reads a number and checks lo < v (or lo ≤ v when loIncl) and
// v ≤ hi.
func (t *table) rangeNum(key string, lo float64, loIncl bool, hi float64) (float64, bool) {
	f, ok := t.number(key)
	if !ok {
		return 0, false
	}
	return f, t.check(key, f, lo, loIncl, hi)
}

func (t *table) check(key string, f, lo float64, loIncl bool, hi float64) bool {
	switch {
	case loIncl && f < lo:
		t.w.problem(t.path, key, "must be ≥ %s (got %s)", num(lo), num(f))
	case !loIncl && f <= lo:
		t.w.problem(t.path, key, "must be > %s (got %s)", num(lo), num(f))
	case f > hi:
		t.w.problem(t.path, key, "must be ≤ %s (got %s)", num(hi), num(f))
	default:
		return true
	}
	return false
}

func (t *table) rangeInt(key string, lo, hi int64) (int64, bool) {
	x, ok := t.integer(key)
	if !ok {
		return 0, false
	}
	if x < lo {
		t.w.problem(t.path, key, "must be ≥ %d (got %d)", lo, x)
		return 0, false
	}
	if x > hi {
		t.w.problem(t.path, key, "must be ≤ %d (got %d)", hi, x)
		return 0, false
	}
	return x, true
}

// required reports key as missing.
func (t *table) required(key, hint string) {
	msg := fmt.Sprintf("missing required key %q", key)
	if hint != "" {
		msg += " (" + hint + ")"
	}
	t.w.problem(t.path, "", "%s", msg)
}

// unknown reports every key of t not in allowed. why, if set, explains
// keys that are valid in the table but not in this form (for example
// "lambda" with pattern "constant").
func (t *table) unknown(allowed []string, why func(key string) string) {
	tableName := strings.Join(t.path, ".")
	for _, k := range slices.Sorted(maps.Keys(t.m)) {
		if slices.Contains(allowed, k) {
			continue
		}
		if why != nil && slices.Contains(schema[tableName], k) {
			t.w.problem(t.path, k, "%s", why(k))
			continue
		}
		msg := "unknown key"
		if s := tomlcheck.Suggest(k, allowed); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if s := tomlcheck.Suggest(k, schema[tableName]); s != "" && why != nil {
			msg += fmt.Sprintf(" (the nearest key, %q, %s)", s, why(s))
		} else if other := elsewhere(k, tableName); other != "" {
			msg += fmt.Sprintf(" (%q belongs in %s)", k, other)
		} else if len(allowed) > 0 {
			msg += " (valid keys: " + strings.Join(allowed, ", ") + ")"
		}
		// The key comes first in the message so that the wording reads
		// `[operations] unknown key "store_weigth" (did you mean …)`.
		t.w.errs = append(t.w.errs, &Problem{
			Ref:   t.w.ref,
			Line:  t.w.line(join(t.path, []string{k})),
			Table: tableName,
			Key:   k,
			Msg:   strings.Replace(msg, "unknown key", fmt.Sprintf("unknown key %q", k), 1),
		})
	}
}

// elsewhere names the table where key would be valid, if exactly one.
func elsewhere(key, not string) string {
	var found []string
	for name, keys := range schema {
		if name != not && slices.Contains(keys, key) {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		return ""
	}
	if found[0] == "" {
		return "the top level"
	}
	return "[" + found[0] + "]"
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "string " + strconv.Quote(x)
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + num(x)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (w *walker) scenario(doc map[string]any) *Scenario {
	top := &table{w: w, m: doc}
	sc := &Scenario{}
	top.unknown(schema[""], nil)

	if s, ok := top.str("name"); ok {
		if strings.TrimSpace(s) == "" {
			w.problem(nil, "name", "must not be empty")
		}
		sc.Name = s
	} else if _, present := top.get("name"); !present {
		top.required("name", `a title such as name = "CI fast regression check"`)
	}
	sc.Description, _ = top.str("description")

	sc.Duration = w.duration(top)
	sc.Arrival = w.arrival(top)
	sc.Operations = w.operations(top)
	sc.Data = w.data(top)
	sc.Validation = w.validation(top)
	sc.Chaos = w.chaos(top)
	return sc
}

func (w *walker) duration(top *table) Duration {
	d := Duration{TotalSeconds: DefaultTotalSeconds}
	t, ok := top.section("duration")
	if !ok {
		return d
	}
	if f, ok := t.rangeNum("total_seconds", 0, false, maxSeconds); ok {
		d.TotalSeconds = f
	}
	if f, ok := t.rangeNum("warmup_seconds", 0, true, maxSeconds); ok {
		d.WarmupSeconds = f
		d.warmupSet = true
	}
	if n, ok := t.rangeInt("max_requests", 0, math.MaxInt64); ok {
		d.MaxRequests = uint64(n)
	}
	return d
}

func (w *walker) arrival(top *table) Arrival {
	var a Arrival
	t, ok := top.sub("arrival")
	if !ok {
		if _, present := top.get("arrival"); !present {
			top.required("arrival", `add [arrival] with pattern = "constant" and rate = …`)
		}
		return a
	}
	p, ok := t.str("pattern")
	if !ok {
		if _, present := t.get("pattern"); !present {
			t.required("pattern", strings.Join(patternNames[:len(patternNames)-1], ", ")+" or composite")
		}
		t.unknown(schema["arrival"], nil)
		return a
	}
	keys, known := patternKeys[p]
	if !known {
		msg := fmt.Sprintf("must be one of %s (got %q)", strings.Join(patternNames, ", "), p)
		if s := tomlcheck.Suggest(p, patternNames); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		w.problem(t.path, "pattern", "%s", msg)
		t.unknown(schema["arrival"], nil)
		return a
	}
	a.Pattern = p
	allowed := append([]string{"pattern"}, keys...)
	if p == "composite" {
		allowed = append(allowed, compositeParts...)
	}
	t.unknown(allowed, func(k string) string {
		return fmt.Sprintf("does not apply to pattern %q (it takes %s)", p, strings.Join(keys, ", "))
	})
	w.arrivalParams(t, p, keys, &a)
	return a
}

// arrivalParams reads the keys of pattern p from t into a.
func (w *walker) arrivalParams(t *table, p string, keys []string, a *Arrival) {
	rate := func(key string) float64 {
		f, ok := t.rangeNum(key, 0, false, maxRate)
		if !ok {
			if _, present := t.get(key); !present {
				t.required(key, fmt.Sprintf("pattern %q needs %s", p, strings.Join(keys, ", ")))
			}
		}
		return f
	}
	switch p {
	case "constant":
		a.Rate = rate("rate")
	case "poisson":
		a.Rate = rate("lambda")
	case "exponential":
		_, hasL := t.get("lambda")
		_, hasR := t.get("rate")
		switch {
		case hasL && hasR:
			w.problem(t.path, "rate", "and lambda both given for pattern \"exponential\"; keep one (lambda is Engram's name)")
		case hasR:
			a.Rate = rate("rate")
		default:
			a.Rate = rate("lambda")
		}
	case "periodic_burst":
		if f, ok := t.rangeNum("base_rate", 0, true, maxRate); ok {
			a.BaseRate = f
		} else if _, present := t.get("base_rate"); !present {
			t.required("base_rate", "requests per second between bursts")
		}
		a.BurstRate = rate("burst_rate")
		if f, ok := t.rangeNum("burst_duration_sec", 0, false, maxSeconds); ok {
			a.BurstDurationSec = f
		} else if _, present := t.get("burst_duration_sec"); !present {
			t.required("burst_duration_sec", "length of each burst in seconds")
		}
		if f, ok := t.rangeNum("burst_period_sec", 0, false, maxSeconds); ok {
			a.BurstPeriodSec = f
		} else if _, present := t.get("burst_period_sec"); !present {
			t.required("burst_period_sec", "seconds from the start of one burst to the next")
		}
		if a.BurstDurationSec > 0 && a.BurstPeriodSec > 0 && a.BurstDurationSec > a.BurstPeriodSec {
			w.problem(t.path, "burst_duration_sec", "must be ≤ burst_period_sec (got %s > %s)", num(a.BurstDurationSec), num(a.BurstPeriodSec))
		}
	default:
		w.m18Arrival(t, p, keys, a)
	}
}

func (w *walker) operations(top *table) Operations {
	var o Operations
	t, ok := top.section("operations")
	if !ok {
		if _, present := top.get("operations"); !present {
			top.required("operations", "add [operations] with store_weight, recall_weight, embedding_search_weight")
		}
		return o
	}
	bad := false
	for _, f := range []struct {
		key string
		dst *float64
	}{
		{"store_weight", &o.Store},
		{"recall_weight", &o.Recall},
		{"embedding_search_weight", &o.Search},
		{"pattern_completion_weight", &o.PatternCompletion},
	} {
		if _, present := t.get(f.key); !present {
			continue
		}
		v, ok := t.rangeNum(f.key, 0, true, math.MaxFloat64)
		if !ok {
			bad = true
			continue
		}
		*f.dst = v
	}
	if bad {
		return Operations{}
	}
	if o.Store+o.Recall+o.Search+o.PatternCompletion == 0 {
		w.problem(t.path, "", "all weights are zero; give at least one of store_weight, recall_weight, embedding_search_weight, pattern_completion_weight a value > 0")
		return Operations{}
	}
	return o.Normalized()
}

func (w *walker) data(top *table) Data {
	d := Data{MemorySpaces: 1, Distribution: DefaultDistribution}
	t, ok := top.section("data")
	if !ok {
		if _, present := top.get("data"); !present {
			top.required("data", "add [data] with num_nodes and embedding_dim = 768")
		}
		return d
	}
	if n, ok := t.rangeInt("num_nodes", 1, maxNodes); ok {
		d.NumNodes = int(n)
	} else if _, present := t.get("num_nodes"); !present {
		t.required("num_nodes", "how many memories to preload, e.g. num_nodes = 10_000")
	}
	if n, ok := t.rangeInt("embedding_dim", 1, maxDim); ok {
		d.EmbeddingDim = int(n)
	} else if _, present := t.get("embedding_dim"); !present {
		t.required("embedding_dim", "Engram accepts embedding_dim = 768")
	}
	if n, ok := t.rangeInt("memory_spaces", 1, maxSpaces); ok {
		d.MemorySpaces = int(n)
	}
	if _, present := t.get("embedding_distribution"); present {
		d.Distribution = w.distribution(t, d.EmbeddingDim)
	}
	return d
}

func (w *walker) distribution(data *table, dim int) Distribution {
	t, ok := data.sub("embedding_distribution")
	if !ok {
		return DefaultDistribution
	}
	typ, ok := t.str("type")
	if !ok {
		if _, present := t.get("type"); !present {
			t.required("type", `"clustered", "uniform" or "hot_spot"`)
		}
		t.unknown(schema["data.embedding_distribution"], nil)
		return DefaultDistribution
	}
	keys, known := distributionKeys[typ]
	if !known {
		names := []string{"clustered", "uniform", "hot_spot"}
		msg := fmt.Sprintf("must be one of clustered, uniform, hot_spot (got %q)", typ)
		if s := tomlcheck.Suggest(typ, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		w.problem(t.path, "type", "%s", msg)
		return DefaultDistribution
	}
	t.unknown(append([]string{"type"}, keys...), func(k string) string {
		if len(keys) == 0 {
			return fmt.Sprintf("does not apply to type %q (it takes no parameters)", typ)
		}
		return fmt.Sprintf("does not apply to type %q (it takes %s)", typ, strings.Join(keys, ", "))
	})
	d := Distribution{Type: typ}
	switch typ {
	case "clustered":
		d.NumClusters, d.StdDev = DefaultDistribution.NumClusters, DefaultDistribution.StdDev
		if n, ok := t.rangeInt("num_clusters", 1, maxClusters); ok {
			d.NumClusters = int(n)
		}
		if f, ok := t.rangeNum("std_dev", 0, true, 100); ok {
			d.StdDev = f
		}
	case "hot_spot":
		d.StdDev = DefaultHotSpotStdDev
		d.HotFraction = DefaultHotFraction
		d.HotProbability = DefaultHotProbability
		if f, ok := t.rangeNum("std_dev", 0, true, 100); ok {
			d.StdDev = f
		}
		if f, ok := t.rangeNum("hot_fraction", 0, false, 1); ok {
			d.HotFraction = f
		}
		if f, ok := t.rangeNum("hot_probability", 0, true, 1); ok {
			d.HotProbability = f
		}
		if v, present := t.get("center"); present {
			arr, isArr := v.([]any)
			if !isArr {
				w.problem(t.path, "center", "must be an array of numbers (got %s)", describe(v))
				break
			}
			if dim > 0 && len(arr) > dim {
				w.problem(t.path, "center", "has %d values, more than embedding_dim %d", len(arr), dim)
				break
			}
			center := make([]float64, 0, len(arr))
			for i, e := range arr {
				f, isNum := tomlcheck.Number(e)
				if !isNum {
					w.problem(t.path, "center", "value %d must be a number (got %s)", i+1, describe(e))
					return d
				}
				if math.IsNaN(f) || math.IsInf(f, 0) {
					w.problem(t.path, "center", "value %d must be finite (got %s)", i+1, num(f))
					return d
				}
				center = append(center, f)
			}
			d = d.WithCenter(center)
		}
	}
	return d
}

func (w *walker) validation(top *table) Validation {
	var v Validation
	t, ok := top.section("validation")
	if !ok {
		return v
	}
	if f, ok := t.rangeNum("expected_p99_latency_ms", 0, false, 3_600_000); ok {
		v.ExpectedP99LatencyMs = &f
	}
	if f, ok := t.rangeNum("expected_throughput_ops_sec", 0, true, maxRate); ok {
		v.ExpectedThroughputOpsSec = &f
	}
	if f, ok := t.rangeNum("max_error_rate", 0, true, 1); ok {
		v.MaxErrorRate = &f
	}
	return v
}

func (w *walker) chaos(top *table) (c Chaos) {
	if t, ok := top.section("chaos"); ok {
		c.Enabled, _ = t.boolean("enabled")
	}
	return c
}

// join returns the path a followed by b, in a new slice.
func join(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
