"""sorted_unique against np.unique (same values, order, dtype); quantile_pair against
np.quantile (same bits)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kinetics_cli.arrays import quantile_pair, sorted_unique


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


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shapes and identical float64 bit patterns (tells -0.0 from 0.0, matches NaNs)."""
    return a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a, dtype=float).view(np.int64),
        np.ascontiguousarray(b, dtype=float).view(np.int64),
    )


def test_quantile_pair_by_hand() -> None:
    # 5 values, q = 0.25: virtual index (5 - 1) * 0.25 = 1.0, so the 2nd smallest, 2.0;
    # q = 0.9: index 3.6 between 4.0 and 10.0, gamma 0.6 >= 0.5: 10 - 6 * 0.4 = 7.6 (to rounding)
    got = quantile_pair(np.array([10.0, 1.0, 4.0, 2.0, 3.0]), 0.25, 0.9)
    assert got[0] == 2.0 and abs(got[1] - 7.6) < 1e-12
    assert same_bits(got, np.quantile([10.0, 1.0, 4.0, 2.0, 3.0], [0.25, 0.9]))


def test_quantile_pair_nan_lane_and_one_value() -> None:
    values = np.array([[1.0, np.nan], [2.0, 5.0], [3.0, 6.0]])
    got = quantile_pair(values, 0.025, 0.975, axis=0)
    assert np.isnan(got[:, 1]).all() and same_bits(got, np.quantile(values, [0.025, 0.975], axis=0))
    one = np.array([[np.inf], [-np.inf], [7.0]])  # one value per lane: inf - inf is NaN in both
    with np.errstate(invalid="ignore"):
        want = np.quantile(one, [0.1, 0.9], axis=1)
        assert same_bits(quantile_pair(one, 0.1, 0.9, axis=1), want)


@given(
    hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=12),
        elements=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]),
            st.floats(min_value=-1.0, max_value=1.0),
        ),
    ),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.data(),
)
def test_quantile_pair_matches_numpy_bit_for_bit(
    values: np.ndarray, low: float, high: float, data: st.DataObject
) -> None:
    axis = data.draw(st.integers(min_value=0, max_value=values.ndim - 1))
    with np.errstate(invalid="ignore"):
        want = np.quantile(values, [low, high], axis=axis)
        got = quantile_pair(values, low, high, axis=axis)
    assert same_bits(got, want)


@given(st.integers(min_value=1, max_value=400), st.sampled_from([0.025, 0.05, 0.1, 0.3]))
def test_quantile_pair_bootstrap_shapes(replicates: int, tail: float) -> None:
    # the callers' shape: many replicates of mean coverages on a grid, tails of a 2-sided interval
    rng = np.random.default_rng(replicates)
    values = rng.integers(0, 9, size=(replicates, 3, 4)) / 8.0  # many ties, as in coverages
    want = np.quantile(values, [tail, 1.0 - tail], axis=0)
    assert same_bits(quantile_pair(values, tail, 1.0 - tail, axis=0), want)
    diffs = values.reshape(replicates, -1).T - values.reshape(replicates, -1).T[::-1]
    want = np.quantile(diffs, [tail, 1.0 - tail], axis=1)
    assert same_bits(quantile_pair(diffs, tail, 1.0 - tail, axis=1), want)
