"""Deployable costs of the planner grid (planner/deploy.py): equal to the serving model's
problem_costs configuration by configuration, on the smallest replica that holds each, with the
configurations no replica holds dropped and counted."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.catalog import Catalog, load_catalog
from kinetics_cli.engine import serving
from kinetics_cli.engine.serving import Deployment, memory_plan, problem_costs
from kinetics_cli.errors import InputError
from kinetics_cli.planner.deploy import (
    DeployOptions,
    OutcomeLog,
    compare_hardware,
    expected_longest_grid,
    law_grid_on,
    price_grid,
    price_verifier,
)
from kinetics_cli.planner.grid import evaluate_grid
from kinetics_cli.planner.plan import Pricing, make_plan
from kinetics_cli.planner.setup import build_setup
from tests.test_planner_fakes import FakeSource

# One model of each architecture the serving model distinguishes: dense GQA, MoE, sliding
# windows with MXFP4 experts, linear attention.
MODELS = {
    "qwen3-8b": (0.55, 7000.0),
    "qwen3-30b-a3b": (0.7, 8000.0),
    "gpt-oss-20b": (0.6, 6000.0),
    "qwen3-next-80b-a3b": (0.75, 9000.0),
}
TRIALS = np.array([1.0, 4.0, 32.0])
LIMITS = np.array([2048.0, 16384.0, 32768.0])


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def priced(catalog: Catalog, hardware: str, options: DeployOptions | None = None):  # type: ignore[no-untyped-def]
    source = FakeSource(models=dict(MODELS))
    settings = source.settings()
    cards = {s.model: catalog.models.get(s.model).spec for s in settings}
    profile = catalog.hardware.get(hardware).spec
    log = OutcomeLog()
    grid = evaluate_grid(
        source,  # type: ignore[arg-type]
        cards,
        settings,
        profile,
        trials=TRIALS,
        limits=LIMITS,
        on_outcome=log,
    )
    (costs,) = price_grid(
        log,
        grid.setting,
        grid.trials,
        grid.gen_len,
        settings,
        cards,
        [profile],
        options or DeployOptions(),
    )
    return grid, costs, log, cards, profile


def library_costs(grid, costs, log, cards, profile, i, efficiency="default"):  # type: ignore[no-untyped-def]
    """serving.problem_costs for configuration i, on the planner's deployment and batch."""
    s = grid.settings[int(grid.setting[i])]
    outcome = log.outcomes[int(grid.setting[i])]
    row = int(np.searchsorted(log.limits, grid.gen_len[i]))
    return problem_costs(
        cards[s.model],
        profile,
        costs.deployment(i),
        prompt_len=outcome.prompt_len,
        gen_lens=outcome.gen_lengths[row],
        gen_weights=outcome.gen_weights[row],
        trials=float(grid.trials[i]),
        problems=float(costs.batch[i]),
        attention=s.attention,
        kv_budget=s.kv_budget,
        efficiency=efficiency,
    )


@pytest.mark.parametrize("hardware", ["b200", "h100-sxm"])
def test_every_configuration_equals_problem_costs(catalog: Catalog, hardware: str) -> None:
    grid, costs, log, cards, profile = priced(catalog, hardware)
    assert costs.fits.any()
    for i in np.flatnonzero(costs.fits):
        lib = library_costs(grid, costs, log, cards, profile, i)
        assert bool(lib.fits)  # the batch the planner chose fits the memory plan
        assert float(lib.memory.max_problems) == costs.batch[i]  # and is the most that fit
        np.testing.assert_allclose(costs.gpu_seconds[i], lib.gpu_seconds_per_problem, rtol=1e-9)
        np.testing.assert_allclose(costs.latency_s[i], lib.wall_seconds, rtol=1e-9)
        np.testing.assert_allclose(costs.tpot_s[i], lib.tpot_seconds, rtol=1e-9)
        assert lib.usd_per_problem is not None and lib.energy_joules is not None
        np.testing.assert_allclose(costs.usd_per_1000[i], 1000 * lib.usd_per_problem, rtol=1e-9)
        np.testing.assert_allclose(costs.joules[i], lib.energy_joules, rtol=1e-9)


