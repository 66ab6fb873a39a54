"""The accuracy-versus-cost Pareto set: pure functions over arrays of points.

A point (c, a) dominates (c', a') when c <= c' and a >= a' with one of the two strict. The frontier
keeps one point per non-dominated (cost, accuracy) pair: among exact duplicates the lowest index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def pareto_mask(cost: ArrayLike, accuracy: ArrayLike) -> np.ndarray:
    """True for the points on the frontier (lowest cost for their accuracy, highest accuracy for
    their cost). Points with a NaN coordinate are never on it.

    Sort by cost ascending, accuracy descending within a cost; a point is on the frontier exactly
    when its accuracy beats every point before it.
    """
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    if c.shape != a.shape:
        raise ValueError(f"cost and accuracy differ in size ({c.size} vs {a.size})")
    mask = np.zeros(c.size, dtype=bool)
    valid = np.flatnonzero(np.isfinite(c) & np.isfinite(a))
    if valid.size == 0:
        return mask
    order = valid[np.lexsort((valid, -a[valid], c[valid]))]
    acc = a[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    mask[order[acc > best_before]] = True
    return mask


def grouped_pareto_mask(cost: ArrayLike, accuracy: ArrayLike, groups: ArrayLike) -> np.ndarray:
    """The frontier of each group on its own (groups: one integer label per point)."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    g = np.asarray(groups).ravel()
    mask = np.zeros(c.size, dtype=bool)
    for label in np.unique(g):
        members = np.flatnonzero(g == label)
        mask[members] = pareto_mask(c[members], a[members])
    return mask


def frontier_order(cost: ArrayLike, accuracy: ArrayLike) -> np.ndarray:
    """Indices of the frontier points, cheapest first (accuracy then rises strictly)."""
    c = np.asarray(cost, dtype=float).ravel()
    idx = np.flatnonzero(pareto_mask(c, accuracy))
    return idx[np.argsort(c[idx], kind="stable")]


def best_within(cost: ArrayLike, accuracy: ArrayLike, budget: float) -> int | None:
    """Index of the most accurate point costing at most `budget` (ties: lower cost, then lower
    index), or None when nothing fits."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    fits = np.flatnonzero((c <= budget) & np.isfinite(a))
    if fits.size == 0:
        return None
    order = np.lexsort((fits, c[fits], -a[fits]))
    return int(fits[order[0]])


def cheapest_reaching(cost: ArrayLike, accuracy: ArrayLike, target: float) -> int | None:
    """Index of the cheapest point whose accuracy is at least `target` (ties: higher accuracy,
    then lower index), or None when no point reaches it."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    reach = np.flatnonzero(np.isfinite(c) & (a >= target))
    if reach.size == 0:
        return None
    order = np.lexsort((reach, -a[reach], c[reach]))
    return int(reach[order[0]])
