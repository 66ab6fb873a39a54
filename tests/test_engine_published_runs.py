"""The published serving runs and the checks summary built from them: the bundled
engine/serving_checks.toml equals its recomputation (so it cannot fall behind the serving
model), and the per-slice arithmetic on hand-written predictions."""

from __future__ import annotations

import pytest

from kinetics_cli.engine.published_runs import (
    ALL_HARDWARE,
    DEFAULT_CSV,
    Point,
    checks_document,
    read_points,
    slices,
)
from kinetics_cli.engine.serving_checks import bundled_checks

pytestmark = pytest.mark.skipif(not DEFAULT_CSV.exists(), reason="benchmarks/ not in this tree")


def point(model: str, hardware: str, published: float, moe: bool, isl: float = 1000) -> Point:
    return Point(
        model=model,
        hardware=hardware,
        tp=1,
        ep=1,
        attention_dp=False,
        weights="fp8",
        kv="fp8",
        isl=isl,
        osl=1000,
        published=published,
        moe=moe,
        kv_cache_fraction=None,
        max_batch=None,
        source="github.com/example",
    )


def test_the_bundled_checks_are_the_recomputed_ones():
    recomputed = checks_document(read_points())
    bundled = bundled_checks()
    assert set(bundled) == set(recomputed) == {"datasheet", "default"}  # calibrated: no profile
    for mode, by_family in recomputed.items():
        assert set(bundled[mode]) == set(by_family)
        for family, by_hw in by_family.items():
            assert set(bundled[mode][family]) == set(by_hw)
            for hardware, figures in by_hw.items():
                stored = bundled[mode][family][hardware]
                for key in ("median", "low", "high"):  # written at 3 decimals
                    assert stored[key] == pytest.approx(figures[key], abs=1.5e-3), (
                        mode,
                        family,
                        hardware,
                        key,
                    )
                for key in ("runs", "models", "weights", "isl", "osl"):
                    assert stored[key] == figures[key], (mode, family, hardware, key)


def test_the_runs_cover_both_kinds_on_four_accelerators():
    table = bundled_checks()["default"]
    assert table["dense"][ALL_HARDWARE]["runs"] + table["moe"][ALL_HARDWARE]["runs"] == len(
        read_points()
    )
    for family in ("dense", "moe"):
        assert set(table[family]) == {ALL_HARDWARE, "b200", "gb200", "h100-sxm", "h200"}


def test_slices_group_by_mode_kind_and_accelerator():
    a = point("m-dense", "h100-sxm", 100.0, moe=False, isl=128)
    b = point("m-dense", "h200", 200.0, moe=False, isl=2000)
    c = point("m-moe", "h200", 50.0, moe=True)
    # predicted 110 / 100 = 1.1, 180 / 200 = 0.9, 100 / 50 = 2.0
    got = slices([a, b, c], [(a, "default", 110.0), (b, "default", 180.0), (c, "default", 100.0)])
    dense = got["default"]["dense"]
    assert dense["h100-sxm"].ratios == pytest.approx((1.1,))
    assert dense["h200"].ratios == pytest.approx((0.9,))
    assert dense[ALL_HARDWARE].ratios == pytest.approx((1.1, 0.9))
    assert dense[ALL_HARDWARE].isl == (128, 2000)
    doc = dense[ALL_HARDWARE].document()
    # median of (1.1, 0.9) = 1.0; lowest 0.9, highest 1.1
    assert (doc["runs"], doc["median"], doc["low"], doc["high"]) == (2, 1.0, 0.9, 1.1)
    assert got["default"]["moe"][ALL_HARDWARE].document()["median"] == 2.0
    assert set(got) == {"default"}


def test_the_printed_description_of_the_runs_holds():
    # report/checks.py says "TensorRT-LLM, ... dense attention": every run is a TensorRT-LLM one,
    # and the CSV has no sparse-attention column
    import csv

    with DEFAULT_CSV.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert rows and all(r["engine"].startswith("TensorRT-LLM ") for r in rows)
    assert not any("attention" in key and key != "attention_dp" for key in rows[0])
