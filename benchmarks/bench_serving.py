"""The serving model against published max-throughput results, per efficiency mode.

    python benchmarks/bench_serving.py [--csv benchmarks/data/serving_throughput.csv] [--quiet]
                                       [--attention-tp]
    python benchmarks/bench_serving.py --write-checks   # rewrite engine/serving_checks.toml

For every row of the CSV (a fully specified setup with its source), predicts the offline
max-throughput output tokens/s of one replica with `kinetics serve`'s rule (the largest batch
that fits at the final context) and prints predicted / published per point, then the median and
worst absolute error per efficiency mode, dense and MoE apart. Modes a profile cannot provide
(no [calibration] table) are reported as such. Prints the time taken; asserts nothing.
--attention-tp runs every row with attention tensor-parallel instead of the CSV's layout: a
sensitivity figure for a layout the sources rule out (docs/serving.md section 7), not a fit.
--write-checks writes the per-slice ratios that `plan` and `serve` print beside their deployable
figures (kinetics_cli/engine/serving_checks.toml; a test holds it equal to this recomputation).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.published_runs import (
    DEFAULT_CSV,
    checks_document,
    predict,
    read_points,
)
from kinetics_cli.engine.serving import (
    EFFICIENCY_MODES,
    Deployment,
    decode_step_seconds,
    request_costs,
)
from kinetics_cli.engine.serving_checks import CHECKS_FILE


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
    parser.add_argument(
        "--write-checks",
        action="store_true",
        help=f"write {CHECKS_FILE.name} from the CSV's runs (the layouts as published)",
    )
    args = parser.parse_args()
    if args.write_checks:
        write_checks(args.csv)
        return

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


CHECKS_HEADER = """\
How far the serving model's predictions were from published max-throughput runs: per efficiency
mode, dense or MoE model, and accelerator ("all": every accelerator with runs), the ratio
predicted / published output tokens/s (above 1: the prediction was too fast; published time per
token that many times longer), as median, lowest and highest over the slice's runs.
Written by `python benchmarks/bench_serving.py --write-checks` from
benchmarks/data/serving_throughput.csv (each run's source in its row; docs/serving.md section 7).
Nothing is fitted to these runs. tests/test_engine_published_runs.py recomputes this file."""


def write_checks(path: Path) -> None:
    """Write engine/serving_checks.toml from the runs in `path` (atomic: a temporary file, then
    renamed)."""
    from kinetics_cli.fsutil import write_atomic
    from kinetics_cli.tomlio import dumps_toml

    text = dumps_toml(checks_document(read_points(path)), header=CHECKS_HEADER)
    write_atomic(CHECKS_FILE, text, force=True)
    print(f"wrote {CHECKS_FILE}")


def grid_speed() -> None:
    """Time the vectorised calls on whole grids (best of 3)."""
    catalog = load_catalog()
    card = catalog.models.get("llama-3.1-70b").spec
    profile = catalog.hardware.get("h100-sxm").spec
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
