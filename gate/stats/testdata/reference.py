#!/usr/bin/env python3
"""Independent reference values for gate/stats (Python 3 standard library only).

Run from the repository root:

    python3 gate/stats/testdata/reference.py > gate/stats/testdata/reference.json

Nothing here shares code or algorithms with the Go package:

* U is counted pair by pair from its definition (x > y counts 1, x == y 1/2).
* Exact two-sided p-values, P(|U - mu| >= |u - mu|) given the tie structure,
  come from enumerating every assignment of the pooled values to the two sides
  (itertools.combinations) when that is small, and otherwise from a dynamic
  program that counts subsets by their sum of doubled mid-ranks; the script
  checks that both agree wherever both run.
* The normal approximation uses the tie-corrected variance and a continuity
  correction of 1/2, p = erfc(z / sqrt(2)).
* Hodges-Lehmann is the median of the full list of differences y_j - x_i.
* Benjamini-Hochberg adjusted p-values are computed by their definition,
  min over j >= i of m p_(j) / j, capped at 1, with a quadratic loop.
* The smallest attainable exact p is 2 / C(nx + ny, nx) from math.comb.
"""

import itertools
import json
import math
import random
import sys
from fractions import Fraction

# Size limits of the Go package's exact path (its documented policy).
EXACT_LIMIT = 50
EXACT_TIES_LIMIT = 25
ENUMERATION_LIMIT = 200_000  # largest C(N, nx) enumerated directly


def u_statistic(x, y):
    twice = 0
    for a in x:
        for b in y:
            if a > b:
                twice += 2
            elif a == b:
                twice += 1
    return Fraction(twice, 2)


def exact_by_enumeration(x, y):
    pooled = list(x) + list(y)
    nx, ny = len(x), len(y)
    mu = Fraction(nx * ny, 2)
    d = abs(u_statistic(x, y) - mu)
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), nx):
        s = set(chosen)
        xs = [pooled[i] for i in chosen]
        ys = [pooled[i] for i in range(len(pooled)) if i not in s]
        if abs(u_statistic(xs, ys) - mu) >= d:
            hits += 1
        total += 1
    return Fraction(hits, total)


def doubled_midranks(pooled):
    """Map each distinct value to twice its mid-rank; also return group sizes."""
    values = sorted(pooled)
    groups = []
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        groups.append((values[i], j - i, (i + 1) + j))  # 2*midrank = first + last rank
        i = j
    return groups


def exact_by_counting(x, y):
    """Count subsets of size nx by their sum of doubled mid-ranks."""
    nx, ny = len(x), len(y)
    pooled = list(x) + list(y)
    groups = doubled_midranks(pooled)
    twice_rank = {v: r2 for v, _, r2 in groups}
    # count[k][s] = ways to pick k values with doubled rank sum s
    count = [dict() for _ in range(nx + 1)]
    count[0][0] = 1
    for _, size, r2 in groups:
        new = [dict() for _ in range(nx + 1)]
        for k in range(nx + 1):
            for s, c in count[k].items():
                for take in range(0, min(size, nx - k) + 1):
                    key = s + take * r2
                    new[k + take][key] = new[k + take].get(key, 0) + c * math.comb(size, take)
        count = new
    # doubled U = doubled rank sum - nx(nx+1)
    mu2 = nx * ny  # doubled mean
    obs2 = sum(twice_rank[v] for v in x) - nx * (nx + 1)
    d2 = abs(obs2 - mu2)
    hits = sum(c for s, c in count[nx].items() if abs(s - nx * (nx + 1) - mu2) >= d2)
    total = sum(count[nx].values())
    assert total == math.comb(nx + ny, nx)
    return Fraction(hits, total)


def normal_approx(x, y):
    nx, ny = len(x), len(y)
    n = nx + ny
    u = u_statistic(x, y)
    groups = doubled_midranks(list(x) + list(y))
    tie_term = sum(t ** 3 - t for _, t, _ in groups)
    var = nx * ny / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))
    if var == 0:
        return 1.0
    d = max(abs(float(u) - nx * ny / 2.0) - 0.5, 0.0)
    return min(1.0, math.erfc(d / math.sqrt(var) / math.sqrt(2)))


