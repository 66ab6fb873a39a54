"""units: one parser for every number the CLI and data files accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.errors import InputError
from kinetics_cli.units import (
    KINDS,
    format_bytes,
    format_count,
    format_plain,
    format_si,
    parse_kind,
    parse_quantity,
    split_values,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.5e15", 2.5e15),
        ("2.5P", 2.5e15),
        ("80G", 80e9),
        ("80GB", 80e9),
        ("80GiB", 80 * 2**30),
        ("3.35T/s", 3.35e12),
        ("5kJ", 5e3),
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


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (999.9996e12, "FLOP", "1 PFLOP"),
        (-999.9996e12, "FLOP", "-1 PFLOP"),
        (0.99996, "s", "1 s"),
        (0.00099996, "s", "1 ms"),
        (999.4e9, "B", "999 GB"),
        (999.5e9, "B", "1 TB"),
        (0.9994, "s", "999 ms"),
    ],
)
def test_format_si_rounds_before_choosing_the_prefix(
    value: float, unit: str, expected: str
) -> None:
    assert format_si(value, unit) == expected


def test_format_count_rounds_before_choosing_the_suffix() -> None:
    assert format_count(999.99996e9) == "1T"
    assert format_count(999.9e9) == "999.9B"


@pytest.mark.parametrize("text", ["80Gb", "400Gb/s", "1b", "8Mib"])
def test_bits_are_never_read_as_bytes(text: str) -> None:
    with pytest.raises(InputError, match=r"unit 'b(/s)?' is not understood.*bits"):
        parse_quantity(text, what="hbm_capacity")


def test_counts_refuse_units() -> None:
    assert parse_quantity("8.2G", unit=False) == pytest.approx(8.2e9)
    with pytest.raises(InputError, match="has a unit"):
        parse_quantity("8.2B", what="total_params", unit=False)


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("8.2G", "8.2e9"),  # 8.2 * 1e9 in floats is 8199999999.999999; the shift is exact
        ("2.039T", "2.039e12"),  # 2.039 * 1e12 would be 2039000000000.0002
        ("6.95G", "6.95e9"),
        ("2.5e-3k", "2.5"),
        ("1.5e3M", "1.5e9"),
    ],
)
def test_decimal_prefixes_shift_the_exponent(text: str, same_as: str) -> None:
    """A decimal prefix gives exactly the float of the same number written in e-notation."""
    assert parse_quantity(text) == float(same_as)


def test_out_of_range_exponents_are_refused_not_raised() -> None:
    with pytest.raises(InputError, match="exponent out of range"):
        parse_quantity("1e99999999999999999999k")
    with pytest.raises(InputError, match="'1e99999k' is too large"):
        parse_quantity("1e99999k")
    with pytest.raises(InputError, match="'1e400Gi' is too large"):
        parse_quantity("1e400Gi")
    with pytest.raises(InputError, match=r"'100000000000'\.\.\.'0000' \(401 characters\) is too"):
        parse_quantity("1" + "0" * 400)
    assert parse_quantity("1e-99999k") == 0.0


# ---- token counts: k is 1024 ("32K tokens" = 32,768) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("32k", 32 * 1024),  # 32,768
        ("32K", 32_768),
        ("1.5k", 1_536),  # 1.5 x 1024
        ("8Ki", 8_192),
        ("1M", 1_048_576),  # 1024 x 1024
        ("32768", 32_768),
        ("3.2e4", 32_000),
        ("100tok", 100),
        (4096, 4096),
    ],
)
def test_parse_tokens(text: str | int, tokens: int) -> None:
    from kinetics_cli.units import parse_tokens

    assert parse_tokens(text) == tokens


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1P", "token counts take the suffixes k, M or G"),
        ("32kB", "cannot read '32kB' as a token count"),
        ("-5", "must not be negative"),
        ("1e200", "more than 134,217,728 tokens"),
        ("1G", "more than 134,217,728 tokens"),  # 2**30 > 2**27
        ("inf", "cannot read 'inf'"),
    ],
)
def test_parse_tokens_refuses(text: str, message: str) -> None:
    from kinetics_cli.units import parse_tokens

    with pytest.raises(InputError, match=re.escape(message)):
        parse_tokens(text)


@given(st.integers(min_value=0, max_value=2**17))
def test_k_is_1024_for_every_count(n: int) -> None:
    from kinetics_cli.units import parse_tokens

    assert parse_tokens(f"{n}k") == n * 1024 == parse_tokens(str(n * 1024))


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("5kJ", "energy", 5e3),
        ("2MJ", "energy", 2e6),
        ("50k", "energy", 5e4),  # a plain number is joules, as before units were checked
        ("1Wh", "energy", 3600.0),  # 1 W for 3,600 s
        ("5kWh", "energy", 5e3 * 3600),  # 1.8e7 J
        ("$5", "money", 5.0),
        ("$ 1.5k", "money", 1500.0),
        ("2.5", "money", 2.5),
        ("20", "seconds", 20.0),
        ("20s", "seconds", 20.0),
        ("50ms", "seconds", 0.05),
        ("5us", "seconds", 5e-6),
        ("5µs", "seconds", 5e-6),
        ("3min", "seconds", 180.0),  # 3 x 60
        ("1h", "seconds", 3600.0),
        ("1k", "seconds", 1000.0),
        ("1e18", "flops", 1e18),
        ("2.5E", "flops", 2.5e18),
        ("2.5EFLOPs", "flops", 2.5e18),
        ("562.5", "intensity", 562.5),
        ("562.5FLOP/B", "intensity", 562.5),
        ("16tok", "tokens", 16.0),
        ("8.19G", "plain", 8.19e9),
        ("0.25", "plain", 0.25),
    ],
)
def test_parse_kind_reads_its_units(text: str, kind: str, expected: float) -> None:
    assert parse_kind(text, kind) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "kind", "unit"),
    [
        ("5kW", "energy", "W"),  # power, not energy
        ("5B", "money", "B"),
        ("5GB", "flops", "B"),
        ("1e18W", "flops", "W"),
        ("5m", "seconds", "m"),  # milli or minutes: neither guessed
        ("5J", "seconds", "J"),
        ("8.19B", "plain", "B"),  # billions or bytes: neither guessed
        ("562.5W", "intensity", "W"),
    ],
)
def test_parse_kind_refuses_another_kinds_unit(text: str, kind: str, unit: str) -> None:
    accepted = re.escape(KINDS[kind][1])
    pattern = rf"^--opt: '{re.escape(text)}': this option takes no '{unit}'; it takes {accepted}$"
    with pytest.raises(InputError, match=pattern):
        parse_kind(text, kind, what="--opt")


def test_parse_kind_refuses_what_is_no_number() -> None:
    with pytest.raises(InputError, match=r"^--opt: cannot read 'lots' as a number; it takes J"):
        parse_kind("lots", "energy", what="--opt")
    with pytest.raises(InputError, match="'1e999' is too large"):
        parse_kind("1e999J", "energy", what="--opt")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_048_576.0, "1,048,576"),  # whole and below ten million: separators
        (0.5, "0.5"),
        (1e30, "1e30"),  # %g gives 1e+30; messages write exponents as the options take them
        (2.5e-9, "2.5e-9"),  # %g: 2.5e-09
        (-3e-5, "-3e-5"),
        (1e7, "1e7"),  # ten million is past the separator range
        (float("inf"), "inf"),
    ],
)
def test_format_plain(value: float, expected: str) -> None:
    assert format_plain(value) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["a, b", "", "c,", " d "], ["a", "b", "c", "d"]),  # blank text none, trailing comma
        ([" , "], []),
        ([], []),
    ],
)
def test_split_values(texts: list[str], expected: list[str]) -> None:
    assert split_values(texts, "--x") == expected


@pytest.mark.parametrize("text", ["a,,b", ",a", "a, ,b", "a,,"])
def test_split_values_refuses_an_empty_item(text: str) -> None:
    with pytest.raises(InputError, match=rf"^--x: empty item in '{re.escape(text)}'"):
        split_values([text], "--x")
