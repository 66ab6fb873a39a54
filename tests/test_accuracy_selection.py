"""Selection rules: every estimator against brute-force enumeration on small hand-written cases."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.bootstrap import problem_draws
from kinetics_cli.accuracy.passk import pass_at_k
from kinetics_cli.accuracy.priors import PriorSource, load_profile
from kinetics_cli.accuracy.selection import (
    AnswerCounts,
    AnswerModel,
    Verifier,
    answer_census,
    beta_cons_at_k,
    check_rules,
    early_stop_samples,
    evaluation_rule_outcome,
    iid_early_stop_samples,
    is_oracle,
    load_answer_model,
    majority_accuracy,
    majority_accuracy_iid,
    majority_accuracy_without,
    prior_rule_outcome,
    verifier_accuracy,
    verifier_accuracy_iid,
)
from kinetics_cli.errors import InputError

# ---- brute force: labels 'R' right, 'A' no answer, any other letter a wrong value -------------


def brute_majority(labels: str, n: int) -> Fraction:
    """Average over every n-subset of the majority credit (1 / tied classes when R is tied)."""
    total, subsets = Fraction(0), 0
    for sub in itertools.combinations(labels, n):
        subsets += 1
        votes = Counter(x for x in sub if x != "A")
        if not votes:
            continue
        top = max(votes.values())
        tied = [k for k, v in votes.items() if v == top]
        if "R" in tied:
            total += Fraction(1, len(tied))
    return total / subsets


def brute_early_stop(labels: str, n: int) -> Fraction:
    """Average over every ordering of the samples drawn before the leader is safe."""
    total, orders = Fraction(0), 0
    for order in itertools.permutations(labels):
        orders += 1
        votes: Counter[str] = Counter()
        for k in range(1, n + 1):
            if order[k - 1] != "A":
                votes[order[k - 1]] += 1
            ranked = [*sorted(votes.values(), reverse=True), 0, 0]
            if ranked[0] - ranked[1] > n - k:
                break
        total += k
    return total / orders


def counts_of(labels: str) -> AnswerCounts:
    wrong = Counter(x for x in labels if x not in "RA")
    return AnswerCounts(
        labels.count("R"), tuple(sorted(wrong.values(), reverse=True)), labels.count("A")
    )


CASES = ["RRWWXA", "RWWXYZ", "RRRWWA", "RWXAAA", "RRWWXX", "WWXXYR", "RRRRRR", "WWWAAA", "RA"]


@pytest.mark.parametrize("labels", CASES)
def test_majority_matches_enumeration_with_ties(labels: str) -> None:
    n = len(labels)
    got = majority_accuracy(counts_of(labels), np.arange(1, n + 1))
    want = [float(brute_majority(labels, k)) for k in range(1, n + 1)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_majority_golden_values() -> None:
    # R R W W: two of four drawn. RR 1/6 -> 1; WW 1/6 -> 0; RW 4/6 -> tie, 1/2. Total 1/6 + 2/6 = 1/2.
    assert majority_accuracy(AnswerCounts(2, (2,)), 2)[0] == pytest.approx(0.5)
    # N = 1 is pass@1: c / n (an abstaining draw answers nothing).
    assert majority_accuracy(AnswerCounts(3, (2, 1), 2), 1)[0] == pytest.approx(3 / 8)
    # N beyond the samples is not estimable.
    assert np.isnan(majority_accuracy(AnswerCounts(1, (1,)), [3])[0])


@pytest.mark.parametrize("labels", CASES[:7])
def test_early_stop_expected_samples_match_every_ordering(labels: str) -> None:
    n = len(labels)
    got = early_stop_samples(counts_of(labels), np.arange(1, n + 1))
    want = [float(brute_early_stop(labels, k)) for k in range(1, n + 1)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_early_stop_golden_value() -> None:
    # R R R with N = 3: after 2 samples the lead 2 > 1 sample left: always 2 samples.
    assert early_stop_samples(AnswerCounts(3, ()), [3])[0] == pytest.approx(2.0)
    # Never more than N samples, never fewer than N / 2.
    e = early_stop_samples(AnswerCounts(5, (4, 3), 2), np.arange(1, 15))
    assert np.all(e <= np.arange(1, 15) + 1e-12) and np.all(e >= np.arange(1, 15) / 2)


labels_strategy = st.text(alphabet="RRWXA", min_size=1, max_size=7)


@settings(max_examples=40)
@given(labels_strategy)
def test_majority_never_beats_coverage(labels: str) -> None:
    counts = counts_of(labels)
    n = np.arange(1, len(labels) + 1)
    maj = majority_accuracy(counts, n)
    cover = pass_at_k(len(labels), labels.count("R"), n)
    assert np.all(maj <= cover + 1e-12)


def brute_verifier(labels: str, n: int, recall: float, fpr: float) -> float:
    total, subsets = 0.0, 0
    for sub in itertools.combinations(labels, n):
        subsets += 1
        right = sum(x == "R" for x in sub)
        for accepted in itertools.product([0, 1], repeat=n):
            p = 1.0
            for x, a in zip(sub, accepted, strict=True):
                rate = recall if x == "R" else fpr
                p *= rate if a else 1 - rate
            kept = [x for x, a in zip(sub, accepted, strict=True) if a]
            share = sum(x == "R" for x in kept) / len(kept) if kept else right / n
            total += p * share
    return total / subsets


@pytest.mark.parametrize("labels", ["RRWWWX", "RWWW", "RRRW"])
def test_verifier_matches_enumeration(labels: str) -> None:
    v = Verifier(0.8, 0.3)
    n = len(labels)
    got = verifier_accuracy(n, labels.count("R"), np.arange(1, n + 1), v)
    want = [brute_verifier(labels, k, 0.8, 0.3) for k in range(1, n + 1)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_verifier_limits() -> None:
    # A perfect verifier is coverage; one that accepts everything is a random pick (pass@1).
    n = np.arange(1, 9)
    np.testing.assert_allclose(
        verifier_accuracy(8, 3, n, Verifier(1.0, 0.0)), pass_at_k(8, 3, n), atol=1e-12
    )
    np.testing.assert_allclose(verifier_accuracy(8, 3, n, Verifier(1.0, 1.0)), 3 / 8, atol=1e-12)
    # precision P at base rate b: F = R b (1 - P) / (P (1 - b)); R 0.9, P 0.9, b 0.5 -> F = 0.1
    assert Verifier.from_precision(0.9, 0.9, 0.5).false_positive_rate == pytest.approx(0.1)


def test_verifier_iid_closed_form_matches_enumeration() -> None:
    p, r, f = 0.3, 0.7, 0.2
    v = Verifier(r, f)
    for n in (1, 2, 3, 4):
        total = 0.0
        for right in itertools.product([0, 1], repeat=n):
            for acc in itertools.product([0, 1], repeat=n):
                prob = 1.0
                for x, a in zip(right, acc, strict=True):
                    prob *= p if x else 1 - p
                    rate = r if x else f
                    prob *= rate if a else 1 - rate
                kept = [x for x, a in zip(right, acc, strict=True) if a]
                total += prob * (sum(kept) / len(kept) if kept else sum(right) / n)
        assert verifier_accuracy_iid(np.array(p), np.array([n]), v)[0] == pytest.approx(total)


# ---- the iid answer model (priors) ------------------------------------------------------------


def brute_iid(c: float, w: float, o: float, n: int) -> tuple[float, float]:
    """Majority credit and early-stop samples over every sequence of categories: R right,
    D the dominant wrong value, S a singleton (distinct each time), A no answer."""
    probs = {"R": c, "D": w, "S": o, "A": 1 - c - w - o}
    acc = samples = 0.0
    for seq in itertools.product("RDSA", repeat=n):
        p = float(np.prod([probs[s] for s in seq]))
        keys = [s if s != "S" else f"S{i}" for i, s in enumerate(seq) if s != "A"]
        votes = Counter(keys)
        if votes:
            top = max(votes.values())
            tied = [k for k, v in votes.items() if v == top]
            acc += p * (1 / len(tied) if "R" in tied else 0.0)
        running: Counter[str] = Counter()
        for k in range(1, n + 1):
            s = seq[k - 1]
            if s != "A":
                running[s if s != "S" else f"S{k}"] += 1
            ranked = [*sorted(running.values(), reverse=True), 0, 0]
            if ranked[0] - ranked[1] > n - k:
                break
        samples += p * k
    return acc, samples


@pytest.mark.parametrize("c,wrong", [(0.5, 0.3), (0.2, 0.7), (0.7, 0.1), (0.05, 0.5)])
def test_iid_majority_and_early_stop_match_enumeration(c: float, wrong: float) -> None:
    model = AnswerModel(0.6)
    for n in (1, 2, 3, 5, 6):
        acc, samples = brute_iid(c, 0.6 * wrong, 0.4 * wrong, n)
        got = majority_accuracy_iid(np.array([c]), np.array([wrong]), model, (n,))[0, 0]
        # x_right >= 2 is read from a (v, theta) table: interpolation error below 1e-4
        assert got == pytest.approx(acc, abs=1e-4)
        es = iid_early_stop_samples(np.array([c]), np.array([wrong]), model, (n,))[0, 0]
        assert es == pytest.approx(samples, abs=1e-10)


def test_answer_model_is_a_fitted_prior() -> None:
    model = load_answer_model()
    assert 0.0 <= model.dominant_share <= 1.0
    assert "prior" in model.source and "leave-one-out" in model.source
    # cons@64 rises above pass@1 under the model: 28.9% pass@1 (R1-Distill-1.5B) votes higher.
    assert beta_cons_at_k(0.289, 0.688, model, 64) > 0.289


def test_bundled_answer_model_is_the_fit_on_todays_priors() -> None:
    """answer_model.toml must be refitted when the aime24 priors change (its q depends on each
    model's per-problem spread): the bundled q is the least-squares optimum of
    tools/fit_answer_model.py's grid (steps of 0.001) over the published pairs, so both grid
    neighbours fit worse."""
    import csv
    from pathlib import Path

    pairs = list(
        csv.DictReader((Path(__file__).parents[1] / "tools/data/cons_published.csv").open())
    )
    spread = {name: m.concentration for name, m in load_profile("aime24").models.items()}

    def sse(q: float) -> float:
        return sum(
            (
                beta_cons_at_k(float(r["pass1"]), spread[r["size_twin"]], AnswerModel(q), 64)
                - float(r["cons64"])
            )
            ** 2
            for r in pairs
        )

    q = load_answer_model().dominant_share
    assert len(pairs) == 6
    assert sse(q) < sse(q - 0.001) and sse(q) < sse(q + 0.001)


def test_prior_rules_order() -> None:
    source = PriorSource(load_profile("aime24"))
    setting = Setting("qwen3-8b", "dense", None)
    trials, limits = np.array([1.0, 4.0, 16.0]), np.array([8192.0, 32768.0])
    cover = prior_rule_outcome(source, setting, "coverage", trials, limits)
    np.testing.assert_allclose(
        cover.accuracy, source.outcome(setting, trials, limits).accuracy, rtol=1e-9
    )
    maj = prior_rule_outcome(source, setting, "majority", trials, limits)
    ver = prior_rule_outcome(
        source, setting, "verifier", trials, limits, verifier=Verifier(0.9, 0.05)
    )
    es = prior_rule_outcome(source, setting, "early-stop", trials, limits)
    # one trial: every rule is pass@1; more trials: coverage bounds the deployable rules
    np.testing.assert_allclose(maj.accuracy[0], cover.accuracy[0], atol=2e-4)
    assert np.all(maj.accuracy <= cover.accuracy + 1e-9)
    assert np.all(ver.accuracy <= cover.accuracy + 1e-9)
    np.testing.assert_allclose(es.accuracy, maj.accuracy)
    assert np.all(es.samples[1:] < trials[1:, None])


# ---- evaluation rows -------------------------------------------------------------------------


@dataclass
class Row:
    problem: str
    gen_tokens: int
    correct: bool
    answer: str | None


def test_evaluation_rule_outcome_truncates_and_averages() -> None:
    rows = [
        Row("a", 100, True, "5"),
        Row("a", 900, True, "5"),
        Row("a", 200, False, "7"),
        Row("b", 100, False, "1"),
        Row("b", 150, False, "2"),
        Row("b", 300, True, "3"),
    ]
    out = evaluation_rule_outcome(rows, "majority", np.array([1.0, 3.0]), np.array([500.0, 1000.0]))
    # limit 500: a = R A W (the 900-token right answer has none): N=3 tie R/W -> 1/2; b = W X R: 1/3
    # limit 1000: a = R R W -> 1; b unchanged 1/3. N = 1: a 1/3 then 2/3, b 1/3.
    np.testing.assert_allclose(out.accuracy, [[1 / 3, 1 / 2], [(0.5 + 1 / 3) / 2, (1 + 1 / 3) / 2]])
    es = evaluation_rule_outcome(rows, "early-stop", np.array([3.0]), np.array([1000.0]))
    want = (float(brute_early_stop("RRW", 3)) + float(brute_early_stop("WXR", 3))) / 2
    assert es.samples[0, 0] == pytest.approx(want)


def test_evaluation_rule_interval_is_a_problem_bootstrap() -> None:
    """Replicate b is the mean over problems drawn by bootstrap.problem_draws for the pairing
    key (problems in sorted id order), recomputed here by brute force from the per-problem
    majority values; the interval is the 2.5/97.5% percentile of the replicates."""
    rows = [
        Row("b", 100, False, "1"),  # listed first: the problem order is sorted ids, not input
        Row("b", 150, False, "2"),
        Row("b", 300, True, "3"),
        Row("a", 100, True, "5"),
        Row("a", 900, True, "5"),
        Row("a", 200, False, "7"),
    ]
    trials, limits = np.array([1.0, 3.0]), np.array([500.0, 1000.0])
    out = evaluation_rule_outcome(rows, "majority", trials, limits, pairing="mytask:key")
    # per problem (see test above): a = [[1/3, 2/3], [1/2, 1]], b = [[1/3, 1/3], [1/3, 1/3]]
    per = np.array([[[1 / 3, 2 / 3], [1 / 2, 1.0]], [[1 / 3, 1 / 3], [1 / 3, 1 / 3]]])
    draws = problem_draws(2, "mytask:key")
    want = np.stack([per[d].mean(axis=0) for d in draws])
    assert out.replicates is not None and out.accuracy_ci is not None
    np.testing.assert_allclose(out.replicates, want, rtol=1e-12)
    np.testing.assert_allclose(out.accuracy_ci, np.quantile(want, [0.025, 0.975], axis=0))
    np.testing.assert_allclose(out.accuracy, per.mean(axis=0))
    # without a pairing key there is no bootstrap (as before)
    plain = evaluation_rule_outcome(rows, "majority", trials, limits)
    assert plain.accuracy_ci is None and plain.replicates is None


def test_prior_rule_interval_is_the_fit_spread() -> None:
    source = PriorSource(load_profile("aime24"))
    trials, limits = np.array([1.0, 4.0, 16.0]), np.array([8192.0, 32768.0])
    for setting in (Setting("qwen3-8b", "dense", None), Setting("qwen3-8b", "topk", 64.0)):
        spread = source.profile.spread(setting.attention, setting.kv_budget, trials)[:, None]
        for rule in ("majority", "early-stop", "coverage"):
            out = prior_rule_outcome(source, setting, rule, trials, limits)
            assert out.accuracy_ci is not None
            want = np.clip(np.stack([out.accuracy - spread, out.accuracy + spread]), 0.0, 1.0)
            np.testing.assert_allclose(out.accuracy_ci, want)
            assert np.all(out.accuracy_ci[1] > out.accuracy_ci[0])


def test_majority_needs_answers() -> None:
    rows = [Row("a", 100, True, None), Row("a", 100, False, None)]
    with pytest.raises(InputError, match="answer"):
        evaluation_rule_outcome(rows, "majority", np.array([2.0]), np.array([1000.0]))
    out = evaluation_rule_outcome(rows, "coverage", np.array([2.0]), np.array([1000.0]))
    assert out.accuracy[0, 0] == 1.0


def test_majority_refuses_rows_without_an_answer_field_beside_rows_with_one() -> None:
    """Problem a: right '5', wrong '7' (answered), and two trials of a file without answers, one
    right, one wrong. The right one votes (it is marked correct); the wrong one, left out, would
    make majority@4 = 1 (right 2 votes, '7' 1), where had it answered '7' the vote ties 2-2 and
    is worth 1/2. Such rows are refused, for majority and early-stop alike."""
    rows = [
        Row("a", 100, True, "5"),
        Row("a", 100, False, "7"),
        Row("a", 100, True, None),
        Row("a", 100, False, None),
    ]
    trials, limits = np.array([2.0, 4.0]), np.array([1000.0])
    for rule in ("majority", "early-stop"):
        with pytest.raises(InputError) as err:
            evaluation_rule_outcome(rows, rule, trials, limits, label="qwen3-8b dense")
        message = str(err.value)
        assert message.startswith(
            f"selection rule {rule!r} on qwen3-8b dense: 2 of 4 trials have no 'answer' field "
            "(the first: problem 'a')"
        )
        assert "overstated" in message
    # the rules that read no answers still run on them
    out = evaluation_rule_outcome(rows, "coverage", trials, limits)
    assert out.accuracy[1, 0] == 1.0


def test_an_empty_answer_is_no_vote_and_is_counted() -> None:
    """'' is a recorded answer (no final answer extracted): the vote runs, the wrong trial does
    not vote. Problem a: right, wrong '7', wrong ''. Majority@2 over the 3 pairs: {R, 7} tie 1/2,
    {R, ''} 1, {7, ''} 0: 1/2; majority@3: R and 7 tie, 1/2."""
    rows = [Row("a", 100, True, "5"), Row("a", 100, False, "7"), Row("a", 100, False, "")]
    out = evaluation_rule_outcome(rows, "majority", np.array([2.0, 3.0]), np.array([1000.0]))
    assert out.accuracy[:, 0] == pytest.approx([1 / 2, 1 / 2])
    census = answer_census(rows)
    assert (census.trials, census.missing, census.silent, census.answered) == (3, 0, 1, 2)
    # a right trial with an empty answer still votes for the right answer: not counted as silent
    assert answer_census([Row("a", 100, True, "")]).silent == 0


def test_majority_without_one_sample() -> None:
    counts = counts_of("RRWX")
    got = majority_accuracy_without(counts, "correct", [3])[0]
    assert got == pytest.approx(float(brute_majority("RWX", 3)))
    got = majority_accuracy_without(counts, "wrong:0", [2])[0]
    assert got == pytest.approx(float(brute_majority("RRX", 2)))


def test_rule_names() -> None:
    assert check_rules(["majority", "coverage", "majority"]) == ("majority", "coverage")
    assert is_oracle("coverage") and not is_oracle("majority")
    with pytest.raises(InputError, match="unknown selection rule"):
        check_rules(["best"])


def test_stated_precision_holds_at_each_limits_pass_at_1() -> None:
    rows = [Row("a", 900, True, "5"), Row("a", 100, False, "1"), Row("a", 100, False, "2")]
    stated = Verifier(0.9, 0.0, precision=0.9)
    out = evaluation_rule_outcome(
        rows, "verifier", np.array([2.0]), np.array([500.0, 1000.0]), stated
    )
    # limit 500: nothing right finishes (pass@1 0): accuracy 0. Limit 1000: pass@1 b = 1/3, so
    # F = R b (1 - P) / (P (1 - b)) = 0.9 * (1/3) * 0.1 / (0.9 * 2/3) = 0.05
    assert out.accuracy[0, 0] == pytest.approx(0.0)
    want = verifier_accuracy(3, 1, [2], Verifier(0.9, 0.05))[0]
    assert out.accuracy[0, 1] == pytest.approx(want)


def test_early_stop_grid_reads_within_a_percent_of_n() -> None:
    from kinetics_cli.accuracy.selection import _bilinear, _early_stop_grid

    trials = (4, 16, 64)
    table = _early_stop_grid(0.2, trials)
    rng = np.random.default_rng(7)
    right, share = rng.random(50), rng.random(50)
    exact = iid_early_stop_samples(right, share * (1 - right), AnswerModel(0.2), trials)
    read = _bilinear(table, right, share)
    assert np.all(np.abs(read - exact) <= 0.01 * np.array(trials)[:, None])
