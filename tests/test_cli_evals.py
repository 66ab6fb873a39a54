"""cli/evals: `evals import` options as users type them (the conversion itself is tested in
test_accuracy_formats.py and test_accuracy_traces.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app

EXAMPLES = Path(__file__).parent / "examples"
QWEN_MATH = EXAMPLES / "qwen_math_aime24.jsonl"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def import_args(out: Path, *extra: str) -> list[str]:
    head = ["evals", "import", str(QWEN_MATH), "--task", "t", "--model", "qwen3-8b"]
    return [*head, "--out", str(out), *extra]


@pytest.mark.parametrize("flag", ["--log-format", "--format"])
def test_log_format_and_its_former_name_read_the_same(tmp_path: Path, flag: str) -> None:
    out = tmp_path / "rows.jsonl"
    result = run(*import_args(out, flag, "qwen-math"))
    assert result.exit_code == 0, result.output
    assert "qwen-math format" in result.stdout
    auto = tmp_path / "auto.jsonl"
    assert run(*import_args(auto)).exit_code == 0
    assert out.read_text() == auto.read_text()


def test_help_shows_log_format_only() -> None:
    text = run("evals", "import", "--help").stdout
    assert "--log-format" in text and "--format" not in text.replace("--log-format", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-format", "csv"], "unknown --log-format 'csv'"),
        (["--format", "csv"], "unknown --format 'csv'"),
        (["--format", "lm-eval", "--log-format", "qwen-math"], "give one of them"),
    ],
)
def test_bad_log_format_names_the_flag_typed(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*import_args(tmp_path / "rows.jsonl", *args))
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "rows.jsonl").exists()


def test_out_in_a_missing_folder_is_refused_as_plot_refuses_it(tmp_path: Path) -> None:
    """evals import --out and --plot treat a missing folder alike: one line naming the folder,
    exit 2, nothing created."""
    missing = tmp_path / "no" / "such"
    result = run(*import_args(missing / "rows.jsonl"))
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: --out: cannot write {missing / 'rows.jsonl'}: folder {missing} does not exist\n"
    )
    plot = run("frontier", "--task", "aime24", "--plot", str(missing / "f.png"))
    assert plot.exit_code == 2 and f"folder {missing} does not exist" in plot.stderr
    assert not (tmp_path / "no").exists()


def test_out_in_an_existing_folder_is_written(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    assert run(*import_args(out)).exit_code == 0 and out.read_text().startswith("task,")


def test_a_log_given_twice_is_refused(tmp_path: Path) -> None:
    """Two copies of one log would write each generation twice: 8 samples of a problem where 4
    were drawn. One line, exit 2, nothing written."""
    out = tmp_path / "rows.csv"
    again = EXAMPLES / ".." / "examples" / QWEN_MATH.name
    result = run(*import_args(out)[:3], str(again), *import_args(out)[3:])
    assert result.exit_code == 2
    assert "the same file is given twice" in result.stderr and not out.exists()


@pytest.mark.parametrize(
    ("log", "extra", "message"),
    [
        (QWEN_MATH, ["--filter", "strict-match"], "--filter applies to lm-eval logs"),
        (QWEN_MATH, ["--metric", "acc"], "--metric applies to lm-eval logs"),
        (None, ["--attention", "topk", "--kv-budget", "512"], "metadata line"),
    ],
)
def test_options_the_log_format_does_not_read_are_refused(
    tmp_path: Path, log: Path | None, extra: list[str], message: str
) -> None:
    """A dense trace imported with --attention topk --kv-budget 512 was written as dense rows,
    and --filter on Qwen2.5-Math outputs was ignored: both now one line, exit 2, no file."""
    if log is None:  # the paper's trace format: a metadata line (dense), then one trial per line
        log = tmp_path / "trace.jsonl"
        log.write_text(
            '{"model": "Qwen3-8B", "attn_local": null}\n'
            '{"query": "q1", "prediction": "abc abc", "score": [1]}\n'
        )
    out = tmp_path / "rows.csv"
    head = ["evals", "import", str(log), "--task", "t", "--model", "qwen3-8b"]
    result = run(*head, "--out", str(out), *extra)
    assert result.exit_code == 2 and message in result.stderr and not out.exists()


def test_out_that_is_an_input_log_is_refused_even_with_force(tmp_path: Path) -> None:
    """With --force the rows would replace the logs they came from (every generation's text,
    which nothing can rebuild): refused, the log left as it was."""
    log = tmp_path / "log.jsonl"
    log.write_bytes(QWEN_MATH.read_bytes())
    head = ["evals", "import", str(log), "--task", "t", "--model", "qwen3-8b"]
    result = run(*head, "--out", str(tmp_path / "." / "log.jsonl"), "--force")
    assert result.exit_code == 2
    assert "is one of the input logs; write the rows to another file" in result.stderr
    assert log.read_bytes() == QWEN_MATH.read_bytes()


def test_json_reports_what_was_written(tmp_path: Path) -> None:
    import json

    out = tmp_path / "rows.jsonl"
    result = run(*import_args(out, "--json"))
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert document["out"] == str(out) and document["trials"] == len(written)
    assert document["problems"] == len({r["problem"] for r in written})
    assert document["settings"] == ["dense"] and document["log_format"] == "qwen-math"
    assert document["model"] == "qwen3-8b" and document["approximate_token_counts"] is True


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_logs_with_answers_on_some_trials_write_no_answer_column(
    tmp_path: Path, suffix: str
) -> None:
    """The first generation's log row has no pred, the second's has one. CSV had raised a
    traceback ('dict contains fields not in fieldnames') and left no file; now both formats
    write every row without the answer column (CSV cannot tell a missing answer from an empty
    one) and say so on stderr."""
    import json

    log = tmp_path / "qm.jsonl"
    rows = [
        {"idx": 0, "question": "q", "code": ["abcd"], "score": [True]},
        {"idx": 1, "question": "q", "code": ["abcdefgh"], "score": [False], "pred": ["4"]},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"rows{suffix}"
    result = run(
        "evals", "import", str(log), "--task", "t", "--model", "qwen3-8b", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "1 of 2 trials have no extracted final answer" in result.stderr
    text = out.read_text()
    assert "answer" not in text
    if suffix == ".csv":
        assert text.splitlines()[0] == (
            "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct,token_counts"
        )
        # ceil(4 / 4) = 1 and ceil(8 / 4) = 2 generated tokens
        assert [line.split(",")[6] for line in text.splitlines()[1:]] == ["1", "2"]


def test_gen_limit_is_written_on_every_row_and_read_back_by_plan(tmp_path: Path) -> None:
    """`--gen-limit` stamps the run's cap (Qwen2.5-Math outputs carry none) as gen_limit, a count
    above it written as the cap; `plan --evals` then searches no longer limit."""
    import json

    out = tmp_path / "rows.jsonl"
    result = run(*import_args(out, "--gen-limit", "100", "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gen_limits"] == [100]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    plain = tmp_path / "plain.jsonl"
    assert run(*import_args(plain)).exit_code == 0
    uncapped = [json.loads(line) for line in plain.read_text().splitlines()]
    assert all(r["gen_limit"] == 100 for r in rows)
    assert [r["gen_tokens"] for r in rows] == [min(r["gen_tokens"], 100) for r in uncapped]
    assert any(r["gen_tokens"] > 100 for r in uncapped)  # some were cut to the cap
    plan = run(
        "plan",
        "--task",
        "t",
        "--evals",
        str(out),
        "--budget",
        "1e18",
        "--gen-limits",
        "64,100,128",
        "--json",
    )
    assert plan.exit_code == 0, plan.output
    doc = json.loads(plan.stdout)
    assert [(b["gen_cap"], b["gen_len"]) for b in doc["left_out"]] == [(100, 128)]


def test_without_gen_limit_the_summary_says_how_to_give_it(tmp_path: Path) -> None:
    result = run(*import_args(tmp_path / "rows.csv"))
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("no generation cap (give the run's with --gen-limit N)")
    assert "gen_limit" not in (tmp_path / "rows.csv").read_text()


@pytest.mark.parametrize("bad", ["0", "1.5"])
def test_a_bad_gen_limit_is_refused(tmp_path: Path, bad: str) -> None:
    result = run(*import_args(tmp_path / "rows.jsonl", "--gen-limit", bad))
    assert result.exit_code == 2
    assert "--gen-limit" in result.stderr and "Traceback" not in result.output
