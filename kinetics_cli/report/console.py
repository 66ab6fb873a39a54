"""Output helpers shared by every command: one JSON document on stdout, rich tables, warnings on
stderr."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich is imported where a table or console is made: --json output never needs it
    from rich.console import Console
    from rich.table import Table

_stdout: Console | None = None


def console() -> Console:
    """The rich console for human output on stdout."""
    from rich.console import Console

    global _stdout
    if _stdout is None:
        _stdout = Console(highlight=False)
        if not _stdout.is_terminal and "COLUMNS" not in os.environ:
            # Piped or captured output: tables keep their rows on one line instead of folding
            # at 80 columns.
            _stdout = Console(highlight=False, width=160)
    return _stdout


def warn(message: str) -> None:
    """One warning line on stderr (plain text, so it never wraps into a box)."""
    sys.stderr.write(f"warning: {message}\n")


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays, paths and non-finite floats into JSON-safe values."""
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def emit_json(document: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(_jsonable(document), indent=2) + "\n")


def make_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A rich table; columns whose name starts with '>' are right-aligned."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in columns:
        if col.startswith(">"):
            table.add_column(col[1:], justify="right", overflow="fold")
        else:
            table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    console().print(make_table(title, columns, rows))


def fitted_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Sequence[str] = (),
    optional: Sequence[str | tuple[str, ...]] = (),
) -> Table:
    """A light-ruled table that fits the console: cells are plain text (never rich markup, so
    names such as "mlp [dense layers]" print as they are), the `wrap` columns break between words
    only, every other column stays on one line, and the `optional` columns are left out, in that
    order (a tuple goes as one), while the table is still wider than the console. Column names as
    in make_table ('>' for right-aligned)."""
    from rich import box
    from rich.cells import cell_len
    from rich.markup import escape

    names = [c.lstrip(">") for c in columns]
    cells = [[str(row[i]) for row in rows] for i in range(len(columns))]
    widest = [max(cell_len(text) for text in [name, *cells[i]]) for i, name in enumerate(names)]
    narrowest = [  # a wrapped column needs its longest word, any other its longest cell
        max(cell_len(w) for w in " ".join([name, *cells[i]]).split()) if name in wrap else widest[i]
        for i, name in enumerate(names)
    ]
    width = console().width

    def overflow(keep: list[int], widths: list[int]) -> int:
        # SIMPLE_HEAD: a padding space either side of each cell, a separator between cells and
        # an edge character either side.
        return sum(widths[i] + 3 for i in keep) + 1 - width

    keep = list(range(len(columns)))
    give_up = [(group,) if isinstance(group, str) else group for group in optional]
    while give_up and overflow(keep, narrowest) > 0:
        for name in give_up.pop(0):
            keep.remove(names.index(name))
    # Narrow the wrapped columns, the widest first, until the table fits (or cannot shrink).
    widths = list(widest)
    excess = overflow(keep, widths)
    while excess > 0:
        slack = [(widths[i] - narrowest[i], i) for i in keep if widths[i] > narrowest[i]]
        if not slack:
            break
        widths[max(slack)[1]] -= 1
        excess -= 1
    table = make_table(
        escape(title),
        [columns[i] for i in keep],
        [[escape(cells[i][r]) for i in keep] for r in range(len(rows))],
    )
    table.box = box.SIMPLE_HEAD
    for column, i in zip(table.columns, keep, strict=True):
        column.width = widths[i]
        column.no_wrap = names[i] not in wrap
    return table
