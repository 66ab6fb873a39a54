"""The one JSON text every `--json` writes, built in one pass: numpy scalars and arrays as
numbers and lists, non-finite floats as null, dict keys and anything else (paths) as strings,
indented by two spaces; the bytes `json.dumps(..., indent=2)` writes for the same values.

The standard library only uses its C encoder without `indent`; with it, every value goes through
a pure-Python generator, which (with a JSON-safe copy of the document made first) was about a
quarter of `frontier --json` (about 10,000 configurations, 7 MB). Here the containers are joined
directly and each scalar goes through the same C-level formatters the standard encoder uses
(string escaping, float and int repr), so the text is byte for byte the same. A long list of
dicts with the same keys (a frontier's configurations) is written as a table: each column
formatted in one pass, each row filled into one template (about a fifth less time for the
frontier document, whose float formatting is most of what is left).
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring_ascii
from typing import Any

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
    if isinstance(value, (dict, list, tuple)) or hasattr(value, "tolist"):
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
    inner = newline + INDENT
    cell = inner + INDENT
    template = "".join(
        ("{" if i == 0 else ",") + cell + encode_basestring_ascii(k).replace("%", "%%") + ": %s"
        for i, k in enumerate(keys)
    )
    template += inner + "}"
    columns = [_column(c, cell, heads) for c in zip(*map(dict.values, rows), strict=True)]
    body = ("," + inner).join(map(template.__mod__, zip(*columns, strict=True)))
    parts.append("[" + inner + body + newline + "]")
    return True


def _floats(values: Any) -> list[str]:
    """The JSON text of each float of `values` (all exact floats)."""
    return [t if t[-1] not in "nf" else "null" for t in map(_FLOAT_REPR, values)]  # nan, inf


def _column(values: tuple[Any, ...], newline: str, heads: dict[Any, str]) -> list[str]:
    """The JSON text of each value of a table column whose cells start lines at `newline`:
    floats, strings and short lists of floats (intervals) directly, anything else by `_write`."""
    kind = type(values[0])
    if kind is float and all(type(v) is float for v in values):
        return _floats(values)
    if kind is str and all(type(v) is str for v in values):
        return list(map(encode_basestring_ascii, values))
    inner = newline + INDENT
    open_, comma, close = "[" + inner, "," + inner, newline + "]"
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
    return out
