"""The bundled per-problem AIME24 measurements: hand-computed pass@k, truncation with the
shortest-correct pairing, bootstrap intervals, and the composite source."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from kinetics_cli.accuracy import load_accuracy
from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.bootstrap import coverage_replicates, passk_table
from kinetics_cli.accuracy.measured import (
    MEASURED_FILE,
    MEASURED_PAGE_TOKENS,
    CompositeSource,
    MeasuredSource,
    load_measured,
    read_measured,
)
from kinetics_cli.accuracy.passk import pass_at_k
from kinetics_cli.planner.grid import DEFAULT_BLOCK_SIZE

DENSE_32B = Setting("qwen3-32b", "dense", None)


def test_bundled_file_is_the_shared_data_and_ships_in_the_package():
    assert MEASURED_FILE.is_file() and (MEASURED_FILE.parent / "README.md").is_file()
    shared = Path("/work/shared/evaldata/kinetics-aime24/kinetics_aime24_qwen3_per_problem.csv")
    if shared.is_file():
        assert MEASURED_FILE.read_bytes() == shared.read_bytes()
    assert MEASURED_PAGE_TOKENS == DEFAULT_BLOCK_SIZE


def test_qwen3_32b_dense_pass_at_k_by_hand():
    # 30 problems x 8 samples. Correct counts in the CSV: c = 0 twice, 1 twice, 3, 4, 6, 7 twice
    # and 8 on 21 problems (sum 197).
    source = load_measured()
    out = source.outcome(DENSE_32B, np.array([1.0, 2.0, 8.0, 16.0]), np.array([32768.0]))
    # pass@1 = 197 / (30 x 8) = 0.820833
    assert out.accuracy[0, 0] == pytest.approx(197 / 240)
    # pass@2 per problem = 1 - (8-c)(7-c)/56: c=0 -> 0, c=1 -> 14/56, c=3 -> 36/56, c=4 -> 44/56,
    # c=6 -> 54/56, c=7 and c=8 -> 1; mean = (2*14 + 36 + 44 + 54)/56/30 + 23/30
    assert out.accuracy[1, 0] == pytest.approx((2 * 14 + 36 + 44 + 54) / 56 / 30 + 23 / 30)
    # pass@8 = problems ever solved / 30 = 28 / 30; N = 16 > 8 samples: not estimable
    assert out.accuracy[2, 0] == pytest.approx(28 / 30)
    assert np.isnan(out.accuracy[3, 0])
    assert out.kind == "measured" and out.note == "measured: 30 problems x 8 samples"


def test_truncation_pairs_the_correct_samples_with_the_shortest(tmp_path):
    # Problem 1 of qwen3-32b dense: 8 of 8 correct, lengths 5999 6023 6344 6345 6507 6895 7536
    # 7571; problem 5: 0 of 8. At L = 6400 four samples of problem 1 have finished.
    rows = [
        r
        for r in csv.DictReader(MEASURED_FILE.open(newline=""))
        if r["model"] == "qwen3-32b" and r["attention"] == "dense" and r["problem"] in ("1", "5")
    ]
    path = tmp_path / "two.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    source = MeasuredSource.from_tables("aime24", read_measured(path), "two problems")
    out = source.outcome(DENSE_32B, np.array([1.0, 2.0]), np.array([6400.0, 32768.0]))
    assert out.accuracy[0, 0] == pytest.approx((4 / 8 + 0) / 2)  # pass@1 at 6400
    assert out.accuracy[1, 0] == pytest.approx((1 - 6 / 28) / 2)  # 1 - C(4,2)/C(8,2)
    assert out.accuracy[0, 1] == pytest.approx((1 + 0) / 2)  # every sample finishes
    # costs: min(len, L) per sample; at 32768 the mean length of the 16 samples
    mean = float(np.sum(out.gen_lengths[1] * out.gen_weights[1]))
    lengths = [float(x) for r in rows for x in r["gen_lengths"].split(";")]
    assert mean == pytest.approx(np.mean(lengths))


def test_quoted_commas_read_as_the_plain_split(tmp_path):
    """Rows with a quoted comma go through the csv module; the tables are the plain split's."""
    rows = [r for r in csv.DictReader(MEASURED_FILE.open(newline="")) if r["model"] == "qwen3-8b"]
    plain, quoted = tmp_path / "plain.csv", tmp_path / "quoted.csv"
    for path, note in ((plain, ""), (quoted, ", copied")):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**r, "source_file": r["source_file"] + note} for r in rows)
    assert ', copied"' in quoted.read_text()  # a quoted comma
    a, b = read_measured(plain), read_measured(quoted)
    assert list(a) == list(b) and len(a) > 1
    for setting, table in a.items():
        other = b[setting]
        assert (table.ids, table.paired, table.fixed_limit) == (other.ids, other.paired, None)
        for name in ("problem", "prompt", "gen", "correct", "n"):
            x, y = getattr(table, name), getattr(other, name)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name


