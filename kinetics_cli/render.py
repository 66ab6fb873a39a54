"""Output helpers shared by every command: one JSON document on stdout, rich tables, warnings on stderr."""

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
