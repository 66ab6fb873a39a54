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
