"""One parser and formatter for quantities across the CLI and data files (2.5e15, 2.5P, 80G, 80GiB, 3.35T/s),
and for the comma-separated lists the CLI's options take."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from kinetics_cli.errors import InputError

# Decimal SI prefixes (k is also accepted upper-case) and IEC binary prefixes.
_DECIMAL = {
    "": 1.0,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Z": 1e21,
}
_DECIMAL_EXPONENT = {prefix: round(math.log10(scale)) for prefix, scale in _DECIMAL.items()}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}

_QUANTITY = re.compile(
    r"""^\s*
    (?P<mantissa>[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+))(?:[eE](?P<exponent>[+-]?\d+))?
    \s*
    (?P<prefix>Ki|Mi|Gi|Ti|Pi|[kKMGTPEZ])?
    (?P<unit>[A-Za-zµ/]*)
    \s*$""",
    re.VERBOSE,
)
# Units accepted (and ignored) after the prefix: they document, they do not convert. A lower-case
# 'b' is bits, never bytes: '80Gb' is refused rather than silently read as 80 GB.
_UNITS = {
    "",
    "B",
    "B/s",
    "/s",
    "FLOP",
    "FLOPs",
    "FLOPS",
    "FLOP/s",
    "FLOPs/s",
    "W",
    "J",  # --budget-joules 5kJ
    "s",
    "bytes",
    "tok",
}


def parse_quantity(text: str | float | int, *, what: str = "value", unit: bool = True) -> float:
    """Parse '2.5e15', '2.5P', '80G', '80GiB', '3.35T/s' or a plain number into a float.

    With unit=False (counts such as parameters or tokens) a trailing unit is refused, so '8.2B'
    cannot silently read as 8.2 bytes. Raises InputError naming `what` and the accepted forms.
    """
    if isinstance(text, bool):
        raise InputError(f"{what}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _QUANTITY.match(text)
        if match is None or match.group("unit") not in _UNITS:
            given = match.group("unit") if match is not None else ""
            bits = (  # '80Gb', '400Gb/s': bits, which no field takes; say so, not just 'cannot read'
                f" as a number: the unit {given!r} is not understood (a lower-case 'b' is bits; "
                "bytes are 'B')"
                if given.startswith("b") and given != "bytes"
                else " as a number"
            )
            forms = (
                "with an optional SI or binary suffix (e.g. 2.5e15, 2.5P, 80G, 80GiB, 3.35T/s)"
                if unit
                else "with an optional SI prefix, no unit (e.g. 8, 2.5e3, 2k)"
            )
            raise InputError(
                f"{what}: cannot read {shown(text)}{bits}; expected plain or scientific notation "
                + forms
            )
        if not unit and match.group("unit"):
            raise InputError(
                f"{what}: {shown(text)} has a unit; a count takes a number with an optional SI "
                "prefix only (e.g. 8.2e9 or 8.2G)"
            )
        prefix = match.group("prefix") or ""
        mantissa = match.group("mantissa").replace("_", "")
        exponent_text = match.group("exponent") or "0"
        if len(exponent_text.lstrip("+-")) > 6:  # far outside any float; int() may refuse it
            raise InputError(
                f"{what}: {shown(text)} has an exponent out of range (a number here lies within "
                "1e-308 to 1e308 in size)"
            )
        exponent = int(exponent_text)
        if prefix in _BINARY:
            value = float(f"{mantissa}e{exponent}") * _BINARY[prefix]
        else:  # shift the decimal exponent, so '8.2G' is the float nearest 8.2e9, as '8.2e9' is
            value = float(f"{mantissa}e{exponent + _DECIMAL_EXPONENT[prefix]}")
    if not math.isfinite(value):
        if isinstance(text, str):  # finite digits beyond the largest float: '1e309', 400 digits
            raise InputError(f"{what}: {shown(text)} is too large (a number here is at most 1e308)")
        raise InputError(f"{what}: expected a finite number, got {text!r}")
    return value


def quantity_unit(text: str) -> str | None:
    """The unit written after a quantity's number and prefix ('B/s' in '3.35TB/s', '' in '80G'),
    or None when parse_quantity would not read the text (it then says why)."""
    match = _QUANTITY.match(text)
    if match is None or match.group("unit") not in _UNITS:
        return None
    return match.group("unit")


def shown(text: object, width: int = 24) -> str:
    """`text` quoted as an error message shows it: whole when short, else its first and last
    characters and its length, so a 400-digit number is not echoed back in full."""
    quoted = repr(text)
    if not isinstance(text, str) or len(text) <= width:
        return quoted
    return f"{text[:12]!r}...{text[-4:]!r} ({len(text):,} characters)"


# What each quantity option takes: the unit after an optional SI prefix, with its factor to the
# SI base unit (so '2kWh' is 2e3 x 3,600 J), and the forms an error message lists. A unit outside
# the option's kind ('--budget-joules 5kW', '--budget-usd 5B') is refused, never ignored.
KINDS: dict[str, tuple[dict[str, float], str]] = {
    "energy": (
        {"": 1.0, "J": 1.0, "Wh": 3600.0},
        "J, kJ, MJ, Wh or kWh (a plain number is joules)",
    ),
    "money": ({"": 1.0}, "US dollars: a plain number, $-prefixed or not, with an optional k or M"),
    "seconds": (
        {
            "": 1.0,
            "s": 1.0,
            "ms": 1e-3,
            "us": 1e-6,
            "µs": 1e-6,
            "ns": 1e-9,
            "min": 60.0,
            "h": 3600.0,
        },
        "s, ms, us (µs), ns, min or h (a plain number is seconds)",
    ),
    "flops": (
        {"": 1.0, "FLOP": 1.0, "FLOPs": 1.0, "FLOPS": 1.0},
        "a number with an optional SI prefix and an optional FLOPs unit (1e18, 2.5E, 2.5EFLOPs)",
    ),
    "intensity": (
        {"": 1.0, "FLOP/B": 1.0, "FLOPs/B": 1.0},
        "FLOPs per byte: a plain number, optionally written FLOP/B (562.5, 562.5FLOP/B)",
    ),
    "tokens": ({"": 1.0, "tok": 1.0}, "a number of tokens, optionally written tok (16, 16tok)"),
    "plain": ({"": 1.0}, "a number with an optional SI prefix, no unit (0.25, 8.19e9, 8.19G)"),
}


def parse_kind(text: str | float | int, kind: str, *, what: str = "value") -> float:
    """Parse a quantity of one kind (a key of KINDS): the SI prefix as parse_quantity reads it,
    the unit converted to the SI base unit ('5kWh' -> 1.8e7 J, '50ms' -> 0.05 s); money may
    start with '$'. A unit of another kind raises InputError naming `what`, the text and the
    forms accepted."""
    units, accepted = KINDS[kind]
    if not isinstance(text, str):
        return parse_quantity(text, what=what)
    body = text.strip()
    if kind == "money" and body.startswith("$"):
        body = body[1:].lstrip()
    match = _QUANTITY.match(body)
    unit = match.group("unit") if match is not None else None
    if unit is None:
        raise InputError(f"{what}: cannot read {shown(text)} as a number; it takes {accepted}")
    if unit not in units:
        raise InputError(
            f"{what}: {shown(text)}: this option takes no {unit!r}; it takes {accepted}"
        )
    prefix = match.group("prefix") if match is not None else None
    if kind == "money" and prefix not in (None, "k", "K", "M"):
        raise InputError(
            f"{what}: {shown(text)}: this option takes no {prefix!r}; it takes {accepted}"
        )
    number = parse_quantity(body[: len(body) - len(unit)] if unit else body, what=what, unit=False)
    factor = units[unit]  # divide by 1,000 rather than multiply by 1e-3: '5us' is exactly 5e-06
    return number * factor if factor >= 1 else number / round(1 / factor)


# Token counts follow the field's convention: "32K tokens" is 32,768, so for token counts only
# k/K, M and G are powers of 1024 (as are Ki, Mi, Gi); every other quantity keeps SI prefixes.
_TOKEN_PREFIX = {
    "k": 2**10,
    "K": 2**10,
    "Ki": 2**10,
    "M": 2**20,
    "Mi": 2**20,
    "G": 2**30,
    "Gi": 2**30,
}
# Largest token count any option or data file takes: 2**27 = 134,217,728 tokens, about 13 times
# the longest context window published (10M tokens); beyond it a length is a typo, not a plan.
MAX_TOKENS = 2**27


def parse_tokens(text: str | float | int, *, what: str = "value") -> float:
    """Parse a token count: '32k' and '32K' are 32,768 (powers of 1024: k, K, M, G, Ki, Mi, Gi),
    plain and scientific numbers as they are ('32768', '3.2e4'), an optional 'tok' unit.

    Refuses other prefixes (a 'P' of tokens is a mistake), negative, non-finite and larger than
    MAX_TOKENS values, each with an InputError naming `what`.
    """
    if isinstance(text, str):
        match = _QUANTITY.match(text)
        if match is None or match.group("unit") not in ("", "tok"):
            raise InputError(
                f"{what}: cannot read {shown(text)} as a token count; expected a number with an "
                "optional k, M or G suffix (powers of 1024: 32k = 32,768 tokens)"
            )
        prefix = match.group("prefix") or ""
        if prefix and prefix not in _TOKEN_PREFIX:
            raise InputError(
                f"{what}: {shown(text)}: token counts take the suffixes k, M or G (powers of 1024: "
                f"32k = 32,768 tokens), not {prefix!r}"
            )
        plain = text.strip()
        plain = plain[: len(plain) - len(match.group("unit"))].rstrip()
        plain = plain[: len(plain) - len(prefix)] if prefix else plain
        value = parse_quantity(plain, what=what, unit=False) * _TOKEN_PREFIX.get(prefix, 1)
    else:
        value = parse_quantity(text, what=what, unit=False)
    if value < 0:
        raise InputError(f"{what}: a token count must not be negative (got {shown(text)})")
    if value > MAX_TOKENS:
        raise InputError(
            f"{what}: {shown(text)} is more than {MAX_TOKENS:,} tokens (2**27), far beyond any "
            "model's context window"
        )
    return value


def check_range(value: float, low: float, high: float, *, what: str) -> float:
    """`value` if it is finite and within [low, high], else an InputError naming `what` and the
    range (`low` and `high` are plausible physical limits, documented where they are set)."""
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(
            f"{what}: {format_plain(value)} is outside the accepted range {format_plain(low)} to "
            f"{format_plain(high)}"
        )
    return value


def format_plain(value: float) -> str:
    """A whole number below ten million with thousands separators ('1,048,576'), else '%g' with
    the exponent as the docs and options write it ('1e30', '2.5e-9', not '1e+30', '2.5e-09')."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e7:
        return f"{int(value):,}"
    mantissa, e, exponent = f"{value:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa


