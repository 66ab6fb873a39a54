"""The frontiers of planner/frontier.py: the law's (eFLOPs) and the deployable ones, on each
accelerator and across them. Deployable costs are the ones `plan` charges (planner.plan.costs
on planner/deploy.py's pricing), configurations no replica holds are never on a frontier, and
the frontier across accelerators is the Pareto set of the union of their points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.catalog import Catalog, load_catalog
from kinetics_cli.errors import InputError
from kinetics_cli.planner.deploy import DeployOptions
from kinetics_cli.planner.frontier import (
    combined_mask,
    deployable_frontier,
    deployable_frontiers,
    make_frontier,
)
from kinetics_cli.planner.pareto import pareto_mask
from kinetics_cli.planner.plan import accuracy_levels, make_plan
from kinetics_cli.planner.setup import Setup, build_setup, grid_options
from tests.test_planner_fakes import FakeSource

HARDWARE = "b200,h100-sxm,l40s,a100-80gb-sxm"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def setup(catalog: Catalog) -> Setup:
    """The fake source (qwen3-235b-a22b added: no l40s node holds its weights) priced on four
    accelerators, one of them (a100-80gb-sxm) without a price."""
    source = FakeSource()
    source.models["qwen3-235b-a22b"] = (0.9, 5000.0)
    mp = pytest.MonkeyPatch()
    mp.setattr("kinetics_cli.planner.setup.load_source", lambda task, evals, resolve: source)
    try:
        return build_setup(
            task="fake",
            catalog=catalog,
            hardware=HARDWARE,
            options=grid_options(trials=["2", "8"], gen_limits=["4096", "16384"]),
            deploy=DeployOptions(),
        )
    finally:
        mp.undo()


def _dominated(cost: np.ndarray, levels: np.ndarray, i: int) -> bool:
    """Whether some point is at most as costly and more accurate, or cheaper and as accurate."""
    return bool(
        np.any((cost <= cost[i]) & (levels > levels[i]))
        or np.any((cost < cost[i]) & (levels >= levels[i]))
    )


@pytest.mark.parametrize("unit", ["seconds", "usd", "latency", "joules"])
def test_deployable_costs_are_the_plans(setup: Setup, unit: str) -> None:
    """Every configuration's frontier cost equals the cost `plan` charges it under a budget in
    the same unit, accelerator by accelerator (both read planner.plan.costs: equal exactly,
    checked to 1e-9)."""
    for option in setup.hardware:
        if unit == "usd" and option.profile.price_per_gpu_hour is None:
            continue
        frontier = deployable_frontier(option.grid, option.pricing, unit)
        budget = float(np.median(frontier.cost[np.isfinite(frontier.cost)]))
        answer = make_plan(option.grid, budget, unit=unit, pricing=option.pricing)
        np.testing.assert_allclose(frontier.cost, answer.law_cost, rtol=1e-9)
        # and the figure the configuration's JSON document shows for it
        key = {"seconds": "gpu_seconds", "usd": "usd_per_1000", "latency": "latency_s"}
        for i in np.flatnonzero(option.deploy.fits)[::7].tolist():
            shown = option.deploy.document(i)["deployable"][key.get(unit, unit)]
            assert frontier.cost[i] == pytest.approx(shown, rel=1e-9)


def test_dropped_configurations_are_never_on_a_frontier(setup: Setup) -> None:
    l40s = next(h for h in setup.hardware if h.profile.name == "l40s")
    frontier = deployable_frontier(l40s.grid, l40s.pricing, "seconds")
    dropped = ~l40s.deploy.fits
    models = {l40s.grid.model(int(i)) for i in np.flatnonzero(dropped)}
    assert "qwen3-235b-a22b" in models and dropped.sum() == sum(l40s.deploy.dropped.values())
    assert np.all(np.isinf(frontier.cost[dropped]))
    assert not np.any((frontier.overall | frontier.per_group) & dropped)


@pytest.mark.parametrize("unit", ["seconds", "latency"])
def test_deployable_frontier_is_pareto(setup: Setup, unit: str) -> None:
    """On each accelerator: frontier points are not dominated, every configuration that fits is
    weakly dominated by one, and per-group frontiers hold within their group."""
    for option in setup.hardware:
        f = deployable_frontier(option.grid, option.pricing, unit)
        fits = np.isfinite(f.cost)
        for i in np.flatnonzero(f.overall):
            assert not _dominated(f.cost, f.levels, int(i))
        on = f.overall
        for i in np.flatnonzero(fits):
            assert np.any(on & (f.cost <= f.cost[i]) & (f.levels >= f.levels[i]))
        for label in range(len(f.keys)):
            members = np.flatnonzero(f.groups == label)
            c, a = f.cost[members], f.levels[members]
            for k in np.flatnonzero(f.per_group[members]):
                assert not _dominated(c, a, int(k))


def test_across_accelerators(setup: Setup) -> None:
    """Dollars: the unpriced a100 is skipped and named; the frontier across the others is the
    frontier of the union of their points, each of its points on its own accelerator's."""
    frontiers = deployable_frontiers(setup.hardware, "usd")
    assert frontiers.hardware == ("b200", "h100-sxm", "l40s")
    assert frontiers.skipped == {"a100-80gb-sxm": "no price_per_gpu_hour in its profile"}
    cost = np.concatenate([f.cost for f in frontiers.frontiers])
    levels = np.concatenate([f.levels for f in frontiers.frontiers])
    across = np.concatenate(frontiers.combined)
    assert across.any()
    for i in np.flatnonzero(across):
        assert not _dominated(cost, levels, int(i))
    for f, mask in zip(frontiers.frontiers, frontiers.combined, strict=True):
        assert not np.any(mask & ~f.overall)
    # seconds: every accelerator has a frontier
    assert len(deployable_frontiers(setup.hardware, "seconds").frontiers) == 4


