"""The CI calibration pipeline run several times: wall time, fitted efficiencies, held-out errors.

    python benchmarks/bench_calibrate.py [--runs 5] [--full]

Runs the installed `kinetics calibrate --json` as fresh processes and prints, per run, the wall
time, the fitted (e_c, e_m, t0) per kernel class and the held-out decode steps' errors, then the
range of the held-out median and worst error over the runs: the figures docs/calibration.md
derives the CI tolerance from. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any


def one_run(full: bool) -> tuple[float, int, dict[str, Any]]:
    exe = shutil.which("kinetics") or sys.executable
    command = [exe] if exe.endswith("kinetics") else [exe, "-m", "kinetics_cli"]
    command += ["calibrate", "--json", "--tolerance", "10"] + (["--full"] if full else [])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    return wall, done.returncode, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="time the full set of shapes")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    medians, worsts = [], []
    for i in range(args.runs):
        wall, code, doc = one_run(args.full)
        held = doc["held_out"]
        medians.append(held["median_error"])
        worsts.append(held["worst_error"])
        fits = "  ".join(
            f"{k}: {f['compute_efficiency']:.2f}/{f['bandwidth_efficiency']:.2f}/"
            f"{f['overhead_seconds'] * 1e6:.0f}us"
            for k, f in doc["fits"].items()
        )
        errors = " ".join(f"{r['error']:+.1%}" for r in held["rows"])
        print(
            f"run {i + 1}: {wall:.1f} s (exit {code}); held-out {errors}; median "
            f"{held['median_error']:.1%}, worst {held['worst_error']:.1%}"
        )
        print(f"  e_c/e_m/t0  {fits}")
    print(
        f"held-out median error {min(medians):.1%}-{max(medians):.1%}, worst row "
        f"{max(worsts):.1%} over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
