"""The one JSON text every `--json` writes, built in one pass: numpy scalars and arrays as
numbers and lists, non-finite floats as null, dict keys and anything else (paths) as strings,
indented by two spaces; the bytes `json.dumps(..., indent=2)` writes for the same values.

The standard library only uses its C encoder without `indent`; with it, every value goes through
a pure-Python generator, which (with a JSON-safe copy of the document made first) was about a
quarter of `frontier --json` (about 10,000 configurations, 7 MB). Here the containers are joined
directly and each scalar goes through the same C-level formatters the standard encoder uses
(string escaping, float and int repr), so the text is byte for byte the same. A long list of
dicts with the same keys is written as a table: each column formatted in one pass, each row
filled into one template (about a fifth less time for the frontier document, whose float
formatting is most of what is left). `Records` holds such a list as its columns (a frontier's
configurations are built so), written the same way with no dict made per record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain
from json.encoder import encode_basestring_ascii
from typing import Any, overload

INDENT = "  "


def dumps(document: Any) -> str:
    """The JSON text of `document` (see the module docstring)."""
    parts: list[str] = []
    _write(document, "\n", parts, {})
    return "".join(parts)


_FLOAT_REPR = float.__repr__
_INT_REPR = int.__repr__
_isfinite = math.isfinite


def _scalar(value: Any) -> str | None:
    """The JSON text of a scalar; None for a container (or anything with `tolist`, which
    `_write` unpacks first). Exact types first: they are nearly every value of a document."""
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is float:
        return _FLOAT_REPR(value) if math.isfinite(value) else "null"
    if kind is int:
        return _INT_REPR(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dict, list, tuple, Records)) or hasattr(value, "tolist"):
        return None
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, float):
        return _FLOAT_REPR(value) if math.isfinite(value) else "null"
    if isinstance(value, int):
        return _INT_REPR(value)
    return encode_basestring_ascii(str(value))


def _write(value: Any, newline: str, parts: list[str], heads: dict[Any, str]) -> None:
    """Append the text of `value` to `parts`; `newline` is a line break and the indentation of
    the line `value` starts on. `heads` keeps the text before each dict value (bracket or comma,
    indentation, key), which repeats across the rows of a large document; finite floats and
    strings, most of its values, are written inline."""
    text = _scalar(value)
    if text is not None:
        parts.append(text)
        return
    if hasattr(value, "tolist"):
        _write(value.tolist(), newline, parts, heads)
        return
    if not value:
        parts.append("{}" if isinstance(value, dict) else "[]")
        return
    if isinstance(value, Records):
        _write_records(value, newline, parts, heads)
        return
    inner = newline + INDENT
    append = parts.append
    if isinstance(value, dict):
        first = True
        for key, item in value.items():
            head = heads.get((key, inner, first))
            if head is None:
                head = ("{" if first else ",") + inner + encode_basestring_ascii(str(key)) + ": "
                heads[(key, inner, first)] = head
            append(head)
            first = False
            kind = type(item)
            if kind is float and _isfinite(item):
                append(_FLOAT_REPR(item))
            elif kind is str:
                append(encode_basestring_ascii(item))
            else:
                text = _scalar(item)
                if text is None:
                    _write(item, inner, parts, heads)
                else:
                    append(text)
        append(newline + "}")
    else:
        if len(value) >= _TABLE_ROWS and _write_table(value, newline, parts, heads):
            return
        separator, comma = "[" + inner, "," + inner
        for item in value:
            append(separator)
            separator = comma
            if type(item) is float and _isfinite(item):
                append(_FLOAT_REPR(item))
            else:
                text = _scalar(item)
                if text is None:
                    _write(item, inner, parts, heads)
                else:
                    append(text)
        append(newline + "]")


_TABLE_ROWS = 64  # lists of at least this many dicts are tried as a table


class Records(Sequence[dict[str, Any]]):
    """A list of dicts with the same keys held column by column (`columns`: key -> one value per
    record), as a document's configurations are built: written as that list of dicts, straight
    from the columns (no dict per record); indexing gives one record's dict."""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        counts = {len(values) for values in columns.values()}
        if len(counts) > 1:
            raise ValueError("the columns of records differ in length")
        self.columns = columns
        self._count = counts.pop() if counts else 0

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError("record index out of range")
        return {key: values[index] for key, values in self.columns.items()}