def test_refusals(setup: Setup) -> None:
    a100 = [h for h in setup.hardware if h.profile.name == "a100-80gb-sxm"]
    with pytest.raises(InputError, match="no accelerator has a frontier in usd"):
        deployable_frontiers(a100, "usd")
    with pytest.raises(InputError, match="not a deployable unit"):
        deployable_frontiers(setup.hardware, "eflops")
    with pytest.raises(InputError, match="needs deployable costs"):
        deployable_frontier(setup.grid, setup.pricing.__class__(1.0), "seconds")


def test_law_frontier_is_unchanged(setup: Setup) -> None:
    """The eFLOPs frontier: cost = compute FLOPs + I x bytes, unit eflops."""
    f = make_frontier(setup.grid, "kinetics", setup.pricing.intensity)
    want = setup.grid.compute_flops + setup.pricing.intensity * setup.grid.memory_bytes
    np.testing.assert_allclose(f.cost, want, rtol=1e-12)
    assert f.unit == "eflops" and f.law == "kinetics"
    np.testing.assert_array_equal(
        f.overall, pareto_mask(want, accuracy_levels(setup.grid.accuracy))
    )


point_sets = st.lists(
    st.lists(
        st.tuples(
            st.one_of(st.floats(0.0, 1e6, allow_nan=False), st.just(float("inf"))),
            st.integers(0, 50),
        ),
        min_size=0,
        max_size=30,
    ),
    min_size=1,
    max_size=4,
)


@given(point_sets)
def test_combined_mask_is_the_frontier_of_the_union(sets: list[list[tuple[float, int]]]) -> None:
    """No combined point is dominated by a point of any set; every finite point is weakly
    dominated by a combined point; a combined point is on its own set's frontier; infinite
    costs never are."""
    costs = [np.array([c for c, _ in s], dtype=float) for s in sets]
    levels = [np.array([a for _, a in s], dtype=float) for s in sets]
    masks = combined_mask(costs, levels)
    assert [m.size for m in masks] == [c.size for c in costs]
    cost, level, mask = np.concatenate(costs), np.concatenate(levels), np.concatenate(masks)
    for i in np.flatnonzero(mask):
        assert np.isfinite(cost[i]) and not _dominated(cost, level, int(i))
    for i in np.flatnonzero(np.isfinite(cost)):
        assert np.any(mask & (cost <= cost[i]) & (level >= level[i]))
    for c, a, m in zip(costs, levels, masks, strict=True):
        assert not np.any(m & ~pareto_mask(c, a))
