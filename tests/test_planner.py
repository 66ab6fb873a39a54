"""The planner's grid and budget answers: golden costs, kept facts, both laws, three units."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_planner_fakes import FakeSource

from kinetics_cli.accuracy.base import Setting
from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.kinetics import expected_problem_cost
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import (
    DEFAULT_LIMITS,
    DEFAULT_TRIALS,
    Grid,
    evaluate_grid,
    select_settings,
    trials_for,
)
from kinetics_cli.planner.pareto import pareto_mask
from kinetics_cli.planner.plan import (
    Pricing,
    _paired_ties,
    accuracy_levels,
    configuration,
    costs,
    make_plan,
)
from kinetics_cli.specs import HardwareProfile

LIMITS = (1024, 2048, 4096, 8192, 16384, 32768)
TRIALS = (1, 2, 4, 8, 16, 64)


@pytest.fixture(scope="module")
def bundled():  # type: ignore[no-untyped-def]
    return load_catalog()


@pytest.fixture(scope="module")
def b200(bundled) -> HardwareProfile:  # type: ignore[no-untyped-def]
    return bundled.hardware.get("b200").spec


def _grid(bundled, hardware, source=None, **select) -> Grid:  # type: ignore[no-untyped-def]
    source = source or FakeSource()
    chosen = select_settings(source, **select)
    cards = {s.model: bundled.models.get(s.model).spec for s in chosen}
    return evaluate_grid(source, cards, chosen, hardware, trials=TRIALS, limits=LIMITS)


@pytest.fixture(scope="module")
def grid(bundled, b200) -> Grid:  # type: ignore[no-untyped-def]
    return _grid(bundled, b200)


@pytest.fixture(scope="module")
def pricing(b200) -> Pricing:  # type: ignore[no-untyped-def]
    return Pricing(b200.intensity, b200.price_per_gpu_hour, b200.name)


# ---- the grid ------------------------------------------------------------------------------


# The fake priors' 2,048-token budget holds the 200-token prompt and a 1,024-token generation
# whole: at that limit those 3 models x 2 sparse kinds are the dense configuration, left out.
COVERED = 3 * 2 * 1


def test_grid_covers_every_setting_trial_and_limit(grid: Grid) -> None:
    # 3 models x (dense + 2 sparse kinds x 2 budgets) = 15 settings, 6 trial counts, 6 limits,
    # less the (setting, limit) pairs whose budget covers the whole context, at every N
    assert len(grid.settings) == 15
    assert len(grid) == 15 * 6 * 6 - COVERED * 6
    assert np.all((grid.accuracy >= 0) & (grid.accuracy <= 1))


def test_a_priors_budget_covering_the_whole_context_is_left_to_dense(bundled, b200) -> None:  # type: ignore[no-untyped-def]
    """A prior's sparse setting at a limit its budget holds whole (prompt + limit <= budget) is
    dense attention: left out, as the dense setting is in the grid. Measured or evaluated
    sparse settings keep every limit (what was run is data, whatever its budget)."""
    priors = _grid(bundled, b200, FakeSource())
    k = priors.settings.index(Setting("qwen3-8b", "topk", 2048.0))
    assert sorted(set(priors.gen_len[priors.setting == k].tolist())) == list(LIMITS[1:])
    k = priors.settings.index(Setting("qwen3-8b", "topk", 512.0))  # 512 < 200 + 1,024
    assert sorted(set(priors.gen_len[priors.setting == k].tolist())) == list(LIMITS)
    evals = _grid(bundled, b200, FakeSource(kind="evaluations"))
    k = evals.settings.index(Setting("qwen3-8b", "topk", 2048.0))
    assert 1024.0 in evals.gen_len[evals.setting == k]


def test_one_accuracy_query_per_setting(bundled, b200) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource()
    _grid(bundled, b200, source)
    assert len(source.calls) == len(source.settings())


def test_cost_is_the_weighted_mean_over_generated_lengths(grid: Grid, bundled) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource()
    setting = Setting("qwen3-8b", "block-topk", 512.0)
    k = grid.settings.index(setting)
    i = int(np.flatnonzero((grid.setting == k) & (grid.trials == 4) & (grid.gen_len == 8192))[0])
    out = source.outcome(setting, np.array([4.0]), np.array([8192.0]))
    card = bundled.models.get("qwen3-8b").spec
    expected = expected_problem_cost(
        card,
        out.prompt_len,
        out.gen_lengths[0],
        4,
        "block-topk",
        512.0,
        16,
        weights=out.gen_weights[0],
    )
    assert grid.compute_flops[i] == pytest.approx(float(expected.compute_flops), rel=1e-12)
    assert grid.memory_bytes[i] == pytest.approx(float(expected.memory_bytes), rel=1e-12)
    assert grid.accuracy[i] == pytest.approx(float(out.accuracy[0, 0]))


def test_flops_law_seconds_drop_the_memory_terms(grid: Grid, b200: HardwareProfile) -> None:
    # Uncalibrated profile: seconds = FLOPs / peak + bytes / bandwidth; compute_seconds = FLOPs / peak.
    np.testing.assert_allclose(grid.compute_seconds, grid.compute_flops / b200.peak("bf16"))
    np.testing.assert_allclose(
        grid.seconds,
        grid.compute_flops / b200.peak("bf16") + grid.memory_bytes / b200.hbm_bandwidth,
    )


def test_strategies_select_trial_counts() -> None:
    assert trials_for(["long-cot"], DEFAULT_TRIALS).tolist() == [1]
    assert trials_for(["best-of-n"], DEFAULT_TRIALS).tolist() == [2, 4, 8, 16, 32, 64]
    assert trials_for(["long-cot", "best-of-n"], [1, 8]).tolist() == [1, 8]
    with pytest.raises(InputError):
        trials_for(["best-of-n"], [1])
    with pytest.raises(InputError):
        trials_for(["beam"], DEFAULT_TRIALS)


def test_unsampled_trial_counts_are_left_out(bundled, b200) -> None:  # type: ignore[no-untyped-def]
    g = _grid(bundled, b200, FakeSource(max_trials=8))
    assert g.trials.max() == 8
    assert len(g) == 15 * 4 * 6 - COVERED * 4


def test_select_settings(bundled) -> None:  # type: ignore[no-untyped-def]
    source = FakeSource()
    dense = select_settings(source, attentions=["dense"])
    assert [s.model for s in dense] == ["qwen3-0.6b", "qwen3-8b", "qwen3-32b"]
    # priors are parametric: requested budgets replace the source's
    chosen = select_settings(source, models=["qwen3-8b"], kv_budgets=[256, 1024])
    assert {s.kv_budget for s in chosen if s.attention != "dense"} == {256.0, 1024.0}
    # evaluations are not: requested budgets filter what was run
    evals = FakeSource(kind="evaluations")
    chosen = select_settings(evals, models=["qwen3-8b"], kv_budgets=[512, 1024])
    assert {s.kv_budget for s in chosen if s.attention != "dense"} == {512.0}
    with pytest.raises(InputError, match="no accuracy data for model 'qwen3-4b'"):
        select_settings(source, models=["qwen3-4b"])
    with pytest.raises(InputError, match="unknown attention"):
        select_settings(source, attentions=["sliding"])
    with pytest.raises(InputError, match="covers no model"):
        select_settings(source, available_models=lambda name: False)


# ---- the budget answer ---------------------------------------------------------------------

# Uniform in log10: the decades where the budget binds (2e13 to 1.5e17 on the fake grid) are drawn
# as often as the ones above every configuration's cost.
budgets = st.floats(12.0, 20.0).map(lambda e: float(10.0**e))


@settings(max_examples=60, deadline=None)
@given(budget=budgets, law=st.sampled_from(["kinetics", "flops"]))
def test_the_pick_never_costs_more_than_the_budget(
    grid: Grid, pricing: Pricing, budget: float, law: str
) -> None:
    for unit, scale in (("eflops", 1.0), ("seconds", 1e-15), ("usd", 1e-15)):
        answer = make_plan(grid, budget * scale, unit=unit, law=law, pricing=pricing)
        cost = costs(grid, law, unit, pricing)
        if answer.best is None:
            assert cost.min() > budget * scale
            continue
        assert cost[answer.best] <= budget * scale
        fits = cost <= budget * scale
        levels = accuracy_levels(grid.accuracy)  # compared at 0.1 percentage point
        assert levels[answer.best] == levels[fits].max()
        assert cost[answer.best] == cost[fits & (levels == levels[answer.best])].min()
        for i in answer.alternatives:
            assert cost[i] <= budget * scale
            assert levels[i] <= levels[answer.best]
        # the law's own pick is on that law's frontier
        assert pareto_mask(cost, levels)[answer.best]


@settings(max_examples=30, deadline=None)
@given(budget=budgets)
def test_more_options_never_lower_the_best_accuracy(
    grid: Grid, pricing: Pricing, budget: float
) -> None:
    def best(mask: np.ndarray) -> float:
        # exact comparison (resolution 0) and at the default 0.1-point resolution
        sub = grid.subset(mask)
        exact = make_plan(sub, budget, pricing=pricing, resolution=0.0)
        rounded = make_plan(sub, budget, pricing=pricing)
        # the most accurate within budget (the pick may be a cheaper statistical tie of it)
        if exact.most_accurate is None:
            assert rounded.most_accurate is None and rounded.best is None
            return -1.0
        assert rounded.most_accurate is not None
        assert (
            accuracy_levels(sub.accuracy[[rounded.most_accurate]])[0]
            == accuracy_levels(sub.accuracy[[exact.most_accurate]])[0]
        )
        return float(sub.accuracy[exact.most_accurate])

    attention = np.array([grid.settings[k].attention for k in grid.setting])
    model = np.array([grid.settings[k].model for k in grid.setting])
    everything = best(np.ones(len(grid), dtype=bool))
    dense = best(attention == "dense")
    one_model = best((model == "qwen3-8b") & (attention == "dense"))
    long_cot = best((grid.trials == 1) & (attention == "dense"))
    assert everything >= dense >= one_model
    assert dense >= long_cot


def test_flops_law_pick_and_cost_ratio(grid: Grid, pricing: Pricing) -> None:
    answer = make_plan(grid, 1e16, pricing=pricing)
    f, k = answer.picks["flops"], answer.picks["kinetics"]
    assert f is not None and k is not None and answer.best == k
    assert answer.flops_cost[f] <= 1e16  # within the budget counted as FLOPs
    assert answer.true_cost[f] >= answer.flops_cost[f]  # the bytes only add
    assert answer.equal_accuracy is not None
    levels = accuracy_levels(grid.accuracy)
    assert levels[answer.equal_accuracy] >= levels[f]
    assert answer.cost_ratio is not None and answer.cost_ratio >= 1.0
    assert answer.cost_ratio == pytest.approx(
        answer.true_cost[f] / answer.true_cost[answer.equal_accuracy]
    )
    assert answer.flops_pick_over_budget == bool(answer.true_cost[f] > 1e16)


def test_laws_agree_when_bytes_are_free(grid: Grid) -> None:
    free = Pricing(intensity=0.0)
    answer = make_plan(grid, 1e16, pricing=free)
    assert answer.picks["kinetics"] == answer.picks["flops"]
    assert answer.cost_ratio == pytest.approx(1.0)


def test_alternatives_are_the_best_of_other_models_and_attention(
    grid: Grid, pricing: Pricing
) -> None:
    answer = make_plan(grid, 1e17, pricing=pricing, top=4)
    assert answer.best is not None and len(answer.alternatives) == 4
    groups, _ = grid.group_labels()
    seen = [groups[answer.best], *(groups[i] for i in answer.alternatives)]
    assert len(set(seen)) == len(seen)
    levels = accuracy_levels(grid.accuracy)
    acc = [levels[i] for i in answer.alternatives]
    assert acc == sorted(acc, reverse=True)
    assert make_plan(grid, 1e17, pricing=pricing, top=0).alternatives == ()


def test_alternatives_by_slabs_are_the_one_pass_answer(
    grid: Grid, pricing: Pricing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """alternatives cuts the grid into slabs: slabs of 7 configurations (cutting settings' runs
    anywhere) give the same alternatives as one slab, at every budget and group count asked."""
    from kinetics_cli.planner import plan

    cost = grid.law_eflops("kinetics", pricing.intensity)
    levels = accuracy_levels(grid.accuracy)
    compared = 0
    for budget in (1e14, 1e15, 1e16, 1e17, 1e19):
        best = plan.best_within(cost, levels, budget)
        if best is None:
            continue
        for top in (1, 3, 20):
            whole = plan.alternatives(grid, cost, budget, int(best), top, levels)
            monkeypatch.setattr(plan, "_SLAB", 7)
            sliced = plan.alternatives(grid, cost, budget, int(best), top, levels)
            monkeypatch.undo()
            assert sliced == whole
            compared += len(whole)
    assert compared > 10


def test_nothing_fits(grid: Grid, pricing: Pricing) -> None:
    answer = make_plan(grid, 1.0, pricing=pricing)
    assert answer.best is None and answer.alternatives == ()
    assert answer.cheapest == int(np.argmin(answer.law_cost))
    assert answer.cost_ratio is None


def test_bad_budgets_and_prices(grid: Grid) -> None:
    with pytest.raises(InputError, match="positive"):
        make_plan(grid, 0.0, pricing=Pricing(100.0))
    with pytest.raises(InputError, match="no price_per_gpu_hour"):
        make_plan(grid, 1.0, unit="usd", pricing=Pricing(100.0, None, "tiny"))
    with pytest.raises(InputError, match="unknown law"):
        make_plan(grid, 1.0, law="bytes", pricing=Pricing(100.0))


def test_usd_is_seconds_times_price(grid: Grid, pricing: Pricing) -> None:
    assert pricing.usd_per_hour is not None
    usd = costs(grid, "kinetics", "usd", pricing)
    np.testing.assert_allclose(usd, grid.seconds * pricing.usd_per_hour / 3600 * 1000)


def test_configuration_document(grid: Grid, pricing: Pricing) -> None:
    answer = make_plan(grid, 1e17, pricing=pricing)
    assert answer.best is not None
    doc = configuration(grid, answer.best, pricing)
    assert set(doc) >= {
        "model",
        "strategy",
        "trials",
        "gen_len",
        "attention",
        "kv_budget",
        "accuracy",
        "eflops",
        "seconds",
    }
    assert 0 <= doc["accuracy"] <= 1  # type: ignore[operator]
    assert doc["strategy"] == ("long-cot" if doc["trials"] == 1 else "best-of-n")
    assert doc["eflops"] == pytest.approx(float(answer.true_cost[answer.best]))
    assert isinstance(doc["gen_len"], int) and doc["gen_len"] in LIMITS


def test_accuracy_levels_are_monotone() -> None:
    acc = np.array([0.1, 0.10049, 0.1005, 0.1006, 0.5, 0.9999, 1.0])
    levels = accuracy_levels(acc)
    assert np.all(np.diff(levels) >= 0)
    assert levels[0] == levels[1] == 100 and levels[3] == 101
    np.testing.assert_array_equal(accuracy_levels(acc, 0.0), acc)


def test_default_grid_sizes() -> None:
    assert DEFAULT_LIMITS[0] == 1024 and DEFAULT_LIMITS[-1] == 32768
    assert DEFAULT_TRIALS == (1, 2, 4, 8, 16, 32, 64)


@settings(max_examples=40, deadline=None)
@given(budget=budgets, law=st.sampled_from(["kinetics", "flops"]))
def test_best_without_oracle_top_k(grid: Grid, pricing: Pricing, budget: float, law: str) -> None:
    """The best configuration that does not use oracle top-k: `best` itself when that is not
    top-k, else the most accurate non-top-k configuration within the budget (or None)."""
    answer = make_plan(grid, budget, law=law, pricing=pricing)
    d = answer.best_without_oracle
    if answer.best is None or grid.attention(answer.best) != "topk":
        assert d == answer.best
        return
    cost = costs(grid, law, "eflops", pricing)
    levels = accuracy_levels(grid.accuracy)
    plain = np.array([grid.attention(i) != "topk" for i in range(len(grid))])
    fits = plain & (cost <= budget)
    if not fits.any():
        assert d is None
        return
    assert d is not None and plain[d] and cost[d] <= budget
    assert levels[d] == levels[fits].max() <= levels[answer.best]


def test_oracle_top_k_wins_somewhere_and_block_top_k_answers_then(grid: Grid, pricing: Pricing):  # type: ignore[no-untyped-def]
    """Not vacuous: on the fake grid oracle top-k is the best at some budgets."""
    swapped = 0
    for budget in 10.0 ** np.arange(13.0, 18.01, 0.5):
        answer = make_plan(grid, budget, pricing=pricing)
        if answer.best is not None and grid.attention(answer.best) == "topk":
            assert answer.best_without_oracle is not None
            swapped += 1
    assert swapped >= 3


@settings(max_examples=200, deadline=None)
@given(
    replicates=st.integers(5, 260),
    rows=st.integers(1, 12),
    spread=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_paired_ties_match_quantile_bounds(
    replicates: int, rows: int, spread: int, seed: int
) -> None:
    """The counting shortcut decides each row as np.quantile's interval of the differences
    would (replicates on a 1/30 lattice, as 30 problems give, so many differences are 0)."""
    rng = np.random.default_rng(seed)
    reference = (rng.integers(0, 31, size=replicates) / 30).astype(np.float32)
    steps = rng.integers(-spread, spread + 1, size=(rows, replicates)) / 30
    others = (reference[None, :] + steps).astype(np.float32)
    tail = 0.025
    low, high = np.quantile(reference[None, :] - others, [tail, 1.0 - tail], axis=1)
    assert np.array_equal(_paired_ties(reference, others, tail), (low <= 0.0) & (high >= 0.0))


def test_configurations_are_each_configuration(grid: Grid, pricing: Pricing) -> None:
    """The column-built list equals one `configuration` call per configuration, types included."""
    from kinetics_cli.planner.plan import configurations

    docs = configurations(grid, pricing)
    assert len(docs) == len(grid)
    for i in range(0, len(grid), 7):
        one = configuration(grid, i, pricing)
        assert docs[i] == one
        assert [type(v) for v in docs[i].values()] == [type(v) for v in one.values()]


def _ties_by_definition(grid: Grid, cost: np.ndarray, levels: np.ndarray, budget: float):  # type: ignore[no-untyped-def]
    """cheapest_tie's rule applied literally: every configuration within budget tested against
    the most accurate one, then against every source's REFERENCES_PER_SOURCE strongest."""
    from kinetics_cli.planner.pareto import best_within
    from kinetics_cli.planner.plan import REFERENCES_PER_SOURCE, indistinguishable, pairing_codes

    top = best_within(cost, levels, budget)
    if top is None:
        return None, None, ()
    fits = np.flatnonzero((cost <= budget) & np.isfinite(grid.accuracy))
    others = fits[fits != top]
    group = np.append(others[indistinguishable(grid, top, others, levels)], top)
    codes = pairing_codes(grid)
    keep = np.ones(group.size, dtype=bool)
    for key in [None] if codes is None else np.unique(codes[fits]):
        members = fits if key is None else fits[codes[fits] == key]
        order = members[np.lexsort((members, cost[members], -levels[members]))]
        for ref in order[:REFERENCES_PER_SOURCE]:
            below = levels[group] < levels[ref]
            apart = ~indistinguishable(grid, ref, group[below], levels)
            keep[np.flatnonzero(below)[apart]] = False
    keep[group == top] = True
    group = np.union1d(group[keep], fits[levels[fits] >= levels[group[keep]].min()])
    chosen = int(group[np.lexsort((group, -levels[group], cost[group]))[0]])
    rest = group[group != chosen]
    rest = rest[np.lexsort((rest, cost[rest], -levels[rest]))]
    return chosen, top, tuple(int(k) for k in rest)