def test_block_topk_rows_count_only_at_the_planned_page_size():
    settings = load_measured().settings()
    blocks = [s for s in settings if s.attention == "block-topk"]
    assert blocks and all(s.kv_budget == 1024 for s in blocks)  # 16-token pages x 64


def test_interval_is_deterministic_and_contains_the_estimate():
    source = load_measured()
    trials, limits = np.array([1.0, 4.0, 32.0]), np.array([8192.0, 32768.0])
    setting = Setting("qwen3-8b", "topk", 512.0)
    a = source.outcome(setting, trials, limits)
    b = source.outcome(setting, trials, limits)
    assert a.accuracy_ci is not None and b.accuracy_ci is not None
    np.testing.assert_array_equal(a.accuracy_ci, b.accuracy_ci)
    assert np.all(a.accuracy_ci[0] <= a.accuracy + 1e-12)
    assert np.all(a.accuracy + 1e-12 >= a.accuracy_ci[0])
    assert np.all(a.accuracy <= a.accuracy_ci[1] + 1e-12)
    # 30 problems: the interval is several points wide
    assert float(a.accuracy_ci[1, 0, 1] - a.accuracy_ci[0, 0, 1]) > 0.05
    # settings on the same problems share the pairing key (paired comparisons)
    other = source.outcome(DENSE_32B, trials, limits)
    assert other.pairing == a.pairing


def test_composite_uses_measurements_where_they_cover_and_priors_elsewhere():
    source = load_accuracy("aime24", None, lambda name: name)
    assert isinstance(source, CompositeSource) and source.kind == "composite"
    assert source.setting_kind(Setting("qwen3-8b", "topk", 512.0)) == "measured"
    assert source.setting_kind(Setting("qwen3-8b", "topk", 2048.0)) == "priors"
    assert source.setting_kind(Setting("qwen3-4b", "dense", None)) == "priors"
    prior = source.outcome(Setting("qwen3-4b", "dense", None), np.array([1.0]), np.array([3e4]))
    assert prior.kind == "priors" and "prior" in prior.note
    assert "measured where covered" in source.description
    depth, deepest = 0, 0  # reports put the description inside sentences: no parentheses nested
    for ch in source.description:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        deepest = max(deepest, depth)
    assert deepest == 1 and depth == 0, source.description


def brute_force_coverage(lengths, correct, k, limit):
    """Mean over problems of the share of k-subsets with a sample correct within the limit."""
    shares = []
    for ls, cs in zip(lengths, correct, strict=True):
        ok = [c and x <= limit for x, c in zip(ls, cs, strict=True)]
        subsets = list(itertools.combinations(range(len(ls)), k))
        shares.append(sum(any(ok[i] for i in s) for s in subsets) / len(subsets))
    return float(np.mean(shares))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
def test_pass_at_k_and_its_table_against_enumeration(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(range(n), k))
            brute = sum(any(i < c for i in s) for s in subsets) / math.comb(n, k)
            assert float(pass_at_k(n, c, k)) == pytest.approx(brute)
            assert passk_table(n, np.array([float(k)]))[c, 0] == pytest.approx(brute)