def _write_records(records: Records, newline: str, parts: list[str], heads: dict[Any, str]) -> None:
    """The text `_write` gives the list of dicts `records` stands for, from its columns."""
    if not records.columns or not all(type(k) is str for k in records.columns):
        _write(list(records), newline, parts, heads)
        return
    _write_columns(records.columns, newline, parts, heads)


def _write_table(rows: Any, newline: str, parts: list[str], heads: dict[Any, str]) -> bool:
    """Write a list of dicts that all have the same keys in the same order (a document's
    configurations) column by column: each column's values formatted in one pass, then every
    row filled into one template, the same text `_write` gives row by row. False, having
    written nothing, for any other list."""
    first = rows[0]
    if type(first) is not dict or not first:
        return False
    keys = tuple(first)
    if not all(type(k) is str for k in keys):
        return False
    for row in rows:
        if type(row) is not dict or tuple(row) != keys:
            return False
    values = zip(*map(dict.values, rows), strict=True)
    _write_columns(dict(zip(keys, map(list, values), strict=True)), newline, parts, heads)
    return True


def _write_columns(
    columns: dict[str, list[Any]], newline: str, parts: list[str], heads: dict[Any, str]
) -> None:
    """The list of dicts with string keys whose values `columns` holds (at least one record):
    each column formatted in one pass (`_column`: a template piece and its values' texts), then
    every row filled into one template."""
    inner = newline + INDENT
    cell = inner + INDENT
    template, texts = [], []
    for i, (key, values) in enumerate(columns.items()):
        piece, column_texts = _column(values, cell, heads)
        head = ("{" if i == 0 else ",") + cell + encode_basestring_ascii(key) + ": "
        template.append(head.replace("%", "%%") + piece)
        texts += column_texts
    row = "".join(template) + inner + "}"
    body = ("," + inner).join(map(row.__mod__, zip(*texts, strict=True)))
    parts += ("[" + inner, body, newline + "]")  # the body, megabytes, joined once, in `dumps`


_NONE = type(None)
_BOOLS = {True: "true", False: "false"}


def _floats(values: Any) -> list[str]:
    """The JSON text of each float of `values` (all exact floats)."""
    texts = list(map(_FLOAT_REPR, values))
    if all(map(_isfinite, values)):
        return texts
    return [t if t[-1] not in "nf" else "null" for t in texts]  # nan, inf


def _column(values: list[Any], newline: str, heads: dict[Any, str]) -> tuple[str, list[list[str]]]:
    """A table column whose cells start lines at `newline`, as a piece of the row template and
    the texts of its slots: one slot ("%s") of each value's JSON text, except a column of
    [low, high] float pairs (intervals), two slots of float texts inside the list's brackets.
    Floats, strings, booleans, integers and None directly, anything else by `_write`."""
    kinds = set(map(type, values))
    if kinds == {float}:
        return "%s", [_floats(values)]
    if kinds == {str}:
        return "%s", [list(map(encode_basestring_ascii, values))]
    if kinds == {bool}:
        return "%s", [list(map(_BOOLS.__getitem__, values))]
    if kinds == {int}:
        return "%s", [list(map(_INT_REPR, values))]
    if kinds == {_NONE}:
        return "%s", [["null"] * len(values)]
    if kinds == {int, _NONE}:  # KV budgets (none for dense attention)
        return "%s", [["null" if v is None else _INT_REPR(v) for v in values]]
    inner = newline + INDENT
    open_, comma, close = "[" + inner, "," + inner, newline + "]"
    if kinds == {list} and set(map(len, values)) == {2}:
        flat = list(chain.from_iterable(values))
        if set(map(type, flat)) == {float}:
            texts = _floats(flat)
            return open_ + "%s" + comma + "%s" + close, [texts[0::2], texts[1::2]]
    out = []
    for v in values:
        if type(v) is list and v and all(type(x) is float for x in v):
            out.append(open_ + comma.join(_floats(v)) + close)
            continue
        text = _scalar(v)
        if text is None:
            nested: list[str] = []
            _write(v, newline, nested, heads)
            text = "".join(nested)
        out.append(text)
    return "%s", [out]
