"""One formatter per kind of number the commands print, so every table, line and plot writes it
the same way.

The rules (README, "Output"):

- FLOP and eFLOP counts in scientific notation without a plus sign or padding: ``8.59e15``,
  ``1e16`` (the form ``--budget`` takes). Rates, bytes and short times with SI prefixes:
  ``2.25 PFLOP/s``, ``80 GB``, ``3.82 s``, ``19 ms``.
- Times of a minute and longer in minutes, hours, days or years, never ``Ms`` (which reads as
  milliseconds): ``4.2 min``, ``1.8 days``.
- Money with two decimals and thousands separators (``$4.60``, ``$1,234.50``); an amount under a
  cent keeps two significant digits (``$0.0041``).
- Arithmetic intensity with at most two decimals, trailing zeros dropped (``281.25``,
  ``562.5``, ``295.34``).
- Token counts as whole numbers with thousands separators (``32,768``).
- Parameter counts with B/T suffixes (``8.191B``), as model cards write them.
- A count with its noun in the right number (``1 GPU``, ``8 GPUs``).
"""

from __future__ import annotations

import math

from kinetics_cli.units import format_bytes, format_count, format_si

__all__ = [
    "duration",
    "flops",
    "format_bytes",
    "format_count",
    "format_si",
    "intensity",
    "money",
    "percent",
    "plural",
    "sci",
    "tokens",
]

_LONG_UNITS = (  # (seconds per unit, singular, plural), largest first
    (365.25 * 86400, "year", "years"),
    (86400.0, "day", "days"),
    (3600.0, "hour", "hours"),
    (60.0, "min", "min"),
)


def sci(value: float, digits: int = 3) -> str:
    """Scientific notation with `digits` significant figures and no '+' or padded exponent:
    8.594e15 -> '8.59e15', 1e16 -> '1e16', 0.00123 -> '0.00123', 250 -> '250'."""
    if value is None or not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def rate(value: float) -> str:
    """A count per unit time, three significant figures with thousands separators:
    1043.7 -> '1,040', 93.66 -> '93.7', 1.2e7 -> '1.2e7'."""
    if not math.isfinite(value) or abs(value) >= 1e6 or value == 0:
        return sci(value)
    digits = 3 - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    return f"{rounded:,.{max(digits, 0)}f}"


def flops(value: float, digits: int = 3) -> str:
    """A FLOP or eFLOP count: scientific notation (see `sci`)."""
    return sci(value, digits)


def duration(seconds: float, digits: int = 3) -> str:
    """A time: SI seconds under a minute ('3.82 s', '19 ms', '40 µs'), then minutes, hours, days
    or years ('4.2 min', '1.83 years'), so no prefix can be misread (158 Ms is 5 years)."""
    if seconds is None or not math.isfinite(seconds) or abs(seconds) < 60:
        return format_si(seconds, "s", digits)
    for scale, one, many in _LONG_UNITS:
        if abs(seconds) >= scale:
            value = float(f"{seconds / scale:.{digits}g}")
            text = f"{value:,.{digits}g}" if value < 10**digits else f"{value:,.0f}"
            return f"{text} {one if value == 1 else many}"
    raise AssertionError("unreachable: the last unit is one minute")  # pragma: no cover


def money(usd: float) -> str:
    """US dollars: two decimals ('$4.60', '$1,234.50'); under a cent, two significant digits
    ('$0.0041'), so a small amount never prints as $0.00."""
    if usd is None or not math.isfinite(usd):
        return f"${usd}"
    if usd != 0 and abs(usd) < 0.01:
        return f"${usd:.2g}"
    return f"${usd:,.2f}"


def intensity(value: float) -> str:
    """Arithmetic intensity (FLOPs per byte): at most two decimals, trailing zeros dropped
    ('281.25', '562.5', '295.34', '0')."""
    if value is None or not math.isfinite(value):
        return str(value)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tokens(value: float) -> str:
    """A token count: a whole number with thousands separators ('32,768'); a fractional one (a
    mean over lengths) keeps one decimal."""
    if value is None or not math.isfinite(value):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def percent(fraction: float, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.942 -> '94.2%'."""
    return f"{fraction:.{decimals}%}"


def plural(count: float, noun: str, nouns: str | None = None) -> str:
    """'1 GPU', '8 GPUs', '10,164 configurations': the count and its noun in the right number."""
    text = f"{count:,}" if isinstance(count, int) else f"{count:,g}"
    return f"{text} {noun if count == 1 else (nouns or noun + 's')}"
