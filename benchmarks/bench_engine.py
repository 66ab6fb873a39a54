"""Speed of the cost engine against one plain numpy expression of the same closed form.

    python benchmarks/bench_engine.py [--sizes 1e4,1e5,1e6,1e7] [--repeat 7] [--model qwen3-8b]

For each size (configurations = KV budgets x trials x generation limits), times the public
`problem_eflops(..., intensity=I)` ("point"; "terms" is `problem_cost(...).eflops(I)`, which
also returns every term) and the paper's formula written as one numpy expression over the
same broadcast arrays (GQA card: P, h = layers x heads x head dim, d = layers x KV heads x head
dim), for dense, top-k and block top-k attention, point lengths and length-averaged (32 weighted
length points per limit, as the planner costs them: the engine's `expected_eflops` (eFLOPs
only, summed before the trials axis) against the hand-written mean of f(L) + N g(L)). Runs are interleaved so a busy machine slows
both alike; prints medians, their spread and the ratio. Then the iso-cost solver and the
roofline, as before. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.isocost import isocost_rows
from kinetics_cli.engine.kinetics import (
    CostShape,
    expected_eflops,
    expected_problem_cost,
    problem_cost,
    problem_eflops,
)
from kinetics_cli.engine.roofline import decode_step

PROMPT = 160.0
BLOCK = 16.0
POINTS = 32


def attended(l_in: np.ndarray | float, l_out: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """A(cap) of docs/cost-model.md 2.2, written out."""
    t = np.clip(cap - l_in, 0.0, l_out)
    return l_in * t + 0.5 * t * t + cap * (l_out - t)


def plain(
    attention: str,
    p: float,
    h: float,
    d: float,
    i: float,
    l_out,
    n,
    b,  # type: ignore[no-untyped-def]
) -> np.ndarray:
    """eFLOPs of the law for a GQA card as one numpy expression (section 2 of the doc)."""
    if attention == "dense":
        return (
            2 * p * n * l_out
            + 4 * h * n * (PROMPT * l_out + 0.5 * l_out * l_out)
            + i * 4 * d * (PROMPT * l_out + n * 0.5 * l_out * l_out)
        )
    a = attended(PROMPT, l_out, b)
    cost = 2 * p * n * l_out + 4 * h * a * n + i * 4 * d * a * n
    if attention == "block-topk":
        seen = PROMPT * l_out + 0.5 * l_out * l_out
        cost = (
            cost
            + 2 * h * seen / BLOCK * n
            + i * 2 * d * (PROMPT * l_out + n * 0.5 * l_out * l_out) / BLOCK
        )
    return cost


def plain_mean(
    attention: str,
    p: float,
    h: float,
    d: float,
    i: float,
    l_out,
    w,
    n,
    b,  # type: ignore[no-untyped-def]
) -> np.ndarray:
    """The length-averaged law by hand: every term is f(L) + N g(L), so average f and g over the
    length points, then combine with N."""
    gen = 0.5 * l_out * l_out
    if attention == "dense":
        f = i * 4 * d * PROMPT * l_out
        g = 2 * p * l_out + 4 * h * (PROMPT * l_out + gen) + i * 4 * d * gen
    else:
        a = attended(PROMPT, l_out, b)
        f = np.zeros(())
        g = 2 * p * l_out + (4 * h + i * 4 * d) * a
        if attention == "block-topk":
            f = i * 2 * d * PROMPT * l_out / BLOCK
            g = g + 2 * h * (PROMPT * l_out + gen) / BLOCK + i * 2 * d * gen / BLOCK
    return (f * w).sum(axis=-1) + n[..., 0] * (g * w).sum(axis=-1)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(sizes: list[float], repeat: int, model: str) -> None:
    catalog = load_catalog()
    card = catalog.models.get(model).spec
    shape = CostShape.of(card)
    if len(shape.groups) != 1 or shape.groups[0].window is not None:
        raise SystemExit(f"{model}: the plain expression is written for plain GQA cards")
    g = shape.groups[0]
    p = shape.params
    h = g.layers * g.q_heads * g.qk_head_dim
    d = g.layers * g.kv_heads * g.qk_head_dim
    i = catalog.hardware.get("b200").spec.intensity
    budgets = np.array([256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0])
    trials = np.arange(1.0, 33.0)
    q = (np.arange(POINTS) + 0.5) / POINTS
    weights = np.full(POINTS, 1.0 / POINTS)
    cases: dict[tuple[str, str, int], tuple[Callable[[], object], Callable[[], object]]] = {}
    for size in sizes:
        for attention in ("dense", "topk", "block-topk"):
            k = 1 if attention == "dense" else budgets.size
            limits = np.linspace(1024.0, 32768.0, max(1, round(size / k / trials.size)))
            configs = k * trials.size * limits.size
            b = budgets[:k, None, None]
            n = trials[None, :, None]
            lim = limits[None, None, :]
            kv = None if attention == "dense" else b
            ref = plain(attention, p, h, d, i, lim, n, b)
            got = problem_cost(shape, PROMPT, lim, n, attention, kv, BLOCK).eflops(i)
            assert np.allclose(np.broadcast_to(got, ref.shape), ref, rtol=1e-12, atol=0)

            fast = problem_eflops(shape, PROMPT, lim, n, attention, kv, BLOCK, intensity=i)
            assert np.allclose(np.broadcast_to(fast, ref.shape), ref, rtol=1e-12, atol=0)

            def engine_terms(a=attention, lim=lim, n=n, kv=kv) -> object:  # type: ignore[no-untyped-def]
                return problem_cost(shape, PROMPT, lim, n, a, kv, BLOCK).eflops(i)

            def engine_point(a=attention, lim=lim, n=n, kv=kv) -> object:  # type: ignore[no-untyped-def]
                return problem_eflops(shape, PROMPT, lim, n, a, kv, BLOCK, intensity=i)

            def plain_point(a=attention, lim=lim, n=n, b=b) -> object:  # type: ignore[no-untyped-def]
                return plain(a, p, h, d, i, lim, n, b)

            cases[(attention, "terms", configs)] = (engine_terms, plain_point)
            cases[(attention, "point", configs)] = (engine_point, plain_point)
            # Length-averaged: POINTS generated lengths under each limit (quantiles of an
            # exponential with mean 6000 tokens, cut at the limit).
            points = np.minimum(-6000.0 * np.log1p(-q)[None, :], limits[:, None])
            lengths = points[None, None, :, :]
            nb = n[..., None]
            kb = None if kv is None else kv[..., None]
            ref_mean = plain_mean(
                attention, p, h, d, i, lengths, weights, nb, None if kb is None else kb
            )
            got_mean = expected_problem_cost(
                shape,
                PROMPT,
                points[None, None],
                n,
                attention,
                kv,
                BLOCK,
                weights=weights,
            ).eflops(i)
            assert np.allclose(got_mean, ref_mean, rtol=1e-12, atol=0)

            fast_mean = expected_eflops(
                shape,
                PROMPT,
                points[None, None],
                n,
                attention,
                kv,
                BLOCK,
                intensity=i,
                weights=weights,
            )
            assert np.allclose(fast_mean, ref_mean, rtol=1e-12, atol=0)

            def engine_mean(a=attention, pts=points, n=n, kv=kv) -> object:  # type: ignore[no-untyped-def]
                return expected_eflops(
                    shape, PROMPT, pts[None, None], n, a, kv, BLOCK, intensity=i, weights=weights
                )

            def plain_avg(a=attention, lengths=lengths, nb=nb, kb=kb) -> object:  # type: ignore[no-untyped-def]
                return plain_mean(a, p, h, d, i, lengths, weights, nb, kb)

            cases[(attention, "mean", configs)] = (engine_mean, plain_avg)
    times: dict[tuple[str, str, int], tuple[list[float], list[float]]] = {
        key: ([], []) for key in cases
    }
    for _ in range(repeat):
        for key, (engine, reference) in cases.items():
            loops = max(1, int(2e5 // key[2]))  # small grids: several calls per sample
            times[key][0].append(timed(lambda e=engine, n=loops: [e() for _ in range(n)]) / loops)
            times[key][1].append(
                timed(lambda r=reference, n=loops: [r() for _ in range(n)]) / loops
            )
    peaks = {}
    for key, (engine, reference) in cases.items():
        if key[2] == max(k[2] for k in cases if k[0] == key[0]):
            peaks[key] = (traced_peak(engine), traced_peak(reference))
    print(
        f"engine vs one numpy expression ({model}, b200 I = {i:g}), median of {repeat} "
        "interleaved samples (fastest-slowest):"
    )
    for (attention, kind, configs), (engine_t, plain_t) in times.items():
        e, r = statistics.median(engine_t), statistics.median(plain_t)
        print(
            f"  {attention:10s} {kind:5s} {configs:>11,} configs: engine {e * 1e3:9.3f} ms "
            f"({min(engine_t) * 1e3:.3f}-{max(engine_t) * 1e3:.3f}), numpy {r * 1e3:9.3f} ms "
            f"({min(plain_t) * 1e3:.3f}-{max(plain_t) * 1e3:.3f}), ratio {e / r:4.2f}x"
        )
    for (attention, kind, configs), (engine_peak, plain_peak) in peaks.items():
        print(
            f"  peak memory, {attention} {kind} at {configs:,} configs: engine {engine_peak / 2**20:.0f} "
            f"MiB, numpy {plain_peak / 2**20:.0f} MiB (one float64 grid: {configs * 8 / 2**20:.0f} MiB)"
        )


def traced_peak(fn: Callable[[], object]) -> int:
    """Peak bytes numpy allocates during one call of `fn`, result included (tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    """Fastest wall time of `repeat` calls of `fn` (seconds)."""
    return min(timed(fn) for _ in range(repeat))


def isocost_and_roofline(repeat: int) -> None:
    catalog = load_catalog()
    cards = [entry.spec for entry in catalog.models]
    b200 = catalog.hardware.get("b200").spec
    settings = [("dense", None)] + [("block-topk", float(b)) for b in (256, 512, 1024, 2048)]
    budget = {"kinetics": 1e16, "flops": 1e16}
    iso = best_of(
        repeat, lambda: isocost_rows(cards, budget, intensity=b200.intensity, settings=settings)
    )
    rows = len(cards) * len(settings) * 2

    def roofline() -> None:
        for card in cards:
            decode_step(
                card, b200, batch=256, context=32768.0, attention="block-topk", kv_budget=1024
            )

    roof = best_of(repeat, roofline)
    print(
        f"isocost (both laws, {rows} rows, bisection): {iso * 1e3:.1f} ms ({iso / rows * 1e6:.0f} us per row)"
    )
    print(
        f"roofline decode_step ({len(cards)} models, with ridge search): {roof * 1e3:.1f} ms "
        f"({roof / len(cards) * 1e3:.2f} ms per model)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1e4,1e5,1e6,1e7", help="configurations, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--model", default="qwen3-8b", help="a plain GQA card")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"numpy {np.__version__}, {cpus} CPUs available, one process")
    compare([float(s) for s in args.sizes.split(",")], args.repeat, args.model)
    isocost_and_roofline(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
