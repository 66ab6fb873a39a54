"""report.console: tables in three formats, fitted to the console without losing identifying
columns, prose wrapped, nothing padded; and every command's human output at 80 and 120 columns
and piped."""

from __future__ import annotations

import csv
import io
import json
import math
import re

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


# ---- CSV: plain numbers, one unit per column ------------------------------------------------

# What a formatted figure looks like: thousands separators, a currency sign, a unit or percent
# sign after the number, an interval in brackets. No CSV cell outside a text column holds one.
FORMATTED = re.compile(
    r"\d,\d{3}|^\$|^-?[\d.]+ ?(%|s|ms|µs|ns|min|hours?|days?|years?|[kMGTP]?B|[kMGT]?J|x)$|\[.*\]"
)
# Columns of text: labels, words and a figure/value table's value as shown.
TEXT_COLUMNS = {"", "pick", "figure", "shown", "term", "formula", "part", "shape", "operator"}


def csv_tables(stdout: str) -> list[list[list[str]]]:
    return [list(csv.reader(io.StringIO(b))) for b in stdout.rstrip("\n").split("\n\n")]


# `hardware show` and `models show` list a catalog entry's fields as text, with their sources
NUMERIC_COMMANDS = {k: v for k, v in WIDE_COMMANDS.items() if not k.endswith(" show")}


@pytest.mark.parametrize("args", list(NUMERIC_COMMANDS.values()), ids=list(NUMERIC_COMMANDS))
def test_csv_cells_are_plain_numbers_with_the_unit_in_the_header(args: list[str]) -> None:
    """Every column whose header names a unit ('GPU-s (s)', 'accuracy (%)') holds numbers a
    spreadsheet can sum, or nothing; no cell anywhere is a formatted figure ('6.04 min', '$7.28',
    '24,576', '83.3% [77.5, 89.1]') but in the text columns."""
    result = CliRunner().invoke(app, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    numeric = 0
    for header, *rows in csv_tables(result.stdout):
        for i, name in enumerate(header):
            column = [row[i] for row in rows]
            if re.search(r"\((s|%|USD|J|B|B/s|FLOP/s|FLOP/B|tokens|parameters|ratio)\)$", name):
                numeric += 1
                for value in column:
                    assert value == "" or math.isfinite(float(value)), (name, value)
            if name not in TEXT_COLUMNS:
                for value in column:
                    assert not FORMATTED.search(value), (name, value)
    assert numeric


def test_csv_figures_equal_the_json_document() -> None:
    """plan's best GPU-seconds, latency, dollars and accuracy in CSV are the --json figures, to
    the last digit (written as the float's repr)."""
    args = ["plan", "--budget", "1e16", "--models", "qwen3-8b,qwen3-32b"]
    best = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)["best"]
    header, row = csv_tables(CliRunner().invoke(app, [*args, "--format", "csv"]).stdout)[0][:2]
    got = dict(zip(header, row, strict=True))
    f, d = best["deployable"], best["deployment"]
    assert got["pick"] == "best" and got["model"] == best["model"]
    assert float(got["GPU-s (s)"]) == f["gpu_seconds"]
    assert float(got["latency (s)"]) == f["latency_s"]
    assert float(got["energy (J)"]) == f["joules"]
    assert float(got["eFLOPs"]) == best["eflops"]
    assert float(got["accuracy (%)"]) == 100 * best["accuracy"]
    assert int(got["limit (tokens)"]) == best["gen_len"] and int(got["trials"]) == best["trials"]
    assert (int(got["tp"]), int(got["problems in flight"])) == (d["tp"], d["batch"])
    assert got["accuracy rests on"] == best["accuracy_kind"]  # one vocabulary: measured, priors


def test_cells_show_their_text_and_write_their_values(width, capsys) -> None:  # type: ignore[no-untyped-def]
    """A table of Cells prints exactly as the same table of their texts (terminal and
    Markdown); in CSV each expands to its values under the headers csv_columns gives."""
    from kinetics_cli.report import cells

    columns = ["", ">GPU-s", ">accuracy", ">$/1k"]
    rows = [
        ["best", cells.seconds(362.5), cells.accuracy(0.9341, (0.8761, 0.9921)), cells.usd(7.2)],
        ["alt", cells.seconds(6.985), cells.accuracy(0.5, None), "-"],
    ]
    texts = [[str(c) for c in row] for row in rows]
    # 362.5 s is 6.04 min; 0.9341 is 93.4% and its interval 87.6 to 99.2 points
    assert texts[0] == ["best", "6.04 min", "93.4% [87.6, 99.2]", "$7.20"]
    for output_format in ("table", "markdown"):
        width(80, output_format)
        console.show_table("T", columns, rows)
        with_cells = capsys.readouterr().out
        console.show_table("T", columns, texts)
        assert with_cells == capsys.readouterr().out
    width(80, "csv")
    headers = {"GPU-s": ("GPU-s (s)",), "accuracy": cells.accuracy_columns(), "$/1k": ("USD",)}
    console.show_table("T", columns, rows, csv_columns=headers)
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [
        ["", "GPU-s (s)", "accuracy (%)", "accuracy_low (%)", "accuracy_high (%)", "USD"],
        # 100 x 0.9341 and the interval's ends as Python computes them, never rounded
        ["best", "362.5", repr(100 * 0.9341), repr(100 * 0.8761), repr(100 * 0.9921), "7.2"],
        ["alt", "6.985", "50", "", "", ""],  # no interval, no price: empty cells
    ]


def test_csv_text_writes_full_precision_and_empties_what_is_not_a_number() -> None:
    import numpy as np

    from kinetics_cli.report.cells import csv_text

    assert csv_text(6.9851838646750934) == "6.9851838646750934"  # repr: reads back exactly
    assert csv_text(24576.0) == "24576" and csv_text(np.int64(20)) == "20"
    assert csv_text(1e16) == "1e+16"  # past 2^53 a whole float keeps its repr
    assert csv_text(float("nan")) == csv_text(None) == csv_text(float("inf")) == ""
    assert csv_text(True) == "true" and csv_text("topk") == "topk"


def test_a_cell_with_the_wrong_number_of_values_is_refused(width) -> None:  # type: ignore[no-untyped-def]
    from kinetics_cli.report.cells import Cell

    width(80, "csv")
    with pytest.raises(ValueError, match="2 values for 3 CSV columns"):
        console.show_table(None, [">a"], [[Cell("x", (1, 2))]], csv_columns={"a": ("p", "q", "r")})
    with pytest.raises(ValueError, match="names no column"):
        console.show_table(None, [">a"], [["1"]], csv_columns={"b": ("p",)})