def _random_tie_grid(size: int, sources: int, replicates: int, intervals: str, seed: int):  # type: ignore[no-untyped-def]
    """A grid of `size` configurations for the tie rule: accuracies on a 1/30 lattice, intervals
    (none, on some, on all) and bootstrap replicates around them, two pairing keys, costs 1-19."""
    rng = np.random.default_rng(seed)
    accuracy = rng.integers(0, 31, size=size) / 30
    lo = np.clip(accuracy - rng.integers(0, 4, size=size) / 30, 0, 1)
    hi = np.clip(accuracy + rng.integers(0, 4, size=size) / 30, 0, 1)
    if intervals == "some":
        missing = rng.random(size) < 0.4
        lo[missing], hi[missing] = np.nan, np.nan
    reps = np.zeros((size, 0))
    if replicates:
        steps = rng.integers(-2, 3, size=(size, replicates)) / 30
        reps = np.clip(accuracy[:, None] + steps, 0, 1).astype(np.float32)
        reps[rng.random(size) < 0.2] = np.nan
    flops = np.zeros(size)
    grid = Grid(
        settings=tuple(Setting(f"m{k}", "dense", None) for k in range(sources)),
        params=(1.0,) * sources,
        setting=rng.integers(0, sources, size=size),
        trials=np.ones(size),
        gen_len=np.ones(size),
        accuracy=accuracy,
        compute_flops=flops,
        memory_bytes=flops,
        seconds=flops,
        compute_seconds=flops,
        accuracy_lo=lo if intervals != "none" else np.zeros(0),
        accuracy_hi=hi if intervals != "none" else np.zeros(0),
        replicates=reps,
        pairings=tuple(f"key{k % 2}" for k in range(sources)),
    )
    return grid, rng.integers(1, 20, size=size).astype(float), float(rng.integers(1, 20))


