"""Importing the Kinetics paper's trace files into evaluation rows, as a library and via the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kinetics_cli.accuracy import load_accuracy
from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.traces import (
    APPROX_SOURCE,
    TokenCounter,
    approximate_counter,
    import_traces,
    token_counter,
    write_rows,
)
from kinetics_cli.cli.main import app
from kinetics_cli.errors import InputError

Q1 = "Find x such that x + 1 = 3."  # 27 characters -> ceil(27 / 4) = 7 tokens
Q2 = "Compute 2^10."  # 13 characters -> 4 tokens


def trace_file(tmp_path: Path, meta: dict, name: str = "trace.jsonl") -> Path:
    lines = [
        meta,
        {"query": Q1, "prediction": ["x" * 40], "choices": ["2"], "score": 100},  # 10 tokens
        {"query": Q1, "prediction": ["y" * 9], "choices": ["2"], "score": 0},  # 3 tokens
        {"query": Q2, "prediction": "z" * 400, "score": 1},  # 100 tokens
    ]
    path = tmp_path / name
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_dense_trace_rows_with_approximate_counts(tmp_path):
    rows = import_traces(trace_file(tmp_path, {}), "aime24", "qwen3-8b", approximate_counter())
    assert [(r["problem"], r["prompt_tokens"], r["gen_tokens"], r["correct"]) for r in rows] == [
        ("0", 7, 10, True),
        ("0", 7, 3, False),
        ("1", 4, 100, True),
    ]
    assert all(r["attention"] == "dense" and r["kv_budget"] == "" for r in rows)
    assert all(r["token_counts"] == APPROX_SOURCE for r in rows)


@pytest.mark.parametrize(
    "meta,attention,budget",
    [
        ({"attn_local": 128, "attn_topk": 64}, "topk", "192"),  # local + topk
        (
            {"attn_local": 128, "attn_block_size": 16, "attn_block_topk": 8},
            "block-topk",
            "256",
        ),  # 128 + 8*16
    ],
)
def test_sparse_metadata_gives_the_kv_budget(tmp_path, meta, attention, budget):
    rows = import_traces(trace_file(tmp_path, meta), "aime24", "qwen3-8b", approximate_counter())
    assert {(r["attention"], r["kv_budget"]) for r in rows} == {(attention, budget)}


def test_rows_round_trip_through_the_evals_reader(tmp_path):
    rows = import_traces(trace_file(tmp_path, {}), "aime24", "qwen3-8b", approximate_counter())
    for name in ("rows.jsonl", "rows.csv"):
        out = write_rows(rows, tmp_path / name)
        src = load_accuracy("aime24", [out], lambda m: m)
        acc = src.outcome(
            Setting("qwen3-8b", "dense", None), np.array([1]), np.array([5.0, 1000.0])
        ).accuracy
        # problem 0: 1 of 2 correct (10 tokens), problem 1: 1 of 1 (100 tokens)
        np.testing.assert_allclose(acc[0], [0.0, 0.75])


def test_custom_counter_and_missing_tokenizers_package(tmp_path, monkeypatch):
    words = TokenCounter(lambda text: len(text.split()), "tokenizer words")
    rows = import_traces(trace_file(tmp_path, {}), "t", "m", words)
    assert rows[0]["prompt_tokens"] == 9 and rows[0]["token_counts"] == "tokenizer words"  # 9 words
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # import fails
    with pytest.raises(InputError, match="optional 'tokenizers' package"):
        token_counter(tmp_path / "tokenizer.json")


def test_bad_trace_lines_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{}\n{"query": "q", "prediction": "p", "score": 100}\n{"query": "q", "score": 100}\n'
    )
    with pytest.raises(InputError, match=rf"{path}:3: missing field 'prediction'"):
        import_traces(path, "t", "m", approximate_counter())
    path.write_text('{}\n{"query": "q", "prediction": "p", "score": 55}\n')
    with pytest.raises(InputError, match=rf"{path}:2: field 'score'"):
        import_traces(path, "t", "m", approximate_counter())
    path.write_text('["not", "metadata"]\n')
    with pytest.raises(InputError, match=rf"{path}:1: metadata must be a JSON object"):
        import_traces(path, "t", "m", approximate_counter())


def test_cli_import_resolves_alias_and_warns(tmp_path):
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(
        app,
        [
            "evals",
            "import",
            str(trace_file(tmp_path, {"attn_local": 0, "attn_topk": 512})),
            "--task",
            "aime24",
            "--model",
            "Qwen/Qwen3-8B",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 trials of 2 problems" in result.output and "approximate" in result.output
    header, first = out.read_text().splitlines()[:2]
    assert header.startswith(
        "task,model,attention,kv_budget,problem,prompt_tokens,gen_tokens,correct"
    )
    assert first.startswith("aime24,qwen3-8b,topk,512,0,7,10,true")


def test_cli_import_refuses_to_overwrite_and_exits_2(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.write_text("keep me\n")
    args = [
        "evals",
        "import",
        str(trace_file(tmp_path, {})),
        "--task",
        "t",
        "--model",
        "qwen3-8b",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.output
    assert out.read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", ""], "--task needs a name"),
        (["--task", "t", "--attention", "topk"], "--attention topk needs --kv-budget B"),
        (["--task", "t", "--kv-budget", "512"], "goes with --attention topk or block-topk only"),
    ],
)
def test_cli_import_names_what_is_missing(tmp_path, extra, message):
    out = tmp_path / "rows.jsonl"
    args = ["evals", "import", str(trace_file(tmp_path, {})), "--model", "qwen3-8b"]
    result = CliRunner().invoke(app, [*args, *extra, "--out", str(out)])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not out.exists()


def test_entry_point_runs_evals_import(tmp_path):
    out = tmp_path / "rows.jsonl"
    exe = Path(sys.executable).with_name("kinetics")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "kinetics_cli"]
    result = subprocess.run(
        [
            *cmd,
            "evals",
            "import",
            str(trace_file(tmp_path, {})),
            "--task",
            "aime24",
            "--model",
            "qwen3-8b",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 3


def test_cli_import_refuses_an_existing_output_before_reading(tmp_path):
    out = tmp_path / "rows.jsonl"
    out.write_text("keep me\n")
    missing = tmp_path / "no-such-trace.jsonl"  # never read: the existing output is refused first
    args = [
        "evals",
        "import",
        str(missing),
        "--task",
        "t",
        "--model",
        "qwen3-8b",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert "warning" not in result.stderr and result.stderr.count("\n") == 1


def test_question_ids_on_every_trial_or_none(tmp_path):
    """Without question_id, problems are numbered by query (0, 1, ...). A file mixing both had
    numbered 'Compute 2^10.' 0, the question_id of another problem, and joined the two; a
    list id had become the problem '[1]'. Both are refused by line."""
    lines = [
        {},
        {"query": Q1, "prediction": "x" * 8, "score": 100, "question_id": 0},
        {"query": Q1, "prediction": "x" * 8, "score": 0, "question_id": 0},
        {"query": Q2, "prediction": "z" * 8, "score": 100},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputError) as err:
        import_traces(path, "t", "qwen3-8b", approximate_counter())
    assert str(err.value) == (
        f"{path}:4: no question_id, while {path}:2 has one: give every trial a question_id or "
        "none (problems are then numbered by their query text)"
    )
    lines[3]["question_id"] = [1]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputError, match=r"mixed\.jsonl:4: field 'question_id': .* got \[1\]$"):
        import_traces(path, "t", "qwen3-8b", approximate_counter())
    lines[3]["question_id"] = "q2"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    rows = import_traces(path, "t", "qwen3-8b", approximate_counter())
    assert [r["problem"] for r in rows] == ["0", "0", "q2"]
