"""Table cells that carry both what a terminal table shows and the plain values CSV writes.

A table builder says once what each cell is: `seconds(7.28)` shows '7.28 s' in the terminal
table and Markdown and is the number 7.28 in the CSV column 'GPU-s (s)'; `accuracy(0.833,
(0.775, 0.891))` shows '83.3% [77.5, 89.1]' and fills three CSV columns. `show_table` takes, per
table column, the CSV headers its cells expand to (`csv_columns`); a cell that is plain text is
written as it is, and a '-' or empty cell in a numeric column becomes empty cells.

CSV numbers, one unit per column, named in its header: a whole number below 2^53 as its digits
(24576, 449308775008380), any other as Python's `repr` of the float, the shortest decimal that
reads back as the same double (6.9851838646750934, 1.2e+16), so nothing is rounded; not-a-number
and infinities as empty cells.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from kinetics_cli.report import format as fmt

Raw = float | int | str | bool | None


@dataclass(frozen=True)
class Cell:
    """One table cell: `text` as the terminal table and Markdown show it (also `str(cell)`), and
    `raw`, the plain values CSV writes in its place, one per CSV column of its table column."""

    text: str
    raw: tuple[Raw, ...]

    def __str__(self) -> str:
        return self.text


def csv_text(value: Raw) -> str:
    """One CSV value: '' for None and non-finite numbers, an integer's digits, a float's repr,
    'true'/'false', text as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        return ""
    if number.is_integer() and abs(number) < 2**53:  # a whole number, exactly: its digits
        return str(int(number))
    return repr(number)


def cell(text: str, *raw: Raw) -> Cell:
    """A cell showing `text` and written to CSV as `raw` (one value per CSV column)."""
    return Cell(text, raw)


def seconds(value: float) -> Cell:
    """A time in seconds: '7.28 s' or '6.04 min' shown (format.duration), seconds in CSV."""
    return Cell(fmt.duration(value), (value,))


def usd(value: float | None) -> Cell:
    """US dollars: '$7.28' shown (format.money), dollars in CSV; None: '-' and empty."""
    return Cell("-", (None,)) if value is None else Cell(fmt.money(value), (value,))


def joules(value: float | None) -> Cell:
    """Energy: '1.2 kJ' shown, joules in CSV; None: '-' and empty."""
    return Cell("-", (None,)) if value is None else Cell(fmt.format_si(value, "J"), (value,))


def flop_count(value: float) -> Cell:
    """A FLOP or eFLOP count: '8.59e15' shown (format.flops), the full count in CSV."""
    return Cell(fmt.flops(value), (value,))


def byte_count(value: float) -> Cell:
    """Bytes: '80 GB' shown (format.format_bytes), bytes in CSV."""
    return Cell(fmt.format_bytes(value), (value,))


def token_count(value: float) -> Cell:
    """Tokens: '32,768' shown (format.tokens), the count in CSV."""
    return Cell(fmt.tokens(value), (int(value) if float(value).is_integer() else value,))


def param_count(value: float) -> Cell:
    """Parameters: '8.191B' shown (format.format_count), the count in CSV."""
    return Cell(fmt.format_count(value), (int(value) if float(value).is_integer() else value,))


def count(value: int) -> Cell:
    """A whole number: '1,024' shown, 1024 in CSV."""
    return Cell(f"{value:,}", (int(value),))


def intensity(value: float) -> Cell:
    """FLOPs per byte: '281.25' shown (format.intensity), the full value in CSV."""
    return Cell(fmt.intensity(value), (value,))


def percent(fraction: float, decimals: int = 1) -> Cell:
    """A fraction shown as '94.2%', written to CSV in percent (94.2...)."""
    if fraction != fraction:
        return Cell("-", (None,))
    return Cell(fmt.percent(fraction, decimals), (100 * fraction,))


def accuracy(value: float, interval: Sequence[float] | None) -> Cell:
    """An accuracy and its interval: '83.3% [77.5, 89.1]' shown (the interval where it is wider
    than 0.05 points), three CSV columns in percent: accuracy, low, high (empty without one)."""
    text = f"{value:.1%}"
    if interval is not None and interval[1] - interval[0] > 0.0005:
        text += f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"
    low, high = (None, None) if interval is None else (100 * interval[0], 100 * interval[1])
    return Cell(text, (100 * value, low, high))


def accuracy_columns(within: str = "") -> tuple[str, str, str]:
    """The CSV headers an `accuracy` cell fills: 'accuracy (%)', 'accuracy_low (%)',
    'accuracy_high (%)', each with `within` before the unit ('accuracy within 1e15 eFLOPs
    (%)')."""
    return tuple(f"accuracy{end}{within} (%)" for end in ("", "_low", "_high"))  # type: ignore[return-value]


# The CSV columns of a figure/value table's value: the number (empty for a figure in words),
# its unit, and the value as the table shows it.
FIGURE_COLUMNS = ("value", "unit", "shown")


def figure(text: str, value: Raw = None, unit: str = "") -> Cell:
    """A figure/value table's value: `text` shown; in CSV the number `value` in `unit`, then the
    text (a figure in words has only the text)."""
    return Cell(text, (value, unit or None, text))
