"""How much the pairing of correctness and length moves the bundled measured coverage.

    python benchmarks/bench_measured_pairing.py

The bundled AIME24 data (kinetics_cli/accuracy/data/) gives, per problem, n samples, c correct and
every sample's length, but not which samples were correct. Truncated coverage at a limit L depends
on that pairing. Three pairings of the c correct samples:
  shortest   the c shortest samples (what the planner uses: an upper bound),
  random     a uniformly random c of the n (c_L hypergeometric; its expectation),
  longest    the c longest (a lower bound).
At L >= 30,778 tokens every sample finishes and all three agree. Prints, per measured setting and
overall, the mean and largest differences in points over N = 1..min(32, n) and L = 2K..32K.
Asserts nothing.
"""

from __future__ import annotations

import math

import numpy as np

from kinetics_cli.accuracy.bootstrap import passk_table
from kinetics_cli.accuracy.measured import load_measured

LIMITS = np.array([2048, 4096, 6144, 8192, 12288, 16384, 24576, 32768], dtype=float)


def hypergeometric(n: int, finished: np.ndarray, c: np.ndarray) -> np.ndarray:
    """P(x of the c correct are among the `finished` ones), shape (..., n + 1)."""
    x = np.arange(n + 1)
    comb = np.array([[math.comb(a, b) for b in range(n + 1)] for a in range(n + 1)], dtype=float)
    f, cc = finished[..., None], c[..., None]
    ways = comb[f, x] * comb[n - f, np.clip(cc - x, 0, n)]
    ways = np.where((x <= cc) & (cc - x <= n - f), ways, 0.0)
    return ways / comb[n, c][..., None]


def main() -> None:
    source = load_measured()
    rows = []
    for setting in source.settings():
        tab = source._table(setting)  # the per-sample arrays of the bundled data
        n = int(tab.n.min())
        if int(tab.n.max()) != n:
            continue
        trials = np.arange(1, min(32, n) + 1, dtype=float)
        table = passk_table(n, trials)  # (n + 1, T)
        gen = tab.gen.reshape(-1, n)  # problems x samples, sorted ascending per problem
        c = tab.correct.reshape(-1, n).sum(axis=1)
        finished = (gen[None, :, :] <= LIMITS[:, None, None]).sum(axis=2)  # (G, P)
        short = np.minimum(c[None, :], finished)
        long_ = np.maximum(0, c[None, :] - (n - finished))
        rand = hypergeometric(n, finished, np.broadcast_to(c, finished.shape)) @ table  # (G,P,T)
        cover = {
            "shortest": table[short].mean(axis=1),
            "random": rand.mean(axis=1),
            "longest": table[long_].mean(axis=1),
        }
        rows.append((setting.label, cover))
    print(f"{'setting':34s} {'shortest-random mean/max':>25s} {'shortest-longest mean/max':>26s}")
    gaps_r, gaps_l = [], []
    for label, cover in rows:
        dr = 100 * (cover["shortest"] - cover["random"])
        dl = 100 * (cover["shortest"] - cover["longest"])
        gaps_r.append(dr.ravel())
        gaps_l.append(dl.ravel())
        print(
            f"{label:34s} {dr.mean():11.1f} / {dr.max():5.1f} {dl.mean():14.1f} / {dl.max():5.1f}"
        )
    r, lo = np.concatenate(gaps_r), np.concatenate(gaps_l)
    print(
        f"{'all settings':34s} {r.mean():11.1f} / {r.max():5.1f} {lo.mean():14.1f} / {lo.max():5.1f}"
    )
    by_limit = [
        100 * np.mean(np.concatenate([(c["shortest"][g] - c["random"][g]) for _, c in rows]))
        for g in range(LIMITS.size)
    ]
    print(
        "mean shortest - random by limit: "
        + ", ".join(f"{int(L) // 1024}K {v:.1f}" for L, v in zip(LIMITS, by_limit, strict=True))
    )


if __name__ == "__main__":
    main()