TIE_GRIDS = {
    "size": st.integers(1, 60),
    "sources": st.integers(1, 4),
    "replicates": st.sampled_from([0, 9]),
    "intervals": st.sampled_from(["none", "some", "all"]),
    "seed": st.integers(0, 2**32 - 1),
}


@settings(max_examples=150, deadline=None)
@given(**TIE_GRIDS)
def test_could_tie_holds_every_tie(
    size: int, sources: int, replicates: int, intervals: str, seed: int
) -> None:
    """could_tie is a superset of indistinguishable: the exact tests may skip what it rules out."""
    from kinetics_cli.planner.plan import (
        IntervalReach,
        ReplicateSummary,
        could_tie,
        indistinguishable,
    )

    grid, _, _ = _random_tie_grid(size, sources, replicates, intervals, seed)
    levels = accuracy_levels(grid.accuracy)
    everything = np.arange(size)
    summary = ReplicateSummary.of(grid, everything)
    reach = IntervalReach.of(grid)
    for i in range(size):
        ties = indistinguishable(grid, i, everything, levels)
        assert not (ties & ~could_tie(grid, i, levels, summary, reach)).any()


@settings(max_examples=150, deadline=None)
@given(**TIE_GRIDS)
def test_cheapest_tie_tests_only_what_could_tie(
    size: int, sources: int, replicates: int, intervals: str, seed: int
) -> None:
    """Filtering the candidates first (could_tie) and the references by level changes nothing:
    the same pick, most accurate and ties as testing everything within budget (accuracies on a
    1/30 lattice and 0.1-point levels, so ties and equal levels are common)."""
    from kinetics_cli.planner.plan import cheapest_tie

    grid, cost, budget = _random_tie_grid(size, sources, replicates, intervals, seed)
    levels = accuracy_levels(grid.accuracy)
    assert cheapest_tie(grid, cost, levels, budget)[:3] == _ties_by_definition(
        grid, cost, levels, budget
    )
