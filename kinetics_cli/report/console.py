"""Output helpers shared by every command: one JSON document on stdout, tables in the chosen
format (a table fitted to the terminal, CSV or Markdown), prose lines, warnings on stderr.

Every table goes through `show_table` and every line of prose through `say`, so the output
format (`--format table|csv|markdown`), the width rule (the terminal's width; 120 columns, or
$COLUMNS, when piped) and the no-trailing-spaces rule hold for every command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "csv", "markdown")
PIPED_WIDTH = 120  # columns when stdout is not a terminal and $COLUMNS is not set


@dataclass
class _State:
    format: str = "table"
    tables: int = 0  # tables written so far (CSV separates them with a blank line)
    stdout: Console | None = None
    widths: dict[str, int] = field(default_factory=dict)


_STATE = _State()


def reset(output_format: str = "table") -> None:
    """Start an invocation: choose the output format and forget the console (tests run many
    invocations in one process)."""
    from kinetics_cli.errors import InputError

    if output_format not in FORMATS:
        raise InputError(f"unknown --format {output_format!r}; choose one of {', '.join(FORMATS)}")
    _STATE.format = output_format
    _STATE.tables = 0
    _STATE.stdout = None


def output_format() -> str:
    """'table', 'csv' or 'markdown'."""
    return _STATE.format


def console() -> Console:
    """The rich console for human output on stdout: the terminal's width, or PIPED_WIDTH
    columns ($COLUMNS when set) when stdout is piped or captured."""
    if _STATE.stdout is None or _STATE.stdout.file is not sys.stdout:
        from rich.console import Console

        out = Console(highlight=False, file=sys.stdout)
        if not out.is_terminal and "COLUMNS" not in os.environ:
            out = Console(highlight=False, file=sys.stdout, width=PIPED_WIDTH)
        _STATE.stdout = out
    return _STATE.stdout


def _print(renderable: Any, **options: Any) -> None:
    """Print through rich; off a terminal, without the spaces rich pads lines with."""
    out = console()
    if out.is_terminal:
        out.print(renderable, **options)
        return
    with out.capture() as captured:
        out.print(renderable, **options)
    text = "\n".join(line.rstrip() for line in captured.get().split("\n"))
    sys.stdout.write(text)


def say(text: str) -> None:
    """One paragraph of prose, wrapped between words at the console's width (never interpreted
    as rich markup). With --format markdown a paragraph of the document; with --format csv it goes
    to stderr, so stdout stays one CSV stream."""
    fmt = _STATE.format
    if fmt == "csv":
        sys.stderr.write(text.rstrip() + "\n")
    elif fmt == "markdown":
        sys.stdout.write(_markdown_text(text) + "\n\n")
    else:
        _print(text, markup=False, soft_wrap=False, overflow="fold")


def say_command(lead: str, command: str) -> None:
    """`lead` on a line of its own, then a shell command indented and broken between words with
    a trailing backslash where it is wider than the console, so that it pastes as one command;
    with --format markdown the command as code, with csv both on stderr."""
    fmt = _STATE.format
    if fmt == "csv":
        sys.stderr.write(f"{lead}\n{command}\n")
        return
    if fmt == "markdown":
        sys.stdout.write(f"{_markdown_text(lead)}\n\n    {command}\n\n")
        return
    # an option stays with its value: a line breaks only before a word that starts with '-'
    groups: list[str] = []
    for word in command.split(" "):
        if groups and not word.startswith("-"):
            groups[-1] += f" {word}"
        else:
            groups.append(word)
    width = console().width
    lines, line = [], "  " + groups[0]
    for group in groups[1:]:
        # room for the group and, but on the last line, " \"
        if len(line) + 1 + len(group) + 2 > width:
            lines.append(line + " \\")
            line = "    " + group
        else:
            line += f" {group}"
    lines.append(line)
    sys.stdout.write(lead + "\n" + "\n".join(lines) + "\n")


def warn(message: str) -> None:
    """One warning line on stderr (plain text, so it never wraps into a box)."""
    sys.stderr.write(f"warning: {message}\n")


def emit_json(document: Any) -> None:
    """Write exactly one JSON document to stdout (`jsontext.dumps`: numpy values and non-finite
    floats made JSON-safe, indented by two spaces)."""
    from kinetics_cli.report.jsontext import dumps

    sys.stdout.write(dumps(document))  # megabytes for a frontier: not copied to add the newline
    sys.stdout.write("\n")


# ---- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Merge:
    """Columns that become one wrapped column (named `header`) when the table is too wide for
    the console: their cells joined by spaces, each after its `prefixes` entry (e.g. 'L ')."""

    header: str
    columns: tuple[str, ...]
    prefixes: Mapping[str, str] = field(default_factory=dict)


def show_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    wrap: Sequence[str] = (),
    merge: Sequence[Merge] = (),
    optional: Sequence[str | tuple[str, ...]] = (),
    csv_columns: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Write one table to stdout in the output format.

    Column names starting with '>' are right-aligned numbers. Cells are text or `cells.Cell`s
    (their text shown, their plain values written to CSV). As a terminal table it is fitted to
    the console's width (see `fit_table`); as Markdown (a bold title, then a pipe table) every
    column is kept, as shown; as CSV (header row, then rows; tables separated by a blank line,
    titles and prose on stderr) every column is kept, each expanded to the headers
    `csv_columns` gives it (by name, without the '>'; default: its name) and filled with its
    cells' plain values (see report/cells.py).
    """
    fmt = _STATE.format
    if fmt == "csv":
        _write_csv(title, columns, [list(row) for row in rows], csv_columns or {})
        _STATE.tables += 1
        return
    cells = [[str(cell) for cell in row] for row in rows]
    if fmt == "markdown":
        _write_markdown(title, columns, cells)
    else:
        _print(fit_table(title, columns, cells, wrap=wrap, merge=merge, optional=optional))
    _STATE.tables += 1


