package gate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
)

// Looks is the plan of a sequential paired gate: the numbers of pairs at
// which the gate looks at the data (say 10, 15, 20), increasing. The gate
// stops at the first look whose verdict is clear — a regression, or every
// comparison decided — and otherwise measures the pairs of the next look.
//
// Each look spends part of alpha (linear spending: look k may spend
// alpha × (n_k − n_{k−1}) / n_K), and tests at that level. By the union
// bound the chance that any look raises a false alarm is at most the sum
// of the parts, alpha, whatever the dependence between looks; the price is
// a test at a smaller level at each look, paid back by stopping early when
// the effect is large. (Boundaries computed from the joint distribution of
// the looks' statistics, as in Pocock's or O'Brien–Fleming's designs,
// would spend less; they need a test statistic with a known joint law,
// which the exact signed-rank and bootstrap decisions here do not have.)
type Looks []int

// ParseLooks reads a plan such as "10,15,20": at least two looks, each at
// least 2 pairs, strictly increasing.
func ParseLooks(s string) (Looks, error) {
	var l Looks
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 {
			return nil, fmt.Errorf("looks %q: %q is not a number of pairs ≥ 2 (want e.g. 10,15,20)", s, f)
		}
		if len(l) > 0 && n <= l[len(l)-1] {
			return nil, fmt.Errorf("looks %q: %d does not follow %d (want increasing numbers of pairs, e.g. 10,15,20)", s, n, l[len(l)-1])
		}
		l = append(l, n)
	}
	if len(l) < 2 {
		return nil, fmt.Errorf("looks %q: want at least two looks (e.g. 10,15,20); one look is a fixed design: drop --looks", s)
	}
	return l, nil
}

// AutoLooks is the plan "auto" of the action's looks input (and of m18-run
// ab's --looks) for reps pairs at the first look: reps, 1.5×reps and
// 2×reps pairs; none (nil, a fixed design) below 8 pairs, where a look's
// share of alpha would be out of the exact paired test's reach.
// scripts/action/lib.sh looks_plan writes the same rule in shell, checked
// against this one by internal/actiontest's TestLooksPlan.
func AutoLooks(reps int) Looks {
	if reps < 8 {
		return nil
	}
	return Looks{reps, reps * 3 / 2, reps * 2}
}

// String is the plan as ParseLooks reads it.
func (l Looks) String() string {
	s := make([]string, len(l))
	for i, n := range l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Spend returns the look that n pairs reach — the last planned look at or
// below n, counted from 1 — and the part of alpha it may spend. Fewer
// pairs than the first look is an error.
func (l Looks) Spend(alpha float64, n int) (look int, spend float64, err error) {
	if len(l) == 0 || n < l[0] {
		return 0, 0, fmt.Errorf("%d pairs: the first look of the plan %v is at %d pairs", n, l, l[0])
	}
	k := 0
	for k+1 < len(l) && l[k+1] <= n {
		k++
	}
	prev := 0
	if k > 0 {
		prev = l[k-1]
	}
	return k + 1, alpha * float64(l[k]-prev) / float64(l[len(l)-1]), nil
}

// Pairs is the number of pairs base and head hold: the fewest runs of any
// metric both sides measured.
func Pairs(base, head *input.Set) int {
	n := -1
	for k, h := range head.Samples {
		b, ok := base.Samples[k]
		if !ok {
			continue
		}
		if m := min(len(b.Values), len(h.Values)); n < 0 || m < n {
			n = m
		}
	}
	return max(n, 0)
}

// compareLook is Compare at one look of the plan p.Looks: p.Alpha is the
// whole design's, the look spends its part (Looks.Spend), and the
// verdict's Sequential says which look it was and whether the gate should
// go on measuring.
func compareLook(base, head *input.Set, p Policy) (*verdict.Verdict, error) {
	plan := p.Looks
	p.Looks = nil
	n := Pairs(base, head)
	look, spend, err := plan.Spend(p.Alpha, n)
	if err != nil {
		return nil, err
	}
	whole := p.Alpha
	p.Alpha = spend
	v, err := Compare(base, head, p)
	if err != nil {
		return nil, err
	}
	s := &verdict.Sequential{Look: look, Looks: plan, Pairs: n, Alpha: whole, Spent: spend}
	switch {
	case v.Summary.Outcome != verdict.OutcomePass:
		s.Reason = "stopped: " + v.Summary.Outcome
	case look == len(plan):
		s.Reason = "last look"
	case v.Summary.Inconclusive > 0:
		s.Continue = true
		s.Reason = fmt.Sprintf("%d inconclusive: measure up to %d pairs", v.Summary.Inconclusive, plan[look])
	default:
		s.Reason = "stopped: every comparison decided"
	}
	v.Sequential = s
	return v, nil
}
