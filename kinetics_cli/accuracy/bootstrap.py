"""Bootstrap intervals of Best-of-N coverage from per-problem samples, vectorized over replicates.

Two levels, as the data allows: problems are resampled with replacement (the same draw for every
setting with the same `pairing` key, so two settings on the same problems can be compared replicate
by replicate), then each drawn problem's samples are resampled with replacement. A sample falls in
one bucket: correct and finished within the k-th smallest limit (first such limit), or neither
(wrong, or longer than every limit); the resampled samples' buckets are counted for all
(replicate, problem) pairs at once.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

from kinetics_cli.accuracy.base import CONFIDENCE
from kinetics_cli.accuracy.passk import pass_at_k
from kinetics_cli.arrays import quantile_pair, sorted_unique

REPLICATES = 200  # bootstrap replicates: 95% bounds from the 5th / 196th ordered replicate


def seed(key: str) -> int:
    """A fixed 32-bit seed for a text key (deterministic across runs and platforms)."""
    return zlib.crc32(key.encode("utf-8"))


def problem_draws(n_problems: int, pairing: str, replicates: int = REPLICATES) -> np.ndarray:
    """Resampled problem indices (replicates, n_problems), fixed by the pairing key (read-only:
    every setting with the same key shares one draw)."""
    return _problem_draws(int(n_problems), pairing, int(replicates))


@lru_cache(maxsize=64)
def _problem_draws(n_problems: int, pairing: str, replicates: int) -> np.ndarray:
    rng = np.random.default_rng(seed(f"problems:{pairing}:{n_problems}"))
    draws = rng.integers(0, n_problems, size=(replicates, n_problems))
    draws.flags.writeable = False
    return draws


def passk_table(n: int, trials: np.ndarray) -> np.ndarray:
    """pass@k for every count c = 0..n of n samples: table[c, t] (NaN where trials[t] > n);
    read-only, computed once per (n, trials) in a process."""
    return _passk_table(int(n), tuple(np.asarray(trials, dtype=float).ravel().tolist()))


@lru_cache(maxsize=256)
def _passk_table(n: int, trials: tuple[float, ...]) -> np.ndarray:
    c = np.arange(n + 1, dtype=float)
    table = pass_at_k(np.full(1, n), c[:, None], np.asarray(trials, dtype=float)[None, :])
    table.flags.writeable = False
    return table


def coverage_replicates(
    n: np.ndarray,
    sample_buckets: np.ndarray,
    n_limits: int,
    trials: np.ndarray,
    pairing: str,
    label: str,
    replicates: int = REPLICATES,
) -> np.ndarray:
    """Bootstrap replicates of mean coverage, shape (replicates, T, G).

    n[p]: samples of problem p; sample_buckets[p, j] for j < n[p]: the first of the G ascending
    limits that sample j is correct and finished within, G when none (wrong, or longer than every
    limit); entries j >= n[p] must be G (padding). Coverage at limit g counts buckets 0..g.
    """
    n = np.asarray(n, dtype=np.int64)
    buckets = np.asarray(sample_buckets, dtype=np.int32)
    n_problems, width = buckets.shape
    idx = problem_draws(n_problems, pairing, replicates)  # (B, P)
    rng = np.random.default_rng(seed(f"samples:{pairing}:{label}"))
    nn = n[idx]  # (B, P)
    sizes = sorted_unique(n)
    shape = (replicates, n_problems, width)
    if sizes.size == 1:
        pick = rng.integers(0, int(sizes[0]), size=shape, dtype=np.int32)
    else:
        pick = (rng.random(shape) * nn[:, :, None]).astype(np.int32)
        # only the first n[p] draws count: park the others on the last (padding) position,
        # which no threshold of a smaller problem reaches
        extra = np.arange(width)[None, None, :] >= nn[:, :, None]
        pick[extra] = width - 1
    # Draw j of problem p is the pick-th of its samples ordered by bucket (the padding, bucket G,
    # last); count the drawn samples per (replicate, problem, bucket) in one pass, then the
    # cumulative counts are the samples correct within each limit.
    ordered = np.sort(buckets, axis=1)
    drawn = ordered.ravel()[(idx * width)[:, :, None] + pick]  # (B, P, W) its bucket
    bins = replicates * n_problems * (n_limits + 1)
    slot = np.arange(replicates * n_problems, dtype=np.int32 if bins < 2**31 else np.int64)
    slot = slot.reshape(replicates, n_problems, 1)
    counts = np.bincount((slot * (n_limits + 1) + drawn).ravel(), minlength=bins).reshape(
        replicates, n_problems, n_limits + 1
    )
    solved = np.cumsum(counts[:, :, :n_limits], axis=2)  # (B, P, G) correct within L_g
    trials = np.asarray(trials, dtype=float)
    if sizes.size == 1:
        # mean over problems of table[solved]: count problems per (replicate, limit, count)
        top = int(sizes[0])
        key = (
            np.arange(replicates)[:, None, None] * n_limits + np.arange(n_limits)[None, :, None]
        ) * (top + 1)
        hist = np.bincount(
            (key + solved.transpose(0, 2, 1)).ravel(), minlength=replicates * n_limits * (top + 1)
        ).reshape(replicates, n_limits, top + 1)
        mean = hist @ passk_table(top, trials) / n_problems  # (B, G, T)
    else:
        cover = np.empty((*solved.shape, trials.size))
        for size in sizes:
            where = nn == size
            cover[where] = passk_table(int(size), trials)[solved[where]]
        mean = cover.mean(axis=1)
    return np.moveaxis(mean, -1, 1)  # (B, T, G)


def percentile_interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """[lower, upper] percentile bounds over the first axis: shape (2, ...)."""
    tail = (1.0 - confidence) / 2.0
    return quantile_pair(replicates, tail, 1.0 - tail, axis=0)  # np.quantile's bits
