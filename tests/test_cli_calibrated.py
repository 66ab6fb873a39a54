"""A calibrated profile on the search path is used by roofline, cost and plan, and they say so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kinetics_cli.catalog import bundled_root
from kinetics_cli.cli.main import app

runner = CliRunner()
SHIPPED = bundled_root() / "hardware_profiles" / "measurements" / "numpy-amd-epyc-2cpu.profile.toml"
NAME = "numpy-amd-epyc-2cpu"


def calibrated_catalog(tmp_path: Path) -> Path:
    root = tmp_path / "cat"
    (root / "hardware_profiles").mkdir(parents=True)
    shutil.copy(SHIPPED, root / "hardware_profiles" / SHIPPED.name)
    return root


def test_roofline_uses_and_reports_calibration(tmp_path: Path) -> None:
    root = calibrated_catalog(tmp_path)
    args = ["roofline", "qwen3-0.6b", "--hardware", NAME, "--batch", "4", "--context", "2048"]
    cal = json.loads(runner.invoke(app, ["--catalog", str(root), *args, "--json"]).stdout)
    assert cal["calibrated"] is True and "calibrated (numpy" in cal["calibration"]
    human = runner.invoke(app, ["--catalog", str(root), *args])
    assert f"times: {NAME} calibrated" in human.stdout
    plain = json.loads(runner.invoke(app, ["roofline", "qwen3-0.6b", "--json"]).stdout)
    assert plain["calibrated"] is False and "uncalibrated" in plain["calibration"]


def test_cost_reports_calibrated_seconds(tmp_path: Path) -> None:
    root = calibrated_catalog(tmp_path)
    result = runner.invoke(
        app,
        [
            "--catalog",
            str(root),
            "cost",
            "qwen3-0.6b",
            "--hardware",
            NAME,
            "--prompt-len",
            "256",
            "--gen-len",
            "4096",
            "--json",
        ],
    )
    doc = json.loads(result.stdout)
    # Fitted efficiencies are below 1 for attention, so calibrated time exceeds the ideal one.
    assert doc["calibrated_seconds"] > doc["seconds"] and "calibrated" in doc["calibration"]
