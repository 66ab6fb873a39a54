"""Speed of `kinetics plan` and `frontier`: cold starts against the import floor, where the time
goes in process, and how the planner scales with the number of configurations.

    python benchmarks/bench_plan.py [--repeat 7] [--task aime24] [--budget 1e16] [--budget-usd 50]
        [--compare DIR] [--source] [--cold-only]
    python benchmarks/bench_plan.py --scaling [--sizes 1e5,1e6,1e7] [--compare DIR]
    python benchmarks/bench_plan.py --parts [--repeat 7] [--compare DIR]
    python benchmarks/bench_plan.py --cold-pricing [--repeat 7] [--compare DIR]

1. Cold start: `kinetics plan`, `plan --json`, `frontier`, `frontier --json` and a plan over four
   accelerators (`plan -H b200,h100,h200,mi300x --budget-usd 50`) as fresh processes,
   interleaved with the import floor (`python -c 'import numpy, pydantic, rich, typer'`), so a
   busy machine slows every command alike, and with those libraries doing for a bare program
   what they do for a plan (LIBRARY_FLOOR: typer parsing 32 options, a pydantic model, a rich
   table), so that what the package's own code adds can be read off; prints medians, the spread (fastest to slowest), each
   median over the floor's and its target, and the CPU time (user + system) each used, which
   a busy machine moves far less than wall time. With --compare DIR, each command also runs
   from DIR.
   The package's bytecode is cached first (in a temporary PYTHONPYCACHEPREFIX), as an installed
   package's .pyc files are, since the floor's libraries have theirs: with
   PYTHONDONTWRITEBYTECODE set and no .pyc files every start would compile the package's
   modules again. --source measures that instead.
   Each command runs twice a round: "first run", with an empty outcome cache
   (accuracy/cache.py; a fresh KINETICS_CACHE_DIR per run, so the priors and measurements are
   computed and the cache written), and "cached", with the cache that command's priming run
   wrote (every later run of the same grid).
2. In process: the default plan split into catalog, accuracy source, accuracy queries, cost
   engine and budget answer (medians; the priors' caches cleared before each run); then the
   default plan and the four-accelerator plan as the CLI builds them (with deployable pricing),
   split into measured and prior accuracy queries, grid, pricing and budget answer.
3. --scaling: the planner (grid, budget answer, frontiers) on a synthetic accuracy source of
   about 1e5 to 1e7 configurations, each size in a fresh process (time and peak memory). With
   --compare DIR, the same runs interleaved with the library found in DIR (e.g. an older
   checkout: `git archive REV | tar -x -C DIR`).
4. --parts: deployable pricing of the default and the four-accelerator plan, the accuracy
   priors' length tables of the four-accelerator plan, and the JSON text of `frontier --json`,
   each replayed in process on the arguments the CLI gave it (a fresh process per tree and part,
   the trees interleaved; CPU time of the part alone).
5. --cold-pricing: the deployable pricing call of the default and the four-accelerator plan as
   a cold `plan` makes it, the first call in a fresh process (each tree's outcome cache primed
   by a first round): CPU time and the minor page faults it takes (fresh memory the allocator
   asks the system for), which the in-process replays of --parts do not see.
Prints figures and the machine's CPU count; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# As the `kinetics` entry point does (cli/main.py): single-threaded BLAS for small linear algebra.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# In process, the work itself: never the outcome cache (the cold starts set their own).
os.environ["KINETICS_NO_CACHE"] = "1"

import numpy as np  # noqa: E402

FLOOR = [sys.executable, "-c", "import numpy, pydantic, rich, typer"]
# The same libraries doing for a bare program what they do for a plan, with none of kinetics'
# code: typer parsing a command of 32 options that each have a parser (typer >= 0.29 builds a
# pydantic TypeAdapter per option), a pydantic model with a validated field, and rich printing
# a 12-column table of 8 rows and a paragraph. What a plan spends above it is the package's own.
_LIBRARY_USE = r"""
import sys, numpy, typer, rich.console, rich.table
from pydantic import BaseModel, Field
class Card(BaseModel):
    name: str
    layers: int = Field(gt=0)
