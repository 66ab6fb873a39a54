"""Evaluation inputs users have: per-problem aggregates, lm-evaluation-harness sample logs,
Qwen2.5-Math evaluation outputs, and robust reading (encodings, binary files, huge numbers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.evals import load_evaluations, read_evals
from kinetics_cli.accuracy.formats import detect_format, import_lm_eval, import_qwen_math
from kinetics_cli.accuracy.traces import approximate_counter
from kinetics_cli.cli.main import app
from kinetics_cli.errors import InputError

EXAMPLES = Path(__file__).parent / "examples"
DENSE = Setting("qwen3-8b", "dense", None)


def same(name: str) -> str:
    return name


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def cli_import_example(out: Path, *options: str):  # type: ignore[no-untyped-def]
    """`evals import` of the shipped Qwen2.5-Math example as task mytask into `out`."""
    example = str(EXAMPLES / "qwen_math_aime24.jsonl")
    return run("evals", "import", example, "--task", "mytask", *options, "--out", str(out))


def test_per_problem_csv_gives_pass_at_k_from_counts():
    source = load_evaluations("mytask", [EXAMPLES / "per_problem_mytask.csv"], same)
    out = source.outcome(DENSE, np.array([1.0, 2.0, 4.0]), np.array([2600.0, 1e5]))
    # unlimited: c = 3, 1, 0 of 4 -> pass@1 = (3/4 + 1/4 + 0) / 3 = 1/3
    assert out.accuracy[0, 1] == pytest.approx(1 / 3)
    # pass@2: p1 1 - C(1,2)/C(4,2) = 1; p2 1 - C(3,2)/C(4,2) = 1/2; p3 0 -> 1/2
    assert out.accuracy[1, 1] == pytest.approx(0.5)
    # at L = 2600 the correct samples are the shortest: p1 has 2 (1200, 2500), p2 none (4000)
    assert out.accuracy[0, 0] == pytest.approx((2 / 4) / 3)
    assert "correct samples taken as the shortest" in source.description
    assert out.note == "evaluations: 3 problems x 4 samples"


def test_per_problem_rows_without_lengths_only_at_their_limit(tmp_path):
    path = tmp_path / "agg.jsonl"
    rows = [
        {
            "task": "t",
            "model": "qwen3-8b",
            "attention": "dense",
            "problem": p,
            "prompt_tokens": 100,
            "samples": 4,
            "correct": c,
            "gen_limit": 8192,
            "mean_gen_tokens": 5000,
        }
        for p, c in (("a", 4), ("b", 2))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = load_evaluations("t", [path], same)
    out = source.outcome(DENSE, np.array([1.0]), np.array([4096.0, 8192.0]))
    assert np.isnan(out.accuracy[0, 0]) and out.accuracy[0, 1] == pytest.approx(0.75)
    assert "only at their own gen_limit" in source.description
    mixed = EXAMPLES / "per_problem_mytask.jsonl"  # lengths on one row, a gen_limit on the other
    with pytest.raises(InputError, match="one kind per setting"):
        load_evaluations("mytask", [mixed], same)


def test_lm_eval_samples_one_trial_per_document_of_the_first_filter():
    path = EXAMPLES / "lm_eval_samples_aime24.jsonl"
    assert detect_format(path) == "lm-eval"
    rows = import_lm_eval([path], "aime24", "qwen3-8b", approximate_counter())
    assert [(r["problem"], r["correct"]) for r in rows] == [("0", True), ("1", False), ("2", False)]
    flexible = import_lm_eval(
        [path], "aime24", "qwen3-8b", approximate_counter(), filter_name="flexible-extract"
    )
    assert [r["correct"] for r in flexible] == [True, True, False]
    first = json.loads(path.read_text().splitlines()[0])
    prompt = first["arguments"]["gen_args_0"]["arg_0"]
    assert rows[0]["prompt_tokens"] == -(-len(prompt) // 4)  # ceil(characters / 4)
    assert rows[0]["gen_tokens"] == -(-len(first["resps"][0][0]) // 4)


def test_lm_eval_filter_that_no_row_has_names_the_filters_there():
    """A misspelt --filter is not 'no samples': the file has samples, of other filters."""
    path = EXAMPLES / "lm_eval_samples_aime24.jsonl"
    with pytest.raises(InputError, match="with --filter 'strict'; filters there: strict-match, "):
        import_lm_eval([path], "aime24", "qwen3-8b", approximate_counter(), filter_name="strict")


def test_qwen_math_outputs_one_trial_per_generation():
    path = EXAMPLES / "qwen_math_aime24.jsonl"
    assert detect_format(path) == "qwen-math"
    rows = import_qwen_math([path], "aime24", "qwen3-8b", approximate_counter())
    assert len(rows) == 12 and sum(r["correct"] for r in rows) == 4
    assert [r["problem"] for r in rows[:4]] == ["0"] * 4


def test_cli_import_then_plan_a_task_only_the_evaluations_define(tmp_path):
    out = tmp_path / "rows.jsonl"
    result = cli_import_example(out, "--model", "Qwen/Qwen3-8B")
    assert result.exit_code == 0, result.output
    assert "wrote 12 trials of 3 problems" in result.output and "qwen-math format" in result.output
    plan = run("plan", "--task", "mytask", "--evals", str(out), "--budget", "1e18", "--json")
    assert plan.exit_code == 0, plan.output
    doc = json.loads(plan.stdout)
    assert doc["accuracy_source"]["kind"] == "evaluations" and doc["confidence"] == 0.95
    lo, hi = doc["best"]["accuracy_ci"]
    assert lo <= doc["best"]["accuracy"] <= hi
    agg = run(
        "plan",
        "--task",
        "mytask",
        "--evals",
        str(EXAMPLES / "per_problem_mytask.csv"),
        "--budget",
        "1e18",
    )
    assert agg.exit_code == 0, agg.output
    assert "measured" not in agg.stdout.split("\n")[1] and "evaluations" in agg.stdout


def test_model_without_data_says_how_to_bring_evaluations():
    result = run(
        "plan",
        "--budget",
        "1e16",
        "--models",
        "qwen3-8b",
        "--task",
        "mytask",
        "--evals",
        str(EXAMPLES / "per_problem_mytask.csv"),
        "--models",
        "qwen3-32b",
    )
    assert result.exit_code == 2
    assert "--evals" in result.stderr and "kinetics evals import" in result.stderr


@pytest.mark.parametrize(
    "content, needle",
    [
        ("\ufefftask,model".encode("utf-16"), "UTF-16"),
        (b"\x00\x01\x02binary\x00", "not a text file"),
        (b"task,model\n\xff\xfe\xfa,x\n", "not UTF-8 text"),
    ],
)
def test_unreadable_files_give_one_line_and_exit_2(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = run("plan", "--budget", "1e16", "--task", "t", "--evals", str(path))
    assert result.exit_code == 2
    assert needle in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    imp = run(
        "evals",
        "import",
        str(path),
        "--task",
        "t",
        "--model",
        "qwen3-8b",
        "--out",
        str(tmp_path / "o.jsonl"),
    )
    assert imp.exit_code == 2 and needle in imp.stderr and "Traceback" not in imp.stderr


def test_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (EXAMPLES / "per_problem_mytask.csv").read_bytes())
    assert len(read_evals(path, same)) == 24


@pytest.mark.parametrize("field", ["gen_tokens", "prompt_tokens", "kv_budget"])
def test_integers_with_hundreds_of_digits_are_rejected(tmp_path, field):
    row = {
        "task": "t",
        "model": "qwen3-8b",
        "attention": "topk",
        "kv_budget": 512,
        "problem": "a",
        "prompt_tokens": 10,
        "gen_tokens": 100,
        "correct": True,
    }
    row[field] = 10**400
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=f"field '{field}'"):
        read_evals(path, same)
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n")
    with pytest.raises(InputError, match=f"field '{field}'"):
        read_evals(csv_path, same)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_evals(tmp_path / "absent.jsonl", same)


def test_imports_keep_the_extracted_answer_and_reject_huge_metrics(tmp_path):
    rows = import_lm_eval(
        [EXAMPLES / "lm_eval_samples_aime24.jsonl"], "aime24", "qwen3-8b", approximate_counter()
    )
    assert [r["answer"] for r in rows] == ["204", "0", "0"]
    qm = import_qwen_math(
        [EXAMPLES / "qwen_math_aime24.jsonl"], "aime24", "qwen3-8b", approximate_counter()
    )
    assert [r["answer"] for r in qm[:4]] == ["204", "204", "1", "204"]
    big = json.loads((EXAMPLES / "lm_eval_samples_aime24.jsonl").read_text().splitlines()[0])
    big["exact_match"] = 10**400
    path = tmp_path / "samples_big.jsonl"
    path.write_text(json.dumps(big) + "\n")
    # a metric is one generation right (1) or wrong (0): anything else is refused, briefly
    with pytest.raises(
        InputError, match=r"expected 0 or 1 .* got 1000000000000000000000000000000000000\.\.\.;"
    ):
        import_lm_eval([path], "t", "qwen3-8b", approximate_counter())
    big["exact_match"] = "1e999"
    path.write_text(json.dumps(big) + "\n")
    with pytest.raises(InputError, match="expected a number"):
        import_lm_eval([path], "t", "qwen3-8b", approximate_counter())


def test_cli_import_reads_the_kv_budget_as_tokens(tmp_path):
    """'--kv-budget 1k' is 1,024 tokens, as every token option reads it."""
    rows = []
    for text in ("1k", "1024"):
        out = tmp_path / f"rows-{text}.jsonl"
        result = cli_import_example(
            out, "--model", "qwen3-8b", "--attention", "topk", "--kv-budget", text
        )
        assert result.exit_code == 0, result.output
        rows.append([json.loads(line) for line in out.read_text().splitlines()])
    assert rows[0] == rows[1] and {str(r["kv_budget"]) for r in rows[0]} == {"1024"}


def test_lm_eval_generation_with_a_raw_line_separator_is_one_row(tmp_path):
    """lm-evaluation-harness writes its sample logs with ensure_ascii=False, so U+2028, U+2029
    and U+0085 in a generation stay raw inside a JSON string; the line is still one JSON object
    (JSON Lines splits at '\\n' only). str.splitlines cut it in two: 'not valid JSON'."""
    lines = (EXAMPLES / "lm_eval_samples_aime24.jsonl").read_text().split("\n")
    first = json.loads(lines[0])
    first["resps"] = [[text + "\u2028next\u2029para\x85end" for text in first["resps"][0]]]
    lines[0] = json.dumps(first, ensure_ascii=False)
    path = tmp_path / "samples.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    rows = import_lm_eval([path], "aime24", "qwen3-8b", approximate_counter())
    assert len(rows) == 3
    # ceil(characters / 4), the three separators and their words counted as characters
    assert rows[0]["gen_tokens"] == -(-len(first["resps"][0][0]) // 4)


def test_per_problem_lengths_beyond_the_rows_own_limit_are_refused(tmp_path):
    """A sample of 9,000 tokens in a run cut at 8,192 means the lengths or the limit belong to
    another run: the row is refused by line and field. Lengths within it are read as before."""
    path = tmp_path / "both.csv"
    header = "task,model,attention,kv_budget,problem,prompt_tokens,samples,correct,gen_lengths,"
    path.write_text(
        header + "gen_limit,mean_gen_tokens\n"
        "t,qwen3-8b,dense,,a,100,2,1,1000;8192,8192,4596\n"
        "t,qwen3-8b,dense,,b,100,2,1,1000;9000,8192,5000\n"
    )
    with pytest.raises(InputError) as err:
        read_evals(path, same)
    assert str(err.value) == (
        f"{path}:3: field 'gen_lengths': a sample of 9,000 tokens is longer than the row's "
        "gen_limit, 8,192"
    )
    path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")
    assert [t.gen_tokens for t in read_evals(path, same)] == [1000.0, 8192.0]


def _qwen_math(tmp_path: Path, *rows: dict) -> Path:  # type: ignore[type-arg]
    path = tmp_path / "qm.jsonl"
    base = {"idx": 0, "question": "q", "code": ["a", "b"], "score": [True, False]}
    path.write_text("".join(json.dumps({**base, **row}) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(
    "row, message",
    [
        ({"score": [True, 2]}, "field 'score'[1]: expected true/false (or 1/0), got 2"),
        ({"score": [0.5, False]}, "field 'score'[0]: expected true/false (or 1/0), got 0.5"),
        ({"idx": None}, "field 'idx': expected a problem id (a string or number), got None"),
        ({"idx": [3, 4]}, "field 'idx': expected a problem id (a string or number), got [3, 4]"),
        ({"idx": ""}, "field 'idx': expected a problem id (a string or number), got ''"),
    ],
)
def test_qwen_math_scores_are_right_or_wrong_and_ids_name_a_problem(tmp_path, row, message):
    """A score of 2 or 0.5 is no trial's right-or-wrong (it had counted as right), and a null or
    list idx is no problem id (it had become the problem 'None' or '[3, 4]')."""
    path = _qwen_math(tmp_path, row)
    with pytest.raises(InputError) as err:
        import_qwen_math([path], "t", "qwen3-8b", approximate_counter())
    assert str(err.value) == f"{path}:1: {message}"


def test_qwen_math_scores_of_one_and_zero_are_read(tmp_path):
    path = _qwen_math(tmp_path, {"score": [1.0, 0]}, {"idx": "p1", "score": [False, 1]})
    rows = import_qwen_math([path], "t", "qwen3-8b", approximate_counter())
    assert [(r["problem"], r["correct"]) for r in rows] == [
        ("0", True),
        ("0", False),
        ("p1", False),
        ("p1", True),
    ]


@pytest.mark.parametrize(
    "row, message",
    [
        (
            {"exact_match": 0.25},
            "metric 'exact_match': expected 0 or 1 (the generation wrong or right), got 0.25",
        ),
        (
            {"exact_match": -1},
            "metric 'exact_match': expected 0 or 1 (the generation wrong or right), got -1",
        ),
        ({"doc_id": None}, "field 'doc_id': expected a problem id (a string or number), got None"),
        (
            {"doc_id": {"id": 1}},
            "field 'doc_id': expected a problem id (a string or number), got {'id': 1}",
        ),
    ],
)
def test_lm_eval_metric_is_right_or_wrong_and_doc_id_names_a_problem(tmp_path, row, message):
    """A per-document pass@1 of 0.25 (one of four repeats right) had counted as a right trial,
    which turns pass@1 into pass@4 for that document; a fraction is refused by line."""
    first = json.loads((EXAMPLES / "lm_eval_samples_aime24.jsonl").read_text().splitlines()[0])
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps({**first, **row}) + "\n")
    with pytest.raises(InputError) as err:
        import_lm_eval([path], "t", "qwen3-8b", approximate_counter())
    assert str(err.value).startswith(f"{path}:1: {message}")


def _lm_eval_log(tmp_path: Path, *arguments: object, name: str = "samples.jsonl") -> Path:
    """The example's first sample once per `arguments` (doc_id 0, 1, ...)."""
    first = json.loads((EXAMPLES / "lm_eval_samples_aime24.jsonl").read_text().splitlines()[0])
    path = tmp_path / name
    lines = [{**first, "doc_id": i, "arguments": a} for i, a in enumerate(arguments)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_lm_eval_max_gen_toks_is_the_rows_cap_in_either_argument_shape(tmp_path):
    """The run's cap is each request's max_gen_toks: {"gen_args_0": {"arg_1": kwargs}} in newer
    lm-eval versions, [[prompt, kwargs]] in older ones; a request without it has no cap."""
    path = _lm_eval_log(
        tmp_path,
        {"gen_args_0": {"arg_0": "p", "arg_1": {"max_gen_toks": 4096}}},
        [["p", {"until": ["</s>"], "max_gen_toks": 2048}]],
        [["p", {"until": ["</s>"]}]],
    )
    rows = import_lm_eval([path], "t", "qwen3-8b", approximate_counter())
    assert [r.get("gen_limit") for r in rows] == [4096, 2048, None]
    # --gen-limit fills a request that states none, and must agree with one that does
    same_cap = _lm_eval_log(
        tmp_path, [["p", {"max_gen_toks": 4096}]], [["p", {}]], name="same.jsonl"
    )
    rows = import_lm_eval([same_cap], "t", "qwen3-8b", approximate_counter(), gen_limit=4096)
    assert [r["gen_limit"] for r in rows] == [4096, 4096]
    with pytest.raises(InputError) as err:
        import_lm_eval([path], "t", "qwen3-8b", approximate_counter(), gen_limit=4096)
    assert str(err.value) == (
        f"{path}:2: the log's max_gen_toks is 2,048 tokens, --gen-limit 4,096: the log states the "
        "run's cap (drop --gen-limit)"
    )


@pytest.mark.parametrize("bad", [0, -1, 1.5, "4096", True])
def test_lm_eval_bad_max_gen_toks_is_refused_by_line(tmp_path, bad):
    path = _lm_eval_log(tmp_path, [["p", {"max_gen_toks": bad}]])
    with pytest.raises(
        InputError, match="^" + str(path) + ":1: gen_kwargs 'max_gen_toks': expected"
    ):
        import_lm_eval([path], "t", "qwen3-8b", approximate_counter())


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_import_with_caps_on_some_requests_writes_the_column_on_every_row(tmp_path, suffix):
    """A CSV needs one set of columns: rows without a cap get an empty gen_limit, which reads
    back as none; the setting's cap is then the one stated (evals.gen_cap)."""
    path = _lm_eval_log(tmp_path, [["p", {"max_gen_toks": 4096}]], [["p", {}]])
    out = tmp_path / f"rows{suffix}"
    result = run(
        "evals", "import", str(path), "--task", "t", "--model", "qwen3-8b", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "generation cap: 4,096 tokens (1 of 2 trials)" in result.stdout
    trials = read_evals(out, same)
    assert [t.gen_limit for t in trials] == [4096.0, None]
    assert load_evaluations("t", [out], same).gen_cap(DENSE) == 4096.0
