#!/usr/bin/env python3
"""policies_reference.py — independent NumPy implementations of the token-selection rules of
fastdrive_select, and the fixtures Tests/FastdrivePrunerTests/SelectTests.swift checks against.

Written from the published rules, not from the Swift code:
  DivPrune  (Alvar et al., CVPR 2025; reference code vbdi/divprune `DivPrune()`): distance
            d = 1 - cos over the visual tokens; seed = the token whose nearest neighbour is
            farthest (the reference's 2nd-smallest entry of each distance column); then
            repeatedly the unselected token whose min distance to the selected set is largest.
  VisPruner (Zhang et al., ICCV 2025; Theia-4869/VisPruner llava/model/llava_arch.py
            `encode_images`): T_imp = int(K * r) most important by the host's scores, then from
            the rest (kept in descending-importance order) repeatedly: r' = min(8, R - T_div),
            a = even positions, b = odd positions, score a by max cosine to b, drop the r' highest,
            continue with [kept a in descending-score order] + b. Default r = 0.5 (the official
            code's --important_ratio default).
  ATTENTION / RECONPRUNER-with-aux: top-K of the host's scores (FastV-style, Chen et al. ECCV 2024).
  NORM: top-K by L2 norm.  UNIFORM: floor((i + 1/2) * N / K), i < K.
  RANDOM: SplitMix64(seed), partial Fisher-Yates over [0..N), j = i + next() % (N - i).
  DART, CDPRUNER: python/fastdrive_pruner/reference/policies.py (its docstring has the rules);
            each case also has `<name>.pivots.npy`, six host pivot rows for DART's text pivots.
            A DART or CDPRUNER expectation whose decisions are too close to call in float32
            (e.g. CDPruner past the tokens' rank, N > D) is left out rather than redrawn.
Ties go to the lower index (stable sorts); results are ascending index lists.

Arithmetic: float64, with every dot product formed as an elementwise product reduced along the
last axis (numpy's pairwise sum, the same order for every pair), so identical tokens give
identical values and exact ties stay exact. The runtime computes in float32; the generator
therefore asserts that every non-tied decision has a relative margin > 1e-6, so both sides
must agree on index sets (cases built to have exact ties use duplicated / equal rows).

usage: .venv/bin/python scripts/policies_reference.py            # write the fixtures
       .venv/bin/python scripts/policies_reference.py --check    # regenerate and compare
"""
import argparse
import json
import os
import sys
import zlib

import numpy as np

from fastdrive_pruner.reference import policies as industrial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "policies")
D = 32  # the hidden size of the tests' small pruner (TestModel)
MARGIN = 1e-6  # f32 cosines at D = 32 are good to a few 1e-7
MASK64 = (1 << 64) - 1


class NearTie(Exception):
    pass


def check_margin(values, chosen, exclude=None):
    """The best value must beat every different value by a relative margin (exact ties are fine)."""
    v = np.asarray(values, dtype=np.float64)
    best = v[chosen]
    others = np.ones(len(v), bool)
    if exclude is not None:
        others &= ~exclude
    others &= v != best
    if not others.any() or not np.isfinite(best):
        return
    gap = best - v[others].max()
    if gap < MARGIN * max(1.0, abs(best)):
        raise NearTie(f"gap {gap:.3g} at value {best:.6g}")


