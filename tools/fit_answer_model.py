"""Fit the majority-vote answer model (kinetics_cli/accuracy/answer_model.toml) and print its
leave-one-out error on the published (pass@1, cons@64) pairs.

Numpy only. Run from the repository root:

    python tools/fit_answer_model.py            # prints the report and rewrites the TOML file
    python tools/fit_answer_model.py --check    # prints the report only

Model (kinetics_cli/accuracy/selection.py, AnswerModel): per-problem solve rate p ~ Beta with the
published pass@1 as mean and the concentration the bundled AIME24 prior gives the model (the
Llama distills, which have no prior, borrow the Qwen distill of nearest size: column size_twin);
a wrong sample gives the problem's dominant wrong value with probability q, else a value no other
sample shares. cons@64 = E_p[majority@64]. q is the one parameter, fitted by least squares on a
grid of 1,001 values; leave-one-out refits it without each pair and predicts that pair.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kinetics_cli.accuracy.priors import load_profile  # noqa: E402
from kinetics_cli.accuracy.selection import AnswerModel, beta_cons_at_k  # noqa: E402

DATA = ROOT / "tools" / "data" / "cons_published.csv"
OUT = ROOT / "kinetics_cli" / "accuracy" / "answer_model.toml"
GPASSK = ROOT / "tools" / "data" / "gpassk_betabinomial_passk_estimates.csv"
GRID = np.linspace(0.0, 1.0, 1001)


def predictions(pairs: list[dict[str, str]], conc: dict[str, float]) -> np.ndarray:
    """cons@64 predicted for every pair (rows) at every q of GRID (columns)."""
    out = np.empty((len(pairs), GRID.size))
    for i, row in enumerate(pairs):
        k = conc[row["size_twin"]]
        for j, q in enumerate(GRID):
            out[i, j] = beta_cons_at_k(float(row["pass1"]), k, AnswerModel(float(q)), 64)
    return out


def fit(pred: np.ndarray, target: np.ndarray, keep: np.ndarray) -> int:
    sse = ((pred[keep] - target[keep, None]) ** 2).sum(axis=0)
    return int(np.argmin(sse))


def report(pairs: list[dict[str, str]], conc: dict[str, float], label: str) -> tuple[float, float]:
    target = np.array([float(r["cons64"]) for r in pairs])
    pred = predictions(pairs, conc)
    best = fit(pred, target, np.ones(len(pairs), dtype=bool))
    print(f"\n{label}: q = {GRID[best]:.3f} on all {len(pairs)} pairs")
    print(
        f"{'model':34s} {'pass@1':>7s} {'cons@64':>8s} {'a+b':>6s} {'fit':>7s} {'LOO q':>6s} {'LOO':>7s} {'error':>7s}"
    )
    errors = []
    for i, row in enumerate(pairs):
        keep = np.arange(len(pairs)) != i
        j = fit(pred, target, keep)
        errors.append(pred[i, j] - target[i])
        print(
            f"{row['model']:34s} {float(row['pass1']):7.3f} {target[i]:8.3f} "
            f"{conc[row['size_twin']]:6.3f} {pred[i, best]:7.3f} {GRID[j]:6.3f} {pred[i, j]:7.3f} "
            f"{errors[-1]:+7.3f}"
        )
    err = np.array(errors)
    rmse = float(np.sqrt(np.mean(err**2)))
    print(f"leave-one-out: RMSE {rmse:.3f}, largest |error| {np.abs(err).max():.3f}")
    return float(GRID[best]), rmse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print only; do not write")
    args = parser.parse_args()
    pairs = list(csv.DictReader(DATA.open()))
    profile = load_profile("aime24")
    conc = {name: m.concentration for name, m in profile.models.items()}
    q, rmse = report(pairs, conc, "concentration of the bundled aime24 priors")
    # Sensitivity: the GPassK Beta fits (AIME2024-45) for the Qwen distills, their mean elsewhere.
    gp = {}
    for row in csv.DictReader(GPASSK.open()):
        if row["benchmark"] == "AIME2024-45" and "Distill Qwen" in row["model"]:
            size = row["model"].split("-")[-1].lower()
            gp[f"deepseek-r1-distill-qwen-{size}"] = float(row["beta_a"]) + float(row["beta_b"])
    mean_gp = float(np.mean(list(gp.values())))
    conc_gp = {r["size_twin"]: gp.get(r["size_twin"], mean_gp) for r in pairs}
    report(pairs, conc_gp, "sensitivity: GPassK Beta concentration (AIME2024-45)")
    if args.check:
        return
    text = (
        "# Majority-vote answer model: written by tools/fit_answer_model.py (do not edit by hand).\n"
        "# A finished wrong sample gives the problem's dominant wrong value with probability\n"
        "# dominant_share, else a value no other sample shares. A prior, fitted to published\n"
        "# (pass@1, cons@64) pairs; see docs/planning.md.\n"
        f"dominant_share = {q:.3f}\n"
        f"loo_rmse = {rmse:.4f}  # leave-one-out RMSE of cons@64 over the pairs\n"
        f"pairs = {len(pairs)}\n"
        'sources = ["github.com/deepseek-ai/DeepSeek-R1@0cf7856 README.md lines 141-152 '
        '(AIME 2024 pass@1 and cons@64 of the six R1-Distill models; tools/data/cons_published.csv)"]\n'
    )
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(OUT)
    print(f"\nwrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
