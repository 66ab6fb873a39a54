"""Number formats: block-scaled widths from their definitions, aliases, and bad names."""

from __future__ import annotations

import pytest

from kinetics_cli.engine.formats import FORMATS, WEIGHT_FORMATS, number_format
from kinetics_cli.engine.roofline import DTYPE_BYTES
from kinetics_cli.errors import InputError


def test_block_scaled_widths() -> None:
    # mxfp4: 4-bit elements + one 8-bit scale per 32 -> (4 + 8/32) / 8 = 0.53125 B;
    # nvfp4: 4-bit elements + one 8-bit scale per 16 -> (4 + 8/16) / 8 = 0.5625 B.
    assert FORMATS["mxfp4"].bytes == 0.53125
    assert FORMATS["nvfp4"].bytes == 0.5625
    assert FORMATS["fp8"].bytes == 1.0 and FORMATS["bf16"].bytes == 2.0


def test_alias_resolves_to_its_format() -> None:
    assert number_format("FP4", "weight", WEIGHT_FORMATS) is FORMATS["nvfp4"]
    assert number_format("e4m3", "weight", WEIGHT_FORMATS) is FORMATS["fp8"]


def test_unknown_or_disallowed_format_names_the_choices() -> None:
    with pytest.raises(InputError, match="unknown KV-cache format 'mxfp4'; choose one of bf16"):
        number_format("mxfp4", "KV-cache", ("bf16", "fp16", "fp8"))


def test_roofline_dtypes_take_the_format_widths() -> None:
    # --dtype fp4 is NVFP4 (4.5 bits); the others are the plain widths.
    assert DTYPE_BYTES == {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5625}
