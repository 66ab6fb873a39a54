"""The serving model against published max-throughput results, per efficiency mode.

    python benchmarks/bench_serving.py [--csv benchmarks/data/serving_throughput.csv] [--quiet]
                                       [--attention-tp]

For every row of the CSV (a fully specified setup with its source), predicts the offline
max-throughput output tokens/s of one replica with `kinetics serve`'s rule (the largest batch
that fits at the final context) and prints predicted / published per point, then the median and
worst absolute error per efficiency mode, dense and MoE apart. Modes a profile cannot provide
(no [calibration] table) are reported as such. Prints the time taken; asserts nothing.
--attention-tp runs every row with attention tensor-parallel instead of the CSV's layout: a
sensitivity figure for a layout the sources rule out (docs/serving.md section 7), not a fit.
"""

from __future__ import annotations

import argparse
import csv
import functools
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kinetics_cli.catalog import Catalog, load_catalog
from kinetics_cli.engine.serving import (
    EFFICIENCY_MODES,
    Deployment,
    decode_step_seconds,
    request_costs,
    serve,
)
from kinetics_cli.errors import KineticsError

DEFAULT_CSV = Path(__file__).parent / "data" / "serving_throughput.csv"
# The CUDA-graph batch sizes of the published runs, with padding on: the llm_options.yml of
# github.com/NVIDIA/TensorRT-LLM@00f37686 docs/source/performance/perf-overview.md (the same list
# for dense and MoE runs: cuda_graph_config enable_padding true, batch_sizes 1 ... 8192).
GRAPH_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class Point:
    """One published measurement and its setup."""

    model: str
    hardware: str
    tp: int
    ep: int
    attention_dp: bool  # the published run's layout (the CSV's note gives the evidence)
    weights: str
    kv: str
    isl: float
    osl: float
    published: float
    moe: bool
    kv_cache_fraction: float | None
    max_batch: int | None
    source: str


def read_points(path: Path) -> list[Point]:
    """Rows of the CSV (lines starting with '#' are comments)."""
    with path.open() as f:
        lines = [line for line in f if not line.startswith("#")]
    points = []
    for row in csv.DictReader(lines):
        fraction = row.get("kv_cache_fraction") or ""
        points.append(
            Point(
                model=row["model"],
                hardware=row["hardware"],
                tp=int(row["tp"]),
                ep=int(row["ep"]),
                attention_dp=row["attention_dp"] == "yes",
                weights=row["weights"],
                kv=row["kv"],
                isl=float(row["isl"]),
                osl=float(row["osl"]),
                published=float(row["output_tokens_per_s"]),
                moe=row["moe"] == "yes",
                kv_cache_fraction=float(fraction) if fraction else None,
                max_batch=int(row["max_batch"]) if row.get("max_batch") else None,
                source=row["source"],
            )
        )
    return points


@functools.cache
def catalog() -> Catalog:
    """The bundled catalog, read once."""
    return load_catalog()


def predict(point: Point, mode: str) -> tuple[float | None, int | None, str]:
    """(predicted output tokens/s per replica, batch, note) under `mode`."""
    catalog_ = catalog()
    card = catalog_.models.get(point.model).spec
    profile = catalog_.hardware.get(point.hardware).spec
    deployment = Deployment(
        tp=point.tp,
        ep=point.ep,
        attention_dp=point.attention_dp,
        weights=point.weights,
        kv=point.kv,
        kv_cache_fraction=point.kv_cache_fraction,
        max_batch=point.max_batch,
        cuda_graph_batch_sizes=GRAPH_BATCH_SIZES,
    )
    try:
        result = serve(
            card, profile, deployment, prompt_len=point.isl, gen_len=point.osl, efficiency=mode
        )
        # the engine's tokens per iteration (its prefill chunk): batch x (1 + ISL / OSL), at most
        # 32,768 (trtllm-bench's heuristic, cited in the CSV)
        chunk = int(min(result.batch * (1 + point.isl / point.osl), 32768))
        result = serve(
            card,
            profile,
            replace(deployment, prefill_chunk_tokens=max(chunk, 1)),
            prompt_len=point.isl,
            gen_len=point.osl,
            efficiency=mode,
        )
    except KineticsError as exc:
        return None, None, str(exc)
    return float(result.costs.output_tokens_per_s), result.batch, ""


