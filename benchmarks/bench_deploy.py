"""Speed of `kinetics plan` with deployable costs, against the import floor of the CLI.

    python benchmarks/bench_deploy.py [--repeat 7] [--task aime24]

Runs, as fresh processes and interleaved round by round (the machine may be shared, so each
round sees the same load): the CLI's own dependencies imported and nothing else
(`python -c 'import numpy, pydantic, rich, typer'`), a default `kinetics plan --budget 1e16`
(deployable costs on one accelerator) and `kinetics plan --budget-usd 20 -H b200,h100,h200,mi300x`
(four accelerators). Prints the medians and the two ratios (targets: 3x and 5x); asserts nothing.
`--baseline-tree DIR` also times `plan --budget 1e16` from another source tree (say an export of
an earlier version: `git archive main | tar -x -C DIR`), the same rounds, for comparison.
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


def wall(command: list[str], tree: str | None = None) -> float:
    env = dict(os.environ, PYTHONPATH=tree) if tree else None
    start = time.perf_counter()
    # `python -m` puts the working folder first on the path: run from the tree itself
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=tree)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--task", default="aime24")
    parser.add_argument("--baseline-tree", default=None, metavar="DIR")
    args = parser.parse_args()
    py = sys.executable
    commands = {
        "imports (numpy, pydantic, rich, typer)": [py, "-c", "import numpy, pydantic, rich, typer"],
        "plan --budget 1e16 (one accelerator)": [
            py, "-m", "kinetics_cli", "plan", "--task", args.task, "--budget", "1e16",
        ],
        "plan --budget-usd 20 -H b200,h100,h200,mi300x": [
            py, "-m", "kinetics_cli", "plan", "--task", args.task, "--budget-usd", "20",
            "-H", "b200,h100,h200,mi300x",
        ],
    }  # fmt: skip
    trees: dict[str, str | None] = dict.fromkeys(commands)
    if args.baseline_tree:
        name = f"plan --budget 1e16 from {args.baseline_tree}"
        commands[name] = commands["plan --budget 1e16 (one accelerator)"]
        trees[name] = args.baseline_tree
    times: dict[str, list[float]] = {k: [] for k in commands}
    for name, command in commands.items():  # warm the file cache once
        wall(command, trees[name])
    for _ in range(args.repeat):
        for name, command in commands.items():
            times[name].append(wall(command, trees[name]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CPUs: {cpus}, load average (1 min) at the end: {load:.2f}; {args.repeat} rounds")
    medians = {k: statistics.median(v) for k, v in times.items()}
    for name, value in medians.items():
        print(f"  {name:48s} median {value:6.3f} s  (fastest {min(times[name]):.3f} s)")
    floor, one, four, *baseline = medians.values()
    print(f"default plan / imports:          {one / floor:.2f}x (target <= 3x)")
    print(f"four-accelerator plan / imports: {four / floor:.2f}x (target <= 5x)")
    if baseline:
        print(f"baseline plan / imports:         {baseline[0] / floor:.2f}x")


if __name__ == "__main__":
    main()