def test_attention_dp_spreads_a_problems_trials_over_the_ranks(catalog: Catalog) -> None:
    """Under attention data-parallel (ep = tp) each trial lives whole on one rank, but a
    problem's trials may sit on different ranks, each keeping a copy of the prompt: the replica
    holds serving.whole_problems of its room, as serve's memory plan counts, at most the
    floor(free / per-GPU share of a problem) one prompt a problem would give, and none unless
    one whole trial fits a rank's room; a problem larger than one rank is not dropped for that.
    A problem of one trial is one sequence, whole on one rank: tp x floor(free / (tp x share))."""
    grid, costs, log, cards, profile = priced(catalog, "h100-sxm", DeployOptions(max_batch=None))
    dp = np.flatnonzero(costs.fits & (costs.ep > 1))
    assert dp.size
    seen_one = False
    for i in dp:
        m = library_costs(grid, costs, log, cards, profile, i).memory
        tp = int(costs.tp[i])
        problem = float(np.max(m.problem_bytes))
        sequence = float(np.max(m.kv_bytes_per_sequence))
        if grid.trials[i] == 1:
            assert costs.batch[i] == tp * (m.kv_capacity_bytes // (tp * sequence))
            seen_one = True
        else:
            assert costs.batch[i] == float(m.max_problems)
            assert costs.batch[i] <= m.kv_capacity_bytes // problem
        assert tp * sequence <= m.kv_capacity_bytes
    assert seen_one


@pytest.mark.parametrize("hardware, cap", [("h100-sxm", 1024), ("l40s", 256)])
def test_the_default_engine_cap_is_the_accelerators(
    catalog: Catalog, hardware: str, cap: int
) -> None:
    """DeployOptions() caps sequences at vLLM's default for each accelerator (1,024 on 70 GiB
    and up, not A100; else 256), and no configuration holds more problems than that allows."""
    grid, costs, *_ = priced(catalog, hardware)
    assert costs.max_batch == cap
    fits = costs.fits
    assert (costs.batch[fits] * grid.trials[fits] <= cap).all()


def test_the_replica_is_the_smallest_that_holds_one_problem(catalog: Catalog) -> None:
    grid, costs, log, cards, profile = priced(catalog, "h100-sxm")
    assert set(np.unique(costs.tp[costs.fits])) > {1}  # some configurations need TP > 1
    for i in np.flatnonzero(costs.fits & (costs.tp > 1)):
        s = grid.settings[int(grid.setting[i])]
        outcome = log.outcomes[int(grid.setting[i])]
        row = int(np.searchsorted(log.limits, grid.gen_len[i]))
        held = outcome.prompt_len + float(np.max(outcome.gen_lengths[row]))
        smaller = Deployment(tp=int(costs.tp[i]) // 2)
        plan = memory_plan(
            cards[s.model],
            profile,
            smaller,
            context=held,
            prompt_len=outcome.prompt_len,
            trials=float(grid.trials[i]),
            attention=s.attention,
            kv_budget=s.kv_budget,
        )
        assert float(plan.max_problems) < 1  # half the replica holds not even one problem


def test_datasheet_and_tpot_target(catalog: Catalog) -> None:
    grid, default, *_ = priced(catalog, "b200")
    _, datasheet, *_ = priced(catalog, "b200", DeployOptions(efficiency="datasheet"))
    both = default.fits & datasheet.fits
    assert np.all(datasheet.gpu_seconds[both] <= default.gpu_seconds[both])  # 100% of peaks
    target = 0.030
    grid, capped, log, cards, profile = priced(catalog, "b200", DeployOptions(max_tpot=target))
    assert capped.batch_rule == "max-tpot"
    assert np.all(capped.tpot_s[capped.fits] <= target)
    assert np.all(capped.batch[capped.fits] <= default.batch[capped.fits])
    for i in np.flatnonzero(capped.fits)[:: max(1, int(capped.fits.sum()) // 6)]:
        # one more problem in flight would miss the target (or not fit)
        more = replace(capped, batch=capped.batch + 1)
        lib = library_costs(grid, more, log, cards, profile, i)
        assert not bool(lib.fits) or float(lib.tpot_seconds) > target


def test_expected_longest_matches_the_serving_model() -> None:
    rng = np.random.default_rng(3)
    lens = rng.uniform(100, 5000, size=(2, 3, 7))
    probs = rng.uniform(0, 1, size=(2, 3, 7))
    probs /= probs.sum(axis=-1, keepdims=True)
    trials = np.array([1.0, 3.0, 16.0])
    got = expected_longest_grid(lens, probs, trials)
    for s in range(2):
        for n, t in enumerate(trials):
            for g in range(3):
                want = serving.expected_longest(lens[s, g], probs[s, g], t)
                assert got[s, n, g] == pytest.approx(want, rel=1e-12)
    # one trial: the mean; many: towards the longest
    np.testing.assert_allclose(got[:, 0], np.sum(lens * probs, axis=-1))
    assert np.all(got[:, 2] <= lens.max(axis=-1))


def test_235b_is_dropped_on_one_l40s_node(catalog: Catalog) -> None:
    """235B parameters x 2 bytes (bf16) = 470 GB of weights > 8 x 48 GB = 384 GB per node."""
    setup = build_setup(
        task="aime24",
        catalog=catalog,
        hardware="l40s",
        models=["qwen3-235b-a22b", "qwen3-32b"],
        deploy=DeployOptions(),
    )
    deploy = setup.pricing.deploy
    assert deploy is not None
    big = np.array([s.model == "qwen3-235b-a22b" for s in setup.grid.settings])[setup.grid.setting]
    assert not deploy.fits[big].any()
    assert np.all(np.isinf(deploy.usd_per_1000[big]))
    (why,) = [k for k in deploy.dropped if "weights and reserve exceed" in k]
    assert deploy.dropped[why] == int(big.sum())
    answer = make_plan(setup.grid, 5.0, unit="usd", pricing=setup.pricing)
    assert answer.best is not None and setup.grid.model(answer.best) == "qwen3-32b"
    assert deploy.usd_per_1000[answer.best] <= 5.0


def test_the_b200_bug_is_priced_at_a_throughput_the_roofline_allows(catalog: Catalog) -> None:
    """qwen3-30b-a3b best-of-32 at 32K, oracle top-k 512 on B200: the law's 3.82 s per problem
    meant ~117k generated tokens/s; the deployment prices it no faster than the datasheet
    roofline of the batch that fits."""
    setup = build_setup(
        task="aime24",
        catalog=catalog,
        hardware="b200",
        models=["qwen3-30b-a3b"],
        deploy=DeployOptions(),
    )
    grid, deploy = setup.grid, setup.pricing.deploy
    assert deploy is not None
    (i,) = [
        j
        for j in range(len(grid))
        if grid.trials[j] == 32
        and grid.gen_len[j] == 32768
        and grid.attention(j) == "topk"
        and grid.kv_budget(j) == 512
    ]
    assert deploy.fits[i]
    card, b200 = catalog.models.get("qwen3-30b-a3b").spec, catalog.hardware.get("b200").spec
    outcome = setup.source.outcome(
        grid.settings[int(grid.setting[i])], np.array([32.0]), np.array([32768.0])
    )
    mean_len = float(outcome.gen_lengths[0] @ outcome.gen_weights[0])
    tokens_per_gpu_s = 32 * mean_len / deploy.gpu_seconds[i]
    law_tokens_per_s = 32 * mean_len / grid.seconds[i]
    assert law_tokens_per_s > 100e3  # the law's figure the planner used to print
    # the datasheet roofline of one step at the same batch and the mean context, per GPU
    step = serving.decode_step_seconds(
        card,
        b200,
        deploy.deployment(i),
        batch=32 * deploy.batch[i],
        context=outcome.prompt_len + mean_len / 2,
        attention="topk",
        kv_budget=512,
        efficiency="datasheet",
    )
    roofline = 32 * deploy.batch[i] / float(step.seconds) / int(deploy.tp[i])
    assert tokens_per_gpu_s <= roofline
    assert deploy.usd_per_1000[i] > 10 * float(grid.seconds[i]) * 3.75 / 3.6  # >10x the law's $


def test_law_seconds_move_between_uncalibrated_profiles(catalog: Catalog) -> None:
    grid, *_ = priced(catalog, "b200")
    b200, h100 = catalog.hardware.get("b200").spec, catalog.hardware.get("h100-sxm").spec
    source = FakeSource(models=dict(MODELS))
    cards = {s.model: catalog.models.get(s.model).spec for s in source.settings()}
    direct = evaluate_grid(source, cards, source.settings(), h100, trials=TRIALS, limits=LIMITS)  # type: ignore[arg-type]
    moved = law_grid_on(grid, b200, h100)
    np.testing.assert_allclose(moved.seconds, direct.seconds, rtol=1e-9)
    np.testing.assert_allclose(moved.compute_seconds, direct.compute_seconds, rtol=1e-9)


def test_compare_hardware_ranks_and_skips(catalog: Catalog) -> None:
    options = []
    for name in ("b200", "h100-sxm", "a100-80gb-sxm"):
        grid, costs, *_ = priced(catalog, name)
        pricing = Pricing(1.0, costs.price_per_gpu_hour, name, deploy=costs)
        options.append((name, grid, pricing))
    budget = float(np.nanmedian(options[0][2].deploy.usd_per_1000[options[0][2].deploy.fits]))  # type: ignore[union-attr]
    comparison = compare_hardware(options, budget, unit="usd")
    assert comparison.skipped == {"a100-80gb-sxm": "no price_per_gpu_hour in its profile"}
    first, second = comparison.picks
    assert first.accuracy_points == 0 and first.cost_ratio == 1.0
    assert second.accuracy_points <= 0  # the overall best is at least as accurate
    with pytest.raises(InputError, match="deployable budget"):
        compare_hardware(options, 1e16, unit="eflops")


def test_a_profile_without_efficiencies_is_priced_at_datasheet(catalog: Catalog) -> None:
    source = FakeSource(models={"qwen3-8b": MODELS["qwen3-8b"]})
    settings = source.settings()
    cards = {"qwen3-8b": catalog.models.get("qwen3-8b").spec}
    bare = catalog.hardware.get("b200").spec.model_copy(update={"efficiency": None})
    log = OutcomeLog()
    grid = evaluate_grid(
        source, cards, settings, bare, trials=TRIALS, limits=LIMITS, on_outcome=log
    )  # type: ignore[arg-type]
    (costs,) = price_grid(
        log, grid.setting, grid.trials, grid.gen_len, settings, cards, [bare], DeployOptions()
    )
    assert costs.efficiency_mode == "datasheet" and costs.fits.all()
    with pytest.raises(InputError, match="calibration"):
        price_grid(
            log,
            grid.setting,
            grid.trials,
            grid.gen_len,
            settings,
            cards,
            [bare],
            DeployOptions(efficiency="calibrated"),
        )


@given(
    lens=st.lists(st.floats(1.0, 1e5), min_size=1, max_size=12),
    raw=st.lists(st.floats(0.01, 1.0), min_size=12, max_size=12),
    trials=st.lists(st.integers(1, 128), min_size=1, max_size=5, unique=True),
)
def test_expected_longest_properties(
    lens: list[float], raw: list[float], trials: list[int]
) -> None:
    """E[longest of N]: the mean at N = 1, never below it, never above the longest length, and
    non-decreasing in N."""
    x = np.array(lens)[None, None, :]
    p = np.array(raw[: len(lens)])[None, None, :]
    p /= p.sum()
    n = np.array(sorted(trials), dtype=float)
    got = expected_longest_grid(x, p, n)[0, :, 0]
    mean = float(np.sum(x * p))
    assert np.all(got >= mean * (1 - 1e-9)) and np.all(got <= x.max() * (1 + 1e-9))
    assert np.all(np.diff(got) >= -1e-9 * x.max())
    if n[0] == 1:
        assert got[0] == pytest.approx(mean, rel=1e-9)


def test_distributions_of_different_sizes_share_a_chunk() -> None:
    """Settings whose sources give different numbers of length points (evaluations with more
    trials for one budget) are padded with zero-weight points that change no figure."""
    from kinetics_cli.accuracy.base import Outcome, Setting
    from kinetics_cli.planner.deploy import _shapes

    acc = np.zeros((3, 2))
    small = Outcome(acc, np.array([[100.0, 900.0], [300.0, 2000.0]]), np.full((2, 2), 0.5), 50.0)
    big = Outcome(
        acc,
        np.array([[100.0, 200.0, 900.0], [500.0, 1000.0, 4000.0]]),
        np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]),
        80.0,
    )
    settings = [Setting("m", "topk", 256.0), Setting("m", "topk", 512.0)]
    outcomes = {0: small, 1: big}
    trials = np.array([1.0, 2.0, 8.0])
    both = _shapes([0, 1], outcomes, settings, trials)
    for k in (0, 1):
        alone = _shapes([k], outcomes, settings, trials)
        np.testing.assert_allclose(both.mean_len[k], alone.mean_len[0])
        np.testing.assert_allclose(both.longest[k], alone.longest[0])
        np.testing.assert_allclose(both.held[k], alone.held[0])
        # the life-context mix: same weighted mean context and same weighted mean of its square
        for power in (1, 2):
            np.testing.assert_allclose(
                np.sum(both.life_contexts[k] ** power * both.life_weights[k], axis=-1),
                np.sum(alone.life_contexts[0] ** power * alone.life_weights[0], axis=-1),
            )


def test_early_stopping_runs_fewer_trials_on_the_same_deployment(catalog: Catalog) -> None:
    from kinetics_cli.planner.setup import grid_options

    # aime25: bundled priors only (aime24's measured settings carry no answers to vote on)
    setup = build_setup(
        task="aime25",
        catalog=catalog,
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(
            selection=["coverage", "early-stop"], trials=[8], gen_limits=[8192], attention=["dense"]
        ),
        deploy=DeployOptions(),
    )
    grid, deploy = setup.grid, setup.pricing.deploy
    assert deploy is not None and grid.selection is not None and grid.samples is not None
    rules = list(grid.rules)
    (cover,) = np.flatnonzero(grid.selection == rules.index("coverage"))
    (early,) = np.flatnonzero(grid.selection == rules.index("early-stop"))
    assert grid.samples[early] < 8
    assert deploy.tp[early] == deploy.tp[cover] and deploy.batch[early] == deploy.batch[cover]
    assert deploy.gpu_seconds[early] == pytest.approx(
        deploy.gpu_seconds[cover] * grid.samples[early] / 8, rel=1e-12
    )
    assert deploy.latency_s[early] == deploy.latency_s[cover]  # N trials in parallel, at most


def test_an_engine_cap_on_sequences(catalog: Catalog) -> None:
    """max_batch 64 sequences per replica (vLLM's max_num_seqs, say): problems in flight x N
    never exceed it, and the figures stay problem_costs' on that deployment."""
    grid, costs, log, cards, profile = priced(catalog, "b200", DeployOptions(max_batch=64))
    fits = costs.fits
    assert np.all(costs.batch[fits] * grid.trials[fits] <= 64)
    for i in np.flatnonzero(fits)[:: max(1, int(fits.sum()) // 8)]:
        lib = library_costs(grid, costs, log, cards, profile, i)
        assert float(lib.memory.max_problems) == costs.batch[i]
        np.testing.assert_allclose(costs.gpu_seconds[i], lib.gpu_seconds_per_problem, rtol=1e-9)


def test_trials_beyond_the_engine_cap_are_dropped_for_that_reason(catalog: Catalog) -> None:
    """max_batch 16 sequences per replica: a problem of 32 trials is never admitted whole on
    any replica (the cap is per replica), so those configurations are dropped, and the reason
    given is the cap, not the KV cache (with no cap, every one of them fits a b200)."""
    grid, costs, *_ = priced(catalog, "b200", DeployOptions(max_batch=16))
    over = grid.trials > 16
    assert over.any() and not costs.fits[over].any()
    (reason,) = [k for k in costs.dropped if "cap of 16" in k]
    assert costs.dropped[reason] == int(over.sum())
    assert not any("KV cache" in k for k in costs.dropped)
    _, uncapped, *_ = priced(catalog, "b200", DeployOptions(max_batch=None))
    assert uncapped.fits[over].all()


def test_several_accelerators_price_as_each_alone(catalog: Catalog) -> None:
    """Pricing several profiles in one call (request shapes, one-sequence operator costs and
    memory bytes per GPU carried from one accelerator to the next; B200 after two others, MI300X
    with another capacity) gives each the figures it gets alone."""
    names = ["b200", "h100-sxm", "mi300x", "b200"]
    source = FakeSource(models=dict(MODELS))
    settings = source.settings()
    cards = {s.model: catalog.models.get(s.model).spec for s in settings}
    profiles = [catalog.hardware.get(n).spec for n in names]
    log = OutcomeLog()
    grid = evaluate_grid(
        source,  # type: ignore[arg-type]
        cards,
        settings,
        profiles[0],
        trials=TRIALS,
        limits=LIMITS,
        on_outcome=log,
    )
    args = (log, grid.setting, grid.trials, grid.gen_len, settings, cards)
    together = price_grid(*args, profiles, DeployOptions())
    for profile, joint in zip(profiles, together, strict=True):
        (alone,) = price_grid(*args, [profile], DeployOptions())
        for name in ("fits", "tp", "ep", "batch", "tpot_s", "gpu_seconds", "latency_s"):
            assert np.array_equal(getattr(joint, name), getattr(alone, name)), (profile.name, name)


@pytest.mark.parametrize("max_tpot", [None, 0.03])
@pytest.mark.parametrize("tp", [1, 2])
def test_attention_kinds_priced_together_as_each_alone(
    catalog: Catalog, max_tpot: float | None, tp: int
) -> None:
    """One deployment's chunks (dense, top-k, block top-k; per setting for sliding windows) are
    priced in one pass: every figure has the same bits as pricing each chunk on its own, with
    the TPOT search too (its rounds run to the largest batch of any chunk)."""
    from kinetics_cli.planner.deploy import _price_rows, _problem_caps, _shapes

    def price_parts(card, profile, d, parts, caps, trials, block, options, prefill, effs):  # type: ignore[no-untyped-def]
        """_price_rows split into each part's rows."""
        priced = _price_rows(card, profile, d, parts, caps, trials, block, options, prefill, effs)
        rows = np.cumsum([0, *(c.shape[0] for c in caps)])
        return [priced.rows(a, b) for a, b in pairwise(rows)]

    source = FakeSource(models=dict(MODELS))
    settings = source.settings()
    profile = catalog.hardware.get("b200").spec
    options = DeployOptions(max_tpot=max_tpot)
    outcomes = {i: source.outcome(s, TRIALS, LIMITS) for i, s in enumerate(settings)}
    for model in MODELS:
        card = catalog.models.get(model).spec
        kinds: dict[str, list[int]] = {}
        for i, s in enumerate(settings):
            if s.model == model:
                kinds.setdefault(s.attention, []).append(i)
        chunks = [
            (attention, chunk)
            for attention, members in kinds.items()
            for chunk in ([members] if card.sliding_window is None else [[i] for i in members])
        ]
        parts = [(a, _shapes(c, outcomes, settings, TRIALS)) for a, c in chunks]
        d = Deployment(tp=tp)
        caps = [_problem_caps(card, profile, d, a, [sh], TRIALS, 16)[0][0] for a, sh in parts]
        together = price_parts(card, profile, d, parts, caps, TRIALS, 16, options, {}, {})
        assert len(parts) >= 3
        for part, cap, joint in zip(parts, caps, together, strict=True):
            (alone,) = price_parts(card, profile, d, [part], [cap], TRIALS, 16, options, {}, {})
            for name in ("fits", "batch", "tpot", "gpu_seconds", "latency"):
                assert np.array_equal(getattr(joint, name), getattr(alone, name)), (model, name)


def test_one_sequence_costs_keep_no_per_context_arrays(catalog: Catalog) -> None:
    """What the pricing caches per (step shape) is the mixed cost for one sequence, [S, 1, L]:
    not the [S, 1, L, K] per-context arrays it is mixed from, which the cache would keep alive
    (about 60 MB over a default plan's 90 entries, paid in page faults)."""
    from kinetics_cli.engine.serving import _setup, resolve_efficiency
    from kinetics_cli.planner.deploy import _per_sequence, _shapes

    source = FakeSource(models={"qwen3-8b": MODELS["qwen3-8b"]})
    settings = source.settings()
    outcomes = {i: source.outcome(s, TRIALS, LIMITS) for i, s in enumerate(settings)}
    card = catalog.models.get("qwen3-8b").spec
    profile = catalog.hardware.get("b200").spec
    eff = resolve_efficiency(profile, "default", "bf16")
    chunk = [i for i, s in enumerate(settings) if s.attention == "block-topk"]
    shapes = _shapes(chunk, outcomes, settings, TRIALS)
    s0 = _setup(
        card,
        profile,
        Deployment(tp=1),
        attention="block-topk",
        kv_budget=float(shapes.budgets[0]),
        efficiency=eff,
    )
    ops, names = _per_sequence(
        s0, "block-topk", shapes.budgets, shapes.life_contexts, shapes.life_weights
    )
    assert {names[i] for i in ops} == {"attention", "block search"}
    for op in ops.values():
        for array in (op.cost.flops, op.cost.bytes):
            assert np.shape(array) == (len(chunk), 1, LIMITS.size)


@pytest.mark.parametrize(
    "model",
    [*MODELS, "deepseek-r1-distill-qwen-1.5b", "deepseek-v3"],
)
def test_one_sequence_costs_divided_over_tp_keep_their_bits(catalog: Catalog, model: str) -> None:
    """Where the heads split evenly, the pricing takes a replica's one-sequence attention costs
    as one GPU's divided by tp; they must equal the ones computed at tp bit for bit, for every
    candidate deployment (EP, whose deployments share the costs at ep = 1, and attention
    data-parallel included) and attention kind.
    deepseek-r1-distill-qwen-1.5b (2 KV heads) replicates KV past tp 2, deepseek-v3 (MLA) at any
    tp: those are computed, not divided."""
    from kinetics_cli.engine.roofline import attention_splits_evenly
    from kinetics_cli.engine.serving import _setup, resolve_efficiency
    from kinetics_cli.planner.deploy import (
        _one_sequence,
        _per_sequence,
        _shapes,
        candidate_deployments,
    )

    source = FakeSource(models={model: (0.6, 7000.0)})
    settings = source.settings()
    outcomes = {i: source.outcome(s, TRIALS, LIMITS) for i, s in enumerate(settings)}
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get("b200").spec
    eff = resolve_efficiency(profile, "default", "bf16")
    divided = 0
    by_kind: dict[str, list[int]] = {}
    for i, s in enumerate(settings):
        by_kind.setdefault(s.attention, []).append(i)
    # one chunk per attention kind, one per setting where sliding windows compare (as pricing)
    windowed = card.sliding_window is not None
    chunks = [
        (attention, chunk)
        for attention, members in by_kind.items()
        for chunk in ([[i] for i in members] if windowed else [members])
    ]
    for attention, chunk in chunks:
        shapes = _shapes(chunk, outcomes, settings, TRIALS)
        cache: dict = {}
        for group in candidate_deployments(card, profile):
            for d in group:
                s0 = _setup(
                    card,
                    profile,
                    d,
                    attention=attention,
                    kv_budget=None if attention == "dense" else float(shapes.budgets[0]),
                    efficiency=eff,
                )
                got, got_names = _one_sequence(s0, attention, shapes, cache)
                want, names = _per_sequence(
                    s0, attention, shapes.budgets, shapes.life_contexts, shapes.life_weights
                )
                assert got_names == names
                assert got.keys() == want.keys()
                for i, op in want.items():
                    assert np.array_equal(got[i].cost.flops, op.cost.flops), (d, names[i])
                    assert np.array_equal(got[i].cost.bytes, op.cost.bytes), (d, names[i])
                divided += d.tp > 1 and attention_splits_evenly(card, d.tp)
    if model in MODELS:  # these split their heads evenly at some tp > 1 on a B200 node
        assert divided > 0


def test_problem_caps_shared_across_accelerators_as_alone(catalog: Catalog) -> None:
    """Memory caps computed with the bytes (and bytes per problem) kept from another
    accelerator, and for another trial list, have the bits of caps computed with nothing kept."""
    from kinetics_cli.planner.deploy import _HeldBytes, _problem_caps, _shapes

    source = FakeSource(models=dict(MODELS))
    settings = source.settings()
    outcomes = {i: source.outcome(s, TRIALS, LIMITS) for i, s in enumerate(settings)}
    other_trials = np.array([2.0, 8.0])
    for model in MODELS:
        card = catalog.models.get(model).spec
        members = [i for i, s in enumerate(settings) if s.model == model and s.attention == "dense"]
        chunks = [_shapes(members, outcomes, settings, TRIALS)]
        d = Deployment(tp=2, max_batch=64)
        kept: _HeldBytes = {}
        for name in ("b200", "h100", "mi300x"):
            profile = catalog.hardware.get(name).spec
            for trials in (TRIALS, other_trials, TRIALS):
                alone, room = _problem_caps(card, profile, d, "dense", chunks, trials, 16)
                shared, room_shared = _problem_caps(
                    card,
                    profile,
                    d,
                    "dense",
                    chunks,
                    trials,
                    16,
                    kept,  # type: ignore[arg-type]
                )
                assert room == room_shared
                for a, b in zip(alone, shared, strict=True):
                    assert a.tobytes() == b.tobytes()
        assert len(kept) == 1


def test_expected_longest_takes_each_power_once_with_the_same_bits() -> None:
    """F(L_j - 1)^N is F(L_{j-1})^N (0 before the first point): the grid powers each CDF value
    once and shifts it, which must give the bits of sum_j L_j (F(L_j)^N - F(L_j - 1)^N) with
    both powers taken, the formula as serving.expected_longest writes it."""
    rng = np.random.default_rng(7)
    lens = rng.uniform(100.0, 30_000.0, size=(3, 4, 40))
    raw = rng.uniform(0.0, 1.0, size=(3, 4, 40))
    probs = raw / raw.sum(axis=-1, keepdims=True)
    trials = np.array([1.0, 2.0, 3.0, 8.0, 64.0])
    order = np.argsort(lens, axis=-1)
    lo = np.take_along_axis(lens, order, -1)
    cdf = np.cumsum(np.take_along_axis(probs, order, -1), axis=-1)
    prev = np.concatenate([np.zeros_like(cdf[..., :1]), cdf[..., :-1]], axis=-1)
    n = trials[None, :, None, None]
    both = np.sum(lo[:, None] * (cdf[:, None] ** n - prev[:, None] ** n), axis=-1)
    assert expected_longest_grid(lens, probs, trials).tobytes() == both.tobytes()


def test_the_order_of_the_settings_changes_no_figure(catalog: Catalog) -> None:
    """A model's chunks are priced in one set of tables: in place where its settings are
    consecutive (FakeSource lists them so), copied where they are not (the models interleaved,
    in reverse). Each setting gets the same bits either way."""
    source = FakeSource(models={k: MODELS[k] for k in ("qwen3-8b", "qwen3-30b-a3b")})
    settings = source.settings()
    outcomes = {i: source.outcome(s, TRIALS, LIMITS) for i, s in enumerate(settings)}
    cards = {s.model: catalog.models.get(s.model).spec for s in settings}
    profile = catalog.hardware.get("h100-sxm").spec
    from kinetics_cli.planner.deploy import price_settings

    forward = price_settings(outcomes, settings, cards, profile, TRIALS, LIMITS)
    back = sorted(
        range(len(settings)),
        key=lambda i: (settings[i].attention, settings[i].kv_budget or 0, settings[i].model),
        reverse=True,
    )
    assert [settings[i].model for i in back[:2]] == ["qwen3-8b", "qwen3-30b-a3b"]
    reversed_outcomes = {k: outcomes[i] for k, i in enumerate(back)}
    backward = price_settings(
        reversed_outcomes, [settings[i] for i in back], cards, profile, TRIALS, LIMITS
    )
    assert forward["fits"].any() and (forward["tp"] > 1).any() and (forward["tp"] == 1).any()
    for key, table in forward.items():
        assert table[back].tobytes() == backward[key].tobytes(), key


def test_request_shapes_are_those_priced(catalog: Catalog) -> None:
    """Each configuration says the request shape its figures rest on, as problem_costs reads it:
    the prompt, the mean generated tokens per trial under the limit (sum of length x weight)
    and the expected longest of its N trials; one trial's longest is its mean."""
    grid, costs, log, cards, profile = priced(catalog, "b200")
    for i in range(len(grid)):
        outcome = log.outcomes[int(grid.setting[i])]
        row = int(np.searchsorted(log.limits, grid.gen_len[i]))
        lens, weights = outcome.gen_lengths[row], outcome.gen_weights[row]
        assert costs.prompt_tokens[i] == outcome.prompt_len
        mean = float(lens @ (weights / weights.sum()))
        np.testing.assert_allclose(costs.mean_generated_tokens[i], mean, rtol=1e-12)
        longest = serving.expected_longest(lens, weights, float(grid.trials[i]))
        np.testing.assert_allclose(costs.expected_longest_tokens[i], longest, rtol=1e-9)
        if grid.trials[i] == 1:
            np.testing.assert_allclose(costs.expected_longest_tokens[i], mean, rtol=1e-9)
        doc = costs.document(i)["deployable"]
        assert doc["mean_generated_tokens"] == costs.mean_generated_tokens[i]
    for i in np.flatnonzero(costs.fits)[:20]:
        lib = library_costs(grid, costs, log, cards, profile, i)
        np.testing.assert_allclose(
            costs.expected_longest_tokens[i], lib.expected_longest_tokens, rtol=1e-9
        )


def test_serve_command_names_the_deployment_and_formats(catalog: Catalog) -> None:
    """--weights where one name stores the model as its card does (qwen3-8b: bf16), none where
    none does (gpt-oss-20b: MXFP4 experts beside bf16 attention); --ep under expert parallelism;
    --trials N for N > 1 (none for one trial), --batch in sequences (problems x N); serve's
    non-defaults (efficiency mode, engine cap) appended."""
    grid, costs, *_ = priced(catalog, "h100-sxm", DeployOptions(efficiency="datasheet"))
    assert costs.weight_formats["qwen3-8b"] == "bf16"
    assert costs.weight_formats["gpt-oss-20b"] is None
    seen = set()
    for i in np.flatnonzero(costs.fits):
        model, n = grid.model(i), int(grid.trials[i])
        command = costs.serve_command(i, model, grid.attention(i), grid.kv_budget(i), n)
        assert command is not None
        assert command.startswith(f"kinetics serve {model} -H h100-sxm --tp {int(costs.tp[i])} ")
        assert ("--weights" in command) is (model != "gpt-oss-20b")
        assert ("--ep" in command) is bool(costs.ep[i] > 1)
        trials = f" --trials {n}" if n > 1 else ""
        assert f"{trials} --batch {int(costs.batch[i]) * n} --efficiency datasheet" in command
        assert ("--trials" in command) is (n > 1)
        seen.add(("trials", n > 1))
        assert "--max-batch" not in command  # the default cap, 1,024 on an H100
        seen.add((model, bool(costs.ep[i] > 1)))
    assert ("qwen3-30b-a3b", True) in seen or ("qwen3-next-80b-a3b", True) in seen
    assert {("trials", True), ("trials", False)} <= seen
    capped = priced(catalog, "h100-sxm", DeployOptions(max_batch=None))[1]
    i = int(np.flatnonzero(capped.fits)[0])
    assert capped.serve_command(i, grid.model(i), "dense", None, 1).endswith("--max-batch 0")
    unheld = np.flatnonzero(~costs.fits)
    if unheld.size:
        assert costs.serve_command(int(unheld[0]), "x", "dense", None, 1) is None


# --------------------------------------------------------------------------------------------
# The verifier rule's scoring pass
# --------------------------------------------------------------------------------------------


def tiny_gpu(capacity: float):  # type: ignore[no-untyped-def]
    """tests/engine_catalog's tiny-gpu (1000 FLOP/s, 10 B/s, 4 GPUs a node) with `capacity`
    bytes of HBM per GPU, $3.6 per GPU-hour and 100 W a board."""
    from tests import engine_catalog

    return engine_catalog.hardware().model_copy(
        update={"hbm_capacity": capacity, "price_per_gpu_hour": 3.6, "tdp_watts": 100.0}
    )


def tiny_pass(profile, d, batch: float, new: float, cached: float = 0.0) -> float:  # type: ignore[no-untyped-def]
    """One prefill pass of `batch` sequences of `new` tokens on `cached` (serving's)."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    step = serving.prefill_seconds(
        card, profile, d, batch, new, cached=cached, efficiency="datasheet"
    )
    return float(step.seconds)


def test_verifier_scoring_pass_by_hand() -> None:
    """tiny-gqa scores 5 candidates on a tiny-gpu of 100 MB: TP1 holds it (weights 49,984 B,
    reserve 10 MB + a chunk's activations 8,192 x (4 x 32 + 2 x 64) x 2 = 4,194,304 B, room
    for 223 candidates of 3,000 tokens at 128 B a token). Prefill chunks are 8,192 tokens:
    a pass packs floor(8,192 / 3,000) = 2 candidates of 3,000; one of 20,000 takes three passes,
    8,192 new tokens on 0, 8,192 on 8,192 and 3,616 on 16,384."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    profile = tiny_gpu(1e8)
    tokens = np.array([[3000.0], [20000.0]])
    out = price_verifier(
        card, profile, tokens, np.array([[1.0, 5.0]]), DeployOptions(efficiency="datasheet")
    )
    d = Deployment(tp=1)
    assert out["fits"].all() and (out["tp"] == 1).all()
    two, one = tiny_pass(profile, d, 2, 3000), tiny_pass(profile, d, 1, 3000)
    # GPU time: a steady stream packs every pass, so N x pass(2) / 2 on one GPU
    assert out["gpu_seconds"][0, 0] == pytest.approx(1 * two / 2, rel=1e-12)
    assert out["gpu_seconds"][0, 1] == pytest.approx(5 * two / 2, rel=1e-12)
    # latency: N = 1 is one pass of one; N = 5 is ceil(5 / 2) = 3 passes, 2 of two and 1 of one
    assert out["latency"][0, 0] == pytest.approx(one, rel=1e-12)
    assert out["latency"][0, 1] == pytest.approx(2 * two + one, rel=1e-12)
    long = (
        tiny_pass(profile, d, 1, 8192)
        + tiny_pass(profile, d, 1, 8192, 8192)
        + tiny_pass(profile, d, 1, 3616, 16384)
    )
    np.testing.assert_allclose(out["gpu_seconds"][1], [long, 5 * long], rtol=1e-12)
    np.testing.assert_allclose(out["latency"][1], [long, 5 * long], rtol=1e-12)


def test_verifier_replica_is_the_smallest_that_holds_a_candidate() -> None:
    """On 3.9 MB GPUs TP1 cannot hold tiny-gqa's weights and reserve (0.9 x 3.9e6 - 4,194,304
    - 49,984 < 0); TP2 (a chunk's activations 8,192 x (128 + 64) x 2 = 3,145,728 B, weights
    24,992 B a GPU) leaves 0.9 x 3.9e6 - 3,145,728 - 24,992 = 339,280 B, one candidate of
    3,000 tokens (64 B a token a GPU, 192,000 B) and not two: the pass holds one, so the 5
    candidates take 5 passes, on 2 GPUs. 20,000 tokens (1,280,000 B a GPU, the 2 KV heads
    split no further at TP4) fit no replica of the node."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    profile = tiny_gpu(3.9e6)
    out = price_verifier(
        card,
        profile,
        np.array([[3000.0], [20000.0]]),
        np.array([[5.0]]),
        DeployOptions(efficiency="datasheet"),
    )
    one = tiny_pass(profile, Deployment(tp=2), 1, 3000)
    assert out["tp"][0, 0] == 2
    assert out["gpu_seconds"][0, 0] == pytest.approx(2 * 5 * one, rel=1e-12)
    assert out["latency"][0, 0] == pytest.approx(5 * one, rel=1e-12)
    assert not out["fits"][1, 0] and out["weights_fit"][1, 0]
    assert out["gpu_seconds"][1, 0] == np.inf


def test_verifier_prices_the_expectation_over_the_candidates_lengths() -> None:
    """Half the candidates of 3,000 tokens, half of 20,000 (mean 11,500), N = 5, tiny-gqa on
    a tiny-gpu of 100 MB (TP1, as above). At 3,000 a pass packs 2 (3,537,179.2 s); at 20,000 a
    candidate takes three passes (55,309,058.4 s): GPU time 5 x (0.5 x 3,537,179.2 / 2 + 0.5 x
    55,309,058.4) = 142,694,120 s. At the mean, one candidate of 11,500 in two passes (8,192
    and 3,308 on 8,192: 19,291,905.6 s) would give 5 x 19,291,905.6 = 96,459,528 s, a third
    less: attention's quadratic term and the packing make the pass convex in T. Latency: 0.5 x
    (2 passes of two + one of one, 1,770,752.8 s) + 0.5 x 5 x 55,309,058.4 = 142,695,201.6 s."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    profile = tiny_gpu(1e8)
    d = Deployment(tp=1)
    options = DeployOptions(efficiency="datasheet")
    out = price_verifier(
        card,
        profile,
        np.array([3000.0, 20000.0]),
        np.array(5.0),
        options,
        weights=np.array([0.5, 0.5]),
    )
    two, one = tiny_pass(profile, d, 2, 3000), tiny_pass(profile, d, 1, 3000)
    long = (
        tiny_pass(profile, d, 1, 8192)
        + tiny_pass(profile, d, 1, 8192, 8192)
        + tiny_pass(profile, d, 1, 3616, 16384)
    )
    mean = tiny_pass(profile, d, 1, 8192) + tiny_pass(profile, d, 1, 3308, 8192)
    assert (two, one, long, mean) == pytest.approx(
        (3_537_179.2, 1_770_752.8, 55_309_058.4, 19_291_905.6), rel=1e-12
    )
    assert out["fits"] and out["tp"] == 1
    assert out["gpu_seconds"] == pytest.approx(5 * (0.5 * two / 2 + 0.5 * long), rel=1e-12)
    assert out["gpu_seconds"] == pytest.approx(142_694_120.0, rel=1e-12)
    assert out["latency"] == pytest.approx(0.5 * (2 * two + one) + 0.5 * 5 * long, rel=1e-12)
    at_mean = price_verifier(card, profile, np.array(11500.0), np.array(5.0), options)
    assert at_mean["gpu_seconds"] == pytest.approx(5 * mean, rel=1e-12)
    assert out["gpu_seconds"] / at_mean["gpu_seconds"] == pytest.approx(1.479, abs=1e-3)


def test_a_one_point_distribution_is_the_length_priced_alone() -> None:
    """One point of weight 1 is every candidate at that length: the same figures, bit for
    bit, as `tokens` without weights (test_verifier_scoring_pass_by_hand's, 3,000 and 20,000
    tokens at N 1 and 5)."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    profile = tiny_gpu(1e8)
    options = DeployOptions(efficiency="datasheet")
    tokens, trials = np.array([[3000.0], [20000.0]]), np.array([[1.0, 5.0]])
    alone = price_verifier(card, profile, tokens, trials, options)
    one_point = price_verifier(
        card, profile, tokens[..., None], trials, options, weights=np.ones((2, 1, 1))
    )
    for key, value in alone.items():
        np.testing.assert_array_equal(one_point[key], value, err_msg=key)


def test_the_verifier_replica_holds_the_longest_candidate() -> None:
    """On 7 MB GPUs TP1 leaves 0.9 x 7e6 - 4,194,304 - 49,984 = 2,055,712 B: one candidate of
    the mean 11,500 tokens (1,472,000 B at 128 B a token) but not one of 20,000 (2,560,000 B).
    The candidates of 20,000 are scored too, so the replica is TP2 (3,129,280 B a GPU left,
    64 B a token a GPU: two of 20,000), where 3,000-token candidates pack 2 a pass:
    2 GPUs x 5 x (0.5 x pass(2 of 3,000) / 2 + 0.5 x pass(20,000)); latency 0.5 x (2 passes of
    two + one of one) + 0.5 x 5 x pass(20,000). With `longest` 11,500 (the mean as the memory
    rule's candidate) TP1 would be taken."""
    from tests import engine_catalog

    card = engine_catalog.card("tiny-gqa")
    profile = tiny_gpu(7e6)
    options = DeployOptions(efficiency="datasheet")
    points, w = np.array([3000.0, 20000.0]), np.array([0.5, 0.5])
    out = price_verifier(card, profile, points, np.array(5.0), options, weights=w)
    d = Deployment(tp=2)
    two, one = tiny_pass(profile, d, 2, 3000), tiny_pass(profile, d, 1, 3000)
    long = (
        tiny_pass(profile, d, 1, 8192)
        + tiny_pass(profile, d, 1, 8192, 8192)
        + tiny_pass(profile, d, 1, 3616, 16384)
    )
    assert out["fits"] and out["tp"] == 2
    assert out["gpu_seconds"] == pytest.approx(2 * 5 * (0.5 * two / 2 + 0.5 * long), rel=1e-12)
    assert out["latency"] == pytest.approx(0.5 * (2 * two + one) + 0.5 * 5 * long, rel=1e-12)
    held_at_mean = price_verifier(
        card, profile, points, np.array(5.0), options, weights=w, longest=np.array(11500.0)
    )
    assert held_at_mean["tp"] == 1


def verifier_setup(catalog: Catalog, verifier: str, hardware: str = "b200"):  # type: ignore[no-untyped-def]
    from kinetics_cli.planner.setup import grid_options

    return build_setup(
        task="aime25",
        catalog=catalog,
        hardware=hardware,
        models=["qwen3-8b", "qwen3-32b"],
        options=grid_options(
            selection=["coverage", "verifier"],
            trials=[1, 4, 64],
            gen_limits=[4096, 32768],
            attention=["dense"],
            verifier_recall=0.9,
            verifier_precision=0.8,
            verifier_model=verifier,
        ),
        deploy=DeployOptions(),
    )


def pairs(grid):  # type: ignore[no-untyped-def]
    """(verifier row, coverage row) at the same setting, N and L."""
    rules = list(grid.rules)
    cover = {
        (int(grid.setting[i]), grid.trials[i], grid.gen_len[i]): i
        for i in np.flatnonzero(grid.selection == rules.index("coverage"))
    }
    return [
        (int(i), cover[(int(grid.setting[i]), grid.trials[i], grid.gen_len[i])])
        for i in np.flatnonzero(grid.selection == rules.index("verifier"))
    ]


def test_the_verifier_rule_costs_coverage_plus_its_scoring_pass(catalog: Catalog) -> None:
    """At the same model, N, L and attention the verifier rule runs the same generation as
    coverage plus the verifier's scoring: its GPU-seconds and latency exceed coverage's by
    exactly the verifier's part, its dollars and joules by that part's, and the part is
    price_verifier's over the candidates' lengths (prompt + each point of the setting's
    generated-length distribution at the limit), on a replica that holds the longest."""
    setup = verifier_setup(catalog, "qwen3-0.6b")
    grid, deploy = setup.grid, setup.pricing.deploy
    assert deploy is not None and deploy.verifier is not None
    v = deploy.verifier
    profile = catalog.hardware.get("b200").spec
    card = catalog.models.get("qwen3-0.6b").spec
    found = pairs(grid)
    assert len(found) == 8  # 2 models x N 4, 64 x 2 limits
    for i, c in found:
        assert deploy.fits[i] and deploy.fits[c] and v.fits[i] and v.gpu_seconds[i] > 0
        assert deploy.gpu_seconds[i] == deploy.gpu_seconds[c] + v.gpu_seconds[i]
        assert deploy.latency_s[i] == deploy.latency_s[c] + v.latency_s[i]
        assert deploy.usd_per_1000[i] - deploy.usd_per_1000[c] == pytest.approx(
            v.gpu_seconds[i] * profile.price_per_gpu_hour / 3600 * 1000, rel=1e-9
        )
        assert deploy.joules[i] - deploy.joules[c] == pytest.approx(
            v.gpu_seconds[i] * profile.serving_watts, rel=1e-9
        )
        # the same deployment of the generating model
        assert (deploy.tp[i], deploy.batch[i]) == (deploy.tp[c], deploy.batch[c])
        tokens = deploy.prompt_tokens[i] + deploy.mean_generated_tokens[i]
        assert v.tokens[i] == tokens
        outcome = setup.source.outcome(
            grid.settings[int(grid.setting[i])],
            np.array([grid.trials[i]]),
            np.array([grid.gen_len[i]]),
        )
        lengths = outcome.prompt_len + np.asarray(outcome.gen_lengths[0], dtype=float)
        weights = np.asarray(outcome.gen_weights[0], dtype=float)
        alone = price_verifier(
            card,
            profile,
            lengths,
            np.array(grid.trials[i]),
            DeployOptions(),
            weights=weights / weights.sum(),
        )
        assert v.gpu_seconds[i] == pytest.approx(float(alone["gpu_seconds"]), rel=1e-12)
        assert v.latency_s[i] == pytest.approx(float(alone["latency"]), rel=1e-12)
        assert v.tp[i] == alone["tp"]
        if grid.gen_len[i] == 32768:
            # not the price of the mean candidate: at L 32K the candidates spread from a few
            # thousand tokens to the limit (means 11,458 and 14,652 tokens), and the long ones'
            # attention costs the verifier 20 to 27% more than the mean length's
            at_mean = price_verifier(
                card, profile, np.array(tokens), np.array(grid.trials[i]), DeployOptions()
            )
            assert v.gpu_seconds[i] > 1.15 * float(at_mean["gpu_seconds"])
        doc = deploy.document(i)["deployable"]["verifier"]
        assert doc["gpu_seconds"] == v.gpu_seconds[i] and doc["latency_s"] == v.latency_s[i]
        assert doc["tp"] == 1 and doc["model"] == "qwen3-0.6b"
        assert "verifier" not in deploy.document(c)["deployable"]
    # the coverage rows are those of a plan without the verifier rule
    rules = list(grid.rules)
    assert not v.rows[grid.selection != rules.index("verifier")].any()


def test_a_verifier_no_replica_holds_drops_its_configurations(catalog: Catalog) -> None:
    """qwen3-235b-a22b's 470 GB of bf16 weights exceed an L40S node (8 x 48 GB): every
    verifier configuration whose generation fits is dropped, counted under that reason; the
    coverage ones are priced as before."""
    setup = verifier_setup(catalog, "qwen3-235b-a22b", "l40s")
    grid, deploy = setup.grid, setup.pricing.deploy
    assert deploy is not None and deploy.verifier is not None
    generated = [c for _, c in pairs(grid) if deploy.fits[c]]
    assert generated
    assert not deploy.fits[[i for i, _ in pairs(grid)]].any()
    (reason,) = [k for k in deploy.dropped if "verifier" in k]
    assert "qwen3-235b-a22b's weights and reserve exceed a whole l40s node" in reason
    assert deploy.dropped[reason] == len(generated)
    doc = deploy.document(pairs(grid)[0][0])["deployable"]
    assert doc["fits"] is False and doc["gpu_seconds"] is None
    assert doc["verifier"]["fits"] is False and doc["verifier"]["tp"] is None


def test_a_candidate_beyond_the_verifiers_window_is_never_priced(catalog: Catalog) -> None:
    """The deployable path prices the grid's configurations: with a qwen3-8b verifier (40,960
    tokens) deepseek-r1-distill-qwen-7b's verifier rows at L 64K (160 + 65,536 tokens a
    candidate at most) are not there to price, so every scored row is at L 32K, the coverage
    rows at 64K are priced as before, and nothing is dropped for want of a replica."""
    from kinetics_cli.planner.setup import grid_options

    setup = build_setup(
        task="aime25",
        catalog=catalog,
        hardware="b200",
        models=["deepseek-r1-distill-qwen-7b"],
        options=grid_options(
            selection=["coverage", "verifier"],
            trials=[4, 16],
            gen_limits=[32768, 65536],
            attention=["dense"],
            verifier_recall=0.9,
            verifier_precision=0.8,
            verifier_model="qwen3-8b",
        ),
        deploy=DeployOptions(),
    )
    grid, deploy = setup.grid, setup.pricing.deploy
    assert deploy is not None and deploy.verifier is not None and deploy.dropped == {}
    scored = np.flatnonzero(deploy.verifier.rows)
    assert set(grid.gen_len[scored]) == {32768} and len(scored) == 2  # N 4 and 16
    assert deploy.verifier.fits[scored].all()
    cover = grid.selection == list(grid.rules).index("coverage")
    assert set(grid.gen_len[cover]) == {32768, 65536} and deploy.fits[cover].all()
    assert sum(b.configurations for b in grid.left_out) == 2


def test_chunks_computed_together_keep_their_own_shapes() -> None:
    """_chunk_shapes stacks chunks of as many length points: each chunk's figures are the bits
    it has alone, whatever the chunks beside it (and chunks of other sizes apart)."""
    from kinetics_cli.accuracy.base import Outcome, Setting
    from kinetics_cli.planner.deploy import _chunk_shapes, _shapes

    rng = np.random.default_rng(7)
    acc = np.zeros((3, 2))

    def outcome(points: int, prompt: float) -> Outcome:
        lens = np.sort(rng.uniform(50.0, 8000.0, (2, points)), axis=-1)
        return Outcome(acc, lens, rng.uniform(0.1, 1.0, (2, points)), prompt)

    outcomes = {0: outcome(3, 50.0), 1: outcome(3, 80.0), 2: outcome(5, 60.0), 3: outcome(3, 70.0)}
    settings = [Setting("m", "topk", b) for b in (256.0, 512.0, 1024.0, 2048.0)]
    trials = np.array([1.0, 2.0, 8.0])
    chunks = [[0, 1], [2], [3]]
    together = _chunk_shapes(chunks, outcomes, settings, trials)
    for chunk, got in zip(chunks, together, strict=True):
        alone = _shapes(chunk, outcomes, settings, trials)
        assert got.settings == chunk
        for name in ("budgets", "prompt", "lens", "probs", "held", "mean_len", "longest"):
            np.testing.assert_array_equal(getattr(got, name), getattr(alone, name))


@pytest.mark.parametrize(
    ("hardware", "watts", "basis"),
    [
        # h100-sxm: measured serving power 0.40 x tdp_watts 700 W = 280 W per busy GPU
        ("h100-sxm", 0.40 * 700.0, "measured serving power"),
        # b200: no measurement, tdp_watts 1,000 W (the upper bound)
        ("b200", 1000.0, "TDP, an upper bound"),
    ],
)
def test_joules_are_gpu_seconds_at_the_profiles_serving_power(
    catalog: Catalog, hardware: str, watts: float, basis: str
) -> None:
    """Energy per problem is GPU-seconds x the profile's serving power: the measured fraction
    of TDP where the profile has one, TDP elsewhere; the power model says which, and the
    library's problem_costs agrees (energy and words)."""
    grid, costs, log, cards, profile = priced(catalog, hardware)
    assert costs.watts == pytest.approx(watts, rel=1e-12)
    assert costs.tdp_watts == profile.tdp_watts
    assert costs.power_model.startswith(basis)
    fits = np.flatnonzero(costs.fits)
    np.testing.assert_allclose(costs.joules[fits], costs.gpu_seconds[fits] * watts, rtol=1e-12)
    lib = library_costs(grid, costs, log, cards, profile, int(fits[0]))
    assert lib.energy_joules is not None
    np.testing.assert_allclose(lib.energy_joules, lib.gpu_seconds_per_problem * watts, rtol=1e-12)
    assert lib.power_model == costs.power_model
