"""Shared option parsers: every numeric CLI value goes through units.parse_quantity."""

from __future__ import annotations

import typer


def quantity(text: str) -> float:
    """Typer parser for numbers with SI suffixes ('2.5e15', '2.5P', '80G')."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_quantity

    try:
        return parse_quantity(text)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None


def count(text: str) -> int:
    """Typer parser for whole counts that may use SI prefixes ('32k' -> 32000), no unit."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_quantity

    try:
        value = parse_quantity(text, unit=False)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None
    if value != int(value):
        raise typer.BadParameter(f"expected a whole number, got {text!r}")
    return int(value)


JSON_OPTION = typer.Option(False, "--json", help="Write one JSON document to stdout.")