Card(name="x", layers=1)
names = [f"o{i}" for i in range(32)]
code = "def command(" + ", ".join(
    f"{n}: float = typer.Option(None, '--{n}', parser=float)" for n in names
) + "):\n    return None\n"
scope = {"typer": typer}
exec(code, scope)
app = typer.Typer()
app.command()(scope["command"])
try:
    app(["--o0", "1"])
except SystemExit:
    pass
out = rich.console.Console(highlight=False, width=120, file=sys.stdout)
table = rich.table.Table(*[f"column {i}" for i in range(12)])
for r in range(8):
    table.add_row(*[f"{r * i:,}" for i in range(12)])
out.print(table)
out.print("word " * 200, markup=False)
"""
LIBRARY_FLOOR = [sys.executable, "-c", _LIBRARY_USE]


def spread(times: list[float]) -> str:
    """'median s (fastest-slowest)'."""
    return f"{statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f})"


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    return timed_run(command, env)[0]


def timed_run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of `command`, from the folder its
    PYTHONPATH names (`python -m` and `-c` put the working folder first on the import path, so a
    tree compared with --compare must not be shadowed by the one the script runs in). CPU time
    moves far less than wall time when other work shares the machine's cores."""
    cwd = None if env is None else env.get("PYTHONPATH")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu


# What the cold starts are held to (median over the import floor's): a default plan within 2x,
# and within 3x counting its deployable pricing (which the default plan includes); a plan over
# four accelerators within 5x; frontier within 2x.
HARDWARE = "b200,h100,h200,mi300x"
TARGETS = {
    "plan": "2x (3x deployable)",
    "plan --json": "2x (3x deployable)",
    "frontier": "2x",
    "frontier --json": "2x",
    "plan, 4 accelerators": "5x",
}


def bytecode_env(tree: str, cache: Path | None, outcomes: Path | None = None) -> dict[str, str]:
    """The environment a command runs in: PYTHONPATH=tree and, with `cache`, bytecode written
    to and read from `cache` (as an installed package's .pyc files are) even where
    PYTHONDONTWRITEBYTECODE is set; without it, the environment as it is. The outcome cache
    (accuracy/cache.py) in `outcomes`, or off."""
    env = dict(os.environ, PYTHONPATH=tree)
    env.pop("KINETICS_NO_CACHE", None)
    if outcomes is None:
        env["KINETICS_NO_CACHE"] = "1"
    else:
        env["KINETICS_CACHE_DIR"] = str(outcomes)
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache / hashlib.sha1(tree.encode()).hexdigest()[:12])
    return env


