"""User evaluation files: parsing, coverage, lengths, and errors that name file, line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.accuracy import load_accuracy
from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.evals import EvaluationSource, Trial, read_evals
from kinetics_cli.errors import CatalogError, InputError

ALIASES = {"qwen3-8b": "qwen3-8b", "qwen/qwen3-8b": "qwen3-8b", "qwen3-32b": "qwen3-32b"}


def resolve(name: str) -> str:
    try:
        return ALIASES[name.lower()]
    except KeyError:
        raise CatalogError(f"unknown model card {name!r}") from None


def row(
    problem,
    gen,
    correct,
    *,
    model="Qwen/Qwen3-8B",
    attention="dense",
    budget=None,
    prompt=100,
    task="aime24",
):
    return {
        "task": task,
        "model": model,
        "attention": attention,
        "kv_budget": budget,
        "problem": problem,
        "prompt_tokens": prompt,
        "gen_tokens": gen,
        "correct": correct,
    }


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# Problem "a": 4 trials, 1 correct; problem 7: 4 trials, 2 correct (one of them 5000 tokens long).
ROWS = [
    row("a", 1000, True, prompt=100),
    row("a", 3000, False, prompt=100),
    row("a", 6000, False, prompt=100),
    row("a", 8000, False, prompt=100),
    row(7, 2000, True, prompt=300),
    row(7, 5000, True, prompt=300),
    row(7, 9000, False, prompt=300),
    row(7, 9000, False, prompt=300),
]
DENSE = Setting("qwen3-8b", "dense", None)


def test_jsonl_coverage_golden(tmp_path):
    src = load_accuracy("aime24", [write_jsonl(tmp_path / "e.jsonl", ROWS)], resolve)
    assert (
        src.kind == "evaluations" and "8 trials" in src.description and "e.jsonl" in src.description
    )
    assert "8 trials, 1 setting" in src.description and "settings" not in src.description
    assert src.settings() == [DENSE]
    out = src.outcome(DENSE, np.array([1, 2, 4, 8]), np.array([4000.0, 1e6]))
    # L = 1e6: pass@1 = (1/4 + 2/4) / 2 = 0.375
    #          pass@2: a = 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5; 7 = 1 - C(2,2)/C(4,2) = 1 - 1/6 -> mean 2/3
    assert out.accuracy[0, 1] == pytest.approx(0.375)
    assert out.accuracy[1, 1] == pytest.approx((0.5 + 5 / 6) / 2)
    assert out.accuracy[2, 1] == pytest.approx(1.0)
    # L = 4000: problem 7's 5000-token correct answer is cut off -> 7 has 1 of 4: pass@1 = 0.25
    assert out.accuracy[0, 0] == pytest.approx(0.25)
    assert np.isnan(out.accuracy[3]).all()  # 8 trials > 4 per problem: not available
    assert src.max_trials(DENSE) == 4


def test_the_same_file_twice_is_refused(tmp_path):
    """Given twice, a file's rows would count as 8 samples per problem: pass@2 of problem "a"
    would read 1 - C(6,2)/C(8,2) = 1 - 15/28 instead of 0.5, and N = 8 would open up."""
    path = write_jsonl(tmp_path / "e.jsonl", ROWS)
    again = tmp_path / "sub" / ".." / "e.jsonl"
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match="the same file is given twice"):
        load_accuracy("aime24", [path, again], resolve)


def test_sample_counts_are_worded_in_the_singular_where_they_are_one(tmp_path):
    one_each = [row("a", 1000, True), row("b", 2000, False)]
    src = load_accuracy("aime24", [write_jsonl(tmp_path / "one.jsonl", one_each)], resolve)
    assert src.samples_text(DENSE) == "2 problems x 1 sample"
    single = [row("a", 1000, True), row("a", 2000, False)]
    src = load_accuracy("aime24", [write_jsonl(tmp_path / "single.jsonl", single)], resolve)
    assert src.samples_text(DENSE) == "1 problem x 2 samples"


def test_lengths_cost_min_of_length_and_limit(tmp_path):
    src = load_accuracy("aime24", [write_jsonl(tmp_path / "e.jsonl", ROWS)], resolve)
    out = src.outcome(DENSE, np.array([1]), np.array([4000.0, 1e6]))
    np.testing.assert_allclose(out.gen_weights.sum(axis=1), 1.0)
    assert out.gen_lengths.max(axis=1)[0] == 4000.0
    # each problem weighs 1/2, each trial 1/8: mean of min(len, 4000)
    want = np.mean([1000, 3000, 4000, 4000, 2000, 4000, 4000, 4000])
    assert np.sum(out.gen_lengths[0] * out.gen_weights[0]) == pytest.approx(want)
    assert out.prompt_len == pytest.approx(200.0)
    assert np.sum(out.point_prompt_lens[0] * out.gen_weights[0]) == pytest.approx(200.0)


def test_csv_with_extra_columns_and_sparse_rows(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct,seed\n"
        "AIME24,qwen3-32b,topk,1024,1,150,900,true,0\n"
        "AIME24,qwen3-32b,topk,1024,1,150,1200,FALSE,1\n"
        "AIME24,qwen3-32b,block_topk,512,1,150,1200,yes,0\n"
        "AIME24,qwen3-32b,dense,,1,150,1000,0,0\n"
    )
    src = load_accuracy("aime24", [path], resolve)
    assert set(src.settings()) == {
        Setting("qwen3-32b", "topk", 1024.0),
        Setting("qwen3-32b", "block-topk", 512.0),
        Setting("qwen3-32b", "dense", None),
    }
    out = src.outcome(Setting("qwen3-32b", "topk", 1024.0), np.array([1, 2]), np.array([32768.0]))
    np.testing.assert_allclose(out.accuracy[:, 0], [0.5, 1.0])


def test_many_trials_are_merged_into_weighted_points():
    trials = [Trial("t", DENSE, str(i % 10), 100, 100 + 7 * i, i % 3 == 0) for i in range(500)]
    src = EvaluationSource("t", trials, [Path("x.jsonl")])
    out = src.outcome(DENSE, np.array([1]), np.array([2000.0, 5000.0]))
    assert out.gen_lengths.shape == (2, 64)
    exact = [np.mean([min(100 + 7 * i, lim) for i in range(500)]) for lim in (2000.0, 5000.0)]
    np.testing.assert_allclose((out.gen_lengths * out.gen_weights).sum(axis=1), exact)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 20000), st.booleans()), min_size=1, max_size=60
    )
)
def test_coverage_rises_with_trials_and_limit(data):
    trials = [Trial("t", DENSE, str(p), 50, g, c) for p, g, c in data]
    src = EvaluationSource("t", trials, [Path("x.jsonl")])
    n = src.max_trials(DENSE)
    ns = np.arange(1, n + 1)
    limits = np.array([1000.0, 5000.0, 10000.0, 25000.0])
    acc = src.outcome(DENSE, ns, limits).accuracy
    assert np.all(np.diff(acc, axis=0) >= -1e-12)
    assert np.all(np.diff(acc, axis=1) >= -1e-12)


@pytest.mark.parametrize(
    "text,needle",
    [
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "dense", "problem": 1, "prompt_tokens": 5, "gen_tokens": 9}',
            "missing field 'correct'",
        ),
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "dense", "problem": 1, "prompt_tokens": 5, "gen_tokens": 9, "correct": "maybe"}',
            "field 'correct'",
        ),
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "dense", "problem": 1, "prompt_tokens": 5, "gen_tokens": -3, "correct": true}',
            "field 'gen_tokens'",
        ),
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "sliding", "problem": 1, "prompt_tokens": 5, "gen_tokens": 3, "correct": true}',
            "field 'attention'",
        ),
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "topk", "problem": 1, "prompt_tokens": 5, "gen_tokens": 3, "correct": true}',
            "field 'kv_budget'",
        ),
        (
            '{"task": "aime24", "model": "qwen3-8b", "attention": "dense", "kv_budget": 64, "problem": 1, "prompt_tokens": 5, "gen_tokens": 3, "correct": true}',
            "field 'kv_budget'",
        ),
        (
            '{"task": "aime24", "model": "gpt-9", "attention": "dense", "problem": 1, "prompt_tokens": 5, "gen_tokens": 3, "correct": true}',
            "field 'model'",
        ),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_jsonl_rows_name_file_line_and_field(tmp_path, text, needle):
    good = json.dumps(row(1, 10, True))
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + text + "\n")
    with pytest.raises(InputError) as err:
        read_evals(path, resolve)
    assert f"{path}:2" in str(err.value) and needle in str(err.value)


def test_bad_csv_header_and_values(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,correct\naime24,qwen3-8b,dense,,1,5,true\n"
    )
    with pytest.raises(InputError, match=rf"{path}:1: missing column 'gen_tokens'"):
        read_evals(path, resolve)
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct\n"
        "aime24,qwen3-8b,dense,,1,5,10,true\n"
        "aime24,qwen3-8b,dense,,1,5,ten,true\n"
    )
    with pytest.raises(InputError, match=rf"{path}:3: field 'gen_tokens'"):
        read_evals(path, resolve)


def test_unknown_task_lists_tasks_in_files(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", ROWS)
    with pytest.raises(InputError, match="tasks there: aime24"):
        load_accuracy("gpqa", [path], resolve)


def test_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(InputError, match="no evaluation rows"):
        read_evals(path, resolve)


def test_csv_row_with_too_few_values_names_its_line(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct\n"
        "aime24,qwen3-8b,dense,,1,5,10,true\n"
        "aime24,qwen3-8b,dense,,1,5\n"
    )
    with pytest.raises(InputError, match=rf"{path}:3: fewer values than header columns"):
        read_evals(path, resolve)


def test_approximate_token_counts_are_named_in_the_description(tmp_path):
    # rows written by `kinetics evals import` without a tokenizer carry token_counts = approximate
    rows = [dict(r, token_counts="approximate: ceil(characters / 4)") for r in ROWS[:4]]
    rows += [dict(r, token_counts="tokenizer tok.json") for r in ROWS[4:]]
    src = load_accuracy("aime24", [write_jsonl(tmp_path / "e.jsonl", rows)], resolve)
    assert "token counts approximate (characters / 4) in 4 of 8 trials" in src.description
    exact = load_accuracy("aime24", [write_jsonl(tmp_path / "x.jsonl", ROWS)], resolve)
    assert "token counts" not in exact.description


def test_toy_file_pass_at_k_and_majority_by_hand(tmp_path):
    """Three problems x four trials (gen tokens, correct, answer), checked against hand arithmetic
    with the unbiased estimator pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), n = 4:

    p1: 1000 right '5', 3000 wrong '7', 2000 right '5', 5000 wrong '9'
    p2: 4000 wrong '1', 6000 right '2', 1500 wrong '1', 7000 wrong '3'
    p3:  800 right '4',  900 right '4', 1200 right '4', 9000 wrong '8'

    At L = 2048 the right trials within L are c = 2, 0, 3: pass@1 = (2/4 + 0 + 3/4) / 3 = 5/12;
    pass@2 = (1 - C(2,2)/C(4,2) + 0 + 1 - C(1,2)/6) / 3 = (5/6 + 0 + 1) / 3 = 11/18;
    pass@4 = (1 + 0 + 1) / 3 = 2/3. At L = 8192, c = 2, 1, 3: pass@2 = (5/6 + 1 - 3/6 + 1) / 3
    = 7/9, pass@4 = 1.

    Majority@2 at L = 8192 (p3's 9000 is cut and does not vote), over the 6 pairs of each problem:
    p1: 1 right pair + 4 right-wrong ties at 1/2 = 3/6; p2: 3 ties at 1/2 = 1.5/6;
    p3: every pair holds a right vote and no other = 1; mean (1/2 + 1/4 + 1) / 3 = 7/12.
    Majority@4 at L = 16384: '5' wins p1, '1' wins p2, '4' wins p3: 2/3."""
    from kinetics_cli.accuracy.selection import evaluation_rule_outcome

    trials = [
        ("p1", 1000, True, "5"),
        ("p1", 3000, False, "7"),
        ("p1", 2000, True, "5"),
        ("p1", 5000, False, "9"),
        ("p2", 4000, False, "1"),
        ("p2", 6000, True, "2"),
        ("p2", 1500, False, "1"),
        ("p2", 7000, False, "3"),
        ("p3", 800, True, "4"),
        ("p3", 900, True, "4"),
        ("p3", 1200, True, "4"),
        ("p3", 9000, False, "8"),
    ]
    rows = [dict(row(p, g, c, task="toy"), answer=a) for p, g, c, a in trials]
    src = load_accuracy("toy", [write_jsonl(tmp_path / "toy.jsonl", rows)], resolve)
    out = src.outcome(DENSE, np.array([1, 2, 4]), np.array([2048.0, 8192.0]))
    assert out.accuracy[:, 0] == pytest.approx([5 / 12, 11 / 18, 2 / 3])
    assert out.accuracy[:, 1] == pytest.approx([(2 / 4 + 1 / 4 + 3 / 4) / 3, 7 / 9, 1.0])
    majority = evaluation_rule_outcome(
        src.trials_by_setting[DENSE], "majority", np.array([2, 4]), np.array([8192.0, 16384.0])
    )
    assert majority.accuracy[0, 0] == pytest.approx(7 / 12)
    assert majority.accuracy[1, 1] == pytest.approx(2 / 3)


def test_csv_headers_that_cannot_be_read_as_meant(tmp_path):
    """An empty file, a header separated by ';' (a spreadsheet's locale export) and a column
    given twice (which value wins would be a guess) are each one line naming file and line."""
    path = tmp_path / "e.csv"
    path.write_text("")
    with pytest.raises(InputError, match=rf"^{path}: empty file \(expected a header line: task,"):
        read_evals(path, resolve)
    path.write_text(
        "task;model;attention;kv_budget;problem;prompt_tokens;gen_tokens;correct\n"
        "aime24;qwen3-8b;dense;;1;5;10;true\n"
    )
    with pytest.raises(InputError, match=rf"^{path}:1: the header is one column, .*not ';'"):
        read_evals(path, resolve)
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct,correct\n"
        "aime24,qwen3-8b,dense,,1,5,10,true,false\n"
    )
    with pytest.raises(InputError, match=rf"^{path}:1: column 'correct' appears more than once"):
        read_evals(path, resolve)


def test_sparse_row_without_a_kv_budget_says_what_is_missing(tmp_path):
    path = write_jsonl(tmp_path / "e.jsonl", [row("a", 10, True, attention="block-topk")])
    with pytest.raises(
        InputError, match=r":1: field 'kv_budget': block-topk attention needs its KV"
    ):
        read_evals(path, resolve)


def test_a_file_joined_to_itself_or_copied_is_refused(tmp_path):
    """Each trial would count twice: pass@2 of a problem with 1 right of 2 is 1, of the same
    trials doubled (2 right of 4) 1 - C(2,2)/C(4,2) = 5/6."""
    once = write_jsonl(tmp_path / "once.jsonl", ROWS)
    twice = write_jsonl(tmp_path / "twice.jsonl", ROWS + ROWS)
    copy = write_jsonl(tmp_path / "copy.jsonl", ROWS)
    with pytest.raises(
        InputError, match=rf"^{twice}:9: from here to the end the rows repeat the 8"
    ):
        load_accuracy("aime24", [twice], resolve)
    with pytest.raises(InputError, match=rf"^--evals {copy}: the same rows as {once}"):
        load_accuracy("aime24", [once, copy], resolve)
    # two trials cut at the limit agree field for field, and so may a file of only such trials
    cut = [row("a", 9000, False), row("b", 9000, False)]
    assert (
        len(
            load_accuracy(
                "aime24", [write_jsonl(tmp_path / "cut.jsonl", cut * 2)], resolve
            ).trials_by_setting[DENSE]
        )
        == 4
    )


def test_repeated_per_problem_rows_are_named(tmp_path):
    path = tmp_path / "p.jsonl"
    agg = {
        "task": "aime24",
        "model": "qwen3-8b",
        "attention": "dense",
        "prompt_tokens": 10,
        "samples": 2,
        "correct": 1,
        "gen_lengths": [100, 200],
    }
    path.write_text("\n".join(json.dumps(dict(agg, problem=p)) for p in ("a", "b", "a")) + "\n")
    src = load_accuracy("aime24", [path], resolve)
    assert (
        f"1 per-problem row repeats the problem and setting of an earlier one ({path}:3 = {path}:1)"
        in src.description
    )


@pytest.mark.parametrize("field", ["answer", "problem", "task", "model"])
@pytest.mark.parametrize("value", [["42"], {"value": 42}])
def test_a_list_or_object_in_a_name_field_is_refused(tmp_path, field, value):
    """A JSON list or object would be read as its Python repr ("['42']"): a problem id or an
    answer that no other row can match. Refused, naming file, line, field and what was
    expected."""
    bad = dict(row(1, 10, True), answer="7")
    bad[field] = value
    path = write_jsonl(tmp_path / "e.jsonl", [dict(row(1, 10, True), answer="7"), bad])
    kind = "a list" if isinstance(value, list) else "an object"
    with pytest.raises(InputError) as err:
        read_evals(path, resolve)
    assert str(err.value).startswith(
        f"{path}:2: field '{field}': expected a string or number, got {kind}: "
    )


def test_an_answer_field_that_is_empty_is_told_apart_from_none(tmp_path):
    """answer None: the row has no such field (its vote is unknown); '': the field is there but
    empty or null (the trial gave no final answer). Numbers are read as their text."""
    rows = [
        dict(row(1, 10, True), answer=42),
        dict(row(1, 10, False), answer=""),
        dict(row(1, 10, False), answer=None),
        row(1, 10, False),
    ]
    answers = [t.answer for t in read_evals(write_jsonl(tmp_path / "e.jsonl", rows), resolve)]
    assert answers == ["42", "", "", None]
    path = tmp_path / "e.csv"
    path.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct,answer\n"
        "aime24,qwen3-8b,dense,,1,5,10,true,42\n"
        "aime24,qwen3-8b,dense,,1,5,10,false,\n"
    )
    assert [t.answer for t in read_evals(path, resolve)] == ["42", ""]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("gen_tokens", 2 * 10**9, "expected a whole number of tokens (0 to 1,000,000,000)"),
        ("prompt_tokens", -1, "expected a whole number of tokens (0 to 1,000,000,000)"),
    ],
)
def test_range_errors_print_their_bounds_with_thousands_separators(tmp_path, field, value, message):
    """Token counts elsewhere read '134,217,728 tokens' (units.parse_tokens); the bounds here are
    written the same way, not as '1e+09'."""
    bad = row(1, 10, True)
    bad[field] = value
    path = write_jsonl(tmp_path / "e.jsonl", [bad])
    with pytest.raises(InputError) as err:
        read_evals(path, resolve)
    assert f"field '{field}': {message}, got {value!r}" in str(err.value)
    assert "e+" not in str(err.value)


def test_per_problem_sample_bounds_are_written_in_full(tmp_path):
    bad = {
        "task": "aime24",
        "model": "qwen3-8b",
        "attention": "dense",
        "problem": 1,
        "prompt_tokens": 5,
        "samples": 2 * 10**6,
        "correct": 1,
        "gen_limit": 8192,
        "mean_gen_tokens": 9000,
    }
    path = write_jsonl(tmp_path / "e.jsonl", [bad])
    with pytest.raises(InputError, match=r"a whole number of samples \(0 to 1,000,000\)"):
        read_evals(path, resolve)
    path = write_jsonl(tmp_path / "e.jsonl", [dict(bad, samples=2)])
    with pytest.raises(InputError, match="within gen_limit 8,192, got 9000"):
        read_evals(path, resolve)


def test_a_float_columns_one_and_zero_read_as_right_and_wrong(tmp_path):
    """pandas writes an integer column that holds a NaN as floats: correct '1.0' / '0.0' beside
    prompt_tokens '100.0'. The counts were read, the correctness refused; both read now, as
    JSON's 1.0 does. '0.5' is still refused."""
    path = tmp_path / "pandas.csv"
    head = "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct\n"
    path.write_text(
        head + "t,qwen3-8b,dense,,1,100.0,5000.0,1.0\nt,qwen3-8b,dense,,2,100,7000,0.0\n"
    )
    assert [t.correct for t in read_evals(path, resolve)] == [True, False]
    path.write_text(head + "t,qwen3-8b,dense,,1,100,5000,0.5\n")
    with pytest.raises(InputError, match=r"pandas\.csv:2: field 'correct': .* got '0\.5'"):
        read_evals(path, resolve)


# ------------------------------------------------------------------------------ the run's own cap


def capped(problem, gen, correct, cap, **extra):  # type: ignore[no-untyped-def]
    return {**row(problem, gen, correct), "gen_limit": cap, **extra}


def test_gen_limit_is_the_settings_cap_the_smallest_when_rows_differ(tmp_path: Path) -> None:
    """Per-trial rows carry the run's cap as gen_limit; a setting's cap is the smallest of its
    rows' (a row without one is taken as uncut up to it); none given: None."""
    rows = [
        capped("a", 4096, False, 4096),
        capped("a", 1200, True, 4096),
        capped("b", 3072, False, 3072),  # another run, capped lower
        row("b", 900, True),  # no cap
    ]
    path = write_jsonl(tmp_path / "e.jsonl", rows)
    trials = read_evals(path, resolve)
    assert [t.gen_limit for t in trials] == [4096.0, 4096.0, 3072.0, None]
    source = load_accuracy("aime24", [path], resolve)
    dense = Setting("qwen3-8b", "dense", None)
    assert source.gen_cap(dense) == 3072.0
    assert source.longest_generation(dense) == 4096.0
    plain = write_jsonl(tmp_path / "plain.jsonl", [row("a", 1200, True), row("a", 4096, False)])
    assert load_accuracy("aime24", [plain], resolve).gen_cap(dense) is None


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_gen_limit_is_no_cap(tmp_path: Path, empty: object) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [capped("a", 1200, True, empty)])
    assert read_evals(path, resolve)[0].gen_limit is None


def test_an_exact_count_above_the_rows_cap_is_refused(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "e.jsonl", [capped("a", 1200, True, 4096), capped("a", 5000, False, 4096)]
    )
    with pytest.raises(InputError) as err:
        read_evals(path, resolve)
    assert str(err.value) == (
        f"{path}:2: field 'gen_tokens': 5,000 tokens is longer than the row's gen_limit, 4,096 "
        "(the run's own generation cap)"
    )


def test_an_approximate_count_above_the_cap_reads_as_the_cap(tmp_path: Path) -> None:
    """characters / 4 may overshoot a generation the run cut at 4,096: it counts as 4,096."""
    rows = [capped("a", 4300, True, 4096, token_counts="approximate: ceil(characters / 4)")]
    trial = read_evals(write_jsonl(tmp_path / "e.jsonl", rows), resolve)[0]
    assert trial.gen_tokens == 4096 and trial.gen_limit == 4096.0


@pytest.mark.parametrize("bad", ["0", "-5", "4k", "1.5"])
def test_a_bad_gen_limit_names_the_field(tmp_path: Path, bad: str) -> None:
    path = write_jsonl(tmp_path / "e.jsonl", [capped("a", 10, True, bad)])
    with pytest.raises(
        InputError, match=rf"^{re.escape(str(path))}:1: field 'gen_limit': expected"
    ):
        read_evals(path, resolve)


def test_per_problem_rows_gen_limit_is_their_cap(tmp_path: Path) -> None:
    """A per-problem row's gen_limit is the run's cap too, with lengths or with a mean alone."""
    lengths = {**row("a", 0, 0), "samples": 2, "correct": 1, "gen_lengths": [900, 2048]}
    lengths.pop("gen_tokens")
    lengths["gen_limit"] = 2048
    mean = {**lengths, "problem": "b", "gen_lengths": None, "mean_gen_tokens": 1500}
    mean["model"] = "qwen3-32b"
    path = write_jsonl(tmp_path / "e.jsonl", [lengths, mean])
    source = load_accuracy("aime24", [path], resolve)
    assert source.gen_cap(Setting("qwen3-8b", "dense", None)) == 2048.0
    assert source.gen_cap(Setting("qwen3-32b", "dense", None)) == 2048.0


def test_rows_without_lengths_are_not_said_to_pair_correct_samples_with_short_ones(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """'correct samples taken as the shortest' describes per-problem rows with per-sample
    lengths; rows known only at their gen_limit have no lengths to pair."""
    from kinetics_cli.accuracy.evals import load_evaluations

    path = tmp_path / "limit_only.csv"
    header = "task,model,attention,kv_budget,problem,prompt_tokens,samples,correct,gen_limit,"
    lines = [header + "mean_gen_tokens"]
    lines += [f"lim,qwen3-8b,dense,,{p},100,4,{c},8192,5000" for p, c in (("a", 3), ("b", 1))]
    path.write_text("\n".join(lines) + "\n")
    source = load_evaluations("lim", [path], lambda name: name)
    assert "taken as the shortest" not in source.description
    assert "coverage only at their own gen_limit" in source.description
    with_lengths = tmp_path / "lengths.csv"
    with_lengths.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,samples,correct,gen_lengths\n"
        "lim,qwen3-8b,dense,,a,100,2,1,1000;3000\n"
    )
    again = load_evaluations("lim", [with_lengths], lambda name: name)
    assert "taken as the shortest" in again.description
