"""Bundled task profiles: loading, calibration to published pass@1, monotonicity, heterogeneity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kinetics_cli.accuracy import available_tasks, load_accuracy, priors
from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.priors import PriorSource, load_profile, model_accuracy, spread_note
from kinetics_cli.errors import InputError

TASKS = ("aime24", "aime25", "livecodebench")
QWEN3 = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"]
R1 = [f"deepseek-r1-distill-qwen-{s}" for s in ("1.5b", "7b", "14b", "32b")]
PASS1_TOLERANCE = 0.002  # absolute: the calibration solves pass@1(limit) = published to ~1e-9


def source(task: str) -> PriorSource:
    src = load_accuracy(task, None, lambda name: name)
    if src.kind == "composite":  # aime24: measured where covered, these priors elsewhere
        src = src.priors  # type: ignore[attr-defined]
    assert isinstance(src, PriorSource)
    return src


def test_available_tasks_and_unknown_task():
    assert set(TASKS) <= set(available_tasks())
    with pytest.raises(InputError, match="known tasks: aime24, aime25, livecodebench"):
        load_accuracy("gsm8k", None, lambda name: name)


@pytest.mark.parametrize("task", TASKS)
def test_every_profile_loads_with_sources(task):
    profile = load_profile(task)
    assert profile.sources and profile.prompt_tokens > 0
    assert set(QWEN3 + R1) <= set(profile.models)
    for prior in profile.models.values():
        assert prior.sources and prior.basis
        assert 0 < prior.mean < 1 and prior.concentration > 0
    src = source(task)
    assert src.kind == "priors" and task in src.description
    assert Setting("qwen3-8b", "dense", None) in src.settings()
    assert Setting("qwen3-8b", "block-topk", 1024.0) in src.settings()


@pytest.mark.parametrize("task", TASKS)
def test_pass1_at_published_limit_reproduces_published(task):
    src = source(task)
    for name, prior in src.profile.models.items():
        out = src.outcome(
            Setting(name, "dense", None), np.array([1]), np.array([prior.published_limit])
        )
        assert out.accuracy[0, 0] == pytest.approx(prior.published_pass1, abs=PASS1_TOLERANCE), name


def test_published_figures_are_the_reported_ones():
    # Qwen3 report Tables 13-17 (AIME24, thinking) and the DeepSeek-R1 README
    models = load_profile("aime24").models
    assert models["qwen3-0.6b"].published_pass1 == 0.107
    assert models["qwen3-32b"].published_pass1 == 0.814
    assert models["deepseek-r1-distill-qwen-1.5b"].published_pass1 == 0.289


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize(
    "attention,budget", [("dense", None), ("topk", 512.0), ("block-topk", 256.0)]
)
def test_coverage_rises_with_trials_and_limit(task, attention, budget):
    src = source(task)
    trials = np.array([1, 2, 4, 8, 16, 64, 256])
    limits = np.array([1024.0, 4096.0, 8192.0, 16384.0, 32768.0, 65536.0])
    for name in ("qwen3-0.6b", "qwen3-14b", "deepseek-r1-distill-qwen-7b"):
        acc = src.outcome(Setting(name, attention, budget), trials, limits).accuracy
        assert np.all(np.diff(acc, axis=0) >= -1e-12) and np.all(np.diff(acc, axis=1) >= -1e-12)
        assert np.all((acc >= 0) & (acc <= 1))


def test_difficulty_is_heterogeneous():
    # i.i.d. trials with the same p on every problem would give pass@64 = 1 - (1 - p1)^64 ~ 1
    src = source("aime24")
    for name in ("qwen3-0.6b", "qwen3-8b", "deepseek-r1-distill-qwen-1.5b"):
        limit = src.profile.models[name].published_limit
        acc = src.outcome(
            Setting(name, "dense", None), np.array([1, 64]), np.array([limit])
        ).accuracy[:, 0]
        iid = 1 - (1 - acc[0]) ** 64
        assert acc[1] < iid - 0.05, name


def test_coverage_saturates_below_one_as_the_data_does():
    src = source("aime24")
    # Kinetics per-problem data, Qwen3-8B dense: 27 of 30 problems solved at least once in 32
    # samples (pass@32 = 0.900); the prior's counts are fitted on these 30 problems.
    acc = src.outcome(
        Setting("qwen3-8b", "dense", None), np.array([32, 1024, 4096]), np.array([32768.0])
    ).accuracy[:, 0]
    assert acc[0] == pytest.approx(0.900, abs=0.03)
    # problems that stay (nearly) unsolved: more samples stop helping (a Beta without them would
    # climb towards 1). The AIME24 priors carry per-problem solve-rate atoms summing to 1; some
    # sit near p = 0 (problems no size solves reliably)
    prior = src.profile.models["qwen3-8b"]
    rates, weights = np.array(prior.rates), np.array(prior.rate_weights)
    assert rates.size > 0 and weights.sum() == pytest.approx(1.0) and rates.min() < 1e-3
    # problems no size solved in 32 samples keep a small solve rate (their difficulty is only
    # bounded below by the data), so coverage creeps on slowly past N = 32
    assert acc[1] < 0.98 and acc[2] < 0.995 and acc[2] - acc[1] < 0.03
    # DeepSeek-R1 README: R1-Distill-1.5B cons@64 52.7 is a lower bound on pass@64
    acc = src.outcome(Setting(R1[0], "dense", None), np.array([64]), np.array([32768.0])).accuracy
    assert 0.527 <= acc[0, 0] < 0.95


def test_length_points_are_a_distribution_capped_at_the_limit():
    src = source("aime24")
    limits = np.array([2048.0, 8192.0, 32768.0])
    out = src.outcome(Setting("qwen3-8b", "dense", None), np.array([1]), limits)
    assert out.gen_lengths.shape == out.gen_weights.shape == (3, 32)
    np.testing.assert_allclose(out.gen_weights.sum(axis=1), 1.0)
    assert np.all(out.gen_lengths <= limits[:, None] + 1e-6) and np.all(out.gen_lengths >= 0)
    mean = (out.gen_lengths * out.gen_weights).sum(axis=1)
    assert np.all(np.diff(mean) > 0)
    assert 8000 < mean[-1] < 16000  # Kinetics traces: mean ~12K tokens for Qwen3-8B on AIME24
    assert out.prompt_len == 160


def test_small_models_give_long_wrong_answers():
    models = load_profile("aime24").models
    small, large = models["qwen3-0.6b"], models["qwen3-32b"]
    assert small.length.wrong_shift > large.length.wrong_shift > 0
    src = source("aime24")
    out = src.outcome(Setting("qwen3-0.6b", "dense", None), np.array([1]), np.array([38912.0]))
    assert (out.gen_lengths * out.gen_weights).sum() > 10000  # mostly wrong, and wrong is long


def test_sparse_attention_converges_to_dense_and_hurts_small_models_more():
    src = source("aime24")
    trials, limits = np.array([1, 8]), np.array([32768.0])

    def acc(name, attention, budget):
        return src.outcome(Setting(name, attention, budget), trials, limits).accuracy

    for name in ("qwen3-8b", "qwen3-14b", "qwen3-32b"):
        dense = acc(name, "dense", None)
        # the fitted logit shift at 1024 tokens is (183 / 1024)^0.83 = 0.24: about 1.6 points at
        # pass@1 for these models (the data: 8B top-k 1024 75.9% vs dense 75.2%)
        np.testing.assert_allclose(acc(name, "topk", 1024.0), dense, atol=0.025)
        np.testing.assert_allclose(acc(name, "topk", 8192.0), dense, atol=0.005)
        np.testing.assert_allclose(acc(name, "topk", 1e9), dense, atol=1e-4)
    for name in ("qwen3-0.6b", "qwen3-8b"):
        for budget in (256.0, 1024.0):
            assert np.all(acc(name, "block-topk", budget) <= acc(name, "topk", budget) + 1e-12)
            assert np.all(acc(name, "topk", budget) <= acc(name, "dense", None) + 1e-12)
    # the loss grows steeply as the budget shrinks (the data: Qwen3-8B top-k pass@1 keeps 93% of
    # dense at 256 tokens, 86% at 128, 56% at 64, 30% at 32), and relatively more for the small
    # model whose problems are mostly hard
    loss = {
        b: 1 - acc("qwen3-8b", "topk", b)[0, 0] / acc("qwen3-8b", "dense", None)[0, 0]
        for b in (32.0, 128.0, 256.0)
    }
    assert loss[32.0] > 3 * loss[128.0] > 3 * loss[256.0] > 0
    drop = {
        n: 1 - acc(n, "topk", 256.0)[0, 0] / acc(n, "dense", None)[0, 0]
        for n in ("qwen3-0.6b", "qwen3-14b")
    }
    assert drop["qwen3-0.6b"] > drop["qwen3-14b"]


def test_sparse_attention_lengthens_generations():
    src = source("aime24")
    limits = np.array([65536.0])

    def mean_len(attention, budget):
        out = src.outcome(Setting("qwen3-8b", attention, budget), np.array([1]), limits)
        return float((out.gen_lengths * out.gen_weights).sum())

    assert mean_len("topk", 128.0) > mean_len("topk", 1024.0) > mean_len("dense", None)


def test_unknown_model_and_bad_settings():
    src = source("aime24")
    with pytest.raises(InputError, match="no model 'gpt-9'"):
        src.outcome(Setting("gpt-9", "dense", None), np.array([1]), np.array([1000.0]))
    with pytest.raises(InputError, match="positive KV budget"):
        src.outcome(Setting("qwen3-8b", "topk", None), np.array([1]), np.array([1000.0]))


def test_model_accuracy_matches_closed_form_without_length_limit():
    # With an effectively unlimited L the Beta prior (aime25) is a zero-inflated Beta-binomial:
    # (1 - z) (1 - B(a, b+N) / B(a, b)), z the never-solved share; the atom prior (aime24) is
    # sum_j w_j (1 - (1 - p_j)^N), and sigmoid(logit p_j - D) under a logit shift D
    from kinetics_cli.accuracy.passk import beta_binomial_pass_at_k

    ns = np.array([1, 4, 32, 256])
    prior = load_profile("aime25").models["qwen3-4b"]
    a, b = prior.beta_ab
    got = model_accuracy(prior, ns, np.array([1e12]))[:, 0]
    want = (1 - prior.unsolved) * beta_binomial_pass_at_k(a, b, ns)
    np.testing.assert_allclose(got, want, atol=2e-4)
    prior = load_profile("aime24").models["qwen3-4b"]
    p, w = np.array(prior.rates), np.array(prior.rate_weights)
    scale = np.array(prior.rate_shift_scales)  # per-atom sensitivity to the shift
    for shift in (0.0, 1.5):
        ps = 1 / (1 + np.exp(-(np.log(p / (1 - p)) - shift * scale)))
        want = (1 - (1 - ps[None, :]) ** ns[:, None]) @ w
        got = model_accuracy(prior, ns, np.array([1e12]), shift=shift)[:, 0]
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_mean_length_matches_a_fine_quadrature():
    """The tabulated length mixture against E[min(len, L)] summed on 200 x 60 (p, u) nodes:
    lognormal partial means exp(mu + s^2/2) Phi((ln L - mu - s^2)/s) + L (1 - Phi((ln L - mu)/s))."""
    from kinetics_cli.accuracy.passk import beta_nodes, normal_cdf, normal_nodes

    # aime24: per-problem atoms (exact sums over them); aime25: zero-inflated Beta (200 nodes)
    for task, name in itertools.product(
        ("aime24", "aime25"), ("qwen3-0.6b", "qwen3-8b", "qwen3-32b")
    ):
        src = source(task)
        prior = src.profile.models[name]
        lp = prior.length
        if prior.rates:
            p, wp, z = np.array(prior.rates), np.array(prior.rate_weights), 0.0
        else:
            p, wp = beta_nodes(*prior.beta_ab, 200)
            z = prior.unsolved  # never-solved problems: wrong answers at p = 0
        z_u, wz = normal_nodes(60)
        mu = lp.log_correct + lp.difficulty_slope * (1 - p)[:, None] + lp.problem_sd * z_u[None, :]
        weight = wp[:, None] * wz[None, :]
        limits = np.array([2048.0, 8192.0, 32768.0])
        out = src.outcome(Setting(name, "dense", None), np.array([1]), limits)
        got = (out.gen_lengths * out.gen_weights).sum(axis=1)
        for g, limit in enumerate(limits):
            s, log_l = lp.trial_sd, np.log(limit)

            def capped_mean(m: np.ndarray, s: float = s, log_l: float = log_l) -> np.ndarray:
                part = np.exp(m + s * s / 2) * normal_cdf((log_l - m - s * s) / s)
                return part + np.exp(log_l) * (1 - normal_cdf((log_l - m) / s))

            mu0 = lp.log_correct + lp.difficulty_slope + lp.problem_sd * z_u + lp.wrong_shift
            want = (1 - z) * np.sum(
                weight
                * (
                    p[:, None] * capped_mean(mu)
                    + (1 - p[:, None]) * capped_mean(mu + lp.wrong_shift)
                )
            ) + z * np.sum(wz * capped_mean(mu0))
            assert got[g] == pytest.approx(want, rel=2e-4), (name, limit)


def test_whole_trial_counts_by_squaring_match_the_exponential_form():
    from kinetics_cli.accuracy.priors import _miss_powers

    s = np.array([[0.0, 1e-9, 0.3, 0.999], [0.5, 0.1, 1 - 1e-15, 0.7]])
    for counts in (np.array([1.0, 2, 3, 7, 64, 100, 0]), np.array([1.0, 2.5, 8])):
        want = np.exp(counts[:, None, None] * np.log1p(-s)[None, :, :])
        np.testing.assert_allclose(_miss_powers(s, counts), want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("task", TASKS)
def test_description_counts_distinct_sources(task):
    profile = load_profile(task)
    distinct = {*profile.sources, *(s for m in profile.models.values() for s in m.sources)}
    listed = len(profile.sources) + sum(len(m.sources) for m in profile.models.values())
    assert len(distinct) < listed  # the profiles repeat sources across models
    description = PriorSource(profile).description
    assert f"traces from {len(distinct)} sources, see docs/accuracy-priors.md" in description
    assert description.count("(") == 1  # the task's title only: no parentheses inside others


def test_logit_shift_moves_every_rate_down_and_vanishes_with_budget():
    from kinetics_cli.accuracy.priors import shifted

    p = np.array([0.0, 0.01, 0.5, 0.9, 1.0])
    np.testing.assert_array_equal(shifted(p, 0.0), p)
    # sigmoid(logit 0.5 - ln 3) = 1 / (1 + 3) = 0.25; sigmoid(logit 0.9 - ln 3) = 9 / (9 + 3)
    moved = shifted(p, float(np.log(3.0)))
    np.testing.assert_allclose(moved, [0.0, 1 / 298, 0.25, 0.75, 1.0], rtol=1e-12)
    sparse = load_profile("aime24").sparse
    shifts = [sparse.logit_shift("topk", b) for b in (32.0, 256.0, 1024.0, 1e9)]
    assert shifts[0] > shifts[1] > shifts[2] > shifts[3] >= 0 and shifts[3] < 1e-6
    assert sparse.logit_shift("dense", None) == 0.0
    # block top-k at B acts as top-k at B / (penalty (page / 16)^e): a larger shift
    assert sparse.logit_shift("block-topk", 256.0) > sparse.logit_shift("topk", 256.0)


def test_atom_lengths_must_match(tmp_path):
    from kinetics_cli.accuracy.priors import PRIORS_DIR, read_profile

    text = (PRIORS_DIR / "aime24.toml").read_text(encoding="utf-8")
    start = text.index("solve_shift_scales = [") + len("solve_shift_scales = [")
    broken = tmp_path / "aime24.toml"
    broken.write_text(text[:start] + "1.0, " + text[start:], encoding="utf-8")
    with pytest.raises(InputError, match="differ in length"):
        read_profile(broken)


def runaway_effect(**extra: float):  # type: ignore[no-untyped-def]
    """A sparse effect with only the runaway hazard: B_h = 40, rho_h = 2, eta_h = 0.5 at a
    reference of 8B parameters, block pages counting half (penalty 2)."""
    from kinetics_cli.accuracy.priors import SparseEffect

    return SparseEffect(
        success_budget=0.0,
        success_power=1.0,
        length_budget=0.0,
        length_power=1.0,
        size_exponent=0.0,
        length_size_exponent=0.0,
        reference_params=8e9,
        block_penalty=2.0,
        runaway_budget=40.0,
        runaway_power=2.0,
        runaway_size_exponent=0.5,
        **extra,
    )


def test_runaway_hazard_golden_and_limits():
    effect = runaway_effect()
    # (40 (32e9 / 8e9)^0.5 / 40)^2 = 2^2 = 4; block top-k at 80 acts as top-k at 80 / 2 = 40
    assert effect.runaway_hazard("topk", 40.0, 32e9) == pytest.approx(4.0, rel=1e-12)
    assert effect.runaway_hazard("block-topk", 80.0, 32e9) == pytest.approx(4.0, rel=1e-12)
    # (40 / 400)^2 = 0.01 at the reference size; dense and a budget of 0 in the effect: none
    assert effect.runaway_hazard("topk", 400.0, 8e9) == pytest.approx(0.01, rel=1e-12)
    assert effect.runaway_hazard("dense", None, 8e9) == 0.0


def test_runaway_hazard_ends_at_the_end_budget():
    from dataclasses import replace

    effect = runaway_effect(runaway_end_budget=400.0)
    # (40 / 20)^2 - (40 / 400)^2 = 4 - 0.01 at the reference size
    assert effect.runaway_hazard("topk", 20.0, 8e9) == pytest.approx(3.99, rel=1e-12)
    # the end is the same budget for every size: 32B's hazard (80 / B)^2 loses (80 / 400)^2
    assert effect.runaway_hazard("topk", 400.0, 8e9) == 0.0
    assert effect.runaway_hazard("topk", 400.0, 32e9) == 0.0
    assert effect.runaway_hazard("topk", 200.0, 32e9) == pytest.approx(0.16 - 0.04, rel=1e-9)
    assert effect.runaway_hazard("topk", 4096.0, 32e9) == 0.0
    # block top-k at 800 acts as top-k at 400: ended for 8B
    assert effect.runaway_hazard("block-topk", 800.0, 8e9) == 0.0
    # no end budget: the power law of the test above
    no_end = replace(effect, runaway_end_budget=float("inf"))
    assert no_end.runaway_hazard("topk", 400.0, 8e9) == pytest.approx(0.01, rel=1e-12)


def test_runaway_removes_trials_from_accuracy_and_sends_them_to_the_limit():
    """Success is exp(-H s_h) sigmoid(logit p - D s) per atom (closed form without a limit); the
    runaway share of trials sits in the length atom at the limit."""
    from dataclasses import replace

    from kinetics_cli.accuracy.priors import model_lengths, runaway_share

    prior = load_profile("aime24").models["qwen3-8b"]
    p, w = np.array(prior.rates), np.array(prior.rate_weights)
    s_h = np.array(prior.rate_runaway_scales or prior.rate_shift_scales)
    prior = replace(prior, rate_runaway_scales=tuple(s_h))
    ns = np.array([1, 4, 32])
    for hazard in (0.0, 0.7):
        kept = np.exp(-hazard * s_h)
        want = (1 - (1 - kept[None, :] * p[None, :]) ** ns[:, None]) @ w
        got = model_accuracy(prior, ns, np.array([1e12]), runaway=hazard)[:, 0]
        np.testing.assert_allclose(got, want, atol=1e-9)
    share = runaway_share(prior, 0.7)
    assert share == pytest.approx(1 - np.sum(w * np.exp(-0.7 * s_h)) / np.sum(w), rel=1e-12)
    limits = np.array([4096.0, 32768.0])
    base_l, base_w = model_lengths(prior, limits)
    run_l, run_w = model_lengths(prior, limits, runaway=share)
    # the atom at L gains exactly the runaway share of what finished before
    np.testing.assert_allclose(run_w[:, -1], 1 - (1 - share) * (1 - base_w[:, -1]), rtol=1e-9)
    assert np.all((run_l * run_w).sum(axis=1) > (base_l * base_w).sum(axis=1))


def test_spread_note_is_one_flat_phrase() -> None:
    """The note the reports put in parentheses holds none of its own; spreads 0.064 and 0.071
    are 6 and 7 points, one spread is one figure."""
    assert spread_note(np.array([0.064, 0.071])) == (
        "prior, interval from its leave-one-size-out spread, 6 to 7 points either side"
    )
    assert spread_note(np.array([0.1])).endswith("spread, 10 points either side")
    source = PriorSource(load_profile("aime24"))
    setting = Setting("qwen3-30b-a3b", "topk", 512)
    note = source.outcome(setting, np.array([1, 8]), np.array([8192.0])).note
    assert note.startswith("prior, interval from") and "(" not in note


def test_length_table_cdf_at_is_the_cdf_of_parts():
    # model_lengths reads the CDF alone at the limits; it must be parts()'s first half, bit for bit
    prior = load_profile("aime24").models["qwen3-8b"]
    table = priors._length_table(prior)
    y = np.log(np.array([1024.0, 4096.0, 32768.0])) - 0.2
    cdf, _ = table.parts(y, 0.7, 0.9)
    np.testing.assert_array_equal(table.cdf_at(y, 0.7, 0.9), cdf)
