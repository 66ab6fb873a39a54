"""The accuracy-versus-cost Pareto set: pure functions over arrays of points.

A point (c, a) dominates (c', a') when c <= c' and a >= a' with one of the two strict. The frontier
keeps one point per non-dominated (cost, accuracy) pair: among exact duplicates the lowest index.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Block size of the frontier's first pass: sorting blocks that fit in cache, then the few points
# that survive them, is faster than one sort of a large grid.
_BLOCK = 1 << 16


def pareto_mask(cost: ArrayLike, accuracy: ArrayLike) -> np.ndarray:
    """True for the points on the frontier (lowest cost for their accuracy, highest accuracy for
    their cost). Points with a NaN coordinate are never on it.

    Sort by cost ascending, accuracy descending within a cost; a point is on the frontier exactly
    when its accuracy beats every point before it. Large inputs go in two passes: a point
    dominated within its block of consecutive indices is dominated overall, so each block's
    frontier is found first and the frontier of their union is the answer (blocks follow the
    index order, so among exact duplicates the lowest index still wins).
    """
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    if c.shape != a.shape:
        raise ValueError(f"cost and accuracy differ in size ({c.size} vs {a.size})")
    if c.size <= _BLOCK:
        return _sorted_frontier(c, a)
    survivors = np.concatenate(
        [
            start
            + np.flatnonzero(_sorted_frontier(c[start : start + _BLOCK], a[start : start + _BLOCK]))
            for start in range(0, c.size, _BLOCK)
        ]
    )
    mask = np.zeros(c.size, dtype=bool)
    mask[survivors[_sorted_frontier(c[survivors], a[survivors])]] = True
    return mask


def _sorted_frontier(c: np.ndarray, a: np.ndarray) -> np.ndarray:
    """pareto_mask in one sort."""
    mask = np.zeros(c.size, dtype=bool)
    valid = np.flatnonzero(np.isfinite(c) & np.isfinite(a))
    if valid.size == 0:
        return mask
    order = valid[np.lexsort((-a[valid], c[valid]))]  # stable: equal points keep index order
    acc = a[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    mask[order[acc > best_before]] = True
    return mask


def group_members(groups: ArrayLike) -> list[np.ndarray]:
    """Indices of each group's members (ascending), groups in label order: one stable sort of
    the labels instead of one scan of the whole grid per group."""
    g = np.asarray(groups).ravel()
    if g.size == 0:
        return []
    if g.dtype.kind in "iu" and g.min() >= 0 and g.max() < 2**16:
        g = g.astype(np.uint16)  # the same stable order, by a radix sort
    order = np.argsort(g, kind="stable")
    labels = g[order]
    return np.split(order, np.flatnonzero(labels[1:] != labels[:-1]) + 1)


def grouped_pareto_mask(cost: ArrayLike, accuracy: ArrayLike, groups: ArrayLike) -> np.ndarray:
    """The frontier of each group on its own (groups: one integer label per point)."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    mask = np.zeros(c.size, dtype=bool)
    for members in group_members(groups):
        mask[members] = pareto_mask(c[members], a[members])
    return mask


def frontier_order(cost: ArrayLike, accuracy: ArrayLike) -> np.ndarray:
    """Indices of the frontier points, cheapest first (accuracy then rises strictly)."""
    c = np.asarray(cost, dtype=float).ravel()
    idx = np.flatnonzero(pareto_mask(c, accuracy))
    return idx[np.argsort(c[idx], kind="stable")]


def _first(mask: np.ndarray) -> int:
    """Index of the first true element (the caller knows there is one)."""
    return int(np.argmax(mask))


def best_within(
    cost: ArrayLike, accuracy: ArrayLike, budget: float, where: np.ndarray | None = None
) -> int | None:
    """Index of the most accurate point costing at most `budget` (ties: lower cost, then lower
    index), or None when nothing fits. `where`: only these points compete.

    Linear passes: the best accuracy among the fitting points, the lowest cost among those at
    it, the first index among those."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    fits = (c <= budget) & np.isfinite(a)
    if where is not None:
        fits &= where
    if not fits.any():
        return None
    top = fits & (a == np.max(a, where=fits, initial=-np.inf))
    return _first(top & (c == np.min(c, where=top, initial=np.inf)))


def cheapest_reaching(cost: ArrayLike, accuracy: ArrayLike, target: float) -> int | None:
    """Index of the cheapest point whose accuracy is at least `target` (ties: higher accuracy,
    then lower index), or None when no point reaches it. Linear passes, as best_within."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(accuracy, dtype=float).ravel()
    reach = np.isfinite(c) & (a >= target)
    if not reach.any():
        return None
    low = reach & (c == np.min(c, where=reach, initial=np.inf))
    return _first(low & (a == np.max(a, where=low, initial=-np.inf)))
