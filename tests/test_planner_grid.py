"""The grid with selection rules: one-trial rows once, deployable rules below coverage, early
stopping cheaper at the same accuracy, and the best deployable answer free of every oracle."""

from __future__ import annotations

import numpy as np
import pytest

from kinetics_cli.catalog import load_catalog
from kinetics_cli.planner.plan import configuration, make_plan
from kinetics_cli.planner.setup import Setup, build_setup, grid_options


@pytest.fixture(scope="module")
def setup() -> Setup:
    # priors only (aime24 would use the bundled measurements, which carry no answers to vote on)
    return build_setup(
        task="aime25",
        catalog=load_catalog(),
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(
            attention=["dense,topk,block-topk"],
            kv_budgets=[512],
            gen_limits=[8192, 32768],
            trials=[1, 4, 16],
            selection=["coverage,majority,early-stop"],
        ),
    )


def rows(setup: Setup) -> dict[tuple[int, float, float, str], int]:
    g = setup.grid
    return {(int(g.setting[i]), g.trials[i], g.gen_len[i], g.rule(i)): i for i in range(len(g))}


def test_one_trial_rows_appear_once(setup: Setup) -> None:
    g = setup.grid
    one = g.trials == 1
    assert {g.rule(i) for i in np.flatnonzero(one)} == {"single"}
    # 3 settings x 2 limits one-trial rows; 3 rules x 3 settings x 2 limits x 2 trial counts
    assert int(one.sum()) == 3 * 2 and len(g) == 3 * 2 + 3 * 3 * 2 * 2


def test_rules_against_each_other(setup: Setup) -> None:
    g = setup.grid
    index = rows(setup)
    intensity = setup.pricing.intensity
    for (k, n, limit, rule), i in index.items():
        if rule != "coverage":
            continue
        maj = index[(k, n, limit, "majority")]
        stop = index[(k, n, limit, "early-stop")]
        assert g.accuracy[maj] <= g.accuracy[i] + 1e-12
        assert g.accuracy[stop] == pytest.approx(g.accuracy[maj])
        # the same trials cost the same; early stopping draws fewer, so costs less
        assert g.eflops(intensity)[maj] == pytest.approx(g.eflops(intensity)[i])
        assert g.samples[stop] < n and g.eflops(intensity)[stop] < g.eflops(intensity)[maj]


def test_best_deployable_uses_no_oracle(setup: Setup) -> None:
    for budget in (1e14, 1e15, 1e16, 1e17):
        answer = make_plan(setup.grid, budget, pricing=setup.pricing)
        if answer.best_deployable is None:
            continue
        doc = configuration(setup.grid, answer.best_deployable, setup.pricing)
        assert doc["oracle"] is False and doc["attention"] != "topk"
        assert doc["selection"] in ("single", "majority", "early-stop")
        assert answer.best is not None
        assert doc["accuracy"] <= setup.grid.accuracy[answer.best] + 1e-12


@pytest.mark.parametrize(
    "rules", [("coverage",), ("majority", "coverage", "early-stop"), ("verifier", "coverage")]
)
def test_settings_costed_together_as_one_by_one(setup: Setup, rules: tuple[str, ...]) -> None:
    """Settings of one model and attention are costed in one stacked engine call, and every
    setting's configurations gathered into the grid's arrays with the others' in one boolean
    index per field; every column equals the grid of each setting evaluated alone, bit for
    bit."""
    from kinetics_cli.accuracy.base import Setting
    from kinetics_cli.accuracy.selection import Verifier
    from kinetics_cli.planner.grid import Grid, Selection, evaluate_grid

    card = setup.cards["qwen3-8b"]
    settings = [s for s in setup.source.settings() if s.model == "qwen3-8b"]
    settings = [s for s in settings if s.attention == "dense"][:1] + [
        s for s in settings if s.attention == "topk"
    ][:4]
    assert len({s.kv_budget for s in settings}) == len(settings) > 2
    selection = Selection(rules, Verifier(0.9, 0.05, "qwen3-8b"), card)

    def grid(chosen: list[Setting]) -> Grid:
        return evaluate_grid(
            setup.source,
            {"qwen3-8b": card},
            chosen,
            setup.profile,
            trials=[1, 4, 16],
            limits=[4096, 8192, 32768],
            selection=selection,
        )

    together = grid(settings)
    alone = [grid([s]) for s in settings]
    from kinetics_cli.planner.grid import _ARRAYS

    # every per-configuration field (settings are indices, which restart in each alone grid)
    for name in (*(a for a in _ARRAYS if a != "setting"), "replicates"):
        expected = np.concatenate([getattr(g, name) for g in alone])
        np.testing.assert_array_equal(getattr(together, name), expected, err_msg=name)
        assert getattr(together, name).dtype == expected.dtype
    expected_setting = np.concatenate([np.full(len(g), k) for k, g in enumerate(alone)])
    np.testing.assert_array_equal(together.setting, expected_setting)