def table_width_limit() -> int | None:
    """The width a terminal table must fit in, or None when tables are CSV or Markdown (every
    column is kept)."""
    return console().width if _STATE.format == "table" else None


def _write_csv(
    title: str | None,
    columns: Sequence[str],
    rows: list[list[Any]],
    csv_columns: Mapping[str, Sequence[str]],
) -> None:
    import csv

    from kinetics_cli.report.cells import Cell, csv_text

    names = [c.lstrip(">") for c in columns]
    unknown = set(csv_columns) - set(names)
    if unknown:
        raise ValueError(f"csv_columns names no column of the table: {sorted(unknown)}")
    headers = [tuple(csv_columns.get(name, (name,))) for name in names]
    right = {c.lstrip(">") for c in columns if c.startswith(">")}  # numbers

    def expand(value: Any, wanted: tuple[str, ...], name: str) -> list[str]:
        if isinstance(value, Cell):
            if len(value.raw) != len(wanted):
                raise ValueError(
                    f"a cell of column {name!r} has {len(value.raw)} values for {len(wanted)} "
                    "CSV columns"
                )
            return [csv_text(v) for v in value.raw]
        if not isinstance(value, str) and len(wanted) == 1:  # a plain number
            return [csv_text(value)]
        text = str(value)
        if (name in right or len(wanted) > 1) and text.strip() in ("", "-"):
            return [""] * len(wanted)  # a number not applicable: empty cells
        return [text] + [""] * (len(wanted) - 1)  # text as it is

    if _STATE.tables:
        sys.stdout.write("\n")
    if title:
        sys.stderr.write(f"table {_STATE.tables + 1}: {title}\n")
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([h for group in headers for h in group])
    for row in rows:
        writer.writerow(
            [
                text
                for value, wanted, name in zip(row, headers, names, strict=True)
                for text in expand(value, wanted, name)
            ]
        )


def _markdown_text(text: str) -> str:
    """Prose as Markdown: characters that would start markup escaped."""
    return "".join("\\" + ch if ch in "\\`*_[]<>|#" else ch for ch in text)


