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
* Wilcoxon signed-rank: W+ from counted mid-ranks of |d| (zeros dropped);
  the exact p enumerates all 2^n sign assignments (n <= 20; above, the
  generating function prod(1 + x^k) in exact integers); the normal
  approximation is the tie-corrected formula with continuity correction 1/2;
  the Walsh median is the median of the full list of (d_i + d_j)/2, i <= j.
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


# --- Wilcoxon signed-rank (paired) -------------------------------------------
# Zeros are dropped (Wilcoxon's zero-drop, as R's wilcox.test). The exact
# two-sided p enumerates all 2^n sign assignments of the ranks 1..n (no ties,
# no zeros): P(|W+ - mu| >= |w - mu|). The normal approximation is the
# formula with the tie correction and a continuity correction of 1/2.
SIGNED_RANK_EXACT_LIMIT = 49  # the Go package's documented policy (R: n < 50)
SIGN_ENUMERATION_LIMIT = 20  # largest n whose 2^n sign assignments are listed


def abs_midranks(values):
    """Mid-ranks of values (already absolute), by counting, not sorting."""
    out = []
    for v in values:
        below = sum(1 for w in values if w < v)
        equal = sum(1 for w in values if w == v)
        out.append(Fraction(2 * below + equal + 1, 2))
    return out


def signed_rank_case(name, d, source):
    nz = [v for v in d if v != 0]
    zeros = len(d) - len(nz)
    n = len(nz)
    ranks = abs_midranks([abs(v) for v in nz])
    wplus = sum((r for r, v in zip(ranks, nz) if v > 0), Fraction(0))
    ties = len(set(abs(v) for v in nz)) < n
    case = {"name": name, "source": source, "d": d, "n": n, "zeros": zeros, "w_plus": float(wplus)}
    if n == 0:
        case.update(exact=False, p=1.0)
        return case
    mu = Fraction(n * (n + 1), 4)
    tie_sum = 0
    for v in set(abs(x) for x in nz):
        t = sum(1 for x in nz if abs(x) == v)
        tie_sum += t ** 3 - t
    var = Fraction(n * (n + 1) * (2 * n + 1), 24) - Fraction(tie_sum, 48)
    z = max(0.0, float(abs(wplus - mu)) - 0.5) / math.sqrt(float(var)) if var > 0 else 0.0
    case["p_normal"] = min(1.0, math.erfc(z / math.sqrt(2))) if var > 0 else 1.0
    exact = not ties and zeros == 0 and n <= SIGNED_RANK_EXACT_LIMIT
    case["exact"] = exact
    if exact:
        w = int(wplus)
        if n <= SIGN_ENUMERATION_LIMIT:
            hits = 0
            for signs in itertools.product((0, 1), repeat=n):
                s = sum(k + 1 for k in range(n) if signs[k])
                if abs(2 * s - 2 * mu) >= abs(2 * w - 2 * mu):
                    hits += 1
            p = Fraction(hits, 2 ** n)
        else:
            # Too many to list: the generating function prod (1 + x^k),
            # multiplied out with exact integers.
            poly = {0: 1}
            for k in range(1, n + 1):
                nxt = dict(poly)
                for s, c in poly.items():
                    nxt[s + k] = nxt.get(s + k, 0) + c
                poly = nxt
            hits = sum(c for s, c in poly.items() if abs(2 * s - 2 * mu) >= abs(2 * w - 2 * mu))
            p = Fraction(hits, 2 ** n)
        case["p"] = float(p)
    else:
        case["p"] = case["p_normal"]
    walsh = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    m = len(walsh)
    case["walsh_median"] = walsh[m // 2] if m % 2 else (walsh[m // 2 - 1] + walsh[m // 2]) / 2
    return case


def signed_rank_cases():
    rng = random.Random(20261127)  # separate stream: the cases above do not move
    dep_x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    dep_y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    pair_log = [math.log(1 + r) for r in (0.06, 0.07, 0.14, 0.15, 0.015, 0.17)]

    def drift_pairs(n, shift):
        out = []
        for _ in range(n):
            out.append(math.log(1 + shift) + rng.gauss(0, 0.02) - rng.gauss(0, 0.02))
        return out

    return [
        signed_rank_case("R wilcox.test docs: depression (Hollander & Wolfe)",
                         [a - b for a, b in zip(dep_x, dep_y)],
                         "R ?wilcox.test, x - y paired: V = 40, p-value = 0.03906"),
        signed_rank_case("scipy wilcoxon docs: Darwin's maize height differences",
                         [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75],
                         "scipy.stats.wilcoxon docs: statistic min(W+, W-) = 24, p = 0.041259765625"),
        signed_rank_case("this VM: six interleaved pairs, 10% slowdown", pair_log,
                         "measured pair ratios +6, +7, +14, +15, +1.5, +17 %"),
        signed_rank_case("all positive, n = 8: smallest p", [0.1 * k for k in range(1, 9)], "hand: 2/2^8"),
        signed_rank_case("all positive, n = 7", [0.1 * k for k in range(1, 8)], "hand: 2/2^7"),
        signed_rank_case("one pair", [0.3], "hand: p = 1"),
        signed_rank_case("balanced", [1, -2, 3, -4, 5, -6, 7, -8.5], "enumeration"),
        signed_rank_case("with zeros (dropped, normal)", [0, 0, 1.5, 2.5, -0.5, 3.5, 4.5, 0, 5.5, 6.5],
                         "normal approximation"),
        signed_rank_case("with ties (normal)", [1, 1, -1, 2, 2, 3, -3, 3, 4, 5, 5, 6], "normal approximation"),
        signed_rank_case("all zero", [0, 0, 0], "hand: p = 1"),
        signed_rank_case("drift pairs n = 10, +10%", drift_pairs(10, 0.10), "enumeration"),
        signed_rank_case("drift pairs n = 16, +1%", drift_pairs(16, 0.01), "enumeration"),
        signed_rank_case("drift pairs n = 30, +1% (exact, generating function)", drift_pairs(30, 0.01),
                         "generating function"),
        signed_rank_case("drift pairs n = 49, 0% (exact at limit)", drift_pairs(49, 0.0), "generating function"),
        signed_rank_case("drift pairs n = 50, +0.5% (normal)", drift_pairs(50, 0.005), "normal approximation"),
        signed_rank_case("drift pairs n = 200, +0.5% (normal)", drift_pairs(200, 0.005), "normal approximation"),
    ]


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

    min_pairs = []
    for alpha in [0.5, 0.2, 0.1, 0.05, 0.01, 0.005, 0.001, 1e-4, 1e-6]:
        n = 1
        while Fraction(2, 2 ** n) >= Fraction(alpha):
            n += 1
        min_pairs.append({"alpha": alpha, "n": n})

    json.dump({
        "generator": "gate/stats/testdata/reference.py",
        "mann_whitney": cases,
        "benjamini_hochberg": bh_cases,
        "min_p_value": min_p,
        "min_samples_for_alpha": min_n,
        "signed_rank": signed_rank_cases(),
        "min_p_value_signed_rank": [{"n": n, "p": min(1.0, float(Fraction(2, 2 ** n)))} for n in range(0, 21)],
        "min_pairs_for_alpha": min_pairs,
    }, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
