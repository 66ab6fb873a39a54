"""report.format: one formatter per kind of number, golden values with their arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.report.format import (
    duration,
    flops,
    intensity,
    money,
    percent,
    plural,
    rate,
    sci,
    tokens,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e16, "1e16"),  # never '1e+16'
        (8.594e15, "8.59e15"),  # three significant figures
        (3.14159e-7, "3.14e-7"),  # no padded exponent ('e-07')
        (250.0, "250"),
        (0.0, "0"),
        (1.5e300, "1.5e300"),
    ],
)
def test_sci_has_one_exponent_style(value: float, expected: str) -> None:
    assert sci(value) == expected == flops(value)


@pytest.mark.parametrize(
    ("usd", "expected"),
    [
        (4.6, "$4.60"),  # the old '$4.6' beside '$3.98': two decimals everywhere
        (3.98, "$3.98"),
        (35.7, "$35.70"),
        (1234.5, "$1,234.50"),
        (0.0041, "$0.0041"),  # under a cent: two significant digits, never $0.00
        (0.0, "$0.00"),
    ],
)
def test_money_has_two_decimals(usd: float, expected: str) -> None:
    assert money(usd) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.25e15 / 8e12, "281.25"),  # B200 bf16 dense / HBM
        (4.5e15 / 8e12, "562.5"),  # the paper's I
        (989.4e12 / 3.35e12, "295.34"),  # H100 SXM profile: 295.343... (was '295.343' in one table)
        (1e15 / 2e12, "500"),
        (0.0, "0"),
        (8192.0, "8,192"),
    ],
)
def test_intensity_has_at_most_two_decimals(value: float, expected: str) -> None:
    assert intensity(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (3.82, "3.82 s"),
        (0.019, "19 ms"),
        (59.0, "59 s"),
        (252.0, "4.2 min"),  # 252 / 60
        (3600.0, "1 hour"),
        (5 * 3600.0, "5 hours"),
        (158e6, "5.01 years"),  # was '158 Ms': 158e6 / (365.25 * 86400) = 5.007
        (1.8 * 86400, "1.8 days"),
        (1e12, "31,700 years"),  # 1e12 / 31,557,600 = 31,688 -> three significant figures
    ],
)
def test_duration_never_uses_megaseconds(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected


def test_tokens_percent_and_plural() -> None:
    assert tokens(32768) == "32,768" and tokens(8192.0) == "8,192"
    assert tokens(1000.5) == "1,000.5"  # a mean over lengths keeps its fraction
    assert percent(0.942) == "94.2%"
    assert plural(1, "GPU") == "1 GPU" and plural(8, "GPU") == "8 GPUs"
    assert plural(10164, "configuration") == "10,164 configurations"
    assert plural(2, "entry", "entries") == "2 entries"


@given(st.floats(min_value=1e-12, max_value=1e300, allow_nan=False))
def test_sci_round_trips_to_three_figures(value: float) -> None:
    text = sci(value)
    assert "+" not in text and "e0" not in text and "e-0" not in text
    assert math.isclose(float(text), value, rel_tol=5e-3)


@given(st.floats(min_value=60, max_value=1e15, allow_nan=False))
def test_long_durations_have_no_si_prefix(seconds: float) -> None:
    text = duration(seconds)
    assert text.split()[-1] in {"min", "hour", "hours", "day", "days", "year", "years"}


def test_rates_keep_three_figures_without_exponents_below_a_million() -> None:
    # 1043.7 to 3 significant figures is 1040 (round(1043.7, -1)); 93.66 -> 93.7; 0.5 -> 0.500
    assert rate(1043.7) == "1,040"
    assert rate(93.66) == "93.7"
    assert rate(0.5) == "0.500"
    assert rate(1.2e7) == "1.2e7"  # sci() from a million up