def _write_markdown(title: str | None, columns: Sequence[str], rows: list[list[str]]) -> None:
    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [f"**{_markdown_text(title)}**", ""] if title else []
    lines.append("| " + " | ".join(cell(c.lstrip(">")) for c in columns) + " |")
    lines.append("|" + "|".join("---:" if c.startswith(">") else "---" for c in columns) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    sys.stdout.write("\n".join(lines) + "\n\n")


def _widths(
    names: Sequence[str], cells: Sequence[Sequence[str]], wrap: Sequence[str]
) -> tuple[list[int], list[int]]:
    """(widest, narrowest) width of each column: a `wrap` column can narrow to its longest
    word; any other keeps its longest cell on one line, though its header may wrap."""
    from rich.cells import cell_len

    widest, narrowest = [], []
    for name, column in zip(names, cells, strict=True):
        widest.append(max(cell_len(text) for text in [name, *column]))
        header_word = max(cell_len(w) for w in name.split()) if name.split() else 0
        if name in wrap:
            words = " ".join(column).split()
            narrowest.append(max([header_word, *(cell_len(w) for w in words)]))
        else:
            narrowest.append(max([header_word, *(cell_len(t) for t in column)]))
    return widest, narrowest


def _overflow(widths: Sequence[int], width: int) -> int:
    # SIMPLE_HEAD: a padding space either side of each cell, a separator between cells and an
    # edge character either side.
    return sum(w + 3 for w in widths) + 1 - width


def table_fits(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Sequence[str] = (),
    merge: Sequence[Merge] = (),
    optional: Sequence[str | tuple[str, ...]] = (),
) -> bool:
    """Whether `show_table` with these arguments fits the console (always True for CSV and
    Markdown, which keep every column)."""
    width = table_width_limit()
    if width is None:
        return True
    cells = [[str(row[i]) for row in rows] for i in range(len(columns))]
    fitted = _fit_columns(columns, cells, len(rows), wrap, merge, optional, width)
    return _overflow(fitted[4], width) <= 0


def _fit_columns(
    columns: Sequence[str],
    cells: list[list[str]],
    count: int,
    wrap: Sequence[str],
    merge: Sequence[Merge],
    optional: Sequence[str | tuple[str, ...]],
    width: int,
) -> tuple[list[str], list[list[str]], set[str], list[int], list[int], set[str]]:
    """(names, cells, wrapped names, widest, narrowest, right-aligned names) once the merges and
    then the drops that the table needs to fit `width` are done."""
    names = [c.lstrip(">") for c in columns]
    right = {c.lstrip(">") for c in columns if c.startswith(">")}
    cells = [list(column) for column in cells]
    wrapped = set(wrap)
    pending = list(merge)
    give_up = [(group,) if isinstance(group, str) else group for group in optional]
    while True:
        widest, narrowest = _widths(names, cells, sorted(wrapped))
        if _overflow(narrowest, width) <= 0 or not (pending or give_up):
            return names, cells, wrapped, widest, narrowest, right
        if pending:
            m = pending.pop(0)
            at = [names.index(c) for c in m.columns if c in names]
            if not at:
                continue
            joined = [
                " ".join(m.prefixes.get(names[i], "") + cells[i][r] for i in at if cells[i][r])
                for r in range(count)
            ]
            first = at[0]
            names[first], cells[first] = m.header, joined
            right.discard(m.header)
            wrapped.add(m.header)
            for i in sorted(at[1:], reverse=True):
                del names[i], cells[i]
        else:
            for name in give_up.pop(0):
                if name in names:
                    i = names.index(name)
                    del names[i], cells[i]


def fit_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    wrap: Sequence[str] = (),
    merge: Sequence[Merge] = (),
    optional: Sequence[str | tuple[str, ...]] = (),
) -> Any:
    """A light-ruled rich table that fits the console.

    Cells are plain text (never rich markup, so "mlp [dense layers]" prints as it is). While the
    table is wider than the console, at its narrowest: first the `merge` groups become one
    wrapped column each, in order, then the `optional` columns are left out, in order (a tuple
    goes as one); identifying columns belong in neither. Then columns narrow where that wraps the
    fewest cells: `wrap` columns break between words, headers of the others between words.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    width = console().width
    cells = [[row[i] for row in rows] for i in range(len(columns))]
    names, cells, _, widest, narrowest, right = _fit_columns(
        columns, cells, len(rows), wrap, merge, optional, width
    )
    # Narrow one character at a time the column where that wraps the fewest cells (header
    # included), the one with the most room to spare among equals.
    from rich.cells import cell_len

    lengths = [[cell_len(t) for t in [names[i], *cells[i]]] for i in range(len(names))]
    widths = list(widest)
    excess = _overflow(widths, width)
    while excess > 0:
        candidates = [
            (sum(n >= widths[i] for n in lengths[i]), narrowest[i] - widths[i], i)
            for i in range(len(names))
            if widths[i] > narrowest[i]
        ]
        if not candidates:
            break
        widths[min(candidates)[2]] -= 1
        excess -= 1
    table = Table(
        title=Text(title) if title else None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for i, name in enumerate(names):
        table.add_column(
            Text(name),
            justify="right" if name in right else "left",
            overflow="fold",
            width=widths[i],
        )
    for r in range(len(rows)):
        table.add_row(*(Text(cells[i][r]) for i in range(len(names))))
    shown = set(names)
    merged = {c for m in merge for c in m.columns}
    hidden = [c.lstrip(">") for c in columns if c.lstrip(">") not in shown | merged]
    if hidden:
        table.caption = Text(
            f"not shown at this width: {', '.join(hidden)} (--format csv or --json has them)"
        )
        table.caption_justify = "left"
    return table
