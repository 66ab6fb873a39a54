"""report.console: tables in three formats, fitted to the console without losing identifying
columns, prose wrapped, nothing padded; and every command's human output at 80 and 120 columns
and piped."""

from __future__ import annotations

import csv
import io
import json

import pytest
from test_cli_contract import RESULT_COMMANDS
from typer.testing import CliRunner

from kinetics_cli.cli.main import app
from kinetics_cli.report import console

COLUMNS = ["", "model", "strategy", ">limit", "attention, KV", ">accuracy", ">eFLOPs"]
ROWS = [
    ["best", "qwen3-235b-a22b", "BoN-32", "32,768", "topk (oracle) 512", "95.8%", "3.14e16"],
    ["same accuracy", "qwen3-0.6b", "long-CoT", "4,096", "dense", "12.0%", "1e14"],
]
MERGE = console.Merge(
    "configuration", ("model", "strategy", "limit", "attention, KV"), prefixes={"limit": "L "}
)


@pytest.fixture
def width(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the console width ($COLUMNS, as a terminal would) and the table format."""

    def set_width(columns: int, output_format: str = "table") -> None:
        monkeypatch.setenv("COLUMNS", str(columns))
        console.reset(output_format)

    yield set_width
    console.reset()


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def test_wide_console_keeps_every_column(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(120)
    console.show_table("Title", COLUMNS, ROWS, wrap=("",), merge=(MERGE,))
    out = capsys.readouterr().out
    header = next(line for line in lines(out) if "model" in line)
    assert "strategy" in header and "configuration" not in header
    assert all(line == line.rstrip() for line in lines(out))  # no padding off a terminal


def test_narrow_console_merges_identifying_columns_instead_of_dropping_them(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(60)
    console.show_table("Title", COLUMNS, ROWS, wrap=("",), merge=(MERGE,), optional=(">eFLOPs",))
    out = capsys.readouterr().out
    assert max(len(line) for line in lines(out)) <= 60
    assert "configuration" in out and "eFLOPs" in out  # merged, so the optional one stays
    text = " ".join(out.split())
    for name in ("qwen3-235b-a22b", "qwen3-0.6b", "32,768", "BoN-32", "long-CoT"):
        assert name in text


def test_optional_columns_go_after_the_merges(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(48)
    console.show_table("T", COLUMNS, ROWS, wrap=("",), merge=(MERGE,), optional=("eFLOPs",))
    out = capsys.readouterr().out
    assert max(len(line) for line in lines(out)) <= 48
    table, caption = out.split("not shown at this width:")
    assert "eFLOPs" not in table and "qwen3-235b-a22b" in table and "95.8%" in table
    assert "eFLOPs" in caption  # the reader is told what was left out


def test_table_fits_answers_for_the_same_rules(width) -> None:  # type: ignore[no-untyped-def]
    width(60)
    assert not console.table_fits(COLUMNS, ROWS)
    assert console.table_fits(COLUMNS, ROWS, wrap=("",), merge=(MERGE,))
    width(60, "csv")
    assert console.table_fits(COLUMNS, ROWS)  # CSV keeps every column, whatever the width


def test_csv_is_tables_only_with_titles_and_prose_on_stderr(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(40, "csv")
    console.say("a line of prose")
    console.show_table("First", COLUMNS, ROWS, merge=(MERGE,))
    console.show_table("Second", ["a", ">b"], [["x, y", "1"]])
    captured = capsys.readouterr()
    first, second = captured.out.split("\n\n")
    assert list(csv.reader(io.StringIO(first))) == [[c.lstrip(">") for c in COLUMNS], *ROWS]
    assert list(csv.reader(io.StringIO(second))) == [["a", "b"], ["x, y", "1"]]
    assert captured.err == "a line of prose\ntable 1: First\ntable 2: Second\n"


def test_markdown_is_a_document(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(40, "markdown")
    console.say("budget 1e16 | *not* markup")
    console.show_table("Title", ["name", ">value"], [["a|b", "1"]])
    out = capsys.readouterr().out
    assert out == (
        "budget 1e16 \\| \\*not\\* markup\n\n"
        "**Title**\n\n| name | value |\n|---|---:|\n| a\\|b | 1 |\n\n"
    )


def test_say_wraps_between_words_and_never_reads_markup(width, capsys) -> None:  # type: ignore[no-untyped-def]
    width(30)
    console.say("mlp [dense layers] " + "word " * 20)
    out = capsys.readouterr().out
    assert "[dense layers]" in out
    assert max(len(line) for line in lines(out)) <= 30
    assert all(line == line.rstrip() for line in lines(out))


def test_unknown_format_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["hardware", "list", "--format", "xml"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "table, csv, markdown" in result.stderr


# ---- every command, as a user sees it ---------------------------------------------------------

WIDE_COMMANDS = {
    **RESULT_COMMANDS,
    "plan (two models)": ["plan", "--budget", "1e16", "--models", "qwen3-8b,qwen3-235b-a22b"],
    "frontier (two models)": ["frontier", "--models", "qwen3-0.6b,deepseek-r1-distill-qwen-14b"],
    "roofline prefill": [
        "roofline",
        "deepseek-v3",
        "--phase",
        "prefill",
        "--tp",
        "8",
        "-H",
        "h200",
    ],
    "isocost sparse": [
        "isocost",
        "--budget",
        "1e16",
        "--models",
        "deepseek-r1-distill-qwen-1.5b,qwen3-32b",
        "--attention",
        "block-topk",
        "--kv-budget",
        "1024",
    ],
}


@pytest.mark.parametrize("columns", [80, 120, None], ids=["80", "120", "piped"])
@pytest.mark.parametrize("args", list(WIDE_COMMANDS.values()), ids=list(WIDE_COMMANDS))
def test_every_command_fits_and_keeps_identifying_columns(
    args: list[str], columns: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines within the width (120 piped), no trailing spaces, no blank line on stderr, and every
    model name of the answer in the table (abbreviating may wrap a cell, never drop it)."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(columns))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    out = lines(result.stdout)
    assert max(len(line) for line in out) <= (columns or console.PIPED_WIDTH)
    assert [line for line in out if line != line.rstrip()] == []
    # stderr: warnings only, one line each, never a blank line
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    if args[0] in ("plan", "frontier", "isocost"):
        doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
        if args[0] == "isocost":
            configurations = doc
        elif "by_hardware" in doc:  # plan -H or frontier --cost over several accelerators
            configurations = [
                c
                for row in doc["by_hardware"]
                for c in ([row["best"]] if "best" in row else row["points"])
                if c is not None
            ]
        elif args[0] == "plan":
            configurations = [doc["best"], *doc["alternatives"]]
        else:
            configurations = doc["configurations"]
        text = " ".join(result.stdout.split())
        for c in configurations:
            assert c["model"] in text


@pytest.mark.parametrize("output_format", ["csv", "markdown"])
@pytest.mark.parametrize("args", list(WIDE_COMMANDS.values()), ids=list(WIDE_COMMANDS))
def test_every_table_command_writes_csv_and_markdown(args: list[str], output_format: str) -> None:
    result = CliRunner().invoke(app, [*args, "--format", output_format])
    assert result.exit_code == 0, result.stderr
    if output_format == "csv":
        for block in result.stdout.rstrip("\n").split("\n\n"):
            rows = list(csv.reader(io.StringIO(block)))
            assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    else:
        assert "|---" in result.stdout and "\n**" in "\n" + result.stdout


def test_shell_completion_is_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kinetics --install-completion` / `--show-completion` exist, and completing works."""
    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout
    monkeypatch.setenv("_KINETICS_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "kinetics plan --format ")
    monkeypatch.setenv("COMP_CWORD", "3")
    result = CliRunner().invoke(app, [], prog_name="kinetics")
    assert result.stdout.split() == ["table", "csv", "markdown"]
