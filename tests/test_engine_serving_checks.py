"""Looking up how the serving model fared against published runs: an accelerator's own runs,
else every accelerator's, said so; nothing for a mode never checked."""

from __future__ import annotations

from kinetics_cli.engine.serving_checks import check_for

FIGURES = {"median": 1.5, "low": 0.6, "high": 2.2, "models": ["m"], "weights": ["fp8"]}
TABLE = {
    "default": {
        "moe": {
            "all": {**FIGURES, "runs": 30, "isl": [128, 20000], "osl": [128, 4096]},
            "b200": {**FIGURES, "runs": 20, "isl": [1000, 1000], "osl": [1000, 2000]},
            "h200": {**FIGURES, "runs": 10, "isl": [128, 128], "osl": [128, 128]},
        }
    }
}


def test_an_accelerator_with_runs_gets_its_own():
    check = check_for("default", True, "b200", TABLE)
    assert check is not None
    assert check.on_hardware and check.checked_on == ("b200",)
    assert (check.runs, check.isl, check.osl) == (20, (1000, 1000), (1000, 2000))
    assert check.document()["on_this_hardware"] is True


def test_an_accelerator_without_runs_gets_every_accelerators_said_so():
    check = check_for("default", True, "mi300x", TABLE)
    assert check is not None
    assert not check.on_hardware
    assert check.checked_on == ("b200", "h200") and check.runs == 30
    assert check.document()["hardware"] == ["b200", "h200"]


def test_a_kind_or_mode_never_checked_has_no_check():
    assert check_for("default", False, "b200", TABLE) is None
    assert check_for("calibrated", True, "b200", TABLE) is None


def test_the_bundled_file_checks_default_and_datasheet_not_calibrated():
    for mode in ("default", "datasheet"):
        for moe in (False, True):
            check = check_for(mode, moe, "h100-sxm")
            assert check is not None and check.on_hardware and check.runs >= 5
            assert check.low <= check.median <= check.high
    assert check_for("calibrated", False, "h100-sxm") is None