def test_truncated_coverage_against_enumeration():
    rng = np.random.default_rng(3)
    lengths = rng.integers(100, 1000, size=(4, 5)).astype(float)
    correct = rng.random((4, 5)) < 0.5
    from kinetics_cli.accuracy.evals import EvaluationSource, Trial

    trials = [
        Trial("t", DENSE_32B, f"q{p}", 10, lengths[p, j], bool(correct[p, j]))
        for p in range(4)
        for j in range(5)
    ]
    source = EvaluationSource("t", trials, [Path("x")])
    limits = np.array([300.0, 600.0, 1000.0])
    out = source.outcome(DENSE_32B, np.arange(1.0, 6.0), limits)
    for t, k in enumerate(range(1, 6)):
        for g, limit in enumerate(limits):
            assert out.accuracy[t, g] == pytest.approx(
                brute_force_coverage(lengths, correct, k, limit)
            )


def test_bootstrap_without_sample_noise_matches_resampled_problem_means():
    # every problem all-correct or all-wrong: only the problem draw varies, so each replicate is
    # the share of solved problems among the drawn ones.
    n = np.array([4, 4, 3])
    # per-sample bucket: 0 = correct within the one limit, 1 = not (wrong or too long); problem 2
    # has 3 samples, its 4th column is padding (the 'not solved' bucket)
    buckets = np.array([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 1]])
    reps = coverage_replicates(n, buckets, 1, np.array([1.0, 2.0]), "key", "label", replicates=50)
    from kinetics_cli.accuracy.bootstrap import problem_draws

    idx = problem_draws(3, "key", 50)
    expected = (idx != 1).mean(axis=1)
    np.testing.assert_allclose(reps[:, 0, 0], expected)
    np.testing.assert_allclose(reps[:, 1, 0], expected)


def test_bootstrap_replicates_average_to_the_estimate():
    # one problem, 10 samples, 3 correct: resampling samples, pass@1 averages 0.3
    n = np.array([10])
    buckets = np.array([[0, 0, 0, 1, 1, 1, 1, 1, 1, 1]])
    reps = coverage_replicates(n, buckets, 1, np.array([1.0]), "k", "l", replicates=4000)
    assert reps[:, 0, 0].mean() == pytest.approx(0.3, abs=0.01)
    assert reps[:, 0, 0].std() == pytest.approx(np.sqrt(0.3 * 0.7 / 10), rel=0.1)


def test_default_plan_says_per_setting_which_data_answers():
    import json

    from typer.testing import CliRunner

    from kinetics_cli.cli.main import app

    result = CliRunner().invoke(app, ["plan", "--budget", "1e16", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    source = doc["accuracy_source"]
    assert source["kind"] == "composite" and source["confidence"] == doc["confidence"] == 0.95
    kinds = {(s["model"], s["attention"], s["kv_budget"]): s["source"] for s in source["settings"]}
    assert kinds[("qwen3-8b", "topk", 512.0)] == "measured: 30 problems x 32 samples"
    assert kinds[("qwen3-32b", "dense", None)] == "measured: 30 problems x 8 samples"
    assert kinds[("qwen3-4b", "dense", None)].startswith("prior")
    best = doc["best"]
    # each configuration says what its accuracy is, in a word and in a line
    for pick in [best, *doc["alternatives"]]:
        word = {"measured:": "measured", "prior,": "priors"}[pick["accuracy_source"].split()[0]]
        assert pick["accuracy_kind"] == word
    lo, hi = best["accuracy_ci"]
    assert lo <= best["accuracy"] <= hi
    # the pick is the cheapest of the configurations it could not tell apart
    ties = doc["indistinguishable"]["configurations"]
    assert all(t["cost"] >= best["cost"] for t in ties)
    assert doc["most_accurate"]["accuracy"] >= best["accuracy"]
