"""Speed of `kinetics plan` and `frontier`: cold starts against the import floor, where the time
goes in process, and how the planner scales with the number of configurations.

    python benchmarks/bench_plan.py [--repeat 7] [--task aime24] [--budget 1e16] [--compare DIR]
    python benchmarks/bench_plan.py --scaling [--sizes 1e5,1e6,1e7] [--compare DIR]

1. Cold start: `kinetics plan`, `plan --json`, `frontier`, `frontier --json` as fresh processes,
   interleaved with the import floor (`python -c 'import numpy, pydantic, rich, typer'`), so a
   busy machine slows every command alike; prints medians, the spread (fastest to slowest) and
   each median over the floor's. With --compare DIR, each command also runs from DIR.
2. In process: the default plan split into catalog, accuracy source, accuracy queries, cost
   engine and budget answer (medians; the priors' caches cleared before each run).
3. --scaling: the planner (grid, budget answer, frontiers) on a synthetic accuracy source of
   about 1e5 to 1e7 configurations, each size in a fresh process (time and peak memory). With
   --compare DIR, the same runs interleaved with the library found in DIR (e.g. an older
   checkout: `git archive REV | tar -x -C DIR`).
Prints figures and the machine's CPU count; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# As the `kinetics` entry point does (cli/main.py): single-threaded BLAS for small linear algebra.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

FLOOR = [sys.executable, "-c", "import numpy, pydantic, rich, typer"]


def spread(times: list[float]) -> str:
    """'median s (fastest-slowest)'."""
    return f"{statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f})"


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def cold_starts(task: str, budget: str, repeat: int, compare: Path | None) -> None:
    """Each command and the import floor, interleaved, `repeat` rounds (and each command run
    from the `compare` tree too, when given)."""
    kinetics = [sys.executable, "-m", "kinetics_cli"]
    args = {
        "plan": ["plan", "--task", task, "--budget", budget],
        "plan --json": ["plan", "--task", task, "--budget", budget, "--json"],
        "frontier": ["frontier", "--task", task],
        "frontier --json": ["frontier", "--task", task, "--json"],
    }
    here = str(Path(__file__).resolve().parent.parent)
    trees = {"": here} if compare is None else {"": here, " (--compare)": str(compare.resolve())}
    commands: dict[str, tuple[list[str], str]] = {"import floor": (FLOOR, here)}
    for name, rest in args.items():
        for suffix, tree in trees.items():
            commands[name + suffix] = ([*kinetics, *rest], tree)
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeat):
        for name, (command, tree) in commands.items():
            times[name].append(wall(command, dict(os.environ, PYTHONPATH=tree)))
    floor = statistics.median(times["import floor"])
    print(f"cold start, {repeat} interleaved rounds: median (fastest-slowest), median / floor")
    for name, values in times.items():
        ratio = statistics.median(values) / floor
        print(f"  {name:28s} {spread(values):28s} {ratio:5.2f}x")


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
    """Forget what the accuracy priors keep between queries, so every run starts cold."""
    from kinetics_cli.accuracy import passk, priors

    for holder, names in (
        (priors, ("_tables",)),
        (priors, ("_base_nodes",)),
        (passk, ("_beta_nodes_cached", "_normal_nodes_cached")),
    ):
        for name in names:
            cache = getattr(holder, name, None)
            if hasattr(cache, "cache_clear"):
                cache.cache_clear()
            elif hasattr(cache, "clear"):
                cache.clear()


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

    runs: dict[str, list[float]] = {}
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
            "catalog (load + b200 + cards)": t1 - t0 + 0.0,
            "accuracy source (load + settings)": t2 - t1,
            "accuracy queries": source.seconds,
            "cost engine and grid": t3 - t2 - source.seconds,
            "budget answer (both laws)": t4 - t3,
            "total": t4 - t0,
        }
        for key, value in figures.items():
            runs.setdefault(key, []).append(value)
        size, settings_count = len(grid), len(chosen)
    print(
        f"in process, median of {repeat} (fastest-slowest): {settings_count} settings, "
        f"{size:,} configurations"
    )
    total = statistics.median(runs["total"])
    for key, values in runs.items():
        m = statistics.median(values)
        print(
            f"  {key:36s} {m * 1e3:8.1f} ms ({min(values) * 1e3:.1f}-{max(values) * 1e3:.1f})"
            f"  {m / total:5.1%}"
        )


# ---- planner scaling -------------------------------------------------------------------------

SCALING_TRIALS = (1, 2, 4, 8, 16, 32, 64)
SCALING_POINTS = 32  # generated-length points per limit, as the bundled priors have


class SyntheticSource:
    """A closed-form accuracy source with as many KV budgets and limits as a size needs.

    Accuracy 1 - (1 - q F(L))^N with F(L) = 1 - exp(-L / mean) (as in the planner tests' fake);
    generated lengths: SCALING_POINTS equal-weight quantiles of that exponential, cut at L.
    Cheap on purpose, so the figures are the planner's, not an accuracy model's.
    """

    task, kind, description = "synthetic", "priors", "synthetic closed-form accuracy"

    def __init__(self, models: list[str], budgets: np.ndarray) -> None:
        self.models, self.budgets = models, budgets
        q = (np.arange(SCALING_POINTS) + 0.5) / SCALING_POINTS
        self.quantiles = -np.log1p(-q)

    def settings(self):  # type: ignore[no-untyped-def]
        from kinetics_cli.accuracy.base import Setting

        out = []
        for model in self.models:
            out.append(Setting(model, "dense", None))
            for attention in ("topk", "block-topk"):
                out += [Setting(model, attention, float(b)) for b in self.budgets]
        return out

    def outcome(self, setting, trials, limits):  # type: ignore[no-untyped-def]
        from kinetics_cli.accuracy.base import Outcome

        k = self.models.index(setting.model)
        rate, mean = 0.2 + 0.6 * k / len(self.models), 9000.0 - 200.0 * k
        r = 1.0 if setting.kv_budget is None else setting.kv_budget / (setting.kv_budget + 128.0)
        lim = np.asarray(limits, dtype=float)
        solved = rate * r * (1.0 - np.exp(-lim / mean))
        accuracy = 1.0 - (1.0 - solved[None, :]) ** np.asarray(trials, dtype=float)[:, None]
        lengths = np.minimum(mean * self.quantiles[None, :], lim[:, None])
        weights = np.full_like(lengths, 1.0 / SCALING_POINTS)
        return Outcome(accuracy, lengths, weights, prompt_len=160.0)


def scaling_worker(size: float) -> None:
    """One size in this process: prints one JSON line of timings and peak memory."""
    import resource

    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.planner.frontier import make_frontier
    from kinetics_cli.planner.grid import evaluate_grid
    from kinetics_cli.planner.plan import Pricing, make_plan

    catalog = load_catalog()
    hardware = catalog.hardware.get("b200").spec
    models = [e.spec.name for e in catalog.models]
    budgets = np.geomspace(64.0, 16384.0, 16)
    settings_count = len(models) * (1 + 2 * len(budgets))
    limits = np.unique(
        np.round(np.geomspace(512.0, 65536.0, max(2, round(size / settings_count / 7))))
    )
    source = SyntheticSource(models, budgets)
    settings = source.settings()
    cards = {m: catalog.models.get(m).spec for m in models}
    pricing = Pricing(hardware.intensity, hardware.price_per_gpu_hour, hardware.name)
    t0 = time.perf_counter()
    grid = evaluate_grid(
        source,  # type: ignore[arg-type]
        cards,
        settings,
        hardware,
        trials=SCALING_TRIALS,
        limits=limits,
    )
    t1 = time.perf_counter()
    make_plan(grid, 1e16, pricing=pricing)
    t2 = time.perf_counter()
    make_frontier(grid, "kinetics", pricing.intensity)
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    timings = {"grid": t1 - t0, "plan": t2 - t1, "frontier": t3 - t2}
    print(json.dumps({"configs": len(grid), **timings, "peak_bytes": peak}))


def scaling(sizes: list[float], repeat: int, compare: Path | None) -> None:
    here = Path(__file__).resolve()
    trees = {"this tree": str(here.parent.parent)}
    if compare is not None:
        trees["--compare"] = str(compare.resolve())
    runs: dict[tuple[str, float], list[dict[str, float]]] = {}
    for _ in range(repeat):
        for size in sizes:
            for label, tree in trees.items():
                env = dict(os.environ, PYTHONPATH=tree)
                out = subprocess.run(
                    [sys.executable, str(here), "--scaling-worker", str(size)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                ).stdout
                runs.setdefault((label, size), []).append(json.loads(out.splitlines()[-1]))
    print(
        f"planner scaling, median of {repeat} fresh processes (fastest-slowest): evaluate_grid + "
        "make_plan + make_frontier on a synthetic source"
    )
    for size in sizes:
        for label in trees:
            rows = runs[(label, size)]
            total = [r["grid"] + r["plan"] + r["frontier"] for r in rows]
            m = statistics.median(total)
            configs = rows[0]["configs"]
            parts = ", ".join(
                f"{k} {statistics.median(r[k] for r in rows):.2f} s"
                for k in ("grid", "plan", "frontier")
            )
            peak = statistics.median(r["peak_bytes"] for r in rows) / 2**30
            print(
                f"  {label:10s} {configs:>11,} configs: {m:7.2f} s ({min(total):.2f}-"
                f"{max(total):.2f}), {m / configs * 1e6:5.2f} us/config [{parts}], "
                f"peak {peak:.2f} GiB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="aime24")
    parser.add_argument("--budget", default="1e16")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--scaling", action="store_true", help="planner scaling instead")
    parser.add_argument("--sizes", default="1e5,1e6,1e7", help="configurations, comma-separated")
    parser.add_argument("--compare", type=Path, help="another tree to run the same commands from")
    parser.add_argument("--scaling-worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scaling_worker:
        scaling_worker(args.scaling_worker)
        return
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CPUs available: {cpus}; numpy {np.__version__}")
    if args.scaling:
        sizes = [float(s) for s in args.sizes.split(",")]
        scaling(sizes, max(1, args.repeat), args.compare)
        return
    cold_starts(args.task, args.budget, args.repeat, args.compare)
    from kinetics_cli.units import parse_quantity

    in_process(args.task, parse_quantity(args.budget), args.repeat)


if __name__ == "__main__":
    main()
