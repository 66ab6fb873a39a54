"""The CLI contract, command by command: `--json` writes exactly one JSON document to stdout with
exit code 0, and a malformed number is a usage error: exit code 2, nothing on stdout, one line on
stderr that names the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app

MEASUREMENTS = Path(__file__).resolve().parents[1] / "hardware_profiles" / "measurements"
CHECK_FILE = MEASUREMENTS / "numpy-amd-epyc-2cpu.jsonl"
CHECK_PROFILE = MEASUREMENTS / "numpy-amd-epyc-2cpu.profile.toml"

# Every command that prints results, on the bundled catalog, with small grids. `evals import`
# writes a file rather than printing results, and `calibrate run` / bare `calibrate` time kernels
# on this machine: none of them is here.
RESULT_COMMANDS = {
    "hardware list": ["hardware", "list"],
    "hardware show": ["hardware", "show", "b200"],
    "models list": ["models", "list"],
    "models show": ["models", "show", "qwen3-8b"],
    "cost": ["cost", "qwen3-8b", "--prompt-len", "256", "--gen-len", "8k"],
    "roofline": ["roofline", "qwen3-8b", "--context", "32k", "--batch", "8"],
    "serve": ["serve", "qwen3-8b", "-H", "h100", "--isl", "1k", "--osl", "2k"],
    "isocost": ["isocost", "--budget", "1e18", "--models", "qwen3-8b"],
    "plan": ["plan", "--budget", "1e18", "--models", "qwen3-8b"],
    "frontier": ["frontier", "--models", "qwen3-8b"],
    "frontier --cost": ["frontier", "--models", "qwen3-8b", "--cost", "usd", "-H", "b200,h200"],
    "plan -H": ["plan", "--budget-usd", "5", "--models", "qwen3-8b", "-H", "b200,h200"],
    "calibrate check": ["calibrate", "check", str(CHECK_FILE), "--hardware", str(CHECK_PROFILE)],
}


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize("args", list(RESULT_COMMANDS.values()), ids=list(RESULT_COMMANDS))
def test_json_is_one_document_and_exit_code_0(args: list[str]) -> None:
    result = invoke([*args, "--json"])
    assert result.exit_code == 0, result.stderr
    # json.loads refuses anything after the first document, so this is "exactly one"
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict | list) and doc


def paren_depth(text: str) -> int:
    """The deepest nesting of parentheses in `text` (unbalanced counts as deep)."""
    depth = deepest = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        deepest = max(deepest, depth, 99 if depth < 0 else 0)
    return deepest if depth == 0 else 99


@pytest.mark.parametrize("args", list(RESULT_COMMANDS.values()), ids=list(RESULT_COMMANDS))
def test_human_output_nests_no_parentheses(args: list[str]) -> None:
    """'accuracy 83% (prior (interval: ...))' reads badly: a parenthesis holds plain words."""
    result = invoke(args)
    assert result.exit_code == 0, result.stderr
    # the sources list of `show` quotes each source as written ('lengths uniform in [1, max)')
    text = result.stdout.split("\nsources:")[0]
    assert paren_depth(text) <= 1, text


# A malformed number for a numeric option of each command that has one (hardware and models
# list/show take none). Also: a fraction where a whole count is expected, and a count below the
# option's minimum, both refused while parsing, before any work.
BAD_NUMBERS = {
    "cost --prompt-len": (["cost", "qwen3-8b", "--gen-len", "8k"], "--prompt-len"),
    "cost --trials": (["cost", "qwen3-8b", "--prompt-len", "256", "--gen-len", "8k"], "--trials"),
    "roofline --context": (["roofline", "qwen3-8b"], "--context"),
    "roofline --batch": (["roofline", "qwen3-8b"], "--batch"),
    "serve --isl": (["serve", "qwen3-8b"], "--isl"),
    "serve --max-tpot": (["serve", "qwen3-8b"], "--max-tpot"),
    "isocost --budget": (["isocost", "--models", "qwen3-8b"], "--budget"),
    "plan --budget": (["plan", "--models", "qwen3-8b"], "--budget"),
    "plan --top": (["plan", "--models", "qwen3-8b", "--budget", "1e18"], "--top"),
    "frontier --intensity": (["frontier", "--models", "qwen3-8b"], "--intensity"),
    "calibrate --tolerance": (["calibrate"], "--tolerance"),
    "calibrate check --tolerance": (["calibrate", "check", str(CHECK_FILE)], "--tolerance"),
    "calibrate reference --tolerance": (["calibrate", "reference"], "--tolerance"),
    "calibrate run --repeats": (["calibrate", "run"], "--repeats"),
}
BAD_CASES = [
    *(
        pytest.param([*args, option, "2.5X"], option, id=name)
        for name, (args, option) in BAD_NUMBERS.items()
    ),
    pytest.param(["roofline", "qwen3-8b", "--context", "1.5"], "--context", id="fractional count"),
    pytest.param(["calibrate", "run", "--repeats", "0"], "--repeats", id="count below minimum"),
]


@pytest.mark.parametrize(("args", "option"), BAD_CASES)
def test_malformed_number_is_a_one_line_usage_error(args: list[str], option: str) -> None:
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    # One line, not click's usage block: main._Group writes the message and the pointer to the
    # command's help on the same line, "error: invalid value for '--batch' / '-b': ... (see
    # 'kinetics roofline --help')", so exactly one non-empty line is expected.
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: invalid value for ")
    assert f"'{option}'" in lines[0]
    assert "--help'" in lines[0]