def format_si(value: float, unit: str = "", digits: int = 3) -> str:
    """Format with a decimal SI prefix: format_si(2.25e15, 'FLOP/s') -> '2.25 PFLOP/s'."""
    if value is None or not math.isfinite(value):
        return f"{value} {unit}".strip()
    if value == 0:
        return f"0 {unit}".strip()
    # Round to `digits` significant figures before choosing the prefix, so 999.9996e12 is
    # '1 PFLOP', not '1e+03 TFLOP'.
    value = float(f"{value:.{digits}g}")
    magnitude = abs(value)
    for prefix, scale in (
        ("E", 1e18),
        ("P", 1e15),
        ("T", 1e12),
        ("G", 1e9),
        ("M", 1e6),
        ("k", 1e3),
    ):
        if magnitude >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}".strip()
    if magnitude >= 1 or unit not in {"s"}:
        return f"{value:.{digits}g} {unit}".strip()
    for prefix, scale in (("m", 1e-3), ("µ", 1e-6), ("n", 1e-9)):
        if magnitude >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}".strip()
    return f"{value:.{digits}g} {unit}".strip()


def format_count(value: float, digits: int = 4) -> str:
    """Format a count such as parameters: 8.19e9 -> '8.191B' (B = billions, as model cards write it)."""
    if math.isfinite(value):  # rounded first, as in format_si: 999.99996e9 is '1T', not '1000B'
        value = float(f"{value:.{digits}g}")
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


def format_bytes(value: float, digits: int = 3) -> str:
    """Format a byte count in decimal units: 8.0e10 -> '80 GB'."""
    return format_si(value, "B", digits)


def split_values(values: Iterable[str], what: str) -> list[str]:
    """The comma-separated items of every text, stripped. A wholly blank text gives none (the
    callers then say no values were given) and one trailing comma is harmless ('4k,8k,'); an
    empty item before or between values ('4k,,8k', ',4k') is refused, naming the option `what`,
    since a value was most likely left out."""
    out: list[str] = []
    for text in values:
        items = [p.strip() for p in text.split(",")]
        if not any(items):
            continue
        if len(items) > 1 and not items[-1]:
            items.pop()
        if not all(items):
            raise InputError(
                f"{what}: empty item in {text.strip()!r} (a value left out between commas? "
                "give comma-separated values, e.g. a,b)"
            )
        out.extend(items)
    return out
