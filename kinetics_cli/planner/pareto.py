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


# Largest (groups x levels) table level_pareto_mask builds before it falls back to sorting.
_LEVEL_TABLE = 1 << 22


def level_pareto_mask(
    cost: ArrayLike, levels: ArrayLike, groups: ArrayLike | None = None
) -> np.ndarray:
    """pareto_mask (or grouped_pareto_mask with `groups`) for accuracies that are whole numbers
    (accuracy levels), in linear passes instead of sorts. A point is on its frontier exactly when
    its cost is the lowest at its level, lower than every cost at a higher level, and it is the
    first such point (lowest index): the sorted definition read level by level. Other inputs
    (fractional or widely spread levels) go to the sorting versions."""
    c = np.asarray(cost, dtype=float).ravel()
    a = np.asarray(levels, dtype=float).ravel()
    g = np.zeros(c.size, dtype=np.intp) if groups is None else np.asarray(groups).ravel()
    if c.shape != a.shape or g.shape != c.shape:
        raise ValueError(f"cost, levels and groups differ in size ({c.size}, {a.size}, {g.size})")
    finite = np.isfinite(c) & np.isfinite(a)
    mask = np.zeros(c.size, dtype=bool)
    if finite.all():  # the usual case: no copies of the inputs
        valid, cv, av, gv = None, c, a, g
    else:
        valid = np.flatnonzero(finite)
        if valid.size == 0:
            return mask
        cv, av, gv = c[valid], a[valid], g[valid]
    low, high = av.min(), av.max()
    n_groups = int(gv.max()) + 1 if gv.dtype.kind in "iu" and gv.min() >= 0 else 0
    width = int(high - low) + 1 if high - low < _LEVEL_TABLE else 0
    if not (n_groups and width and n_groups * width <= _LEVEL_TABLE) or (av % 1).any():
        return pareto_mask(c, a) if groups is None else grouped_pareto_mask(c, a, g)
    key = (av - low).astype(np.intp)
    key += gv.astype(np.intp) * width
    lowest = np.full(n_groups * width, np.inf)
    np.minimum.at(lowest, key, cv)  # the lowest cost at each (group, level)
    # the lowest cost at any higher level of the same group (inf above the top level)
    above = np.full((n_groups, width), np.inf)
    table = lowest.reshape(n_groups, width)
    above[:, :-1] = np.minimum.accumulate(table[:, :0:-1], axis=1)[:, ::-1]
    beats = (table < above).ravel()
    at = np.flatnonzero(beats[key] & (cv == lowest[key]))
    _, first = np.unique(key[at], return_index=True)  # lowest index per (group, level)
    mask[at[first] if valid is None else valid[at[first]]] = True
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
