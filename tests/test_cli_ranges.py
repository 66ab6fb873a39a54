"""Numeric options at and beyond the ends of their ranges (kinetics_cli/limits.py, listed in
docs/catalog.md): just inside works, just outside, non-finite, overflowing and unit-mistyped
values are one 'error: ' line naming the option, exit code 2, no traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app

HUGE = "1" + "0" * 400  # a finite integer no float holds
SERVE = ["serve", "qwen3-8b"]
COST = ["cost", "qwen3-8b", "--prompt-len", "100", "--gen-len", "1k"]
PLAN = ["plan", "-m", "qwen3-0.6b", "--json"]
VERIFIER = ["--selection", "verifier", "--verifier-model", "qwen3-0.6b"]

# (argv, option named in the message, a fragment of the message)
BAD: list[tuple[list[str], str, str]] = [
    ([*SERVE, "--replicas", "1048577"], "--replicas", "1 to 1,048,576"),
    ([*SERVE, "--replicas", "1e15"], "--replicas", "1 to 1,048,576"),
    ([*SERVE, "--replicas", "0"], "--replicas", "1 to 1,048,576"),
    ([*SERVE, "--max-batch", "1048577"], "--max-batch", "0 to 1,048,576"),
    ([*SERVE, "--max-batch", "-1"], "--max-batch", "0 to 1,048,576"),
    (["calibrate", "run", "--repeats", "10001"], "--repeats", "1 to 10,000"),
    (["calibrate", "run", "--repeats", HUGE], "--repeats", "too large"),
    ([*COST, "--trials", HUGE], "--trials", "(401 characters) is too large"),
    ([*COST, "--trials", "1e309"], "--trials", "'1e309' is too large"),
    ([*COST, "--params", "1e309"], "--params", "is too large"),
    ([*COST, "--trials", "nan"], "--trials", "no unit"),
    (["cost", "qwen3-8b", "--gen-len", "1k", "--prompt-len", HUGE], "--prompt-len", "too large"),
    ([*COST, "--attention", "topk", "--kv-budget", "0"], "--kv-budget", "must be positive"),
    (
        ["roofline", "qwen3-8b", "--attention", "topk", "--kv-budget", "0"],
        "--kv-budget",
        "positive",
    ),
    ([*SERVE, "--attention", "topk", "--kv-budget", "0"], "--kv-budget", "must be positive"),
    ([*PLAN, "--budget-usd", "5G"], "--budget-usd", "no 'G'"),
    ([*PLAN, "--budget-usd", "5Ki"], "--budget-usd", "no 'Ki'"),
    ([*PLAN, "--budget-usd", "1.1e12"], "--budget-usd", "1e-9 to 1e12"),
    ([*PLAN, "--budget-seconds", "1.1e9"], "--budget-seconds", "1e-9 to 1e9"),
    ([*PLAN, "--budget-joules", "1.1e13"], "--budget-joules", "1e-9 to 1e13"),
    ([*PLAN, "--budget", "0.9"], "--budget", "1 to 1e30"),
    ([*PLAN, "--budget", "1e16", "--top", "1001"], "--top", "0 to 1,000"),
    ([*PLAN, "--budget-latency", "nan"], "--budget-latency", "as a duration"),
    ([*PLAN, "--budget-seconds", "inf"], "--budget-seconds", "as a duration"),
    ([*PLAN, "--budget-joules", "-inf"], "--budget-joules", "cannot read"),
    ([*PLAN, "--budget-joules", "5s"], "--budget-joules", "no 's'"),
    ([*PLAN, "--budget", "1e16", "--gen-limits", "1k,nan"], "--gen-limits", "cannot read"),
    ([*PLAN, "--budget", "1e16", "--trials", f"2,{HUGE}"], "--trials", "too large"),
    # a verifier's recall and precision are shares: the range is named for unreadable text too
    (
        [*PLAN, "--budget", "1e16", *VERIFIER, "--verifier-recall", "0.9k"],
        "--verifier-recall",
        "expected a number in (0, 1]",
    ),
    (
        [*PLAN, "--budget", "1e16", *VERIFIER, "--verifier-recall", "nan"],
        "--verifier-recall",
        "must lie in (0, 1]",
    ),
    (
        ["frontier", "-m", "qwen3-0.6b", *VERIFIER, "--verifier-precision", "0"],
        "--verifier-precision",
        "must lie in (0, 1]",
    ),
]


@pytest.mark.parametrize(
    ("argv", "option", "fragment"), BAD, ids=[" ".join(a)[:70] for a, *_ in BAD]
)
def test_out_of_range_is_one_clear_line(argv: list[str], option: str, fragment: str) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert option in lines[0] and fragment in lines[0], lines[0]
    assert HUGE not in lines[0]  # a 400-digit number is shortened, not echoed back


GOOD: list[list[str]] = [
    [*SERVE, "--replicas", "1048576"],
    [*SERVE, "--max-batch", "1048576"],
    [*SERVE, "--max-batch", "0"],
    [*PLAN, "--budget-usd", "$5M"],
    [*PLAN, "--budget-usd", "1e12"],
    [*PLAN, "--budget-seconds", "1e9"],
    [*PLAN, "--budget-joules", "1e13"],
    [*PLAN, "--budget", "1e30"],
    [*PLAN, "--budget", "1e16", "--top", "1000"],
]


@pytest.mark.parametrize("argv", GOOD, ids=[" ".join(a)[:70] for a in GOOD])
def test_just_inside_the_range_works(argv: list[str]) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output


def grid_size(*extra: str) -> int:
    result = CliRunner().invoke(
        app, ["plan", "--budget", "1e16", "-m", "qwen3-0.6b", "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    import json

    return int(json.loads(result.stdout)["configurations"])


@pytest.mark.parametrize(
    ("option", "plain", "written"),
    [
        ("--gen-limits", "1k,2k", "1k, 1024,2k,"),  # a duplicate, a space, a trailing comma
        ("--trials", "2,4", "2, 4,4"),
        ("--kv-budgets", "512,1k", "512, 0.5k,1024"),
        ("--attention", "dense,topk", "dense, topk,dense"),
    ],
)
def test_list_items_are_counted_once(option: str, plain: str, written: str) -> None:
    assert grid_size(option, written) == grid_size(option, plain)


@pytest.mark.parametrize(
    ("command", "option", "written"),
    [
        (["plan", "--budget", "1e16"], "--gen-limits", "1k,,2k"),
        (["plan", "--budget", "1e16"], "--trials", ",4"),
        (["frontier"], "--models", "qwen3-8b,,qwen3-14b"),
        (["plan", "--budget-usd", "5"], "--hardware", "b200,,h100"),
        (["isocost", "--budget", "1e16", "--attention", "topk"], "--kv-budget", "512,,1k"),
        (["isocost", "--budget", "1e16"], "--models", "qwen3-8b,,qwen3-14b"),
    ],
)
def test_an_empty_list_item_is_refused(command: list[str], option: str, written: str) -> None:
    result = CliRunner().invoke(app, [*command, option, written])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {option}: empty item in {written!r} (a value left out between commas? give "
        "comma-separated values, e.g. a,b)"
    ]


def test_repeated_and_comma_separated_lists_agree() -> None:
    assert grid_size("--gen-limits", "1k", "--gen-limits", "2k,4k") == grid_size(
        "--gen-limits", "1k,2k,4k"
    )
