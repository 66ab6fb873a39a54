"""Speed of `kinetics frontier` on the deployable cost axis, against the law frontier and the
import floor of the CLI.

    python benchmarks/bench_frontier.py [--repeat 7] [--task aime24]

Runs, as fresh processes interleaved round by round (the machine may be shared, so each round
sees the same load): the CLI's own dependencies imported and nothing else (`python -c 'import
numpy, pydantic, rich, typer'`), the default `kinetics frontier` (eFLOPs), `frontier --cost usd`
(deployable costs on one accelerator) and `frontier --cost usd -H b200,h100,h200,mi300x` (four
accelerators and the frontier across them), each with --json so the terminal's drawing is not
timed. Prints the medians and each over the floor; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

# The work itself, every run: never the outcome cache (bench_plan.py times first runs and
# cached runs apart).
os.environ["KINETICS_NO_CACHE"] = "1"


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--task", default="aime24")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "kinetics_cli", "frontier", "--task", args.task, "--json"]
    commands = {
        "imports (numpy, pydantic, rich, typer)": [
            sys.executable, "-c", "import numpy, pydantic, rich, typer",
        ],
        "frontier (eFLOPs)": cli,
        "frontier --cost usd (b200)": [*cli, "--cost", "usd"],
        "frontier --cost usd -H b200,h100,h200,mi300x": [
            *cli, "--cost", "usd", "-H", "b200,h100,h200,mi300x",
        ],
    }  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in commands}
    for command in commands.values():  # warm the file and bytecode caches once
        wall(command)
    for _ in range(args.repeat):
        for name, command in commands.items():
            times[name].append(wall(command))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CPUs: {cpus}, load average (1 min) at the end: {load:.2f}; {args.repeat} rounds")
    medians = {k: statistics.median(v) for k, v in times.items()}
    floor = medians["imports (numpy, pydantic, rich, typer)"]
    for name, value in medians.items():
        print(
            f"  {name:48s} median {value:6.3f} s  (fastest {min(times[name]):.3f} s)  "
            f"{value / floor:5.2f}x imports"
        )


if __name__ == "__main__":
    main()