def cold_starts(
    task: str, budget: str, usd: str, repeat: int, compare: Path | None, source: bool
) -> None:
    """Each command and the import floor, interleaved, `repeat` rounds (and each command run
    from the `compare` tree too, when given). Unless `source`, every command runs once first
    so that its modules' bytecode is cached, and the rounds read it."""
    kinetics = [sys.executable, "-m", "kinetics_cli"]
    args = {
        "plan": ["plan", "--task", task, "--budget", budget],
        "plan --json": ["plan", "--task", task, "--budget", budget, "--json"],
        "frontier": ["frontier", "--task", task],
        "frontier --json": ["frontier", "--task", task, "--json"],
        "plan, 4 accelerators": ["plan", "--task", task, "-H", HARDWARE, "--budget-usd", usd],
    }
    here = str(Path(__file__).resolve().parent.parent)
    trees = {"": here} if compare is None else {"": here, " (--compare)": str(compare.resolve())}
    # (command, tree, outcome cache: None for none, "fresh" for an empty one per run, or the
    # folder the priming run filled)
    commands: dict[str, tuple[list[str], str, str | None]] = {
        "import floor": (FLOOR, here, None),
        "libraries as a plan uses them": (LIBRARY_FLOOR, here, None),
    }
    for name, rest in args.items():
        for suffix, tree in trees.items():
            for state in ("first run", "cached"):
                label = f"{name}{suffix}, {state}"
                commands[label] = (
                    [*kinetics, *rest],
                    tree,
                    "fresh" if state == "first run" else label,
                )
    with tempfile.TemporaryDirectory(prefix="kinetics-bench-pyc-") as tmp:
        cache = None if source else Path(tmp) / "pyc"
        kept = Path(tmp) / "outcomes"

        def env_of(tree: str, outcomes: str | None) -> dict[str, str]:
            if outcomes is None:
                return bytecode_env(tree, cache)
            if outcomes == "fresh":
                return bytecode_env(tree, cache, Path(tempfile.mkdtemp(dir=tmp)))
            return bytecode_env(tree, cache, kept / hashlib.sha1(outcomes.encode()).hexdigest())

        for command, tree, outcomes in commands.values():  # bytecode, and the warm caches
            wall(command, env_of(tree, outcomes))
        times: dict[str, list[float]] = {k: [] for k in commands}
        cpu: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(repeat):
            for name, (command, tree, outcomes) in commands.items():
                elapsed, used = timed_run(command, env_of(tree, outcomes))
                times[name].append(elapsed)
                cpu[name].append(used)
    floor = statistics.median(times["import floor"])
    cpu_floor = statistics.median(cpu["import floor"])
    mode = (
        "modules compiled at every start (--source)"
        if source
        else "bytecode cached, as an installed package runs"
    )
    print(
        f"cold start, {repeat} interleaved rounds, {mode}: wall median (fastest-slowest), / floor; "
        "CPU median (user + system), / floor's"
    )
    for name, values in times.items():
        ratio = statistics.median(values) / floor
        used = statistics.median(cpu[name])
        base = name.rsplit(", ", 1)[0].removesuffix(" (--compare)")
        target = TARGETS.get(base, "")
        print(
            f"  {name:48s} {spread(values):28s} {ratio:5.2f}x  CPU {used:.3f} s "
            f"{used / cpu_floor:5.2f}x" + (f"  target {target}" if target else "")
        )
    print(f"  (4 accelerators: -H {HARDWARE} --budget-usd {usd})")


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
    from kinetics_cli.accuracy import bootstrap, passk, priors

    for holder, names in (
        (priors, ("_tables",)),
        (priors, ("_base_nodes",)),
        (passk, ("_beta_nodes_cached", "_normal_nodes_cached")),
        (bootstrap, ("_problem_draws", "_passk_table")),
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
    from kinetics_cli.planner.setup import load_source

    runs: dict[str, list[float]] = {}
    size = settings_count = 0
    for _ in range(repeat):
        clear_caches()
        t0 = time.perf_counter()
        catalog = load_catalog()
        models = catalog.models
        b200 = catalog.hardware.get("b200").spec
        t1 = time.perf_counter()
        source = TimedSource(load_source(task, [], lambda n, m=models: m.get(n).spec.name))
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


def as_the_cli_builds(task: str, budget: float, usd: float, repeat: int) -> None:
    """The default plan and the four-accelerator plan in process as `kinetics plan` builds them
    (build_setup with deployable pricing, then the budget answer), split into measured and prior
    accuracy queries, the rest of the grid, deployable pricing and the budget answer."""
    from kinetics_cli.accuracy.evals import EvaluationSource
    from kinetics_cli.accuracy.priors import PriorSource
    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.engine.serving import DEFAULT_MAX_BATCH
    from kinetics_cli.planner import deploy, setup
    from kinetics_cli.planner.deploy import DeployOptions, compare_hardware
    from kinetics_cli.planner.plan import make_plan

    spent: dict[str, float] = {}

    def timed(owner: object, name: str, key: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)

    timed(EvaluationSource, "outcome", "measured accuracy queries")
    timed(PriorSource, "outcome", "prior accuracy queries")
    timed(setup, "evaluate_grid", "grid")
    timed(deploy, "price_grid", "deployable pricing")  # imported where it is used
    options = DeployOptions(max_batch=DEFAULT_MAX_BATCH)
    for label, hardware in (("default plan", "b200"), ("4 accelerators", HARDWARE)):
        runs: dict[str, list[float]] = {}
        for _ in range(repeat):
            clear_caches()
            spent.clear()
            t0 = time.perf_counter()
            built = setup.build_setup(
                task=task, catalog=load_catalog(), hardware=hardware, deploy=options
            )
            t1 = time.perf_counter()
            if hardware == "b200":
                make_plan(built.grid, budget, unit="eflops", pricing=built.pricing)
            else:
                compare_hardware(
                    [(h.profile.name, h.grid, h.pricing) for h in built.hardware], usd, unit="usd"
                )
            t2 = time.perf_counter()
            queries = spent["measured accuracy queries"] + spent["prior accuracy queries"]
            figures = {
                "measured accuracy queries": spent["measured accuracy queries"],
                "prior accuracy queries": spent["prior accuracy queries"],
                "rest of the grid (cost engine)": spent["grid"] - queries,
                "deployable pricing": spent["deployable pricing"],
                "rest of the setup (catalog, source)": t1
                - t0
                - spent["grid"]
                - spent["deployable pricing"],
                "budget answer": t2 - t1,
                "total": t2 - t0,
            }
            for key, value in figures.items():
                runs.setdefault(key, []).append(value)
        budget_text = f"--budget {budget:g}" if hardware == "b200" else f"--budget-usd {usd:g}"
        print(f"in process as the CLI builds it, {label} (-H {hardware} {budget_text}):")
        total = statistics.median(runs["total"])
        for key, values in runs.items():
            m = statistics.median(values)
            print(
                f"  {key:36s} {m * 1e3:8.1f} ms ({min(values) * 1e3:.1f}-"
                f"{max(values) * 1e3:.1f})  {m / total:5.1%}"
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
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss * 1024  # Linux: KiB
    timings = {"grid": t1 - t0, "plan": t2 - t1, "frontier": t3 - t2}
    # CPU seconds of the whole process (imports and set-up included): user (our code) and system
    # (the kernel, mostly providing fresh pages to the grid-sized arrays)
    cpu = {"user": usage.ru_utime, "sys": usage.ru_stime}
    print(json.dumps({"configs": len(grid), **timings, **cpu, "peak_bytes": peak}))


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
            cpu = ", ".join(
                f"{k} " + "/".join(f"{r[k]:.2f}" for r in rows) + " s"
                for k in ("user", "sys")
                if k in rows[0]
            )
            print(
                f"  {label:10s} {configs:>11,} configs: {m:7.2f} s ({min(total):.2f}-"
                f"{max(total):.2f}), {m / configs * 1e6:5.2f} us/config [{parts}], "
                f"peak {peak:.2f} GiB; process CPU {cpu}"
            )


PARTS = {
    "deployable pricing, default plan": ["plan", "--budget", "1e16", "--json"],
    "deployable pricing, 4 accelerators": ["plan", "-H", HARDWARE, "--budget-usd", "50", "--json"],
    "frontier --json text": ["frontier", "--json"],
    "prior length tables, 4 accelerators": ["plan", "-H", HARDWARE, "--budget-usd", "50", "--json"],
}


def parts_worker(name: str, repeat: int) -> None:
    """Run one PARTS command in this process (its output captured, not written), then time the
    part again `repeat` times on the same arguments: deployable pricing (price_grid, with its
    caches fresh each call), the accuracy priors' length tables (priors._length_table for each
    prior the plan tabulated, the table cache cleared first; most of it is normal_cdf) or the
    JSON text of the document; prints CPU seconds (this process's user + system time, which
    other work on the machine moves less than wall time) as JSON."""
    import contextlib
    import io

    from kinetics_cli.accuracy import priors
    from kinetics_cli.cli.main import run
    from kinetics_cli.planner import deploy
    from kinetics_cli.report import console, jsontext

    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    documents: list[object] = []
    price_grid = deploy.price_grid
    length_table = priors._length_table
    tabulated: list[object] = []

    def tabulate(prior):  # type: ignore[no-untyped-def]
        tabulated.append(prior)
        return length_table(prior)

    priors._length_table = tabulate  # type: ignore[assignment]

    def keep(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((args, kwargs))
        return price_grid(*args, **kwargs)

    deploy.price_grid = keep  # type: ignore[assignment]
    console.emit_json = documents.append  # type: ignore[assignment]
    sys.argv = ["kinetics", *PARTS[name]]
    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
        run()
    if name.startswith("deployable pricing"):
        args, kwargs = calls[0]
        kwargs = {**kwargs, "on_progress": None}

        def part() -> object:
            return price_grid(*args, **kwargs)  # type: ignore[arg-type]
    elif name.startswith("prior length tables"):
        distinct = list({id(p): p for p in tabulated}.values())

        def part() -> object:
            priors._tables.clear()
            return [length_table(p) for p in distinct]  # type: ignore[arg-type]
    else:

        def part() -> object:
            return jsontext.dumps(documents[0])

    seconds = []
    for _ in range(repeat):
        start = time.process_time()
        part()
        seconds.append(time.process_time() - start)
    print(json.dumps(seconds))


def parts(repeat: int, compare: Path | None) -> None:
    """PARTS in fresh processes, each tree in turn (interleaved), 3 rounds of `repeat` timings."""
    here = Path(__file__).resolve()
    trees = {"this tree": str(here.parent.parent)}
    if compare is not None:
        trees["--compare"] = str(compare.resolve())
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(3):
        for name in PARTS:
            for label, tree in trees.items():
                out = subprocess.run(
                    [sys.executable, str(here), "--parts-worker", name, "--repeat", str(repeat)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=dict(os.environ, PYTHONPATH=tree),
                    cwd=tree,
                ).stdout
                times.setdefault((name, label), []).extend(json.loads(out.splitlines()[-1]))
    print(f"parts in process, CPU time, median (fastest-slowest) of 3 processes x {repeat}:")
    for name in PARTS:
        for label in trees:
            values = times[(name, label)]
            print(
                f"  {name:36s} {label:10s} {statistics.median(values) * 1e3:7.1f} ms "
                f"({min(values) * 1e3:.1f}-{max(values) * 1e3:.1f})"
            )


PRICED = {
    "default plan": ["plan", "--budget", "1e16", "--json"],
    "4 accelerators": ["plan", "-H", HARDWARE, "--budget-usd", "50", "--json"],
}


# The pricing worker runs as `python -c` (not this script, whose imports would shape the heap
# the pricing call then grows): the CLI's own run, with price_grid timed.
PRICING_WORKER = """
import contextlib, io, json, resource, sys, time
from kinetics_cli.cli.main import run
from kinetics_cli.planner import deploy
from kinetics_cli.report import console
price_grid, seen = deploy.price_grid, []
def timed(*args, **kwargs):
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.process_time()
    out = price_grid(*args, **kwargs)
    seen.append(time.process_time() - start)
    seen.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
    return out
deploy.price_grid = timed
console.emit_json = lambda document: None
sys.argv = ["kinetics", *sys.argv[1:]]
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    run()
print(json.dumps(seen))
"""


def cold_pricing(repeat: int, compare: Path | None) -> None:
    """PRICED in `repeat` fresh processes per tree and command, interleaved, each with the
    outcome cache its own priming run filled (a later run of the same grid): the CPU seconds
    and the minor page faults of the one deployable pricing call (price_grid), the first in
    its process as in a cold `plan`, which the replays of --parts do not see."""
    here = Path(__file__).resolve()
    trees = {"this tree": str(here.parent.parent)}
    if compare is not None:
        trees["--compare"] = str(compare.resolve())
    seconds: dict[tuple[str, str], list[float]] = {}
    faults: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="kinetics-bench-outcomes-") as tmp:
        for round_ in range(repeat + 1):  # round 0 primes each tree's outcome cache
            for name in PRICED:
                for label, tree in trees.items():
                    env = bytecode_env(
                        tree, None, Path(tmp) / hashlib.sha1(tree.encode()).hexdigest()
                    )
                    out = subprocess.run(
                        [sys.executable, "-c", PRICING_WORKER, *PRICED[name]],
                        check=True,
                        capture_output=True,
                        text=True,
                        env=env,
                        cwd=tree,
                    ).stdout
                    cpu, minor = json.loads(out.splitlines()[-1])
                    if round_:
                        seconds.setdefault((name, label), []).append(cpu)
                        faults.setdefault((name, label), []).append(minor)
    print(
        f"deployable pricing, first call in a fresh process (outcome cache warm), {repeat} "
        "interleaved rounds: CPU time and minor page faults, median (fastest-slowest):"
    )
    for name in PRICED:
        for label in trees:
            values, minor = seconds[(name, label)], faults[(name, label)]
            print(
                f"  {name:16s} {label:10s} {statistics.median(values) * 1e3:6.1f} ms "
                f"({min(values) * 1e3:.1f}-{max(values) * 1e3:.1f})  "
                f"{statistics.median(minor):7.0f} faults ({min(minor):.0f}-{max(minor):.0f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="aime24")
    parser.add_argument("--budget", default="1e16")
    parser.add_argument("--budget-usd", default="50", help="budget of the four-accelerator plan")
    parser.add_argument(
        "--source",
        action="store_true",
        help="compile every module at each start (no cached bytecode), as with "
        "PYTHONDONTWRITEBYTECODE and no .pyc files",
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold-only", action="store_true", help="cold starts only (part 1)")
    parser.add_argument("--scaling", action="store_true", help="planner scaling instead")
    parser.add_argument("--sizes", default="1e5,1e6,1e7", help="configurations, comma-separated")
    parser.add_argument("--compare", type=Path, help="another tree to run the same commands from")
    parser.add_argument("--parts", action="store_true", help="pricing and JSON text instead")
    parser.add_argument("--scaling-worker", type=float, help=argparse.SUPPRESS)
    parser.add_argument(
        "--cold-pricing",
        action="store_true",
        help="deployable pricing as a cold plan makes it (fresh processes) instead",
    )
    parser.add_argument("--parts-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scaling_worker:
        scaling_worker(args.scaling_worker)
        return
    if args.parts_worker:
        parts_worker(args.parts_worker, args.repeat)
        return
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CPUs available: {cpus}; numpy {np.__version__}")
    if args.scaling:
        sizes = [float(s) for s in args.sizes.split(",")]
        scaling(sizes, max(1, args.repeat), args.compare)
        return
    if args.parts:
        parts(max(1, args.repeat), args.compare)
        return
    if args.cold_pricing:
        cold_pricing(max(1, args.repeat), args.compare)
        return
    cold_starts(args.task, args.budget, args.budget_usd, args.repeat, args.compare, args.source)
    if args.cold_only:
        return
    from kinetics_cli.units import parse_quantity

    in_process(args.task, parse_quantity(args.budget), args.repeat)
    as_the_cli_builds(
        args.task, parse_quantity(args.budget), parse_quantity(args.budget_usd), args.repeat
    )


if __name__ == "__main__":
    main()
