"""The CI calibration pipeline run several times: wall time, fitted efficiencies, held-out errors.

    python benchmarks/bench_calibrate.py [--runs 5] [--full] [--cpu-load N]

Runs `kinetics calibrate --json` as fresh processes (the installed entry point, else
`python -m kinetics_cli`) and prints, per run, the wall time, the fitted (e_c, e_m, t0) per
kernel class and the held-out decode steps' errors; then the median wall time and the range of
the held-out median and worst error over the runs: the figures docs/calibration.md derives the CI
tolerance from. `--cpu-load N` keeps N CPU-bound processes running throughout (a loaded runner).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

BUSY_LOOP = "while True: pass"


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(full: bool) -> tuple[float, float, int, dict[str, Any]]:
    """Wall seconds, CPU seconds (user + system), exit code and JSON document of one
    `kinetics calibrate --json`. On a busy machine the wall time grows with the competition for
    cores; the CPU time is what the run itself needs (its wall time on an idle machine)."""
    exe = shutil.which("kinetics")
    command = [exe] if exe else [sys.executable, "-m", "kinetics_cli"]
    command += ["calibrate", "--json", "--tolerance", "10"] + (["--full"] if full else [])
    start, cpu = time.perf_counter(), _children_cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu
    if done.returncode not in (0, 1):
        sys.exit(f"kinetics calibrate failed (exit {done.returncode}): {done.stderr.strip()}")
    return wall, cpu, done.returncode, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="time the full set of shapes")
    parser.add_argument(
        "--cpu-load", type=int, default=0, metavar="N", help="CPU-bound processes kept running"
    )
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.cpu_load)]
    try:
        print(
            f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
            f"{args.cpu_load} CPU-bound processes added"
        )
        walls, cpus, medians, worsts = [], [], [], []
        for i in range(args.runs):
            wall, cpu, code, doc = one_run(args.full)
            held = doc["held_out"]
            walls.append(wall)
            cpus.append(cpu)
            medians.append(held["median_error"])
            worsts.append(held["worst_error"])
            fits = "  ".join(
                f"{k}: {f['compute_efficiency']:.2f}/{f['bandwidth_efficiency']:.2f}/"
                f"{f['overhead_seconds'] * 1e6:.0f}us"
                for k, f in doc["fits"].items()
            )
            errors = " ".join(f"{r['error']:+.1%}" for r in held["rows"])
            print(
                f"run {i + 1}: {wall:.1f} s wall, {cpu:.1f} s CPU (exit {code}); held-out {errors}; median {held['median_error']:.1%}, worst "
                f"{held['worst_error']:.1%}; load average {os.getloadavg()[0]:.2f}"
            )
            print(f"  e_c/e_m/t0  {fits}")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print(
        f"wall time median {statistics.median(walls):.1f} s (range {min(walls):.1f}-"
        f"{max(walls):.1f} s), CPU time median {statistics.median(cpus):.1f} s (range "
        f"{min(cpus):.1f}-{max(cpus):.1f} s); held-out median error {min(medians):.1%}-{max(medians):.1%} "
        f"(median {statistics.median(medians):.1%}), worst row {max(worsts):.1%} over "
        f"{args.runs} runs"
    )


if __name__ == "__main__":
    main()
