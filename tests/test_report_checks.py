"""The sentences that put the published-run checks beside deployable figures."""

from __future__ import annotations

from kinetics_cli.engine.serving_checks import ServingCheck
from kinetics_cli.report.checks import (
    SERVE_CONSEQUENCE,
    checks_sentence,
    comparison_sentence,
    unchecked_sentence,
)


def check(family: str, hardware: str, on: bool, low: float, high: float) -> ServingCheck:
    return ServingCheck(
        mode="default",
        family=family,
        hardware=hardware,
        on_hardware=on,
        checked_on=(hardware,) if on else ("b200", "h200"),
        runs=20,
        median=(low + high) / 2,
        low=low,
        high=high,
        models=("m",),
        weights=("fp8", "nvfp4"),
        isl=(128, 20000),
        osl=(128, 4096),
    )


def test_one_accelerator_names_it_once_and_each_kind_range():
    text = checks_sentence(
        [check("dense", "b200", True, 0.91, 1.18), check("moe", "b200", True, 0.61, 2.23)]
    )
    assert text is not None
    assert (
        "default efficiencies on b200: dense models 0.91-1.18x (median 1.04x, 20 runs); MoE models 0.61-2.23x"
        in text
    )
    assert "fp8 and nvfp4 weights" in text and "prompts of 128-20,000" in text
    assert "GPU time, dollars and energy are low by that factor" in text


def test_an_accelerator_without_runs_says_so():
    text = checks_sentence([check("moe", "mi300x", False, 0.57, 2.23)], SERVE_CONSEQUENCE)
    assert text is not None
    assert "on b200, h200 (none run on mi300x): MoE models 0.57-2.23x" in text
    assert "tokens/s and requests/s here are high" in text


def test_no_checks_no_sentence():
    assert checks_sentence([]) is None
    assert comparison_sentence([("b200", ())]) is None
    assert "not checked" in unchecked_sentence("calibrated")


def test_comparison_gives_each_accelerator_its_ranges():
    text = comparison_sentence(
        [
            (
                "b200",
                (check("dense", "b200", True, 0.91, 1.18), check("moe", "b200", True, 0.61, 2.23)),
            ),
            ("mi300x", (check("dense", "mi300x", False, 0.88, 1.25),)),
        ]
    )
    assert text is not None
    assert (
        "dense / MoE models: b200 0.91-1.18x / 0.61-2.23x; mi300x 0.88-1.25x / - (none run there"
        in text
    )
