"""Speed of `kinetics plan`: the default grid from a cold start, and where the time goes.

    python benchmarks/bench_plan.py [--task aime24] [--budget 1e18] [--repeat 5]

1. Cold start: runs the installed `kinetics plan --budget X` (and `--json`) as fresh processes,
   `--repeat` times each, and prints the fastest and median wall time.
2. In process: the same work split into catalog loading, the accuracy source's queries, the cost
   engine, and the budget answer (best of `--repeat`, the priors' caches cleared before each).
Prints figures and the machine's CPU count; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# As the `kinetics` entry point does (cli/main.py): single-threaded BLAS for small linear algebra.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402


def cold(command: list[str], repeat: int) -> tuple[float, float]:
    """(fastest, median) wall seconds of `command` as a fresh process."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


class TimedSource:
    """Wraps an accuracy source and adds up the time its queries take."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        self.inner = inner
        self.task, self.kind, self.description = inner.task, inner.kind, inner.description
        self.seconds = 0.0

    def settings(self):  # type: ignore[no-untyped-def]
        return self.inner.settings()

    def outcome(self, setting, trials, limits):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        out = self.inner.outcome(setting, trials, limits)
        self.seconds += time.perf_counter() - start
        return out


def clear_caches() -> None:
    """Forget what the accuracy priors keep between queries, so every repeat starts cold."""
    from kinetics_cli.accuracy import passk, priors

    priors._tables.clear()
    priors._base_nodes.cache_clear()
    passk._beta_nodes_cached.cache_clear()
    passk._normal_nodes_cached.cache_clear()


def in_process(task: str, budget: float, repeat: int) -> None:
    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.planner.grid import (
        DEFAULT_KV_BUDGETS,
        DEFAULT_LIMITS,
        DEFAULT_TRIALS,
        STRATEGIES,
        evaluate_grid,
        select_settings,
        trials_for,
    )
    from kinetics_cli.planner.plan import Pricing, make_plan
    from kinetics_cli.planner.setup import _load_source

    best: dict[str, float] = {}
    size = settings_count = 0
    for _ in range(repeat):
        clear_caches()
        t0 = time.perf_counter()
        catalog = load_catalog()
        models = catalog.models
        b200 = catalog.hardware.get("b200").spec
        t1 = time.perf_counter()
        source = TimedSource(_load_source(task, [], lambda n, m=models: m.get(n).spec.name))
        chosen = select_settings(
            source,
            kv_budgets=DEFAULT_KV_BUDGETS if getattr(source, "parametric", False) else None,
            available_models=models.find,
        )
        cards = {s.model: catalog.models.get(s.model).spec for s in chosen}
        t2 = time.perf_counter()
        grid = evaluate_grid(
            source,
            cards,
            chosen,
            b200,
            trials=trials_for(STRATEGIES, DEFAULT_TRIALS),
            limits=DEFAULT_LIMITS,
        )
        t3 = time.perf_counter()
        make_plan(grid, budget, pricing=Pricing(b200.intensity, b200.price_per_gpu_hour, "b200"))
        t4 = time.perf_counter()
        figures = {
            "catalog": t1 - t0,
            "accuracy source (load + settings)": t2 - t1,
            "accuracy queries": source.seconds,
            "cost engine and grid": t3 - t2 - source.seconds,
            "budget answer (both laws)": t4 - t3,
            "total": t4 - t0,
        }
        for key, value in figures.items():
            best[key] = min(best.get(key, np.inf), value)
        size, settings_count = len(grid), len(chosen)
    print(f"in process, best of {repeat}: {settings_count} settings, {size:,} configurations")
    for key, value in best.items():
        print(f"  {key:36s} {value * 1e3:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="aime24")
    parser.add_argument("--budget", default="1e18")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    exe = shutil.which("kinetics") or str(Path(sys.executable).parent / "kinetics")
    print(
        f"CPUs available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}"
    )
    for extra in ([], ["--json"]):
        command = [exe, "plan", "--task", args.task, "--budget", args.budget, *extra]
        fastest, median = cold(command, args.repeat)
        print(
            f"cold start: {' '.join(command[1:])}: fastest {fastest:.3f} s, median {median:.3f} s"
        )
    command = [exe, "--help"]
    fastest, median = cold(command, args.repeat)
    print(f"cold start: kinetics --help: fastest {fastest:.3f} s, median {median:.3f} s")
    from kinetics_cli.units import parse_quantity

    in_process(args.task, parse_quantity(args.budget), args.repeat)


if __name__ == "__main__":
    main()