def ranked(scores):
    """Indices by descending score, ties to the lower index."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def top_k(scores, k, margin=True):
    order = ranked(scores)
    if margin and k < len(scores):
        s = np.asarray(scores, dtype=np.float64)
        kth, nxt = s[order[k - 1]], s[order[k]]
        if kth != nxt and kth - nxt < MARGIN * max(1.0, abs(kth)):
            raise NearTie("top-k boundary")
    return sorted(int(i) for i in order[:k])


def pair_dot(a, b):
    """dot(a_i, b_j) for every i, j: products reduced along the last axis (same order per pair)."""
    return (a[:, None, :] * b[None, :, :]).sum(axis=-1)


def normalized(x):
    x = np.asarray(x, dtype=np.float64)
    norm = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)  # a zero token stays zero


def divprune(x, k):
    xn = normalized(x)
    n = len(xn)
    dist = 1.0 - pair_dot(xn, xn)
    off = dist.copy()
    np.fill_diagonal(off, np.inf)
    nearest = off.min(axis=0) if n > 1 else np.array([np.inf])  # each token's nearest-neighbour distance
    first = int(np.argmax(nearest))
    check_margin(nearest, first)
    selected = [first]
    chosen = np.zeros(n, bool)
    chosen[first] = True
    for _ in range(1, k):
        mins = dist[selected].min(axis=0)
        mins[chosen] = -np.inf
        nxt = int(np.argmax(mins))
        check_margin(mins, nxt, exclude=chosen)
        selected.append(nxt)
        chosen[nxt] = True
    return sorted(selected)


def vispruner(x, importance, k, ratio=0.5):
    n = len(x)
    t_imp = int(k * ratio)
    t_div = k - t_imp
    order = ranked(importance)
    imp = np.asarray(importance, dtype=np.float64)
    if 0 < t_imp < n and imp[order[t_imp - 1]] != imp[order[t_imp]] and \
            imp[order[t_imp - 1]] - imp[order[t_imp]] < MARGIN * max(1.0, abs(imp[order[t_imp - 1]])):
        raise NearTie("importance boundary")
    important = list(order[:t_imp])
    residual = list(order[t_imp:])
    xn = normalized(x)
    while t_div > 0:
        R = len(residual)
        r = min(8, R - t_div)
        if r <= 0:
            break
        a, b = residual[0::2], residual[1::2]
        scores = pair_dot(xn[a], xn[b]).max(axis=1)
        by_score = np.argsort(-scores, kind="stable")
        if r < len(a):
            cut_hi, cut_lo = scores[by_score[r - 1]], scores[by_score[r]]
            if cut_hi != cut_lo and cut_hi - cut_lo < MARGIN:
                raise NearTie("duplicate-removal boundary")
        # (orders among kept a-tokens also steer later rounds; exact duplicates tie exactly)
        kept_scores = scores[by_score[r:]]
        diffs = -np.diff(kept_scores)
        if np.any((diffs > 0) & (diffs < MARGIN)):
            raise NearTie("kept a-token order")
        residual = [a[i] for i in by_score[r:]] + b
    if t_div == 0:
        residual = []
    return sorted(int(i) for i in important + residual)


def splitmix64(seed):
    state = seed & MASK64
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def random_policy(n, k, seed):
    rng = splitmix64(seed)
    perm = list(range(n))
    for i in range(k):
        j = i + next(rng) % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return sorted(perm[:k])


def uniform(n, k):
    return [(2 * i + 1) * n // (2 * k) for i in range(k)]


def norm_policy(x, k):
    x = np.asarray(x, dtype=np.float64)
    return top_k((x * x).sum(axis=-1), k)


# ---- cases -------------------------------------------------------------------------------------

def make_cases(rng):
    """name -> a function drawing (tokens, aux) from rng (redrawn if a decision is a near tie)."""
    return {
        "random_97": lambda: (rng.standard_normal((97, D)) * rng.uniform(0.5, 2.0, size=(97, 1)),
                              rng.standard_normal(97)),
        "clustered_120": lambda: clustered(rng),
        "duplicated_64": lambda: duplicated(rng),
        "all_equal_40": lambda: (np.repeat(rng.standard_normal((1, D)), 40, axis=0), np.full(40, 0.25)),
        "zero_rows_50": lambda: zero_rows(rng),
        "random_300": lambda: (rng.standard_normal((300, D)), rng.standard_normal(300)),
        "single_1": lambda: (rng.standard_normal((1, D)), np.array([0.5])),
        # N < D: CDPruner's greedy stays within the tokens' rank at every K
        "random_30": lambda: (rng.standard_normal((30, D)), rng.uniform(-1, 1, size=30)),
    }


def clustered(rng):
    centres = rng.standard_normal((6, D)) * 2
    labels = rng.integers(0, 6, size=120)
    return centres[labels] + 0.6 * rng.standard_normal((120, D)), rng.uniform(0, 1, size=120)


def duplicated(rng):
    """16 distinct tokens, each 4 times. Each is s·u, s a power of two, u with four entries ±1/2
    (‖u‖ = 1): normalising is exact and every cosine is a multiple of 1/4 in any arithmetic, so
    the many ties (duplicates, equal distances) are exact and must break by index."""
    base = np.zeros((16, D))
    for r in range(16):
        cols = rng.choice(D, size=4, replace=False)
        base[r, cols] = rng.choice([-0.5, 0.5], size=4) * rng.choice([1.0, 2.0, 4.0])
    rows = np.repeat(base, 4, axis=0)[rng.permutation(64)]
    return rows, np.round(rng.uniform(0, 1, size=64), 1)  # aux with exact ties too


def zero_rows(rng):
    x = rng.standard_normal((50, D))
    x[[3, 17, 31]] = 0.0
    return x, rng.standard_normal(50)


def ks_for(n):
    ks = {1, 2, 5, n // 3, n // 2, (2 * n) // 3 + 1, n - 1, n}
    return sorted(k for k in ks if 1 <= k <= n)


def industrial_expectations(x, aux, pivots, k):
    """DART and CDPRUNER entries for one K, each left out when it is a near tie in float32."""
    n = len(x)
    out = []
    dart_variants = [dict(), dict(image_pivots=1), dict(image_pivots=8), dict(pivot_rows=True),
                     dict(image_pivots=2, text_pivots=3, pivot_rows=True)]
    for v in dart_variants:
        rows = pivots if v.get("pivot_rows") else None
        args = dict(image_pivots=v.get("image_pivots", 0), text_pivots=v.get("text_pivots", 0))
        try:
            industrial.dart_pivot_counts(n, k, text_rows=0 if rows is None else len(rows), **args)
        except ValueError:
            continue  # refused by the rule's limits (checked by the misuse tests)
        try:
            idx = industrial.dart(x, k, pivot_rows=rows, **args)
        except industrial.NearTie:
            continue
        out.append({"policy": "dart", "k": k, "pivot_rows": rows is not None, **args, "indices": idx})
    for theta in (0.0, 0.5, 0.9):
        try:
            idx = industrial.cdpruner(x, aux, k, theta)
        except industrial.NearTie:
            continue
        out.append({"policy": "cdpruner", "k": k, "theta": theta, "indices": idx})
    return out


def expectations(x, aux):
    n = len(x)
    out = []
    for k in ks_for(n):
        out.append({"policy": "attention", "k": k, "indices": top_k(aux, k)})
        out.append({"policy": "reconpruner_aux", "k": k, "indices": top_k(aux, k)})
        out.append({"policy": "norm", "k": k, "indices": norm_policy(x, k)})
        out.append({"policy": "uniform", "k": k, "indices": uniform(n, k)})
        for seed in (0, 42, MASK64):
            out.append({"policy": "random", "k": k, "seed": str(seed), "indices": random_policy(n, k, seed)})
        out.append({"policy": "divprune", "k": k, "indices": divprune(x, k)})
        for ratio in (0.0, 0.25, 0.75, 1.0):
            out.append({"policy": "vispruner", "k": k, "ratio": ratio,
                        "indices": vispruner(x, aux, k, ratio or 0.5)})
    return out


def hash_name(name):
    """A stable seed from a case name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode())


