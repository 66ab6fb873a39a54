"""sorted_unique against np.unique: same values, same order, same dtype."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kinetics_cli.arrays import sorted_unique


def test_small_case_by_hand() -> None:
    # [3, 1, 3, 2, 1] sorted is [1, 1, 2, 3, 3]; keeping each value's first copy gives [1, 2, 3]
    got = sorted_unique([3, 1, 3, 2, 1])
    assert got.tolist() == [1, 2, 3]


def test_empty_and_two_dimensional() -> None:
    assert sorted_unique(np.zeros(0)).shape == (0,)
    assert sorted_unique([[2.0, 1.0], [2.0, 5.0]]).tolist() == [1.0, 2.0, 5.0]


@given(
    hnp.arrays(
        dtype=st.sampled_from([np.int64, np.float64, np.int32]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=20),
        elements={"allow_nan": False, "min_value": -50, "max_value": 50},
    )
)
def test_matches_np_unique(values: np.ndarray) -> None:
    got = sorted_unique(values)
    want = np.unique(values)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
