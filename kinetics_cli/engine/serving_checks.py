"""How far the serving model's throughput was from published runs, per efficiency mode, dense
or MoE, and accelerator: the bundled `serving_checks.toml`, so every deployable figure can say
how it fared where it was checked.

The file is written by `python benchmarks/bench_serving.py --write-checks` from
`engine/published_runs.py` (nothing fitted: predicted / published output tokens/s of 107
published max-throughput runs, docs/serving.md section 7); a test recomputes it, so it cannot
fall behind the model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKS_FILE = Path(__file__).with_name("serving_checks.toml")
ALL_HARDWARE = "all"  # the slice over every accelerator with runs


@dataclass(frozen=True)
class ServingCheck:
    """Predicted / published output tokens/s over one slice of the published runs. A ratio
    above 1 is a prediction too fast: published time per token was that many times longer."""

    mode: str
    family: str  # "dense" or "moe"
    hardware: str  # the accelerator asked about
    on_hardware: bool  # the runs were on that accelerator (else: every accelerator with runs)
    checked_on: tuple[str, ...]  # the accelerators of the runs
    runs: int
    median: float
    low: float
    high: float
    models: tuple[str, ...]
    weights: tuple[str, ...]  # the runs' weight formats
    isl: tuple[int, int]  # shortest and longest prompt of the runs
    osl: tuple[int, int]  # shortest and longest generation

    def document(self) -> dict[str, Any]:
        """The check as `--json` writes it."""
        return {
            "basis": "predicted / published output tokens/s of published max-throughput runs "
            "(docs/serving.md section 7); above 1: the prediction was too fast",
            "efficiency_mode": self.mode,
            "family": self.family,
            "on_this_hardware": self.on_hardware,
            "hardware": list(self.checked_on),
            "runs": self.runs,
            "ratio_median": self.median,
            "ratio_low": self.low,
            "ratio_high": self.high,
            "models": list(self.models),
            "weights": list(self.weights),
            "isl": list(self.isl),
            "osl": list(self.osl),
        }


@functools.cache
def bundled_checks() -> dict[str, Any]:
    """The bundled file's tables: {mode: {"dense" | "moe": {hardware | "all": figures}}}."""
    from kinetics_cli.tomlio import read_toml

    return read_toml(CHECKS_FILE)


def check_for(
    mode: str, moe: bool, hardware: str, table: dict[str, Any] | None = None
) -> ServingCheck | None:
    """The check of `mode`'s predictions for a dense or MoE model on `hardware`: its own runs
    where there are some, else those on every accelerator with runs (`on_hardware` False);
    None where no run was predicted in that mode (e.g. no profile with runs is calibrated).
    `table`: the figures (default: the bundled file's)."""
    family = "moe" if moe else "dense"
    by_hw = (bundled_checks() if table is None else table).get(mode, {}).get(family, {})
    entry = by_hw.get(hardware)
    on_hardware = entry is not None
    if entry is None:
        entry = by_hw.get(ALL_HARDWARE)
    if entry is None:
        return None
    checked_on = (hardware,) if on_hardware else tuple(h for h in by_hw if h != ALL_HARDWARE)
    return ServingCheck(
        mode=mode,
        family=family,
        hardware=hardware,
        on_hardware=on_hardware,
        checked_on=checked_on,
        runs=int(entry["runs"]),
        median=float(entry["median"]),
        low=float(entry["low"]),
        high=float(entry["high"]),
        models=tuple(entry["models"]),
        weights=tuple(entry["weights"]),
        isl=(int(entry["isl"][0]), int(entry["isl"][1])),
        osl=(int(entry["osl"][0]), int(entry["osl"][1])),
    )
