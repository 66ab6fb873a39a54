"""Speed of the cost engine on whole grids: configurations per second on one core.

    python benchmarks/bench_engine.py [--configs 1000000] [--repeat 5]

Costs every model of the catalog over a (KV budget x trials x generated length) grid under block
top-k (the most expensive variant: attention, KV, page search) and dense attention, then times
the iso-cost solver and the per-operator roofline. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.isocost import isocost_rows
from kinetics_cli.engine.kinetics import problem_cost
from kinetics_cli.engine.roofline import decode_step


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    """Fastest wall time of `repeat` calls of `fn` (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1_000_000, help="grid size over all models")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    catalog = load_catalog()
    cards = [entry.spec for entry in catalog.models]
    b200 = catalog.hardware.get("b200").spec
    intensity = b200.intensity

    # Per model: K budgets x T trial counts x G lengths, G chosen so the total is >= --configs.
    budgets = np.array([256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0])
    trials = np.arange(1.0, 33.0)
    per_model = -(-args.configs // len(cards))
    g = max(1, -(-per_model // (len(budgets) * len(trials))))
    lengths = np.linspace(1024.0, 65536.0, g)
    grid = (budgets[:, None, None], trials[None, :, None], lengths[None, None, :])
    configs = len(cards) * len(budgets) * len(trials) * len(lengths)

    def sparse_grid() -> None:
        for card in cards:
            problem_cost(card, 256.0, grid[2], grid[1], "block-topk", grid[0]).eflops(intensity)

    def dense_grid() -> None:
        for card in cards:
            problem_cost(card, 256.0, grid[2], grid[1] + 0.0 * grid[0]).eflops(intensity)

    sparse = best_of(args.repeat, sparse_grid)
    dense = best_of(args.repeat, dense_grid)

    settings = [("dense", None)] + [("block-topk", float(b)) for b in budgets[:4]]
    budget = {"kinetics": 1e16, "flops": 1e16}

    def iso() -> None:
        isocost_rows(cards, budget, intensity=intensity, settings=settings)

    iso_seconds = best_of(max(1, args.repeat // 2), iso)
    rows = len(cards) * len(settings) * 2

    def roofline() -> None:
        for card in cards:
            decode_step(
                card, b200, batch=256, context=32768.0, attention="block-topk", kv_budget=1024
            )

    roof_seconds = best_of(max(1, args.repeat // 2), roofline)

    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs visible, one process")
    print(
        f"grid: {len(cards)} models x {len(budgets)} KV budgets x {len(trials)} trial counts x "
        f"{len(lengths)} lengths = {configs:,} configurations"
    )
    print(
        f"block-topk eFLOPs: {sparse * 1e3:8.1f} ms  {configs / sparse / 1e6:6.1f} M configurations/s"
    )
    print(
        f"dense eFLOPs:      {dense * 1e3:8.1f} ms  {configs / dense / 1e6:6.1f} M configurations/s"
    )
    print(
        f"isocost (both laws, {rows} rows, bisection): {iso_seconds * 1e3:.1f} ms "
        f"({iso_seconds / rows * 1e6:.0f} us per row)"
    )
    print(
        f"roofline decode_step ({len(cards)} models, with ridge search): "
        f"{roof_seconds * 1e3:.1f} ms ({roof_seconds / len(cards) * 1e3:.2f} ms per model)"
    )


if __name__ == "__main__":
    main()
