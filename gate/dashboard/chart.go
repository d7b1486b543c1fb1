package dashboard

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart size on the page.
const (
	chartWidth  = 18 * vg.Centimeter
	chartHeight = 8 * vg.Centimeter
)

var (
	colMedian   = color.RGBA{R: 0x1f, G: 0x5f, B: 0xa8, A: 0xff}
	colInterval = color.RGBA{R: 0x7f, G: 0x9f, B: 0xc8, A: 0xff}
	colChange   = color.RGBA{R: 0xc0, G: 0x20, B: 0x20, A: 0xff}
	colSegment  = color.RGBA{R: 0xe0, G: 0x80, B: 0x10, A: 0xff}
	colAccepted = color.RGBA{R: 0x20, G: 0x90, B: 0x40, A: 0xff}
	colFailed   = color.RGBA{R: 0xc0, G: 0x20, B: 0x20, A: 0xff}
	palette     = []color.Color{colMedian, color.RGBA{R: 0xd0, G: 0x60, B: 0x10, A: 0xff},
		color.RGBA{R: 0x30, G: 0x90, B: 0x40, A: 0xff}, color.RGBA{R: 0x80, G: 0x40, B: 0xa0, A: 0xff},
		color.RGBA{R: 0x60, G: 0x60, B: 0x60, A: 0xff}}
)

// trend is a chart's points as plotter data: x is the run's index, so
// every run gets the same room whatever the gaps in time; the ticks name
// the commits.
type trend []Point

func (t trend) Len() int                    { return len(t) }
func (t trend) XY(i int) (float64, float64) { return float64(i), t[i].Median }
func (t trend) YError(i int) (float64, float64) {
	return t[i].Median - t[i].Low, t[i].High - t[i].Median
}
func (t trend) Ticks(lo, hi float64) []plot.Tick {
	return commitTicks(len(t), func(i int) string { return t[i].Short() })
}

// commitTicks labels about eight evenly spaced runs with their commits.
func commitTicks(n int, label func(int) string) []plot.Tick {
	step := max(1, (n+7)/8)
	var out []plot.Tick
	for i := 0; i < n; i++ {
		l := ""
		if i%step == 0 || i == n-1 {
			l = label(i)
			if len(l) > 7 {
				l = l[:7]
			}
		}
		out = append(out, plot.Tick{Value: float64(i), Label: l})
	}
	return out
}

// verticalLine is a plot.Plotter drawing x = const over the data area.
type verticalLine struct {
	x      float64
	color  color.Color
	dashed bool
}

