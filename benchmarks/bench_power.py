"""Measured board power of LLM serving against the hardware profiles' [serving_power] figures.

    python benchmarks/bench_power.py [--csv benchmarks/data/serving_power.csv]

Reads the steady-state runs of the ML.ENERGY leaderboard v2.0 (vLLM, continuous batching with
the batch held full, Zeus reading every GPU's NVML energy counter; source and columns in the
CSV's header) and turns each into average board power per GPU:

    watts per GPU = energy_per_request_j x token_throughput / mean_output_tokens / (tp x pp)

(energy per request is steady-state energy / steady-state output tokens x mean output tokens,
and token throughput steady-state output tokens / steady-state seconds, so the product over
the mean output tokens is steady-state energy / seconds, summed over the GPUs). Divided by the
datasheet TDP of the part it is the fraction each profile's `serving_power.fraction_of_tdp`
states: the median over configurations (task, model, tp, pp) of each configuration's median
over its batch sizes, so a model swept over many batch sizes counts once. Printed per GPU:
that fraction, the runs' interquartile range, the error of predicting every run of a model
with the fraction fitted to the other models (leave-one-model-out) and of predicting one task
from the other, the change from the smallest to the largest batch, and how far the TDP bound
overstates the measured energy. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CSV = Path(__file__).resolve().parent / "data" / "serving_power.csv"

# The parts measured and their datasheet TDP (W): H100 SXM5 80GB 700 W (the profile h100-sxm's
# tdp_watts), A100 SXM4 40GB 400 W (the A100 datasheet's SXM4 figure for both memory sizes;
# applied to a100-80gb-sxm).
PARTS = {"H100-80GB-HBM3": ("h100-sxm", 700.0), "A100-SXM4-40GB": ("a100-80gb-sxm", 400.0)}


@dataclass(frozen=True)
class Run:
    gpu: str
    task: str
    model: str
    tp: int
    pp: int
    max_num_seqs: int
    watts_per_gpu: float
    fraction: float  # of the part's TDP

    @property
    def configuration(self) -> tuple[str, str, int, int]:
        return (self.task, self.model, self.tp, self.pp)


def read_runs(path: Path = DEFAULT_CSV) -> list[Run]:
    """Every row of the CSV as a Run (comment lines start with '#')."""
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    runs = []
    for r in rows:
        tp, pp = int(r["tp"]), int(r["pp"])
        total = (
            float(r["energy_per_request_j"])
            * float(r["token_throughput"])
            / float(r["mean_output_tokens"])
        )
        watts = total / (tp * pp)
        runs.append(
            Run(
                gpu=r["gpu"],
                task=r["task"],
                model=r["model"],
                tp=tp,
                pp=pp,
                max_num_seqs=int(r["max_num_seqs"]),
                watts_per_gpu=watts,
                fraction=watts / PARTS[r["gpu"]][1],
            )
        )
    return runs


def fraction_of_tdp(runs: list[Run]) -> float:
    """The median over configurations of each configuration's median fraction of TDP."""
    by_config: dict[tuple[str, str, int, int], list[float]] = defaultdict(list)
    for r in runs:
        by_config[r.configuration].append(r.fraction)
    return statistics.median(statistics.median(v) for v in by_config.values())


def interquartile(runs: list[Run]) -> tuple[float, float]:
    """The runs' first and third quartiles of the fraction of TDP (inclusive method)."""
    q = statistics.quantiles([r.fraction for r in runs], n=4, method="inclusive")
    return q[0], q[2]


def held_out_errors(runs: list[Run], key: str = "model") -> list[float]:
    """|predicted - measured| / measured for every run, the fraction fitted without the run's
    `key` (model: leave one model out; task: fit on the other task)."""
    errors = []
    for value in sorted({getattr(r, key) for r in runs}):
        train = [r for r in runs if getattr(r, key) != value]
        f = fraction_of_tdp(train)
        errors += [abs(f - r.fraction) / r.fraction for r in runs if getattr(r, key) == value]
    return errors


def batch_trend(runs: list[Run]) -> list[float]:
    """Per configuration swept over 3 or more batch sizes: power at the largest / the smallest."""
    by_config: dict[tuple[str, str, int, int], list[Run]] = defaultdict(list)
    for r in runs:
        by_config[r.configuration].append(r)
    out = []
    for v in by_config.values():
        if len(v) >= 3:
            v = sorted(v, key=lambda r: r.max_num_seqs)
            out.append(v[-1].watts_per_gpu / v[0].watts_per_gpu)
    return out


def summary(runs: list[Run]) -> dict[str, dict[str, float]]:
    """Per GPU: the figures printed (and stated in the profiles)."""
    out = {}
    for gpu in PARTS:
        part = [r for r in runs if r.gpu == gpu]
        lo, hi = interquartile(part)
        lomo = held_out_errors(part, "model")
        tasks = held_out_errors(part, "task")
        trend = batch_trend(part)
        out[gpu] = {
            "runs": len(part),
            "configurations": len({r.configuration for r in part}),
            "models": len({r.model for r in part}),
            "fraction": fraction_of_tdp(part),
            "low": lo,
            "high": hi,
            "min": min(r.fraction for r in part),
            "max": max(r.fraction for r in part),
            "lomo_mean": statistics.mean(lomo),
            "lomo_median": statistics.median(lomo),
            "lomo_p90": statistics.quantiles(lomo, n=10, method="inclusive")[-1],
            "task_mean": statistics.mean(tasks),
            "trend_median": statistics.median(trend),
            "trend_min": min(trend),
            "trend_max": max(trend),
            "tdp_over_mean": statistics.mean(1.0 / r.fraction - 1.0 for r in part),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()

    from kinetics_cli.catalog import load_catalog

    catalog = load_catalog()
    for gpu, s in summary(read_runs(args.csv)).items():
        name, tdp = PARTS[gpu]
        profile = catalog.hardware.get(name).spec
        sp = profile.serving_power
        stated = "none" if sp is None else f"{sp.fraction_of_tdp:.2f}"
        print(
            f"{gpu} ({name}, TDP {tdp:g} W): {s['runs']} runs, {s['configurations']} "
            f"configurations, {s['models']} models"
        )
        print(
            f"  fraction of TDP {s['fraction']:.3f} ({s['fraction'] * tdp:.0f} W per GPU; "
            f"profile states {stated}); runs' interquartile range {s['low']:.3f}-{s['high']:.3f}, "
            f"range {s['min']:.3f}-{s['max']:.3f}"
        )
        print(
            f"  held out: leave-one-model-out |error| mean {s['lomo_mean']:.1%}, median "
            f"{s['lomo_median']:.1%}, 90th percentile {s['lomo_p90']:.1%}; one task from the "
            f"other, mean {s['task_mean']:.1%}"
        )
        print(
            f"  largest / smallest batch, per configuration: median {s['trend_median']:.2f}x "
            f"({s['trend_min']:.2f}-{s['trend_max']:.2f}x)"
        )
        print(f"  TDP bound overstates the measured energy by {s['tdp_over_mean']:.0%} on average")


if __name__ == "__main__":
    main()
