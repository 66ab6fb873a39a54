"""Fit the bundled accuracy priors (kinetics_cli/accuracy/priors/*.toml) from tools/data/.

Offline, numpy only. Run from the repository root:

    python tools/fit_priors.py            # prints the fit report and rewrites the TOML files
    python tools/fit_priors.py --check    # prints the report only

Steps (docs/accuracy-priors.md explains each; the fitting code is tools/prior_fit.py):
  1. dense Qwen3 0.6B-32B on AIME24: per size, the zero-inflated Beta-binomial of the per-problem
     counts and the censored lognormal lengths of the Kinetics paper's complete per-problem data;
  2. other models: those shape parameters interpolated in ln(parameters) (clamped at the ends);
  3. every model: Beta mean calibrated so that pass@1 at the published limit is the published value;
  4. AIME25 and LiveCodeBench: AIME24's shape, AIME25's never-solved share raised by the Qwen3-8B
     pass@64 ablation gap; R1-Distill takes the Qwen3 shape of its size (GPassK only as a
     cross-check);
  5. sparse attention: the success, solvability and length effects of every sparse run;
  6. interval half-widths: 95th percentiles of the leave-one-size-out errors
     (tools/validate_priors.py).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from prior_fit import (  # noqa: E402
    PARAMS as QWEN_PARAMS,
)
from prior_fit import (  # noqa: E402
    bisect,
    fit_shared,
    fit_size,
    interpolate,
    load_runs,
    make_prior,
    make_shared_prior,
    measured_coverage,
    pass1_at,
    predicted_coverage,
    shared_effect,
)
from validate_priors import SIZES, leave_one_out, spreads  # noqa: E402

from kinetics_cli.accuracy.priors import (  # noqa: E402
    ModelPrior,
    SparseEffect,
    model_accuracy,
    model_lengths,
)

DATA = ROOT / "tools" / "data"
OUT = ROOT / "kinetics_cli" / "accuracy" / "priors"
PARAMS = {  # total parameters, as in model_cards/*.toml and the Hugging Face model cards they cite
    **QWEN_PARAMS,
    "qwen3-30b-a3b": 30.5e9,
    "qwen3-235b-a22b": 235e9,
    "deepseek-r1-distill-qwen-1.5b": 1.78e9,
    "deepseek-r1-distill-qwen-7b": 7.6e9,
    "deepseek-r1-distill-qwen-14b": 14.8e9,
    "deepseek-r1-distill-qwen-32b": 32.8e9,
}
KINETICS = (
    "github.com/Infini-AI-Lab/Kinetics@e7765597 cost_model/aime24/*/*_tradeoff.csv "
    "(per-problem correct counts and sample lengths, complete for Qwen3 0.6B-32B; "
    "tools/data/kinetics_aime24_per_problem.csv)"
)


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def mean_len(prior: ModelPrior, limit: float, r: float = 1.0, shift: float = 0.0) -> float:
    lengths, weights = model_lengths(prior, np.array([limit]), r, shift)
    return float(np.sum(lengths * weights))


FMT = "{:.4g}"


def prior_toml(prior: ModelPrior, note: str) -> str:
    lp = prior.length
    lines = [f'[models."{prior.model}"]']
    if note:
        lines.append(f"# {note}")
    lines += [
        f"params = {prior.params:.4g}",
        f"published_pass1 = {prior.published_pass1}",
        f"published_limit = {prior.published_limit:.0f}",
        f"mean = {FMT.format(prior.mean)}  # Beta mean of the solve rate of the solvable problems",
        f"concentration = {FMT.format(prior.concentration)}  # a + b",
        f"unsolved = {FMT.format(prior.unsolved)}  # share of problems never solved",
        f"log_len_correct = {FMT.format(lp.log_correct)}  # exp = {np.exp(lp.log_correct):.0f} tokens",
        f"difficulty_slope = {FMT.format(lp.difficulty_slope)}",
        f"wrong_shift = {FMT.format(lp.wrong_shift)}  # wrong answers x{np.exp(lp.wrong_shift):.2f} longer",
        f"problem_sd = {FMT.format(lp.problem_sd)}",
        f"trial_sd = {FMT.format(lp.trial_sd)}",
        *(
            [
                "# solve-rate atoms: 3 per problem (equal-mass bins of its posterior difficulty),",
                "# weights, and each atom's factor on the sparse logit shift (its sensitivity)",
                "solve_rates = [" + ", ".join(f"{x:.5g}" for x in prior.rates) + "]",
                "solve_weights = [" + ", ".join(f"{x:.10g}" for x in prior.rate_weights) + "]",
                "solve_shift_scales = ["
                + ", ".join(f"{x:.4g}" for x in prior.rate_shift_scales)
                + "]",
                *(
                    [
                        "# each atom's factor on the runaway hazard",
                        "solve_runaway_scales = ["
                        + ", ".join(f"{x:.4g}" for x in prior.rate_runaway_scales)
                        + "]",
                    ]
                    if prior.rate_runaway_scales
                    else []
                ),
            ]
            if prior.rates
            else []
        ),
        f'basis = "{prior.basis}"',
        "sources = [",
        *[f'    "{s}",' for s in prior.sources],
        "]",
    ]
    return "\n".join(lines)


def write_profile(
    task, title, prompt, prompt_note, sources, sparse, budgets, priors, notes, uncertainty
):
    head = [
        f"# Accuracy priors for {task}: written by tools/fit_priors.py from tools/data/ (do not edit by hand).",
        "# Model and fitting: docs/accuracy-priors.md. Each model's mean is calibrated so that pass@1 at",
        "# its published generation limit reproduces the published pass@1.",
        f'task = "{task}"',
        f'title = "{title}"',
        f"prompt_tokens = {prompt}  # {prompt_note}",
        "sparse_budgets = [" + ", ".join(str(b) for b in budgets) + "]",
        "sources = [",
        *[f'    "{s}",' for s in sources],
        "]",
        "",
        "# Interval half-widths (accuracy, 0-1) at 95% confidence: the 95th percentile of the absolute",
        "# leave-one-size-out errors of tools/validate_priors.py, by kind (sparse_small: budgets < 256)",
        "# and trial count N: [N = 1, N = 2-8, N >= 9].",
        "[uncertainty]",
        "confidence = 0.95",
        *[f"{k} = [{', '.join(f'{x:.4f}' for x in v)}]" for k, v in uncertainty.items()],
        "",
        "# Sparse attention at KV budget B (shared by all models; fitted jointly with the per-problem",
        "# difficulties on every run of the data): a problem's solve rate p becomes",
        "# sigmoid(logit p - s (shift_budget / B)^shift_power), s the problem's sensitivity (the",
        "# atoms' solve_shift_scales; 1 for priors without atoms) (success_budget = keep_budget = 0: the",
        "# older multiplicative forms r and q, kept by the code, are off);",
        "# lengths x g, g = 1 + (length_budget s / B)^length_power, s = (params / reference_params)^-length_size_exponent;",
        *(
            [
                "# a share 1 - exp(-H s_h) of a problem's trials runs away to the generation limit",
                "# (wrong), H = (runaway_budget (P / reference_params)^runaway_size_exponent / B)",
                "# ^runaway_power (minus the same at B = runaway_end_budget where given, floored at 0: no trial runs",
                "# away from it up), s_h the problem's runaway sensitivity",
                "# (solve_runaway_scales); P clamped to the fitted sizes;",
            ]
            if sparse.runaway_budget > 0
            else []
        ),
        "# block top-k with 16-token pages at B acts as top-k at B / block_penalty (pages of S tokens:",
        "# block_penalty (S / 16)^page_exponent). size_exponent = 0: no size dependence beyond difficulty.",
        "[sparse]",
        f"shift_budget = {FMT.format(sparse.shift_budget)}",
        f"shift_power = {FMT.format(sparse.shift_power)}",
        f"success_budget = {FMT.format(sparse.success_budget)}",
        f"success_power = {FMT.format(sparse.success_power)}",
        f"keep_budget = {FMT.format(sparse.keep_budget)}",
        f"keep_power = {FMT.format(sparse.keep_power)}",
        f"keep_slope = {FMT.format(sparse.keep_slope)}",
        f"length_budget = {FMT.format(sparse.length_budget)}",
        f"length_power = {FMT.format(sparse.length_power)}",
        f"size_exponent = {FMT.format(sparse.size_exponent)}",
        f"length_size_exponent = {FMT.format(sparse.length_size_exponent)}",
        f"reference_params = {sparse.reference_params:.4g}",
        f"block_penalty = {FMT.format(sparse.block_penalty)}",
        f"page_exponent = {FMT.format(sparse.page_exponent)}",
        *(
            [
                f"runaway_budget = {FMT.format(sparse.runaway_budget)}",
                f"runaway_power = {FMT.format(sparse.runaway_power)}",
                f"runaway_size_exponent = {FMT.format(sparse.runaway_size_exponent)}",
                *(
                    [f"runaway_end_budget = {FMT.format(sparse.runaway_end_budget)}"]
                    if np.isfinite(sparse.runaway_end_budget)
                    else []
                ),
                f"runaway_min_params = {sparse.runaway_min_params:.4g}  # fitted sizes",
                f"runaway_max_params = {sparse.runaway_max_params:.4g}",
            ]
            if sparse.runaway_budget > 0
            else []
        ),
        "sources = [",
        f'    "{KINETICS}",',
        '    "cross-checked against github.com/microsoft/SeerAttention@aba03e3 eval/reasoning_tasks/README.md '
        '(tools/data/seerattention_r_reasoning_pass1.csv)",',
        "]",
        "",
    ]
    body = [prior_toml(p, notes.get(p.model, "")) + "\n" for p in priors]
    (OUT / f"{task}.toml").write_text("\n".join(head) + "\n" + "\n".join(body))


# ------------------------------------------------------------------------------ main

QWEN = [
    "qwen3-0.6b",
    "qwen3-1.7b",
    "qwen3-4b",
    "qwen3-8b",
    "qwen3-14b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
]
R1 = [
    "deepseek-r1-distill-qwen-1.5b",
    "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b",
    "deepseek-r1-distill-qwen-32b",
]
ABLATION = "Qwen3 Technical Report arXiv 2505.09388 Table 21 (Qwen3-8B pass@1 / pass@64 ablation)"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="print the report, write nothing")
    ap.add_argument("--iterations", type=int, default=300, help="simplex iterations, sparse fit")
    args = ap.parse_args()

    runs = load_runs()
    print("== 1. dense Qwen3 AIME24: counts (zero-inflated Beta-binomial) and lengths, per size")
    fits = {m: fit_size(runs, m) for m in SIZES}
    for m, f in fits.items():
        dense = next(r for r in runs if r.model == m and r.attention == "dense")
        print(
            f"   {m:11s} n={int(dense.n[0]):2d} pass@1={dense.c.sum() / dense.n.sum():.3f} "
            f"never={np.mean(dense.c == 0):.3f} " + " ".join(f"{k}={v:.3f}" for k, v in f.items())
        )

    print("== 5. shared per-problem difficulty and sparse logit shift (every run, all sizes)")
    shared, stretch = fit_shared(runs, fits, iterations=args.iterations)
    sparse: SparseEffect = shared_effect(shared, stretch)
    print(
        "   abilities "
        + ", ".join(f"{m} {a:+.2f}" for m, a in shared.abilities.items())
        + f"; difficulty sd {shared.spread:.2f}; sensitivity sd {shared.sensitivity_sd:.2f}"
        + f"; runaway sd {shared.runaway_sd:.2f}; sensitivity-difficulty slope "
        + f"{shared.sensitivity_slope:+.2f}"
        + f"; log-likelihood {shared.log_likelihood:.1f} ({shared.parameters} parameters)"
    )
    print("   " + ", ".join(f"{k}={v:.4g}" for k, v in sparse.__dict__.items()))

    print("== 6. leave one size out (tools/validate_priors.py): interval half-widths")
    uncertainty = spreads(leave_one_out(runs, SIZES, SIZES, args.iterations))
    print(
        "   "
        + "; ".join(
            f"{k} +-" + "/".join(f"{100 * x:.1f}" for x in v) + " points (N 1/2-8/9+)"
            for k, v in uncertainty.items()
        )
    )

    pub = {(r["model"], r["task"]): r for r in read_csv("published_pass1.csv")}
    passk = {
        (r["model"], r["task"], r["kind"]): float(r["value"])
        for r in read_csv("passk_published.csv")
    }
    gpass = {
        (r["model"], r["benchmark"]): r for r in read_csv("gpassk_betabinomial_passk_estimates.csv")
    }

    # AIME25: the Qwen3-8B ablation's pass@64 is 6.6 points lower than on AIME24 (93.3 -> 86.7).
    # For these concentrated priors pass@64 ~ 1 - never-solved share, so AIME25 adds that gap to
    # the never-solved share (same concentration and lengths as AIME24).
    never_gap = (
        passk[("qwen3-8b-ablation-onpolicy", "aime24", "pass@64")]
        - passk[("qwen3-8b-ablation-onpolicy", "aime25", "pass@64")]
    )
    print(
        f"== 4. Qwen3-8B ablation pass@64 gap AIME24 - AIME25 = {never_gap:.3f} (never-solved share)"
    )

    rkv_len = {
        r["model"].lower(): float(r["mean_output_tokens"])
        for r in read_csv("rkv_harvest_accuracy_runs.csv")
        if r["dataset"] == "aime24" and r["mode"] == "fullkv"
    }
    profiles: dict[str, list[ModelPrior]] = {"aime24": [], "aime25": [], "livecodebench": []}
    report = []
    for task in profiles:
        for name in QWEN + R1:
            row = pub[(name, task)]
            target, limit = float(row["pass1"]), float(row["limit"])
            theta = interpolate(fits, PARAMS[name])
            src = [row["source"], KINETICS]
            if name in fits:
                basis = "counts and lengths: maximum likelihood on its 30 problems of the Kinetics per-problem data"
            elif name in QWEN:
                basis = (
                    "counts and lengths interpolated in log(params) between the Qwen3 0.6B-32B fits"
                )
                if PARAMS[name] > QWEN_PARAMS["qwen3-32b"]:
                    basis += " (clamped at the 32B fit: no data above 32B)"
            else:
                bench = {
                    "aime24": "AIME2024-45",
                    "aime25": "AIME2025",
                    "livecodebench": "AIME2024-45",
                }[task]
                key = name.replace("deepseek-r1-distill-qwen-", "DeepSeek Distill Qwen-").replace(
                    "b", "B"
                )
                g = gpass[(key, bench)]
                gpass_k = float(g["beta_a"]) + float(g["beta_b"])
                basis = (
                    "shape: Qwen3 fit interpolated at this size (the GPassK Beta fit on "
                    f"{bench} has a + b = {gpass_k:.2f}, not used: it fixes only the consistently "
                    "solved side)"
                )
                src.append(
                    "open-compass/GPassK@20a02a1 docs/results.json, Beta fit in "
                    "tools/data/gpassk_betabinomial_passk_estimates.csv (cross-check)"
                )
            if task == "aime25":
                theta["z"] = min(theta["z"] + never_gap, 0.95)
                basis += "; AIME25: never-solved share + the Qwen3-8B pass@64 ablation gap (AIME24 to AIME25); concentration and lengths as AIME24"
                src.append(ABLATION)
            if task == "livecodebench":
                basis += "; no LiveCodeBench pass@k or lengths: AIME24 shape"
            if task == "aime24":
                basis += (
                    "; solve rates: the 30 problems' shared difficulties (posterior of the joint "
                    "fit of all five sizes) at the ability that reproduces the published pass@1"
                )

            def build(
                th: dict[str, float],
                name: str = name,
                task: str = task,
                target: float = target,
                limit: float = limit,
                basis: str = basis,
                src: list[str] = src,
            ) -> ModelPrior:
                if task == "aime24":
                    return make_shared_prior(
                        name, PARAMS[name], th, shared, target, limit, basis, src
                    )
                return make_prior(name, PARAMS[name], th, target, limit, basis, src)

            prior = build(theta)
            if name in R1 and name in rkv_len and task != "livecodebench":
                # shift all lengths so that the mean response at 32K matches R-KV's FullKV run
                want = rkv_len[name]

                def gap(s, want=want, theta=theta, build=build):
                    return mean_len(build({**theta, "mu": theta["mu"] + s}), 32768.0) - want

                shift = bisect(gap, -1.5, 1.5, 1e-4)
                prior = build({**theta, "mu": theta["mu"] + shift})
                prior = replace(
                    prior,
                    basis=prior.basis
                    + f"; lengths shifted x{np.exp(shift):.2f} to R-KV's mean response",
                    sources=(
                        *prior.sources,
                        "github.com/Zefan-Cai/R-KV@8e1c06c harvest.json (tools/data/rkv_harvest_accuracy_runs.csv)",
                    ),
                )
            profiles[task].append(prior)
            p64 = float(model_accuracy(prior, np.array([64.0]), np.array([limit]))[0, 0])
            report.append(
                (
                    name,
                    task,
                    target,
                    pass1_at(prior, limit),
                    prior.mean,
                    prior.concentration,
                    prior.unsolved,
                    p64,
                    mean_len(prior, limit),
                )
            )

    print("== 3. calibrated priors")
    print(f"{'model':32s} {'task':13s} target  repro   mean   conc  never  pass@64 meanlen")
    for r in report:
        print(
            f"{r[0]:32s} {r[1]:13s} {r[2]:.3f}  {r[3]:.3f}  {r[4]:.3f}  {r[5]:.3f}  {r[6]:.3f}  {r[7]:.3f}  {r[8]:7.0f}"
        )
    for name in R1:
        pr = next(p for p in profiles["aime24"] if p.model == name)
        p64 = float(model_accuracy(pr, np.array([64.0]), np.array([32768.0]))[0, 0])
        cons = passk[(name, "aime24", "cons@64")]
        print(f"   {name}: pass@64 {p64:.3f} >= cons@64 {cons:.3f}: {p64 >= cons}")

    print("== in-sample check: pass@N of the bundled aime24 priors against the data (points)")
    for name in SIZES:
        pr = next(p for p in profiles["aime24"] if p.model == name)
        for run in (r for r in runs if r.model == name):
            trials = np.arange(1, min(32, int(run.n.min())) + 1, dtype=float)
            err = 100 * (
                predicted_coverage(pr, sparse, run, trials) - measured_coverage(run, trials)
            )
            print(f"   {run.label:34s} N=1 {err[0]:+6.1f}  N=max {err[-1]:+6.1f}")

    print("== length curves vs SparseKineticsOffload (accuracy at L / accuracy at 32K, one sample)")
    sko: dict[str, dict[float, float]] = defaultdict(dict)
    for r in read_csv("sko_qwen3_aime24_acc_vs_genlen_budget.csv"):
        sko[r["model"].lower()][float(r["gen_len_budget_tokens"])] = float(r["accuracy"])
    for name, curve in sko.items():
        pr = next(p for p in profiles["aime24"] if p.model == name)
        ls = np.array(sorted(curve))
        model_curve = model_accuracy(pr, np.array([1.0]), ls)[0]
        obs = np.array([curve[x] for x in ls])
        print(
            f"   {name:11s} L="
            + " ".join(
                f"{x / 1024:.0f}K:{o / obs[-1]:.2f}/{m / model_curve[-1]:.2f}"
                for x, o, m in zip(ls[::2], obs[::2], model_curve[::2], strict=True)
            )
        )
    print(
        "   SeerAttention-R (learned block-sparse) vs the block-topk prior, pass@1 ratio to dense:"
    )
    seer = [r for r in read_csv("seerattention_r_reasoning_pass1.csv") if r["task"] == "AIME24"]
    dense_seer = {
        r["model"]: float(r["avg_pass1_percent"])
        for r in seer
        if r["sparse_token_budget"] == "full"
    }
    for r in seer:
        if r["sparse_token_budget"] == "full" or r["model"].lower() not in PARAMS:
            continue
        name, b = r["model"].lower(), float(r["sparse_token_budget"])
        pr = next(p for p in profiles["aime24"] if p.model == name)
        rr, sh = sparse.factors("block-topk", b, pr.params)
        q = sparse.keep("block-topk", b, pr.params)
        ls = sparse.logit_shift("block-topk", b)
        hz = sparse.runaway_hazard("block-topk", b, pr.params)
        sparse_p1 = float(
            model_accuracy(
                pr, np.array([1.0]), np.array([32768.0]), rr, sh, q, sparse.keep_slope, ls, hz
            )[0, 0]
        )
        ratio = sparse_p1 / pass1_at(pr, 32768.0)
        print(
            f"   {name} @{b:.0f}: SeerAttention {float(r['avg_pass1_percent']) / dense_seer[r['model']]:.3f}, prior {ratio:.3f}"
        )

    if args.check:
        return
    budgets = [128, 256, 512, 1024, 2048, 4096, 8192]
    common = [
        KINETICS,
        "Qwen3 Technical Report arXiv 2505.09388 Tables 11-21",
        "github.com/deepseek-ai/DeepSeek-R1@00f3296 README.md",
    ]
    write_profile(
        "aime24",
        "AIME 2024, 30 problems, integer answers",
        160,
        "mean prompt tokens: Qwen3 chat template 159 (cot-loop, AIME 2024+2025), R1-Distill 164 (R-KV prefill 4931 / 30)",
        common,
        sparse,
        budgets,
        profiles["aime24"],
        {},
        uncertainty,
    )
    write_profile(
        "aime25",
        "AIME 2025, 30 problems, integer answers",
        160,
        "mean prompt tokens: as AIME 2024 (cot-loop's 159 averages both years)",
        [*common, "bethgelab/sober-reasoning@8fceffd data.json (R1-Distill-7B AIME25)"],
        sparse,
        budgets,
        profiles["aime25"],
        {},
        uncertainty,
    )
    write_profile(
        "livecodebench",
        "LiveCodeBench code generation, v5 problems 2024.10-2025.02 as in the Qwen3 report",
        600,
        "assumed: problem statement with examples plus template, no measured figure in tools/data",
        common,
        sparse,
        budgets,
        profiles["livecodebench"],
        {},
        uncertainty,
    )
    print(f"wrote {OUT}/aime24.toml, aime25.toml, livecodebench.toml")


if __name__ == "__main__":
    main()
