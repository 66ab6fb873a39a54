"""Selection rules and allocation: what each costs to evaluate, and what it reaches.

    python benchmarks/bench_selection.py [--task aime24] [--repeat 3]

1. Time to evaluate the default grid (bundled priors, every model) with each set of selection
   rules (CPU seconds, best of --repeat; the first run also builds the majority table).
2. The allocation report at budgets 1e15, 1e16 and 1e17 eFLOPs (b200): the paper's per-problem
   oracle (cap and mean cost), the best uniform configuration on the same per-problem data, the
   best deployable uniform answer of `plan --selection coverage,majority`, and the long-first rule.
Prints figures and the machine's CPU count; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The work itself, every run: never the outcome cache (bench_plan.py times first runs and
# cached runs apart).
os.environ["KINETICS_NO_CACHE"] = "1"

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinetics_cli.catalog import load_catalog  # noqa: E402
from kinetics_cli.planner.allocation import allocation_report  # noqa: E402
from kinetics_cli.planner.plan import configuration, make_plan  # noqa: E402
from kinetics_cli.planner.setup import build_setup, grid_options  # noqa: E402

RULES = ("coverage", "coverage,majority", "coverage,majority,early-stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="aime24")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalog = load_catalog()
    print(f"CPUs: {os.cpu_count()}; task {args.task}; CPU seconds, best of {args.repeat}")
    setups = {}
    for rules in RULES:
        times = []
        for _ in range(args.repeat if rules != RULES[-1] else 1):
            start = time.process_time()
            setup = build_setup(
                task=args.task,
                catalog=catalog,
                hardware="b200",
                options=grid_options(selection=[rules]),
            )
            times.append(time.process_time() - start)
        setups[rules] = setup
        print(f"  grid with {rules:32s} {len(setup.grid):6,} rows  {min(times):6.2f} s")
    setup = setups["coverage,majority"]
    for budget in (1e15, 1e16, 1e17):
        start = time.process_time()
        report = allocation_report(setup, budget=budget)
        spent = time.process_time() - start
        answer = make_plan(setup.grid, budget, pricing=setup.pricing)
        print(f"\nbudget {budget:.0e} eFLOPs per problem (allocation report {spent:.2f} s)")
        if report.oracle_cap and report.oracle_mean and report.uniform:
            print(
                f"  oracle per problem, cap  {report.oracle_cap[0]:6.1%}  mean {report.oracle_cap[1]:.2e}"
            )
            print(
                f"  oracle per problem, mean {report.oracle_mean[0]:6.1%}  mean {report.oracle_mean[1]:.2e}"
            )
            print(
                f"  best uniform, same data  {report.uniform[0]:6.1%}  cost {report.uniform[1]:.2e}"
            )
        for name, i in (
            ("best (oracle)", answer.best),
            ("best deployable", answer.best_deployable),
        ):
            if i is not None:
                d = configuration(setup.grid, i, setup.pricing)
                print(
                    f"  {name:24s} {d['accuracy']:6.1%}  cost {d['eflops']:.2e}  {d['model']} "
                    f"N={d['trials']} {d['selection']} L={d['gen_len']} {d['attention']} {d['kv_budget']}"
                )
        if report.adaptive:
            a, c, conf = report.adaptive
            print(
                f"  long-first (deployable)  {a:6.1%}  cost {c:.2e}  {conf['model']} tau={conf['first_cap']} "
                f"N={conf['trials']} L={conf['gen_len']} {conf['attention']} {conf['kv_budget']} "
                f"~{conf['expected_samples']:.1f} trials"
            )


if __name__ == "__main__":
    main()
