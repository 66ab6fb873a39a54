"""Array helpers shared by the engine, the accuracy sources and the planner."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def sorted_unique(values: ArrayLike) -> np.ndarray:
    """The distinct values in ascending order, as `np.unique(values)` gives them for arrays
    without NaN. A sort and a mask of value changes: `np.unique` imports `numpy.ma` on its
    first call (numpy 2.4), about 5 ms of a cold start whatever the array's size."""
    flat = np.sort(np.asarray(values).ravel())
    if flat.size == 0:
        return flat
    change = np.empty(flat.size, dtype=bool)
    change[0] = True
    np.not_equal(flat[1:], flat[:-1], out=change[1:])
    return flat[change]


def quantile_pair(values: np.ndarray, low: float, high: float, axis: int = 0) -> np.ndarray:
    """`np.quantile(values, [low, high], axis=axis)` (method "linear") bit for bit, shape
    (2, ...): the same partition, neighbour indices and `_lerp` as numpy 2.4's
    numpy/lib/_function_base_impl.py, NaN lanes included. `np.quantile` imports `numpy.ma`
    (through `np.unique`) on its first call, about 10 ms of a cold start."""
    arr = np.moveaxis(np.array(values, dtype=float), axis, 0)  # a copy: partitioned in place
    n = arr.shape[0]
    if n == 0:
        raise ValueError("quantile of an empty axis")
    quantiles = np.asarray([low, high], dtype=float)
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1.0
    above = virtual >= n - 1  # numpy takes the largest value here
    previous[above] = -1.0
    following[above] = -1.0
    below = virtual < 0
    previous[below] = 0.0
    following[below] = 0.0
    previous[np.isnan(virtual)] = -1.0
    following[np.isnan(virtual)] = -1.0
    prev_idx = previous.astype(np.intp)
    next_idx = following.astype(np.intp)
    # numpy's kth: the sorted distinct values of [0, -1, previous, next] (negatives first)
    kth = sorted({0, -1, *prev_idx.tolist(), *next_idx.tolist()})
    arr.partition(np.asarray(kth, dtype=np.intp), axis=0)
    nan_lanes = np.isnan(arr[-1, ...])
    a, b = arr[prev_idx], arr[next_idx]
    gamma = (virtual - prev_idx).reshape((2,) + (1,) * (arr.ndim - 1))
    diff = b - a
    result = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=result, where=gamma >= 0.5, casting="unsafe")
    if np.any(nan_lanes):
        np.copyto(result, arr[-1, ...], where=nan_lanes)
    return result


KEEP_FREED_BYTES = 4 * 2**20  # temporaries up to this size stay in the process for reuse
_freed_once = False


def keep_freed_temporaries() -> None:
    """Let freed temporaries of up to KEEP_FREED_BYTES stay in the process for the next ones.

    glibc returns a freed mmapped block to the system and then raises its mmap threshold to
    that block's size and its trim threshold to twice it (malloc(3), M_MMAP_THRESHOLD), so one
    untouched allocation of KEEP_FREED_BYTES, freed, makes later arrays up to that size come
    from the heap, which keeps up to twice that free instead of trimming it after each call:
    a cold plan's pricing then takes about 900 fresh pages instead of about 10,000
    (docs/performance.md, "Deployable pricing per candidate").
    Values are untouched; the block is never written, so it costs no pages itself; other C
    libraries just allocate and free it. Once per process."""
    global _freed_once
    if not _freed_once:
        _freed_once = True
        np.empty(KEEP_FREED_BYTES, dtype=np.uint8)
