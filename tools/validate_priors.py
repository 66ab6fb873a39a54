"""Leave one model size out: fit the priors on four Qwen3 sizes, predict the fifth, for each size.

    python tools/validate_priors.py               # all five sizes, every run of the held-out size
    python tools/validate_priors.py --sizes qwen3-8b,qwen3-14b --iterations 100   # quicker
    python tools/validate_priors.py --runaway --correlated --two-class   # a runaway variant
    python tools/validate_priors.py --compare     # the prior next to the baselines and the oracle
    python tools/validate_priors.py --baseline neighbours-pass1   # one baseline alone, no fit

For a held-out size, only the other sizes' data is used: their dense fits (counts and lengths)
are interpolated in ln(parameters) to the held-out size (clamped at the ends, so 0.6B and 32B are
extrapolations), the sparse effect is fitted on their sparse runs, and the Beta mean is calibrated
to the held-out size's published pass@1 (Qwen3 report, not this data), as the bundled priors are.
Prediction: pass@N for N = 1..min(32, samples) at a 32,768-token limit (every measured sample
finishes within it), for the dense run and every top-k and block top-k run of that size; truth:
the mean over problems of the unbiased pass@N from the measured counts. Prints mean and worst
absolute error in points per held-out size and overall, and the 95th percentiles by kind that
the bundled priors carry as their interval half-widths. The non-parametric baselines (the other
sizes' measured curves interpolated) and the oracle (a predictor that knew every true solve
rate) are in tools/curve_baseline.py. Asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from curve_baseline import BASELINES, baseline_errors, oracle_errors, oracle_summary
from prior_fit import (
    PARAMS,
    ROOT,
    FitOptions,
    Run,
    fit_shared,
    fit_size,
    interpolate,
    load_runs,
    make_shared_prior,
    measured_coverage,
    predicted_coverage,
    shared_effect,
)

SIZES = ("qwen3-0.6b", "qwen3-1.7b", "qwen3-8b", "qwen3-14b", "qwen3-32b")
INTERPOLATED_SIZES = ("qwen3-1.7b", "qwen3-8b", "qwen3-14b")
PUBLISHED_LIMIT = 38912.0
SMALL_BUDGET = 256.0  # as kinetics_cli.accuracy.priors.SMALL_BUDGET


def published_pass1() -> dict[str, float]:
    with (ROOT / "tools" / "data" / "published_pass1.csv").open(newline="") as handle:
        return {
            r["model"]: float(r["pass1"]) for r in csv.DictReader(handle) if r["task"] == "aime24"
        }


def kind_of(run: Run) -> str:
    if run.attention == "dense":
        return "dense"
    assert run.budget is not None
    return "sparse" if run.budget >= SMALL_BUDGET else "sparse_small"


def leave_one_out(
    runs: list[Run],
    sizes: tuple[str, ...],
    held_out: tuple[str, ...],
    iterations: int,
    options: FitOptions = FitOptions(),
) -> list[tuple[str, str, str, np.ndarray]]:
    """(held-out size, run label, kind, errors in points over N) for every run of each held-out size."""
    fits = {m: fit_size(runs, m) for m in sizes}
    pub = published_pass1()
    out = []
    for h in held_out:
        others = {m: f for m, f in fits.items() if m != h}
        shared, stretch = fit_shared(runs, others, iterations=iterations, options=options)
        print(
            f"  fold without {h}: log-likelihood {shared.log_likelihood:.1f}, "
            f"{shared.parameters} parameters, sensitivity sd {shared.sensitivity_sd:.2f}, "
            f"shift B_s {shared.shift_budget:.1f} rho_s {shared.shift_power:.2f}, runaway "
            f"B_h {shared.runaway_budget:.1f} rho_h {shared.runaway_power:.2f} "
            f"eta_h {shared.runaway_size_exponent:+.2f} sd_h {shared.runaway_sd:.2f}"
            + f" B_e {shared.runaway_end_budget:.0f} threshold {shared.runaway_threshold}",
            file=sys.stderr,
        )
        effect = shared_effect(shared, stretch)
        prior = make_shared_prior(
            h, PARAMS[h], interpolate(others, PARAMS[h]), shared, pub[h], PUBLISHED_LIMIT
        )
        for run in (r for r in runs if r.model == h):
            trials = np.arange(1, min(32, int(run.n.min())) + 1, dtype=float)
            error = 100.0 * (
                predicted_coverage(prior, effect, run, trials) - measured_coverage(run, trials)
            )
            out.append((h, run.label, kind_of(run), error))
    return out


NOISE_REPLICATES = 200


def noise_floor(
    runs: list[Run], held_out: tuple[str, ...], problems: bool
) -> list[tuple[str, str, str, np.ndarray]]:
    """The sampling noise of the measured curves, in the same form as leave_one_out's errors:
    per run, bootstrap replicate minus measured pass@N in points, averaged in absolute value over
    NOISE_REPLICATES replicates (so the mean over N is the expected |error| of a prediction that
    is off only by the data's noise). Each problem's samples are resampled with replacement
    (c* ~ Binomial(n, c / n)); with `problems` the 30 problems are resampled first."""
    from kinetics_cli.accuracy.passk import pass_at_k

    out = []
    for h in held_out:
        for run in (r for r in runs if r.model == h):
            rng = np.random.default_rng(12345)
            trials = np.arange(1, min(32, int(run.n.min())) + 1, dtype=float)
            truth = measured_coverage(run, trials)
            pick = (
                rng.integers(0, run.n.size, size=(NOISE_REPLICATES, run.n.size))
                if problems
                else np.tile(np.arange(run.n.size), (NOISE_REPLICATES, 1))
            )
            n = run.n[pick]
            c = rng.binomial(n, run.c[pick] / n)  # (R, P)
            cover = pass_at_k(n[:, :, None], c[:, :, None], trials[None, None, :]).mean(axis=1)
            error = 100.0 * np.mean(np.abs(cover - truth[None, :]), axis=0)
            out.append((h, run.label, kind_of(run), error))
    return out


Result = tuple[str, str, str, np.ndarray]  # held-out size, run label, kind, errors over N
GROUPS: tuple[tuple[str, Callable[[Result], bool]], ...] = (
    ("interpolated", lambda r: r[0] in INTERPOLATED_SIZES),
    ("all sizes", lambda r: True),
    ("interp. B>=256", lambda r: r[0] in INTERPOLATED_SIZES and r[2] != "sparse_small"),
    ("all, B>=256", lambda r: r[2] != "sparse_small"),
    ("interp. dense", lambda r: r[0] in INTERPOLATED_SIZES and r[1].endswith(" dense")),
    ("interp. top-k", lambda r: r[0] in INTERPOLATED_SIZES and " topk@" in r[1]),
    ("interp. block", lambda r: r[0] in INTERPOLATED_SIZES and " block-topk@" in r[1]),
    ("all dense", lambda r: r[1].endswith(" dense")),
    ("all top-k", lambda r: " topk@" in r[1]),
    ("all block", lambda r: " block-topk@" in r[1]),
)

TRIAL_BUCKETS = ((1, 1), (2, 8), (9, 32))  # N ranges with their own interval half-width


def spreads(results: list[tuple[str, str, str, np.ndarray]]) -> dict[str, list[float]]:
    """95th percentile of |error| (as a fraction) by kind and N range (TRIAL_BUCKETS): the
    priors' interval half-widths."""
    out = {}
    for kind in ("dense", "sparse", "sparse_small"):
        rows = [np.abs(e) for _, _, k, e in results if k == kind]
        if not rows:
            continue
        widths = []
        for lo, hi in TRIAL_BUCKETS:
            errs = [e[lo - 1 : hi] for e in rows if e.size >= lo]
            widths.append(
                float(np.quantile(np.concatenate(errs), 0.95)) / 100.0 if errs else widths[-1]
            )
        out[kind] = widths
    return out


def report(results: list[tuple[str, str, str, np.ndarray]], verbose: bool) -> None:
    print(
        f"{'held out':12s} {'runs':>4s} {'points':>6s} {'mean |err|':>10s} {'worst |err|':>11s} {'mean err':>9s}  worst run"
    )
    for h in dict.fromkeys(r[0] for r in results):
        rows = [r for r in results if r[0] == h]
        errs = np.concatenate([e for *_, e in rows])
        worst = max(rows, key=lambda r: float(np.max(np.abs(r[3]))))
        print(
            f"{h:12s} {len(rows):4d} {errs.size:6d} {np.mean(np.abs(errs)):10.2f} "
            f"{np.max(np.abs(errs)):11.2f} {np.mean(errs):+9.2f}  {worst[1]}"
        )
        if verbose:
            for _, label, _, e in rows:
                print(
                    f"    {label:34s} N=1 {e[0]:+6.1f}  N=max {e[-1]:+6.1f}  worst {e[np.argmax(np.abs(e))]:+6.1f}"
                )
    for name, keep in GROUPS:
        chosen = [r for r in results if keep(r)]
        if chosen:
            errs = np.concatenate([e for *_, e in chosen])
            print(
                f"{name:14s} {len(chosen):2d} {errs.size:6d} {np.mean(np.abs(errs)):10.2f} "
                f"{np.max(np.abs(errs)):11.2f} {np.mean(errs):+9.2f}"
            )
    for kind, values in spreads(results).items():
        cells = ", ".join(
            f"N {lo}-{hi}: {100 * v:4.1f}"
            for (lo, hi), v in zip(TRIAL_BUCKETS, values, strict=True)
        )
        print(f"95th percentile |err| {kind:12s} {cells} points")


def summary_rows(held: tuple[str, ...]) -> tuple[tuple[str, Callable[[Result], bool]], ...]:
    """The comparison's rows: each held-out size, then the first four GROUPS."""
    per_size = tuple((h, (lambda r, h=h: r[0] == h)) for h in held)
    return per_size + GROUPS[:4]


def _cell(results: list[Result], keep: Callable[[Result], bool]) -> str:
    chosen = [np.abs(e) for r in results if keep(r) for e in (r[3],)]
    if not chosen:
        return "-"
    errs = np.concatenate(chosen)
    return f"{np.mean(errs):.2f} / {np.max(errs):.2f}"


def compare(columns: dict[str, list[Result]], held: tuple[str, ...], title: str) -> None:
    """One line per row of summary_rows: mean / worst |error| in points of every predictor."""
    names = list(columns)
    print(title)
    print(f"{'':16s}" + "".join(f"{n:>19s}" for n in names))
    for name, keep in summary_rows(held):
        print(f"{name:16s}" + "".join(f"{_cell(columns[n], keep):>19s}" for n in names))


def common(columns: dict[str, list[Result]]) -> dict[str, list[Result]]:
    """Each predictor's results on the runs that every predictor covers."""
    labels = set.intersection(*({r[1] for r in rs} for rs in columns.values()))
    return {n: [r for r in rs if r[1] in labels] for n, rs in columns.items()}


ORACLE_REPLICATES = 2000


def print_oracle(runs: list[Run], held: tuple[str, ...], point: str) -> None:
    """What a predictor that knew every problem's true solve rate would score (its error is the
    measured curves' sampling noise alone), and that noise at one run's N = 1 and N = max."""
    chosen = [r for r in runs if r.model in held]
    print(
        f"oracle: {ORACLE_REPLICATES} replicates of the counts redrawn from each problem's solve "
        "rate; error = measured pass@N - the rate's expected pass@N, points"
    )
    print(
        f"{'solve rates':11s} {'rows':16s} {'mean: median':>12s} {'p95':>5s} "
        f"{'worst: p05':>10s} {'median':>6s} {'p95':>5s} {'P(mean<=2)':>10s} "
        f"{'P(worst<=5)':>11s} {'P(both)':>7s}"
    )
    for plug_in, what in ((True, "c / n"), (False, "posterior")):
        errors = oracle_errors(chosen, ORACLE_REPLICATES, plug_in)
        tagged = [(r.model, r.label, kind_of(r), errors[r.label]) for r in chosen]
        for name, keep in GROUPS[:4]:
            rows = [e for r in tagged if keep(r) for e in (r[3],)]
            if not rows:
                continue
            o = oracle_summary(rows)
            print(
                f"{what:11s} {name:16s} {o['mean_median']:12.2f} {o['mean_p95']:5.2f} "
                f"{o['worst_p05']:10.2f} {o['worst_median']:6.2f} {o['worst_p95']:5.2f} "
                f"{o['p_mean']:10.3f} {o['p_worst']:11.3f} {o['p_both']:7.3f}"
            )
        interp = [r for r in tagged if r[0] in INTERPOLATED_SIZES] or tagged
        table = np.concatenate([np.abs(r[3]) for r in interp], axis=1)  # (R, points)
        where = [(r[1], n + 1) for r in interp for n in range(r[3].shape[1])]
        hits = [where[i] for i in np.argmax(table, axis=1)]
        top = max({h[0] for h in hits}, key=lambda label: sum(h[0] == label for h in hits))
        at = [n for label, n in hits if label == top]
        print(
            f"{what:11s} the worst point lies in {top} in {len(at) / len(hits):.0%} of "
            f"replicates (median N {np.median(at):.0f})"
        )
        if point in errors:
            e = errors[point]
            print(
                f"{what:11s} {point}: noise sd {e[:, 0].std():.2f} points at N = 1, "
                f"{e[:, -1].std():.2f} at N = {e.shape[1]}; 99.9th percentile of |noise| "
                f"at N = {e.shape[1]}: {np.quantile(np.abs(e[:, -1]), 0.999):.2f}"
            )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(SIZES), help="held-out sizes, comma-separated")
    ap.add_argument(
        "--iterations", type=int, default=300, help="simplex iterations of the sparse fit"
    )
    ap.add_argument("--verbose", action="store_true", help="one line per held-out run")
    ap.add_argument(
        "--no-sensitivity",
        action="store_true",
        help="one logit shift for every problem (no per-problem sparse sensitivity)",
    )
    ap.add_argument(
        "--runaway",
        action="store_true",
        help="candidate: a per-problem share of trials runs away to the cap (not in the bundled fit)",
    )
    ap.add_argument(
        "--capped",
        action="store_true",
        help="fit on three outcomes per trial (correct, wrong, at the cap) instead of two",
    )
    ap.add_argument(
        "--noise-floor",
        action="store_true",
        help="print the bootstrap noise of the measured curves (no fit) in the same table",
    )
    ap.add_argument(
        "--no-shift", action="store_true", help="no logit shift (runaway and stretch only)"
    )
    ap.add_argument(
        "--correlated",
        action="store_true",
        help="candidate: a problem's sparse sensitivity tilts with its difficulty (one parameter)",
    )
    ap.add_argument(
        "--no-runaway-size",
        action="store_true",
        help="the runaway hazard does not scale with model size",
    )
    ap.add_argument(
        "--runaway-end",
        action="store_true",
        help="the runaway hazard ends at a fitted budget B_e: (B_h / B)^rho_h - (B_h / B_e)^rho_h, floored at 0",
    )
    ap.add_argument(
        "--runaway-end-budget",
        type=float,
        default=float("inf"),
        help="the runaway hazard ends at this budget (fixed, not fitted): (B_h / B)^rho_h - (B_h / B_e)^rho_h",
    )
    ap.add_argument(
        "--two-class",
        action="store_true",
        help="a problem's runaway sensitivity is bounded: fragile or robust (one more parameter)",
    )
    ap.add_argument(
        "--baseline",
        choices=sorted(BASELINES),
        help="print a non-parametric baseline's table instead (no fit): the other sizes' measured "
        "curves interpolated (tools/curve_baseline.py)",
    )
    ap.add_argument(
        "--oracle",
        action="store_true",
        help="print what a predictor knowing every true solve rate would score (no fit)",
    )
    ap.add_argument(
        "--compare",
        action="store_true",
        help="fit the priors, then print their mean / worst next to every baseline's and the noise floor",
    )
    args = ap.parse_args(argv)
    held = tuple(s for s in args.sizes.split(",") if s)
    unknown = [s for s in held if s not in SIZES]
    if unknown:
        ap.error(f"unknown size {unknown[0]!r}; choose from {', '.join(SIZES)}")
    start = time.perf_counter()
    if args.baseline:
        results, missing = baseline_errors(
            load_runs(), held, kind_of, args.baseline, published_pass1()
        )
        print(
            f"baseline {args.baseline}: pass@N from the other sizes' measured curves; "
            "error = baseline - measured, points"
        )
        if missing:
            print(f"not predicted (no other size ran the setting): {', '.join(missing)}")
        report(results, args.verbose)
        return
    if args.oracle:
        print_oracle(load_runs(), held, "qwen3-8b topk@32")
        return
    if args.noise_floor:
        for problems, what in (
            (False, "samples within each problem"),
            (True, "problems, then samples"),
        ):
            print(
                f"noise floor: mean over {NOISE_REPLICATES} bootstrap replicates ({what}) of "
                "|replicate - measured| pass@N, points"
            )
            report(noise_floor(load_runs(), held, problems), args.verbose)
        return
    results = leave_one_out(
        load_runs(),
        SIZES,
        held,
        args.iterations,
        FitOptions(
            sensitivity=not args.no_sensitivity,
            runaway=args.runaway,
            capped=args.capped,
            shift=not args.no_shift,
            correlated=args.correlated,
            runaway_size=not args.no_runaway_size,
            end=args.runaway_end,
            two_class=args.two_class,
            end_budget=args.runaway_end_budget,
        ),
    )
    print(
        "leave-one-size-out: pass@N, N = 1..32 (8 for 32B, 16 for 14B dense), limit 32,768; error = prior - measured, points"
    )
    report(results, args.verbose)
    if args.compare:
        runs = load_runs()
        columns: dict[str, list[Result]] = {"prior": results}
        for name in BASELINES:
            columns[name] = baseline_errors(runs, held, kind_of, name, published_pass1())[0]
        columns["noise floor"] = noise_floor(runs, held, problems=False)
        compare(columns, held, "mean / worst |error|, points, every run each predictor covers:")
        compare(common(columns), held, "the same on the runs every predictor covers:")
        worst = max(results, key=lambda r: float(np.max(np.abs(r[3]))))
        run = next(r for r in runs if r.label == worst[1])
        ends = measured_coverage(run, np.array([1.0, float(worst[3].size)]))
        print(
            f"the prior's worst run, {worst[1]} (measured pass@1 {100 * ends[0]:.1f}%, "
            f"pass@{worst[3].size} {100 * ends[1]:.1f}%): error at N = 1 and N = max, points"
        )
        for name, rs in columns.items():
            hit = [r[3] for r in rs if r[1] == worst[1]]
            if hit:
                print(f"    {name:18s} {hit[0][0]:+7.2f} {hit[0][-1]:+7.2f}")
        print_oracle(runs, held, worst[1])
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
