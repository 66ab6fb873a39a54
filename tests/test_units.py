"""units: one parser for every number the CLI and data files accept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.errors import InputError
from kinetics_cli.units import format_bytes, format_count, format_si, parse_quantity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5e15", 2.5e15),
        ("2.5P", 2.5e15),
        ("80G", 80e9),
        ("80GB", 80e9),
        ("80GiB", 80 * 2**30),
        ("3.35T/s", 3.35e12),
        ("32k", 32_000),
        ("32K", 32_000),
        ("1_000", 1000),
        (" 7 ", 7),
        ("-3", -3),
        (".5", 0.5),
        (42, 42.0),
    ],
)
def test_parse_quantity(text: str, expected: float) -> None:
    assert parse_quantity(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "2.5X", "1e", "nan", "inf", "2..5", "5 apples"])
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(InputError, match="expected"):
        parse_quantity(text, what="--budget")


def test_parse_quantity_names_the_option() -> None:
    with pytest.raises(InputError, match=r"^--budget: cannot read 'lots'"):
        parse_quantity("lots", what="--budget")


@given(st.floats(min_value=1e-3, max_value=1e20, allow_nan=False))
def test_plain_floats_round_trip(value: float) -> None:
    assert parse_quantity(repr(value)) == value


def test_formatters() -> None:
    assert format_si(2.25e15, "FLOP/s") == "2.25 PFLOP/s"
    assert format_si(0.019, "s") == "19 ms"
    assert format_bytes(80e9) == "80 GB"
    assert format_count(8.19073536e9) == "8.191B"


def test_counts_refuse_units() -> None:
    assert parse_quantity("8.2G", unit=False) == pytest.approx(8.2e9)
    with pytest.raises(InputError, match="has a unit"):
        parse_quantity("8.2B", what="total_params", unit=False)
