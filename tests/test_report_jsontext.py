"""report/jsontext.py writes the same bytes as json.dumps(indent=2) of a JSON-safe copy of the
document, which is how --json documents were written before it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.report.jsontext import Records, dumps


def jsonable(value: Any) -> Any:
    """numpy scalars/arrays, paths and non-finite floats into JSON-safe values."""
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def reference(document: object) -> str:
    return json.dumps(jsonable(document), indent=2)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.floats(allow_nan=True).map(np.float64)
    | st.integers(-(2**62), 2**62).map(np.int64)
    | st.booleans().map(np.bool_)
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(documents)
def test_same_text_as_the_standard_encoder(document: object) -> None:
    assert dumps(document) == reference(document)


def test_arrays_paths_and_non_finite_values() -> None:
    document = {
        "grid": np.array([[1.0, np.nan], [np.inf, -0.0]]),
        "empty": np.zeros((0, 2)),
        "path": Path("/tmp/x.png"),
        "nested": [[], {}, (1, [2, {3: 'é\n"'}])],
        "big": 10**30,
    }
    text = dumps(document)
    assert text == reference(document)
    assert json.loads(text)["grid"] == [[1.0, None], [None, -0.0]]
    assert not math.isnan(json.loads(text)["big"])


finite_or_not = st.floats(allow_nan=True, allow_infinity=True)


def column(rows: int) -> st.SearchStrategy[list[Any]]:
    """One column of a table: all floats, all strings, booleans, integers (some None), short
    float lists or [low, high] pairs (intervals, some with non-finite ends), or anything (nested
    containers, numpy scalars, None)."""
    return st.lists(
        finite_or_not | st.text() | st.lists(finite_or_not, max_size=3) | documents,
        min_size=rows,
        max_size=rows,
    ) | st.sampled_from(
        [
            finite_or_not,
            st.text(),
            st.booleans(),
            st.integers(),
            st.none(),
            st.integers() | st.none(),
            st.lists(finite_or_not, max_size=3),
            st.lists(finite_or_not, min_size=2, max_size=2),
            st.lists(st.floats() | st.integers(), min_size=2, max_size=2),
        ]
    ).flatmap(lambda cell: st.lists(cell, min_size=rows, max_size=rows))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=4), min_size=1, max_size=4, unique=True),
    st.integers(64, 70),
    st.data(),
)
def test_tables_written_by_column_give_the_same_text(
    keys: list[str], rows: int, data: st.DataObject
) -> None:
    """A long list of dicts with the same keys (a document's configurations) is written column
    by column; keys with '%' and every kind of column give the standard encoder's text."""
    keys = [*keys, "%s"] if "%s" not in keys else keys
    columns = [data.draw(column(rows)) for _ in keys]
    table = [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
    document = {"configurations": table, "after": [table[:2]]}
    assert dumps(document) == reference(document)
    # a row whose keys come in another order (or differ) is written row by row, the same text
    table[-1] = dict(reversed(table[-1].items()))
    assert dumps(table) == reference(table)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=4), min_size=1, max_size=4, unique=True),
    st.integers(0, 70),
    st.data(),
)
def test_records_give_the_text_of_their_list_of_dicts(
    keys: list[str], rows: int, data: st.DataObject
) -> None:
    """Records (a list of dicts held as columns) is written as that list of dicts, and reads as
    it record by record."""
    columns = {key: data.draw(column(rows)) for key in keys}
    table = [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    records = Records(columns)
    assert len(records) == rows
    assert list(records) == table
    assert records[-1:] == table[-1:]
    document = {"configurations": records, "after": [records]}
    assert dumps(document) == reference({"configurations": table, "after": [table]})
