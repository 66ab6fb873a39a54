"""The Pareto set and the budget answer on hand-written points, and their properties."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.planner.pareto import (
    best_within,
    cheapest_reaching,
    frontier_order,
    grouped_pareto_mask,
    level_pareto_mask,
    pareto_mask,
)

# Five points (cost, accuracy):
#   0: (1, 0.2)  frontier: cheapest
#   1: (2, 0.1)  dominated by 0 (costs more, less accurate)
#   2: (2, 0.5)  frontier
#   3: (3, 0.5)  dominated by 2 (same accuracy, costs more)
#   4: (5, 0.9)  frontier
COST = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
ACC = np.array([0.2, 0.1, 0.5, 0.5, 0.9])


def test_hand_written_frontier() -> None:
    assert pareto_mask(COST, ACC).tolist() == [True, False, True, False, True]
    assert frontier_order(COST, ACC).tolist() == [0, 2, 4]


def test_duplicates_keep_the_first() -> None:
    assert pareto_mask([1.0, 1.0, 2.0], [0.5, 0.5, 0.5]).tolist() == [True, False, False]


def test_nan_is_never_on_the_frontier() -> None:
    assert pareto_mask([1.0, 2.0, np.nan], [np.nan, 0.3, 0.9]).tolist() == [False, True, False]
    assert not pareto_mask([], []).any()


def test_grouped_frontier_is_per_group() -> None:
    # group 1 holds only the dominated points 1 and 3: alone, 1 (cheaper) and 3 (more accurate)
    # are both on its frontier.
    groups = np.array([0, 1, 0, 1, 0])
    assert grouped_pareto_mask(COST, ACC, groups).tolist() == [True, True, True, True, True]
    groups = np.array([0, 0, 1, 1, 1])
    assert grouped_pareto_mask(COST, ACC, groups).tolist() == [True, False, True, False, True]


def test_best_within_budget() -> None:
    assert best_within(COST, ACC, 0.5) is None  # nothing fits
    assert best_within(COST, ACC, 1.0) == 0  # the budget itself is allowed
    assert best_within(COST, ACC, 2.9) == 2
    assert best_within(COST, ACC, 4.0) == 2  # 3 ties 2 on accuracy but costs more
    assert best_within(COST, ACC, 100.0) == 4


def test_cheapest_reaching() -> None:
    assert cheapest_reaching(COST, ACC, 0.5) == 2
    assert cheapest_reaching(COST, ACC, 0.45) == 2
    assert cheapest_reaching(COST, ACC, 0.95) is None


points = st.lists(
    st.tuples(
        st.floats(0.0, 1e6, allow_nan=False),
        st.floats(0.0, 1.0, allow_nan=False),
    ),
    min_size=1,
    max_size=60,
)


def _dominates(p: tuple[float, float], q: tuple[float, float]) -> bool:
    return p[0] <= q[0] and p[1] >= q[1] and (p[0] < q[0] or p[1] > q[1])


@given(points)
def test_frontier_points_are_not_dominated(pts: list[tuple[float, float]]) -> None:
    cost, acc = np.array(pts).T
    mask = pareto_mask(cost, acc)
    for i in np.flatnonzero(mask):
        assert not any(_dominates(q, pts[i]) for q in pts)


@given(points)
def test_every_point_is_on_or_weakly_dominated_by_the_frontier(
    pts: list[tuple[float, float]],
) -> None:
    cost, acc = np.array(pts).T
    front = [pts[i] for i in np.flatnonzero(pareto_mask(cost, acc))]
    assert front
    for p in pts:
        assert any(f[0] <= p[0] and f[1] >= p[1] for f in front)
    # one frontier point per distinct (cost, accuracy): accuracy rises strictly with cost
    ordered = sorted(front)
    assert all(a[1] < b[1] and a[0] < b[0] for a, b in itertools.pairwise(ordered))


@given(points, st.floats(0.0, 1.2e6, allow_nan=False))
def test_best_within_is_the_best_affordable_point(
    pts: list[tuple[float, float]], budget: float
) -> None:
    cost, acc = np.array(pts).T
    i = best_within(cost, acc, budget)
    affordable = [p for p in pts if p[0] <= budget]
    if i is None:
        assert not affordable
        return
    assert cost[i] <= budget
    assert acc[i] == max(p[1] for p in affordable)
    assert cost[i] == min(p[0] for p in affordable if p[1] == acc[i])
    assert pareto_mask(cost, acc)[i] or any(
        pareto_mask(cost, acc)[j] and cost[j] == cost[i] and acc[j] == acc[i]
        for j in range(len(pts))
    )


# Few distinct values, so ties in cost and accuracy are common; NaN accuracies and costs too.
tied = st.lists(
    st.tuples(
        st.sampled_from([1.0, 2.0, 3.0, np.nan]),
        st.sampled_from([0.1, 0.5, 0.9, np.nan]),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=40,
)


@given(tied, st.sampled_from([0.5, 1.0, 2.5, 3.0]), st.sampled_from([0.1, 0.5, 0.95]))
def test_linear_answers_equal_the_sorted_definitions(
    pts: list[tuple[float, float, int]], budget: float, target: float
) -> None:
    """best_within and cheapest_reaching (linear passes) pick what sorting every candidate by
    their tie-breaking rules picks; grouped frontiers equal one frontier per group."""
    cost, acc, group = (np.array(x) for x in zip(*pts, strict=True))
    idx = np.arange(cost.size)
    fits = idx[(cost <= budget) & np.isfinite(acc)]
    want = fits[np.lexsort((fits, cost[fits], -acc[fits]))][0] if fits.size else None
    assert best_within(cost, acc, budget) == want
    reach = idx[np.isfinite(cost) & (acc >= target)]
    want = reach[np.lexsort((reach, -acc[reach], cost[reach]))][0] if reach.size else None
    assert cheapest_reaching(cost, acc, target) == want
    per_group = np.zeros(cost.size, dtype=bool)
    for label in np.unique(group):
        members = idx[group == label]
        per_group[members] = pareto_mask(cost[members], acc[members])
    assert np.array_equal(grouped_pareto_mask(cost, acc, group), per_group)


def test_large_inputs_go_through_blocks_with_the_same_answer(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The two-pass frontier of a large grid equals the one-sort frontier (ties and NaN too)."""
    from kinetics_cli.planner import pareto

    rng = np.random.default_rng(7)
    cost = rng.integers(1, 50, 3000).astype(float)
    acc = cost + rng.integers(0, 5, 3000)  # dearer tends to be better: a long frontier
    cost[::97], acc[::89] = np.nan, np.nan
    whole = pareto._sorted_frontier(cost, acc)
    monkeypatch.setattr(pareto, "_BLOCK", 64)
    assert np.array_equal(pareto.pareto_mask(cost, acc), whole)
    assert whole.sum() > 10


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 2.0, 2.5, 3.0, np.inf, np.nan]),
            st.sampled_from([0.0, 1.0, 2.0, 5.0, 1000.0, -3.0, np.nan]),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_level_frontier_equals_the_sorted_frontier(pts: list[tuple[float, float, int]]) -> None:
    """On whole-number accuracies (levels), the linear frontier is the sorted one: overall and per
    group, with duplicates (lowest index), equal costs at several levels, inf and NaN."""
    cost, levels, group = (np.array(x) for x in zip(*pts, strict=True))
    assert np.array_equal(level_pareto_mask(cost, levels), pareto_mask(cost, levels))
    assert np.array_equal(
        level_pareto_mask(cost, levels, group), grouped_pareto_mask(cost, levels, group)
    )


def test_level_frontier_falls_back_on_fractional_accuracies() -> None:
    assert np.array_equal(level_pareto_mask(COST, ACC), pareto_mask(COST, ACC))
    assert level_pareto_mask(COST, ACC).tolist() == [True, False, True, False, True]
