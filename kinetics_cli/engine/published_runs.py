"""Published max-throughput serving runs, the serving model's prediction of each, and the
summary of how far the two differ (what `engine/serving_checks.toml` holds).

The runs are `benchmarks/data/serving_throughput.csv` (one fully specified setup per row, each
with its source; docs/serving.md section 7). Nothing here is fitted to them: the prediction is
`kinetics serve`'s rule under a given efficiency mode, and the summary is the ratio predicted /
published output tokens/s per slice (mode, dense or MoE, accelerator), which is also published
time / predicted time per output token.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kinetics_cli.catalog import Catalog, load_catalog
from kinetics_cli.engine.serving import EFFICIENCY_MODES, Deployment, serve
from kinetics_cli.engine.serving_checks import ALL_HARDWARE
from kinetics_cli.errors import KineticsError

# in a checkout or an sdist; a wheel does not ship the benchmarks
DEFAULT_CSV = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "serving_throughput.csv"
# The CUDA-graph batch sizes of the published runs, with padding on: the llm_options.yml of
# github.com/NVIDIA/TensorRT-LLM@00f37686 docs/source/performance/perf-overview.md (the same list
# for dense and MoE runs: cuda_graph_config enable_padding true, batch_sizes 1 ... 8192).
GRAPH_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192)
RATIO_DIGITS = 3  # the summary's ratios are written rounded to this many decimals


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


def read_points(path: Path = DEFAULT_CSV) -> list[Point]:
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
def _catalog() -> Catalog:
    """The bundled catalog, read once."""
    return load_catalog()


def predict(point: Point, mode: str) -> tuple[float | None, int | None, str]:
    """(predicted output tokens/s per replica, batch, note) under `mode`: the largest batch that
    fits at the final context, with the engine's tokens per iteration (its prefill chunk) set as
    trtllm-bench sets it, batch x (1 + ISL / OSL) up to 32,768 (cited in the CSV). None and the
    reason where the mode is not available (no [calibration] table)."""
    catalog = _catalog()
    card = catalog.models.get(point.model).spec
    profile = catalog.hardware.get(point.hardware).spec
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


@dataclass(frozen=True)
class Ratios:
    """Predicted / published output tokens/s of one slice of the runs."""

    ratios: tuple[float, ...]
    models: tuple[str, ...]
    weights: tuple[str, ...]  # the runs' weight formats
    isl: tuple[float, float]  # shortest and longest prompt of the slice's runs
    osl: tuple[float, float]

    def document(self) -> dict[str, Any]:
        """The slice as `serving_checks.toml` writes it."""
        r = np.asarray(self.ratios)
        return {
            "runs": len(r),
            "median": round(float(np.median(r)), RATIO_DIGITS),
            "low": round(float(r.min()), RATIO_DIGITS),
            "high": round(float(r.max()), RATIO_DIGITS),
            "models": list(self.models),
            "weights": list(self.weights),
            "isl": [int(v) for v in self.isl],
            "osl": [int(v) for v in self.osl],
        }


def slices(
    points: Sequence[Point], predictions: Iterable[tuple[Point, str, float]]
) -> dict[str, dict[str, dict[str, Ratios]]]:
    """{mode: {"dense" | "moe": {hardware | ALL_HARDWARE: Ratios}}} from (point, mode,
    predicted tokens/s) triples."""
    grouped: dict[tuple[str, str, str], list[tuple[Point, float]]] = {}
    for point, mode, predicted in predictions:
        family = "moe" if point.moe else "dense"
        ratio = predicted / point.published
        for hardware in (point.hardware, ALL_HARDWARE):
            grouped.setdefault((mode, family, hardware), []).append((point, ratio))
    out: dict[str, dict[str, dict[str, Ratios]]] = {}
    for (mode, family, hardware), rows in sorted(grouped.items()):
        out.setdefault(mode, {}).setdefault(family, {})[hardware] = Ratios(
            ratios=tuple(r for _, r in rows),
            models=tuple(sorted({p.model for p, _ in rows})),
            weights=tuple(sorted({p.weights for p, _ in rows})),
            isl=(min(p.isl for p, _ in rows), max(p.isl for p, _ in rows)),
            osl=(min(p.osl for p, _ in rows), max(p.osl for p, _ in rows)),
        )
    return out


def predict_all(points: Sequence[Point]) -> list[tuple[Point, str, float]]:
    """Every point under every efficiency mode its profile provides."""
    out = []
    for point in points:
        for mode in EFFICIENCY_MODES:
            value, _, _ = predict(point, mode)
            if value is not None:
                out.append((point, mode, value))
    return out


def checks_document(points: Sequence[Point]) -> dict[str, Any]:
    """What `engine/serving_checks.toml` holds for these runs."""
    return {
        mode: {
            family: {hardware: ratios.document() for hardware, ratios in by_hw.items()}
            for family, by_hw in by_family.items()
        }
        for mode, by_family in slices(points, predict_all(points)).items()
    }
