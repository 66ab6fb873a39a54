"""The one JSON text every `--json` writes, built in one pass: numpy scalars and arrays as
numbers and lists, non-finite floats as null, dict keys and anything else (paths) as strings,
indented by two spaces; the bytes `json.dumps(..., indent=2)` writes for the same values.

The standard library only uses its C encoder without `indent`; with it, every value goes through
a pure-Python generator, which (with a JSON-safe copy of the document made first) was about a
quarter of `frontier --json` (about 10,000 configurations, 7 MB). Here the containers are joined
directly and each scalar goes through the same C-level formatters the standard encoder uses
(string escaping, float and int repr), so the text is byte for byte the same.
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