def expectations_industrial_all(x, aux, pivots):
    x64, aux64, p64 = x.astype(np.float64), aux.astype(np.float64), pivots.astype(np.float64)
    out = []
    for k in ks_for(len(x)):
        out.extend(industrial_expectations(x64, aux64, p64, k))
    most = 8 * len(ks_for(len(x)))
    print(f"  dart/cdpruner: {len(out)} expectations (of at most {most})", file=sys.stderr)
    return out


def self_test():
    # Hand-checkable facts of each rule.
    assert uniform(10, 3) == [1, 5, 8] and uniform(7, 7) == list(range(7))
    g = splitmix64(0)
    assert next(g) == 0xE220A8397B1DCDAF  # splitmix64 from Vigna's reference, seed 0
    x = np.array([[1, 0], [0.99, 0.14], [0, 1], [-1, 0]], dtype=np.float64)
    assert divprune(x, 1) == [3]               # its nearest neighbour (90°) is the farthest
    assert divprune(x, 2) == [0, 3] or divprune(x, 2) == [1, 3]
    # 0 important; residual [1, 2, 3]: a = [1, 3], b = [2], r = 2 drops both a-tokens
    assert vispruner(x, [4, 3, 2, 1], 2, 0.5) == [0, 2]
    industrial.self_test()


def generate():
    rng = np.random.default_rng(20250507)
    manifest = []
    for name, draw in make_cases(rng).items():
        for attempt in range(50):
            x, aux = draw()
            x = np.asarray(x, dtype=np.float32)
            aux = np.asarray(aux, dtype=np.float32)
            try:  # the reference reads exactly the float32 values the runtime gets
                exp = expectations(x.astype(np.float64), aux.astype(np.float64))
                break
            except NearTie as e:
                print(f"{name}: redraw ({e})", file=sys.stderr)
        else:
            raise SystemExit(f"{name}: no draw without near ties")
        # DART's host pivot rows: drawn apart so the cases above stay what they were
        pivots = np.random.default_rng(hash_name(name)).standard_normal((6, D)).astype(np.float32)
        extra = expectations_industrial_all(x, aux, pivots)
        exp.extend(extra)
        np.save(os.path.join(OUT, f"{name}.pivots.npy"), pivots)
        np.save(os.path.join(OUT, f"{name}.tokens.npy"), x)
        np.save(os.path.join(OUT, f"{name}.aux.npy"), aux)
        manifest.append({"name": name, "n": int(x.shape[0]), "dim": D, "expect": exp})
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="regenerate in memory and compare with the committed JSON")
    args = ap.parse_args()
    self_test()
    os.makedirs(OUT, exist_ok=True)
    manifest = generate()
    text = json.dumps({"generator": "scripts/policies_reference.py", "cases": manifest}, separators=(",", ":"))
    path = os.path.join(OUT, "cases.json")
    if args.check:
        same = open(path).read() == text
        print("policies fixtures: " + ("identical" if same else "DIFFERENT"))
        sys.exit(0 if same else 1)
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}: {len(manifest)} cases, {sum(len(c['expect']) for c in manifest)} expectations")


if __name__ == "__main__":
    main()