def hodges_lehmann(x, y):
    diffs = sorted(b - a for a in x for b in y)
    n = len(diffs)
    if n % 2 == 1:
        return diffs[n // 2]
    return (diffs[n // 2 - 1] + diffs[n // 2]) / 2


def bh(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adj = [0.0] * m
    for rank, i in enumerate(order, start=1):
        adj[i] = min(1.0, min(m * p[order[j - 1]] / j for j in range(rank, m + 1)))
    return adj


def mwu_case(name, x, y, source):
    nx, ny = len(x), len(y)
    has_ties = len(set(x) | set(y)) < nx + ny
    limit = EXACT_TIES_LIMIT if has_ties else EXACT_LIMIT
    exact_path = (nx <= limit and ny <= limit) or len(set(x) | set(y)) == 1
    case = {
        "name": name,
        "source": source,
        "x": x,
        "y": y,
        "u": float(u_statistic(x, y)),
        "p_normal": normal_approx(x, y),
        "hl": hodges_lehmann(x, y),
        "exact": exact_path,
    }
    if len(set(x) | set(y)) == 1:
        case["p_exact"] = 1.0
    elif math.comb(nx + ny, nx) <= ENUMERATION_LIMIT:
        p = exact_by_enumeration(x, y)
        assert p == exact_by_counting(x, y), name
        case["p_exact"] = float(p)
    elif exact_path:
        case["p_exact"] = float(exact_by_counting(x, y))
    return case


def main():
    rng = random.Random(20240607)

    def lognormal(n, median, cv, digits=None):
        out = []
        for _ in range(n):
            v = median * math.exp(rng.gauss(0, cv))
            out.append(round(v, digits) if digits is not None else v)
        return out

    cases = [
        mwu_case("scipy docs: males vs females (Conover)", [19, 22, 16, 29, 24], [20, 11, 17, 12],
                 "scipy.stats.mannwhitneyu docs: U1 = 17, exact p = 0.1111111111111111"),
        mwu_case("R wilcox.test docs: Hollander & Wolfe permeability",
                 [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
                 [1.15, 0.88, 0.90, 0.74, 1.21],
                 "R ?wilcox.test: W = 35, one-sided exact p = 0.1272"),
        mwu_case("R with ties (endmemo): normal p 0.5966",
                 [1, 5, 9, 24, 56, 21, 3, 7, 21, 4], [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5],
                 "R wilcox.test: W = 51.5, p-value = 0.5966 (continuity correction)"),
        mwu_case("R with ties (endmemo): separated, normal p 0.001364",
                 [1, 5, 9, 24, 56, 21, 3, 7, 21, 4], [1233, 4356, 987, 39999, 1111, 200000],
                 "R wilcox.test: W = 0, p-value = 0.001364 (continuity correction)"),
        mwu_case("separated 5 vs 5: smallest p", [1, 2, 3, 4, 5], [6, 7, 8, 9, 10], "hand: 2/C(10,5)"),
        mwu_case("separated 4 vs 4", [10, 11, 12, 13], [1, 2, 3, 4], "hand: 2/C(8,4)"),
        mwu_case("one vs one", [1], [2], "hand: p = 1"),
        mwu_case("all equal", [3, 3, 3], [3, 3], "hand: p = 1"),
        mwu_case("asymmetric ties: one x in a group of three", [1], [1, 1, 2], "hand: P(|U-1.5|>=0.5) = 1"),
        mwu_case("asymmetric ties: x at the top", [2], [1, 1, 1], "hand: P(U=3)+P(U<=0) = 1/4"),
        mwu_case("small ties", [1, 2, 2, 3], [2, 3, 3, 4, 5], "enumeration"),
        mwu_case("heavy ties", [1, 1, 1, 2, 2], [1, 2, 2, 2, 3, 3], "enumeration"),
        mwu_case("identical samples", [1, 2, 3, 4], [1, 2, 3, 4], "enumeration"),
        mwu_case("lognormal 10 vs 10, 3% cv, +5%", lognormal(10, 100, 0.03), lognormal(10, 105, 0.03),
                 "enumeration"),
        mwu_case("lognormal 8 vs 9, rounded (ties)", lognormal(8, 10, 0.05, 1), lognormal(9, 10.4, 0.05, 1),
                 "enumeration"),
        mwu_case("lognormal 20 vs 20, rounded (ties, exact)", lognormal(20, 50, 0.04, 0),
                 lognormal(20, 52, 0.04, 0), "subset counting"),
        mwu_case("lognormal 25 vs 24, rounded (ties, exact at limit)", lognormal(25, 50, 0.05, 0),
                 lognormal(24, 50, 0.05, 0), "subset counting"),
        mwu_case("lognormal 30 vs 30, no ties (exact)", lognormal(30, 100, 0.05), lognormal(30, 103, 0.05),
                 "subset counting"),
        mwu_case("lognormal 50 vs 45, no ties (exact at limit)", lognormal(50, 100, 0.05),
                 lognormal(45, 101, 0.05), "subset counting"),
        mwu_case("lognormal 26 vs 30, rounded (ties, normal)", lognormal(26, 50, 0.05, 0),
                 lognormal(30, 51, 0.05, 0), "normal approximation"),
        mwu_case("lognormal 60 vs 70, no ties (normal)", lognormal(60, 100, 0.05), lognormal(70, 102, 0.05),
                 "normal approximation"),
        mwu_case("lognormal 300 vs 251 (normal; HL without materialising)", lognormal(300, 100, 0.1, 1),
                 lognormal(251, 104, 0.1, 1), "normal approximation"),
        mwu_case("lognormal 256 vs 256 (even pair count; HL without materialising)",
                 lognormal(256, 100, 0.1), lognormal(256, 99, 0.1), "normal approximation"),
    ]

    bh_cases = []

    def bh_case(name, p, source):
        bh_cases.append({"name": name, "source": source, "p": p, "adjusted": bh(p)})

    bh_case("Benjamini & Hochberg (1995) 15 p-values",
            [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459,
             0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000],
            "BH 1995, section 4: at q = 0.05 the four smallest are rejected")
    bh_case("unsorted with ties", [0.04, 0.01, 0.03, 0.01, 0.5, 0.04], "definition")
    bh_case("single", [0.2], "definition")
    bh_case("capped at 1", [0.9, 0.8, 0.95], "definition")
    bh_case("random 40", [rng.random() ** 3 for _ in range(40)], "definition")

    min_p = []
    for nx, ny in [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (5, 4), (6, 6), (10, 10), (3, 20), (20, 20)]:
        min_p.append({"nx": nx, "ny": ny, "p": min(1.0, 2 / math.comb(nx + ny, nx))})
    min_n = []
    for alpha in [0.5, 0.2, 0.1, 0.05, 0.01, 0.005, 0.001, 1e-4, 1e-6]:
        n = 1
        while Fraction(2, math.comb(2 * n, n)) >= Fraction(alpha):
            n += 1
        min_n.append({"alpha": alpha, "n": n})

    json.dump({
        "generator": "gate/stats/testdata/reference.py",
        "mann_whitney": cases,
        "benjamini_hochberg": bh_cases,
        "min_p_value": min_p,
        "min_samples_for_alpha": min_n,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
