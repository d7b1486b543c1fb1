#!/usr/bin/env python3
"""Reference powers for gate.ConfirmPairs (TestConfirmPairs), apart from Go.

A confirming re-run of k pairs calls a change regressed again when its test
is significant at the level and its estimate (the Hodges-Lehmann estimate:
the median of the Walsh averages of the log ratios) is beyond the
threshold. The pairs' log ratios are drawn normal, centred on the change the
first verdict measured, with the spread its interval implies:
sigma = h*sqrt(n) / (z(level1) * sqrt(pi/2)), h the half-width of the
interval of the log ratio. The tests are written here from their
definitions: the exact signed-rank test (null distribution by dynamic
programming, no ties in continuous draws) and the paired t test (Student's
t distribution through the regularized incomplete beta function, by
Lentz's continued fraction, Numerical Recipes 6.4).

Usage: python3 gate/testdata/confirm_power.py  (standard library only;
about ten seconds; seeded, so it prints the same numbers every time)
"""
import math
import random
from statistics import NormalDist, mean, median, stdev

N = NormalDist()


def signed_rank_null(k):
    """Probability of each positive rank sum 0 … k(k+1)/2 under the null."""
    tot = k * (k + 1) // 2
    prob = [0.0] * (tot + 1)
    prob[0] = 1.0
    for r in range(1, k + 1):
        for s in range(tot, -1, -1):
            q = prob[s] / 2
            if s >= r:
                q += prob[s - r] / 2
            prob[s] = q
    return prob, tot


def signed_rank_p(d, null):
    prob, tot = null
    order = sorted(range(len(d)), key=lambda i: abs(d[i]))
    w = sum(r + 1 for r, i in enumerate(order) if d[i] > 0)
    dev = abs(w - tot / 2)
    return min(1.0, sum(q for s, q in enumerate(prob) if abs(s - tot / 2) >= dev - 1e-9))


def betacf(a, b, x):
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((a - 1 + m2) * (a + m2)),
                   -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))):
            d = 1 + aa * d
            d = d if abs(d) > tiny else tiny
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            d = 1 / d
            h *= d * c
        if abs(d * c - 1) < 3e-16:
            break
    return h


def ibeta(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    bt = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return bt * betacf(a, b, x) / a
    return 1 - bt * betacf(b, a, 1 - x) / b


def t_p(t, df):
    """Two-sided p of Student's t with df degrees of freedom."""
    return ibeta(df / 2, 0.5, df / (df + t * t))


def walsh_median(d):
    return median([(d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d))])


def sigma_of(n, lo, hi, level1):
    h = (math.log1p(hi) - math.log1p(lo)) / 2
    return h * math.sqrt(n) / (N.inv_cdf(1 - level1 / 2) * math.sqrt(math.pi / 2))


def power(k, change, sigma, level, threshold, cost, draws, rng):
    null = signed_rank_null(k) if cost else None
    shift, found = math.log1p(change), 0
    for _ in range(draws):
        d = [rng.gauss(shift, sigma) for _ in range(k)]
        if cost:
            p = signed_rank_p(d, null)
        else:
            p = t_p(mean(d) / (stdev(d) / math.sqrt(k)), k - 1)
        if p < level and math.expm1(walsh_median(d)) > threshold:
            found += 1
    return found / draws


def main():
    assert abs(t_p(2.262, 9) - 0.05) < 1e-4  # the t table's 97.5 % point for 9 df
    rng = random.Random(1)
    # name, first pairs, change, interval, first level, cost metric (signed-rank) or not (t)
    cases = [
        ("narrow interval", 20, 0.12, 0.09, 0.15, 0.01, True),
        ("a noisy first look", 10, 0.1284, 0.032, 0.198, 0.005, True),
        ("an early look", 8, 0.11, -0.03, 0.25, 0.0031, True),
        ("latency", 10, 0.14, 0.01, 0.28, 0.005, False),
        ("wider than the design", 10, 0.11, 0.02, 0.20, 0.01, True),
    ]
    for name, n, change, lo, hi, level1, cost in cases:
        sigma = sigma_of(n, lo, hi, level1)
        print(f"{name}: sigma {sigma:.4f}")
        for k in range(8, 21):
            pw = power(k, change, sigma, 0.01, 0.05, cost, 10000, rng)
            print(f"  {k} pairs: power {pw:.4f}", flush=True)
            if pw >= 0.88:
                break


if __name__ == "__main__":
    main()
