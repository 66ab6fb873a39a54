"""`kinetics roofline`: JSON contract, operator kinds, fit warning, plots, errors."""

from __future__ import annotations

import json
from pathlib import Path

import engine_catalog
import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return engine_catalog.write_catalog(tmp_path / "catalog")


def run(catalog: Path, *args: str):
    return CliRunner().invoke(app, ["--catalog", str(catalog), "roofline", *args])


def test_json_contract(catalog):
    result = run(
        catalog,
        "tiny-moe",
        "-H",
        "tiny-gpu",
        "--batch",
        "4",
        "--context",
        "100",
        "--tp",
        "2",
        "--attention",
        "block-topk",
        "--kv-budget",
        "50",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for key in (
        "step_seconds",
        "tokens_per_second",
        "bound",
        "operators",
        "weight_bytes",
        "kv_bytes",
        "fits",
        "max_batch",
    ):
        assert key in doc, key
    assert doc["bound"] in {"compute", "memory", "communication"}
    kinds = {op["kind"] for op in doc["operators"]}
    assert kinds == {"attention", "linear", "communication", "other"}
    for op in doc["operators"]:
        assert {"name", "kind", "flops", "bytes", "seconds", "bound"} <= set(op)
    names = {op["name"] for op in doc["operators"]}
    assert {"block search", "routed experts", "router", "all-reduce", "lm head"} <= names
    search = next(op for op in doc["operators"] if op["name"] == "block search")
    assert search["kind"] == "attention"
    assert sum(op["seconds"] for op in doc["operators"]) == pytest.approx(doc["step_seconds"])


def test_golden_step_matches_the_engine(catalog):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--json")
    doc = json.loads(result.stdout)
    # tests/test_engine_roofline.py::test_tiny_decode_step_by_hand
    assert doc["step_seconds"] == pytest.approx(58_632 / 10)
    assert doc["max_batch"] == 74 and doc["fits"] is True


def test_does_not_fit_warns_on_stderr(catalog):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--batch", "100", "--context", "100")
    assert result.exit_code == 0
    assert "does not fit" in result.stderr
    assert "largest batch that fits" in result.stdout


def test_prefill_and_human_table(catalog):
    result = run(
        catalog,
        "tiny-hybrid",
        "-H",
        "tiny-gpu",
        "--phase",
        "prefill",
        "--prompt-len",
        "64",
        "--batch",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    assert "Prefill step" in result.stdout
    assert "ridge point" in result.stdout


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot(catalog, tmp_path, suffix):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"roofline{suffix}"
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--batch", "8", "--plot", str(path))
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--context", "100", "--attention", "topk", "--kv-budget", "200"],
            "larger than the context",
        ),
        (["--attention", "topk"], "--kv-budget"),
        (["--tp", "3"], "divide"),
        (["--context", "-5"], "context"),
        (["--dtype", "fp4"], "dtype"),
        (["--phase", "train"], "phase"),
        (["--plot", "out.pdf"], ".png or .svg"),
    ],
)
def test_bad_input_exits_2(catalog, args, message):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", *args)
    assert result.exit_code == 2
    assert message in result.stderr
