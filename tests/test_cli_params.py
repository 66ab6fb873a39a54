"""The CLI's option parsers (kinetics_cli/cli/params.py): what they read and what they refuse."""

from __future__ import annotations

import pytest
import typer

from kinetics_cli.cli.params import duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("50ms", 0.05),
        ("2s", 2.0),
        ("0.05", 0.05),
        ("200us", 200e-6),
        ("200µs", 200e-6),
        ("3min", 180.0),  # as the output writes a minute and longer: '3.01 min'
        ("1.5h", 5400.0),
        (" 2 s ", 2.0),
    ],
)
def test_duration_reads_the_units_the_output_writes(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2m", "cannot read"),  # milli or minutes: refused rather than guessed
        ("1.2.3ms", "cannot read"),  # no 'could not convert string to float'
        ("..s", "cannot read"),
        ("1e999s", "finite"),
        ("0s", "positive"),
        ("5 parsecs", "cannot read"),
    ],
)
def test_duration_refuses_with_one_plain_message(text: str, message: str) -> None:
    with pytest.raises(typer.BadParameter, match=message):
        duration(text)
