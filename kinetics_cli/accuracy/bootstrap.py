"""Bootstrap intervals of Best-of-N coverage from per-problem samples, vectorized over replicates.

Two levels, as the data allows: problems are resampled with replacement (the same draw for every
setting with the same `pairing` key, so two settings on the same problems can be compared replicate
by replicate), then each drawn problem's samples are resampled with replacement. A sample falls in
one bucket: correct and finished within the k-th smallest limit (first such limit), correct but
longer than every limit, or wrong; resampling n samples is a multinomial draw over the buckets,
done as a chain of binomials over all (replicate, problem) pairs at once.
"""

from __future__ import annotations

import zlib

import numpy as np

from kinetics_cli.accuracy.base import CONFIDENCE
from kinetics_cli.accuracy.passk import pass_at_k

REPLICATES = 200  # bootstrap replicates: 95% bounds from the 5th / 196th ordered replicate


def seed(key: str) -> int:
    """A fixed 32-bit seed for a text key (deterministic across runs and platforms)."""
    return zlib.crc32(key.encode("utf-8"))


def problem_draws(n_problems: int, pairing: str, replicates: int = REPLICATES) -> np.ndarray:
    """Resampled problem indices (replicates, n_problems), fixed by the pairing key."""
    rng = np.random.default_rng(seed(f"problems:{pairing}:{n_problems}"))
    return rng.integers(0, n_problems, size=(replicates, n_problems))


def passk_table(n: int, trials: np.ndarray) -> np.ndarray:
    """pass@k for every count c = 0..n of n samples: table[c, t] (NaN where trials[t] > n)."""
    c = np.arange(n + 1, dtype=float)
    return pass_at_k(np.full(1, n), c[:, None], np.asarray(trials, dtype=float)[None, :])


def coverage_replicates(
    n: np.ndarray,
    buckets: np.ndarray,
    trials: np.ndarray,
    pairing: str,
    label: str,
    replicates: int = REPLICATES,
) -> np.ndarray:
    """Bootstrap replicates of mean coverage, shape (replicates, T, G).

    n[p]: samples of problem p; buckets[p, g]: its correct samples whose first fitting limit (of G,
    ascending) is g. Coverage at limit g counts buckets 0..g (correct and finished within it).
    """
    n = np.asarray(n, dtype=np.int64)
    counts = np.asarray(buckets, dtype=np.int64)
    n_problems, n_limits = counts.shape
    idx = problem_draws(n_problems, pairing, replicates)
    rng = np.random.default_rng(seed(f"samples:{pairing}:{label}"))
    nn = n[idx]  # (B, P)
    mm = counts[idx]  # (B, P, G)
    left = nn.copy()  # samples still to place
    rest = nn.astype(float)  # probability mass (in samples) of the buckets not yet drawn
    drawn = np.empty(mm.shape, dtype=np.int64)
    for g in range(n_limits):
        prob = np.divide(mm[..., g], rest, out=np.zeros(rest.shape), where=rest > 0)
        x = rng.binomial(left, np.clip(prob, 0.0, 1.0))
        drawn[..., g] = x
        left -= x
        rest -= mm[..., g]
    solved = np.cumsum(drawn, axis=-1)  # (B, P, G) correct within each limit
    trials = np.asarray(trials, dtype=float)
    cover = np.empty((*solved.shape, trials.size))
    for size in np.unique(n):
        table = passk_table(int(size), trials)  # (size + 1, T)
        where = nn == size
        cover[where] = table[solved[where]]
    return np.moveaxis(cover.mean(axis=1), -1, 1)  # (B, T, G)


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """[lower, upper] percentile bounds over the first axis: shape (2, ...)."""
    tail = (1.0 - confidence) / 2.0
    return np.quantile(replicates, [tail, 1.0 - tail], axis=0)