func (v *verticalLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	st := draw.LineStyle{Color: v.color, Width: vg.Points(1.2)}
	if v.dashed {
		st.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	c.StrokeLine2(st, x, c.Min.Y, x, c.Max.Y)
}

// svg renders p to SVG bytes.
func svg(p *plot.Plot) ([]byte, error) {
	cv := vgsvg.NewWith(vgsvg.UseWH(chartWidth, chartHeight))
	p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(40)
	return p
}

// TrendSVG draws a chart: each run's median with its interval (the range of
// its repetitions), the segment means between change points, the change
// points (red, dashed) and accepted regressions (green).
func TrendSVG(c *Chart) ([]byte, error) {
	p := newPlot(c.Scenario+" · "+c.Operation+" · "+c.Metric, c.Metric+unitSuffix(c.Unit))
	t := trend(c.Points)
	p.X.Tick.Marker = t
	p.X.Label.Text = "run (commit)"
	p.X.Min, p.X.Max = -0.5, float64(len(t))-0.5
	line, pts, err := plotter.NewLinePoints(t)
	if err != nil {
		return nil, err
	}
	line.Color, pts.Color = colMedian, colMedian
	pts.Shape = draw.CircleGlyph{}
	pts.Radius = vg.Points(2.2)
	bars, err := plotter.NewYErrorBars(t)
	if err != nil {
		return nil, err
	}
	bars.Color = colInterval
	p.Add(bars, line, pts)
	p.Legend.Add("median of repetitions", line, pts)
	// Segment means.
	starts := []int{0}
	for _, cp := range c.Changes {
		if cp.Index > 0 && cp.Index < len(t) {
			starts = append(starts, cp.Index)
		}
	}
	slices.Sort(starts)
	for i, s := range starts {
		e := len(t)
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		var sum float64
		for _, q := range t[s:e] {
			sum += q.Median
		}
		mean := sum / float64(e-s)
		seg, err := plotter.NewLine(plotter.XYs{{X: float64(s) - 0.4, Y: mean}, {X: float64(e-1) + 0.4, Y: mean}})
		if err != nil {
			return nil, err
		}
		seg.Color, seg.Width = colSegment, vg.Points(1.5)
		p.Add(seg)
		if i == 0 {
			p.Legend.Add("segment mean", seg)
		}
	}
	padFlat(p, t)
	for _, cp := range c.Changes {
		p.Add(&verticalLine{x: float64(cp.Index) - 0.5, color: colChange, dashed: true})
	}
	for _, a := range c.Accepted {
		p.Add(&verticalLine{x: float64(a.Index) - 0.5, color: colAccepted})
	}
	return svg(p)
}

// TaskSVG draws a task criterion over time with its limit; failed runs are
// red. The scaling curve is drawn against the dataset size instead.
func TaskSVG(tc *TaskChart) ([]byte, error) {
	if tc.Curve != nil {
		return curveSVG(tc)
	}
	p := newPlot(tc.Scenario+" · "+tc.Name, "measured")
	var ok, bad, limit plotter.XYs
	for i, pt := range tc.Points {
		xy := plotter.XY{X: float64(i), Y: pt.Measured}
		if pt.Passed {
			ok = append(ok, xy)
		} else {
			bad = append(bad, xy)
		}
		limit = append(limit, plotter.XY{X: float64(i), Y: pt.Expected})
	}
	p.X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		return commitTicks(len(tc.Points), func(i int) string { return cmp.Or(tc.Points[i].Commit, tc.Points[i].RunID) })
	})
	p.X.Min, p.X.Max = -0.5, float64(len(tc.Points))-0.5
	lim, err := plotter.NewLine(limit)
	if err != nil {
		return nil, err
	}
	lim.Color, lim.Dashes = colSegment, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(lim)
	p.Legend.Add("limit", lim)
	for _, s := range []struct {
		xy    plotter.XYs
		c     color.Color
		label string
	}{{ok, colMedian, "passed"}, {bad, colFailed, "failed"}} {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			return nil, err
		}
		sc.Color, sc.Shape, sc.Radius = s.c, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(sc)
		p.Legend.Add(s.label, sc)
	}
	return svg(p)
}

func curveSVG(tc *TaskChart) ([]byte, error) {
	p := newPlot(tc.Scenario+" · scaling curve (newest run)", "p99 ms / capacity kops/s")
	p.X.Label.Text = "nodes"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	var p99, capy plotter.XYs
	for _, c := range tc.Curve {
		if c.Skipped || c.Nodes <= 0 {
			continue
		}
		p99 = append(p99, plotter.XY{X: float64(c.Nodes), Y: c.P99Ms})
		capy = append(capy, plotter.XY{X: float64(c.Nodes), Y: c.CapacityOps / 1000})
	}
	if len(p99) == 0 {
		return nil, fmt.Errorf("scaling curve of %s: no measured size", tc.Scenario)
	}
	for i, s := range []struct {
		xy    plotter.XYs
		label string
	}{{p99, "p99 (ms)"}, {capy, "capacity (kops/s)"}} {
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = palette[i], palette[i]
		p.Add(l, pts)
		p.Legend.Add(s.label, l, pts)
	}
	return svg(p)
}

// CompetitorSVG draws each target's medians over time (x: days since the
// first run on the chart).
func CompetitorSVG(c *CompetitorChart) ([]byte, error) {
	p := newPlot(c.Scenario+" · "+c.Metric+" · Engram and competitors", c.Metric+unitSuffix(c.Unit))
	p.X.Label.Text = "date"
	p.X.Tick.Marker = plot.TimeTicks{Format: "01-02"}
	for i, l := range c.Lines {
		var xy plotter.XYs
		for _, pt := range l.Points {
			xy = append(xy, plotter.XY{X: float64(pt.Time.Unix()), Y: pt.Median})
		}
		ln, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		col := palette[i%len(palette)]
		ln.Color, pts.Color = col, col
		p.Add(ln, pts)
		p.Legend.Add(l.Target, ln, pts)
	}
	return svg(p)
}

// padFlat gives a series whose every value is the same a y range around
// it (±10 %, ±1 at zero) instead of a degenerate one.
func padFlat(p *plot.Plot, t trend) {
	lo, hi := t[0].Low, t[0].High
	for _, q := range t {
		lo, hi = min(lo, q.Low), max(hi, q.High)
	}
	if hi-lo > 1e-9*max(math.Abs(lo), math.Abs(hi)) {
		return
	}
	d := 0.1 * math.Abs(hi)
	if d == 0 {
		d = 1
	}
	p.Y.Min, p.Y.Max = lo-d, hi+d
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " (" + u + ")"
}