def test_batches_of_blocks_as_one_block_at_a_time(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grid's arrays gathered a batch of variants at a time equal them gathered one variant
    at a time (a batch of one block), bit for bit."""
    from dataclasses import fields

    from kinetics_cli.planner import grid as grid_module
    from kinetics_cli.planner.grid import Selection, evaluate_grid

    def grid() -> grid_module.Grid:
        return evaluate_grid(
            setup.source,
            setup.cards,
            list(setup.grid.settings),
            setup.profile,
            trials=[1, 4, 16],
            limits=[1024, 8192, 32768],
            selection=Selection(("coverage", "majority", "early-stop")),
        )

    batched = grid()
    monkeypatch.setattr(grid_module, "_BATCH_VALUES", 1)
    alone = grid()
    for f in fields(batched):
        if f.name.startswith("_"):
            continue
        a, b = getattr(batched, f.name), getattr(alone, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f.name)
            assert a.dtype == b.dtype, f.name
        else:
            assert a == b, f.name


def test_derived_arrays_are_computed_once_read_only_and_per_grid(setup: Setup) -> None:
    """Grid.eflops and Grid.levels: the law's sum and plan.accuracy_levels, made once per grid
    (plan and frontier share them), read-only; a subset or a replaced grid derives its own."""
    from dataclasses import replace

    from kinetics_cli.planner.plan import accuracy_levels

    g = setup.grid
    i = 281.25
    first = g.eflops(i)
    assert g.eflops(i) is first and not first.flags.writeable
    assert np.array_equal(first, g.compute_flops + i * g.memory_bytes)
    assert np.array_equal(g.levels(1e-3), accuracy_levels(g.accuracy, 1e-3))
    assert np.array_equal(g.levels(0.0), g.accuracy)
    assert g.accuracy.flags.writeable  # a read-only view, not the field itself
    keep = g.trials == 1
    assert np.array_equal(g.subset(keep).eflops(i), first[keep])
    doubled = replace(g, memory_bytes=2 * g.memory_bytes)
    assert np.array_equal(doubled.eflops(i), g.compute_flops + i * 2 * g.memory_bytes)


def _verifier_grid(generator: str, verifier: str, limits: list[int]) -> Setup:
    return build_setup(
        task="aime25",
        catalog=load_catalog(),
        hardware="b200",
        models=[generator],
        options=grid_options(
            selection=["coverage,verifier"],
            trials=[1, 4, 16],
            gen_limits=limits,
            attention=["dense"],
            verifier_recall=0.9,
            verifier_precision=0.8,
            verifier_model=verifier,
        ),
    )


def test_verifier_rule_left_out_beyond_the_verifiers_context_window() -> None:
    """The verifier prefills each candidate whole: deepseek-r1-distill-qwen-7b (131,072-token
    window) generates at L 64K, but a qwen3-8b verifier (40,960) cannot read 160 + 65,536 tokens,
    so the verifier rule's configurations there (N 4 and 16) are left out and counted; at L 32K
    (160 + 32,768 = 32,928 <= 40,960) they stay, and coverage keeps both limits."""
    from kinetics_cli.planner.grid import BeyondWindow

    g = _verifier_grid("deepseek-r1-distill-qwen-7b", "qwen3-8b", [32768, 65536]).grid
    by_rule: dict[str, set[tuple[float, float]]] = {}
    for i in range(len(g)):
        by_rule.setdefault(g.rule(i), set()).add((g.trials[i], g.gen_len[i]))
    assert by_rule["verifier"] == {(4, 32768), (16, 32768)}
    assert by_rule["coverage"] == {(n, lim) for n in (4, 16) for lim in (32768, 65536)}
    assert by_rule["single"] == {(1, 32768), (1, 65536)}
    assert g.beyond_context == ()  # the generating model's own window holds both
    assert g.left_out == (BeyondWindow("verifier", "qwen3-8b", 40960, 65536.0, 2),)
    assert "beyond the verifier qwen3-8b's context window of 40,960" in g.left_out[0].reason
    # a verifier with a longer window (qwen3-next-80b-a3b: 262,144) scores both limits
    wide = _verifier_grid("deepseek-r1-distill-qwen-7b", "qwen3-next-80b-a3b", [32768, 65536])
    assert wide.grid.left_out == () and wide.warnings == ()
    assert int(np.sum(wide.grid.selection == wide.grid.rules.index("verifier"))) == 4


def test_generation_beyond_the_models_window_is_counted_per_rule() -> None:
    """qwen3-8b (40,960) cannot generate 160 + 65,536 tokens: at L 64K every configuration goes,
    N = 1 once and N 4, 16 under each of the two rules, 1 + 2 x 2 = 5, counted as the generating
    model's (the verifier's window, the same 40,960, is not counted twice)."""
    from kinetics_cli.planner.grid import BeyondWindow

    setup = _verifier_grid("qwen3-8b", "qwen3-8b", [32768, 65536])
    assert set(setup.grid.gen_len) == {32768}
    assert setup.grid.left_out == (BeyondWindow("generation", "qwen3-8b", 40960, 65536.0, 5),)