def summary(errors: list[float]) -> str:
    """'median x%, worst y% (n points)' of signed relative errors."""
    if not errors:
        return "no points"
    abs_err = np.abs(np.asarray(errors))
    worst = errors[int(np.argmax(abs_err))]
    return (
        f"median |error| {100 * float(np.median(abs_err)):.1f}%, worst {100 * worst:+.1f}%, "
        f"mean ratio {float(np.mean(np.asarray(errors) + 1)):.2f} ({len(errors)} points)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--quiet", action="store_true", help="summaries only")
    parser.add_argument(
        "--attention-tp",
        action="store_true",
        help="attention tensor-parallel on every row, not the CSV's layout (sensitivity)",
    )
    args = parser.parse_args()

    start = time.perf_counter()
    points = read_points(args.csv)
    if args.attention_tp:
        points = [replace(p, attention_dp=False) for p in points]
    errors: dict[tuple[str, bool], list[float]] = {}
    by_hardware: dict[tuple[str, bool, str], list[float]] = {}
    by_model: dict[tuple[str, bool, str], list[float]] = {}
    unavailable: dict[str, set[str]] = {}
    if not args.quiet:
        print(
            f"{'model':18} {'hardware':9} {'tp':>2} {'ep':>2} {'w':5} {'isl/osl':>11} "
            f"{'published':>9} " + " ".join(f"{m:>17}" for m in EFFICIENCY_MODES)
        )
    for p in points:
        cells = []
        for mode in EFFICIENCY_MODES:
            value, batch, note = predict(p, mode)
            if value is None:
                unavailable.setdefault(mode, set()).add(note.split(";")[0])
                cells.append(f"{'n/a':>19}")
                continue
            ratio = value / p.published
            errors.setdefault((mode, p.moe), []).append(ratio - 1)
            by_hardware.setdefault((mode, p.moe, p.hardware), []).append(ratio - 1)
            by_model.setdefault((mode, p.moe, p.model), []).append(ratio - 1)
            cells.append(f"{value:8.0f} {ratio:5.2f}x B{batch}".rjust(19))
        if not args.quiet:
            print(
                f"{p.model:18} {p.hardware:9} {p.tp:>2} {p.ep:>2} {p.weights:5} "
                f"{p.isl:>5.0f}/{p.osl:<5.0f} {p.published:9.0f} " + " ".join(cells)
            )
    elapsed = time.perf_counter() - start
    print()
    print(
        f"{len(points)} published points from {args.csv.name}; predicted / published, "
        "signed error = predicted / published - 1"
    )
    for mode in EFFICIENCY_MODES:
        for moe in (False, True):
            label = "MoE  " if moe else "dense"
            print(f"{mode:10} {label}: {summary(errors.get((mode, moe), []))}")
        for (m, moe, hardware), errs in sorted(by_hardware.items()):
            if m == mode:
                label = "MoE  " if moe else "dense"
                print(f"{'':10}   {label} on {hardware}: {summary(errs)}")
        for (m, _moe, model), errs in sorted(by_model.items()):
            if m == mode:
                print(f"{'':10}   {model}: {summary(errs)}")
        for reason in sorted(unavailable.get(mode, ())):
            print(f"{mode:10} not available: {reason}")
    print(
        f"time: {elapsed:.2f} s for {len(points)} points x {len(EFFICIENCY_MODES)} modes "
        f"({1e3 * elapsed / max(1, len(points) * len(EFFICIENCY_MODES)):.1f} ms per prediction)"
    )
    grid_speed()


def grid_speed() -> None:
    """Time the vectorised calls on whole grids (best of 3)."""
    card = catalog().models.get("llama-3.1-70b").spec
    profile = catalog().hardware.get("h100-sxm").spec
    deployment = Deployment(tp=4, weights="fp8", kv="fp8")
    batch = np.arange(1, 1025, dtype=float)[:, None]
    context = np.geomspace(128, 131072, 100)[None, :]

    def best(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    step = best(lambda: decode_step_seconds(card, profile, deployment, batch, context))
    req = best(
        lambda: request_costs(
            card,
            profile,
            deployment,
            prompt_len=1000,
            gen_lens=[500, 2000, 8000],
            batch=batch[:, 0],
        )
    )
    print(
        f"decode_step_seconds on a 1,024 batch x 100 context grid: {1e3 * step:.1f} ms "
        f"({batch.size * context.size / step / 1e6:.1f} M steps/s); request_costs over 1,024 "
        f"batches x a 3-length distribution: {1e3 * req:.1f} ms"
    )


if __name__ == "__main__":
    main()
