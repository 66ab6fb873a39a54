"""The calibrate workflows and reports as library calls, without the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kinetics_cli.calibrate.check import CheckSettings
from kinetics_cli.calibrate.kernels import COMPOSITE
from kinetics_cli.calibrate.measurements import read_measurements
from kinetics_cli.calibrate.workflow import (
    check_file,
    check_outputs,
    check_references,
    fit_file,
    resolve_profile,
    resolve_tolerance,
    shipped_reference_file,
    write_profile,
)
from kinetics_cli.catalog import Catalog, bundled_root, load_catalog
from kinetics_cli.errors import InputError
from kinetics_cli.report import calibrate as report

SHIPPED = bundled_root() / "hardware_profiles" / "measurements"
CPU_FILE = SHIPPED / "numpy-amd-epyc-2cpu.jsonl"
CPU_PROFILE = SHIPPED / "numpy-amd-epyc-2cpu.profile.toml"


def no_catalog() -> Catalog:
    raise AssertionError("the catalog was loaded for a profile that is not a catalog name")


def test_resolve_profile_loads_the_catalog_only_for_a_name() -> None:
    assert resolve_profile(str(CPU_PROFILE), no_catalog).name == "numpy-amd-epyc-2cpu"
    micro = [r for r in read_measurements(CPU_FILE) if r.kernel != COMPOSITE]
    assert resolve_profile("measured", no_catalog, micro).name == "local-cpu"
    # the name the output prints is read as 'measured' too: the same base
    for printed in ("local-cpu", "local-gpu"):
        assert resolve_profile(printed, no_catalog, micro) == resolve_profile(
            "measured", no_catalog, micro
        )
    assert resolve_profile("b200", load_catalog).name == "b200"
    with pytest.raises(InputError, match="'measured' needs measurement rows"):
        resolve_profile("measured", no_catalog)
    with pytest.raises(InputError, match="no such profile file"):
        resolve_profile("missing.toml", no_catalog)


def test_resolve_tolerance_given_then_sidecar_then_default() -> None:
    sidecar = CheckSettings(Path("x.check.toml"), None, 0.1, (), "")
    assert resolve_tolerance(0.3, sidecar) == 0.3
    assert resolve_tolerance(None, sidecar) == 0.1
    assert resolve_tolerance(None, None) == 0.25  # check.DEFAULT_TOLERANCE
    assert resolve_tolerance(None, None, default=0.2) == 0.2
    with pytest.raises(InputError, match="must be positive"):
        resolve_tolerance(0.0, sidecar)


def test_check_file_uses_the_sidecar() -> None:
    checked = check_file(CPU_FILE, no_catalog)
    assert checked.profile.name == "numpy-amd-epyc-2cpu" and checked.report.passed
    doc = checked.as_dict()
    assert doc["file"] == str(CPU_FILE) and doc["hardware"] == "numpy-amd-epyc-2cpu"
    assert doc["tolerance"] == 0.10 and len(doc["rows"]) == len(read_measurements(CPU_FILE))
    held = check_file(CPU_FILE, no_catalog, kernels=[COMPOSITE], tolerance=0.15)
    assert {r.row.kernel for r in held.report.rows} == {COMPOSITE}


def test_check_references_on_the_shipped_file() -> None:
    checked = check_references(shipped_reference_file(), load_catalog)
    assert [name for name, _ in checked.checks] == ["b200", "b200"]
    assert checked.tolerance == 0.10 and not checked.passed  # 67% off: no agreement
    assert checked.known_gap == 0.70 and checked.within_known_gap  # but no wider than recorded
    doc = json.loads(json.dumps(checked.as_dict()))
    assert [r["predicted_ratio"] for r in doc["rows"]] == pytest.approx([5.76, 9.70], abs=0.05)
    # the median of two distances is their mean
    assert doc["median_error"] == pytest.approx(sum(abs(r["error"]) for r in doc["rows"]) / 2)


def test_fit_file_and_write_profile(tmp_path: Path) -> None:
    fit = fit_file(CPU_FILE, "measured", no_catalog, name="mine")
    assert fit.base.name == "local-cpu" and fit.profile.name == "mine"
    assert set(report.fits_document(fit.fits)) == {
        "gemm",
        "stream",
        "attention_decode_dense",
        "attention_decode_blocktopk",
    }
    target = write_profile(fit.profile, tmp_path / "mine.toml", force=False)
    assert resolve_profile(str(target), no_catalog).calibration is not None
    with pytest.raises(InputError, match="already exists"):
        write_profile(fit.profile, target, force=False)
    default = write_profile(fit.profile, force=False)  # the (isolated) user catalog folder
    assert default.parent.name == "hardware_profiles" and default.name == "mine.toml"


def test_check_outputs_refuses_before_anything_is_timed(tmp_path: Path) -> None:
    check_outputs(tmp_path, None, gpu=False, force=False)  # empty folder: nothing to refuse
    check_outputs(tmp_path / "new", None, gpu=False, force=False)  # created when saving
    (tmp_path / "local-gpu-calibrated.toml").write_text("")
    check_outputs(tmp_path, None, gpu=False, force=False)
    with pytest.raises(InputError, match=r"local-gpu-calibrated\.toml already exists"):
        check_outputs(tmp_path, None, gpu=True, force=False)
    check_outputs(tmp_path, None, gpu=True, force=True)
    with pytest.raises(InputError, match="exists and is not a folder"):
        check_outputs(tmp_path / "local-gpu-calibrated.toml", None, gpu=False, force=True)
    with pytest.raises(InputError, match=r"folder .*missing.* does not exist"):
        check_outputs(tmp_path / "missing" / "out", None, gpu=False, force=False)
    (tmp_path / "measurements.jsonl").mkdir()
    with pytest.raises(InputError, match="is a folder; expected a file path"):
        check_outputs(tmp_path, None, gpu=False, force=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_outputs_refuses_a_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="is not writable"):
            check_outputs(locked, None, gpu=False, force=False)
        with pytest.raises(InputError, match="is not writable"):
            check_outputs(locked / "sub", None, gpu=False, force=False)
    finally:
        locked.chmod(0o700)


def test_shape_text_and_summary_lines() -> None:
    attention = {"batch": 2, "context": 512, "q_heads": 4, "kv_heads": 2, "head_dim": 16}
    assert report.shape_text(attention) == "heads=4/2 b=2 ctx=512"
    assert report.shape_text({"attention": "dense", "batch": 1}) == "dense b=1"
    assert report.shape_text({"bytes": 65536}) == "65.5 kB"
    checked = check_file(CPU_FILE, no_catalog)
    line = report.summary_line(checked.report, "check")
    assert line.startswith("check: median error ") and line.endswith("tolerance 10%: pass")
    assert report.reference_summary_line(
        check_references(shipped_reference_file(), load_catalog)
    ).startswith("outside the published range: median distance")
