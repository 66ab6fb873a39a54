"""How `plan` and `frontier` show their answers: JSON documents, rich tables and plots.

The plots are the picture the Kinetics paper's Figure 1 draws: each (model, attention kind)
frontier as a step line (the best accuracy it reaches at each cost), the overall frontier
highlighted underneath, and for a plan the budget and the two laws' picks. rich and matplotlib
are imported inside the functions that draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinetics_cli.report import cells
from kinetics_cli.report.cells import Cell
from kinetics_cli.report.format import intensity as format_intensity
from kinetics_cli.report.format import plural, tokens

if TYPE_CHECKING:
    import numpy as np

    from kinetics_cli.planner.allocation import Allocation
    from kinetics_cli.planner.deploy import DeployCosts, HardwareComparison
    from kinetics_cli.planner.frontier import Frontier
    from kinetics_cli.planner.grid import Grid
    from kinetics_cli.planner.plan import Plan
    from kinetics_cli.planner.setup import Setup

# ---- plan ------------------------------------------------------------------------------------

UNIT_WORDS = {
    "eflops": "eFLOPs per problem",
    "seconds": "of accelerator time per problem",
    "usd": "per 1,000 problems",
    "latency": "of wall time per problem",
    "joules": "of energy per problem",
}
# The same units priced on a deployment (planner/deploy.py).
DEPLOYABLE_UNIT_WORDS = {
    "seconds": "of GPU time per problem",
    "usd": "per 1,000 problems",
    "latency": "of wall time per problem (longest trial)",
    "joules": "of energy per problem",
}
# The same budget as the FLOPs-only law reads it (memory traffic not counted).
FLOPS_LAW_UNIT_WORDS = {
    "eflops": "FLOPs per problem (memory traffic not counted)",
    "seconds": "of compute-only accelerator time per problem",
    "usd": "per 1,000 problems at compute-only time",
    "latency": "of compute-only time per problem",
    "joules": "per problem at compute-only time and board power",
}
# The oracles' sentences; oracle_note says those of the oracles a table shows.
COVERAGE_ORACLE = (
    "BoN-N coverage counts a problem solved when any of the N answers is right, as if a perfect "
    "verifier chose"
)
TOPK_ORACLE = "topk (oracle) attends the B highest-scoring cached tokens found at no cost"
TOPK_DEPLOYED = "block-topk charges its page search, as a deployed kernel does"
SELECTION_DEPLOYED = (
    "majority, verifier and early-stop selections need no oracle (--selection chooses the rules "
    "searched)"
)
ORACLE_NOTE = (
    f"Oracles, as in the paper: {COVERAGE_ORACLE}; {TOPK_ORACLE}. Both are upper bounds; "
    f"{TOPK_DEPLOYED}, and {SELECTION_DEPLOYED}."
)


def oracle_note(coverage: bool, topk: bool) -> str | None:
    """The closing note on the oracles shown: Best-of-N coverage (`coverage`), oracle top-k
    attention (`topk`), both (ORACLE_NOTE) or neither (None); each with what needs no oracle."""
    if coverage and topk:
        return ORACLE_NOTE
    if coverage:
        return f"Oracle, as in the paper: {COVERAGE_ORACLE}. It is an upper bound; {SELECTION_DEPLOYED}."
    if topk:
        return f"Oracle, as in the paper: {TOPK_ORACLE}. It is an upper bound; {TOPK_DEPLOYED}."
    return None


SELECTION_WORDS = {
    "coverage": "coverage (oracle)",
    "majority": "majority vote",
    "verifier": "verifier",
    "early-stop": "early-stopped majority",
}


# The laws as sentences name them (JSON keeps 'kinetics' and 'flops').
LAW_WORDS = {"kinetics": "Kinetics law", "flops": "FLOPs-only law"}
# The accuracy source kinds (accuracy/base.py SourceKind) as the plots' titles name them.
SOURCE_WORDS = {
    "composite": "measured where covered, priors elsewhere",
    "priors": "bundled priors",
    "measured": "measured",
    "evaluations": "your evaluations",
}


def source_words(setup: Setup) -> str:
    """'measured where covered, priors elsewhere': the accuracy source in words, for titles."""
    return SOURCE_WORDS.get(setup.source.kind, setup.source.kind)


def source_line(setup: Setup) -> str:
    """One line saying where the accuracies come from."""
    from kinetics_cli.accuracy.base import CONFIDENCE

    level = f" Intervals: {CONFIDENCE:.0%} confidence."
    if setup.source.kind == "evaluations":
        text = setup.source.description
        text = f"your {text}" if text.startswith("evaluations ") else f"your evaluations: {text}"
        if setup.cap_note:
            text += f"; {setup.cap_note}"
        return f"accuracy: {text}.{level}"
    if setup.source.kind == "composite":
        return (
            f"accuracy: {setup.source.description}. Not your own evaluations: pass --evals FILE "
            f"for those.{level}"
        )
    return (
        f"accuracy: {setup.source.description}. Not your own evaluations: "
        f"pass --evals FILE for those.{level}"
    )


def format_cost(value: float, unit: str) -> str:
    """A per-problem cost in its budget unit as report.format writes it: eFLOPs ('8.59e15'), a
    time ('3.82 s', '4.2 min'), joules ('1.2 kJ') or dollars per 1,000 problems ('$3.98')."""
    from kinetics_cli.report.format import duration, flops, format_si, money

    if unit == "eflops":
        return flops(value)
    if unit in ("seconds", "latency"):
        return duration(value)
    if unit == "joules":
        return format_si(value, "J")
    return money(value)


# The unit a per-problem cost is written in to CSV, by budget unit.
COST_UNITS = {
    "eflops": "eFLOPs",
    "seconds": "s",
    "latency": "s",
    "joules": "J",
    "usd": "USD per 1,000 problems",
}


def cost_cell(value: float, unit: str) -> Cell:
    """A per-problem cost: format_cost shown, the number (in COST_UNITS[unit]) in CSV."""
    return Cell(format_cost(value, unit), (value,))


def attention_label(attention: str) -> str:
    """The attention name as tables, lines and plot legends show it: oracle top-k says so (it is
    a bound, not a kernel)."""
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    return f"{attention} (oracle)" if attention == ORACLE_ATTENTION else attention


def docs_oracle_note(docs: list[dict[str, Any]]) -> str | None:
    """oracle_note for the configurations shown: Best-of-N coverage where one selects by it, top-k
    where one attends by it."""
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    coverage = any(
        d.get("selection_oracle", d["trials"] > 1 and d.get("selection", "coverage") == "coverage")
        for d in docs
    )
    return oracle_note(coverage, any(d["attention"] == ORACLE_ATTENTION for d in docs))


def say_oracle_note(docs: list[dict[str, Any]]) -> None:
    """Say docs_oracle_note, where any applies."""
    from kinetics_cli.report.console import say

    note = docs_oracle_note(docs)
    if note is not None:
        say(note)


def allocation_document(allocation: Allocation | None) -> dict[str, Any] | None:
    """The allocation comparison as the JSON documents write it (null when not asked for)."""
    if allocation is None:
        return None

    def pair(value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
        if value is None:
            return None
        out = dict(zip(keys, value, strict=True))
        return out

    levels = allocation.levels

    def floats(a: Any) -> list[float | None]:
        return [None if v != v else float(v) for v in a]

    return {
        "unit": allocation.unit,
        "per_problem_source": allocation.per_problem_source,
        "problems": allocation.problems,
        "budget": allocation.budget,
        "oracle_per_problem": pair(allocation.oracle_cap, ("accuracy", "mean_cost")),
        "oracle_per_problem_mean_cost": pair(
            allocation.oracle_mean, ("accuracy", "mean_cost", "cap")
        ),
        "uniform": pair(allocation.uniform, ("accuracy", "cost", "configuration")),
        "headroom": pair(allocation.headroom, ("accuracy_points", "cost_ratio")),
        "adaptive": pair(allocation.adaptive, ("accuracy", "expected_cost", "configuration")),
        "adaptive_source": allocation.adaptive_source,
        "oracle": {"oracle_per_problem": True, "uniform": True, "adaptive": False},
        "levels": floats(levels),
        "oracle_levels": floats(allocation.oracle_levels),
        "oracle_level_mean_cost": floats(allocation.oracle_level_cost),
        "uniform_levels": floats(allocation.uniform_levels),
        "uniform_level_cost": floats(allocation.uniform_level_cost),
        "adaptive_levels": floats(allocation.adaptive_levels),
        "adaptive_level_cost": floats(allocation.adaptive_level_cost),
        "notes": list(allocation.notes),
    }


def plan_document(
    setup: Setup, answer: Plan, allocation: Allocation | None = None
) -> dict[str, Any]:
    """The `plan --json` document."""
    from kinetics_cli.planner.plan import configuration

    grid, pricing = setup.grid, setup.pricing

    def config(i: int | None, **extra: Any) -> dict[str, Any] | None:
        if i is None:
            return None
        doc = configuration(grid, i, pricing)
        doc.update(
            cost=float(answer.true_cost[i]),
            flops_law_cost=float(answer.flops_cost[i]),
            within_budget=bool(answer.true_cost[i] <= answer.budget),
        )
        doc.update(extra)
        return doc

    from kinetics_cli.accuracy.base import CONFIDENCE

    return {
        "task": setup.task,
        "confidence": CONFIDENCE,
        "budget": answer.budget,
        "budget_unit": answer.unit,
        "law": answer.law,
        "hardware": setup.profile.name,
        "intensity": pricing.intensity,
        "price_per_gpu_hour": pricing.usd_per_hour,
        "calibration": setup.profile.calibration_note,
        "accuracy_source": setup.source_document,
        "best": config(answer.best),
        "most_accurate": config(answer.most_accurate),
        "indistinguishable": {
            "rule": TIE_RULE,
            "count": len(answer.ties),
            # of the count, those the tests themselves could not tell apart from the most
            # accurate, and the least accurate of them; the rest are at least as accurate
            "tested": answer.ties_tested,
            "least_accurate_tested": config(answer.tie_floor),
            "configurations": [config(i) for i in answer.ties[:MAX_TIES_SHOWN]],
        },
        "alternatives": [config(i) for i in answer.alternatives],
        "flops_law_pick": config(answer.picks["flops"]),
        "kinetics_law_pick": config(answer.picks["kinetics"]),
        "equal_accuracy_kinetics": config(answer.equal_accuracy),
        "cost_ratio": answer.cost_ratio,
        "best_without_oracle": config(answer.best_without_oracle),
        "best_deployable": config(answer.best_deployable),
        "cheapest": config(answer.cheapest),
        "configurations": len(grid),
        "left_out": setup.left_out_document,
        "selection_rules": list(grid.rules),
        "allocation": allocation_document(allocation),
        **deploy_summary(pricing.deploy),
    }


def deploy_summary(deploy: DeployCosts | None) -> dict[str, Any]:
    """Top-level keys of the deployable figures: efficiency mode, power model, dropped."""
    if deploy is None:
        return {}
    return {
        "efficiency_mode": deploy.efficiency_mode,
        "efficiency": deploy.efficiency_label,
        "power_model": deploy.power_model,
        "power_watts_per_gpu": deploy.watts,
        "power_basis": (
            None
            if deploy.watts is None
            else ("tdp" if deploy.watts == deploy.tdp_watts else "measured serving power")
        ),
        "batch_rule": deploy.batch_rule,
        "deployable_configurations": int(deploy.fits.sum()),
        "serving_checks": [c.document() for c in deploy.family_checks()],
        "dropped": [{"reason": why, "configurations": n} for why, n in deploy.dropped.items()],
        **(
            {}
            if deploy.verifier is None
            else {
                "verifier": {
                    "model": deploy.verifier.model,
                    "replica": "own",
                    "scoring": "a prefill of the prompt and the candidate's generated tokens, "
                    "N candidates per problem, priced over the generated-length distribution "
                    "(the expectation of its points); the replica holds the longest",
                }
            }
        ),
    }


MAX_TIES_SHOWN = 5
TIE_RULE = (
    "configurations within budget whose accuracy is statistically indistinguishable from the "
    "most accurate one at the stated confidence are ties and the cheapest is chosen: paired "
    "bootstrap over the same problems within one measured or evaluation source, equal accuracy "
    "(0.1 point) among one task's bundled priors (every model's: one fit), half-widths combined "
    "in quadrature across sources; a tie must also not be significantly worse than any of the "
    "10 most accurate configurations of each source, and any configuration within budget at "
    "least as accurate as a tie is one (docs/planning.md section 3)"
)


def accuracy_text(doc: dict[str, Any]) -> str:
    """'86.7% [80.0, 93.3]' (the interval when there is one)."""
    return accuracy_cell(doc).text


def accuracy_cell(doc: dict[str, Any]) -> Cell:
    """accuracy_text shown; the accuracy and its interval's ends, in percent, in CSV."""
    return cells.accuracy(doc["accuracy"], doc.get("accuracy_ci"))


_KIND_TAGS = {"priors": "prior", "measured": "measured", "evaluations": "evals"}


def attention_cell(doc: dict[str, Any], mixed: bool) -> Cell:
    """A table's attention cell (short_attention), and where the table mixes sources (`mixed`)
    what the row's accuracy rests on: 'topk (oracle) 256; measured', '...; prior' (in the
    configuration text, which wraps, rather than widening the accuracy column). In CSV the
    attention kind, the KV budget and what the accuracy rests on (as --json's accuracy_kind
    names it: measured, priors, evaluations), in columns of their own."""
    kind = str(doc.get("accuracy_kind", ""))
    tag = _KIND_TAGS.get(kind, "")
    text = short_attention(doc)
    return Cell(
        f"{text}; {tag}" if mixed and tag else text,
        (doc["attention"], doc["kv_budget"], kind or None),  # --json's accuracy_kind
    )


# The CSV columns of the configuration tables' columns (report.console.show_table csv_columns).
CONFIG_CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "strategy": ("strategy", "trials", "selection", "expected trials"),
    "limit": ("limit (tokens)",),
    "attention, KV": ("attention", "KV budget (tokens)", "accuracy rests on"),
    "accuracy": cells.accuracy_columns(),
    "eFLOPs": ("eFLOPs",),
    "FLOPs": ("FLOPs",),
    "time": ("time (s)",),
    "$/1k": ("$/1k (USD)",),
    "replica": ("tp", "ep", "problems in flight"),
    "GPU-s": ("GPU-s (s)",),
    "latency": ("latency (s)",),
    "energy": ("energy (J)",),
}


def mixed_kinds(grid: Any) -> bool:
    """Whether a grid's accuracies rest on more than one kind of source (measured and priors)."""
    return len(set(getattr(grid, "kinds", ()))) > 1


def sourced_accuracy(doc: dict[str, Any]) -> str:
    """'83.3% [77.5, 89.1] (prior, interval from ...)': the accuracy, its interval and what it
    rests on (measured, prior or your evaluations)."""
    source = doc.get("accuracy_source")
    return f"{accuracy_text(doc)} ({source})" if source else accuracy_text(doc)


def describe(doc: dict[str, Any]) -> str:
    """'qwen3-32b, best-of-8, L 16,384, block-topk KV 1024' from a configuration document."""
    if doc["strategy"] == "long-cot":
        strategy = f"long-CoT, L {tokens(doc['gen_len'])}"
    else:
        rule = SELECTION_WORDS.get(doc.get("selection", "coverage"), "coverage (oracle)")
        if doc.get("selection") == "early-stop":
            rule += f" (~{doc['expected_trials']:.1f} trials)"
        strategy = f"best-of-{doc['trials']} {rule}, L {tokens(doc['gen_len'])}"
    attention = attention_label(doc["attention"])
    if doc["kv_budget"] is not None:
        attention += f" KV {tokens(doc['kv_budget'])}"
    return f"{doc['model']}, {strategy}, {attention}"


def print_plan(
    setup: Setup, answer: Plan, doc: dict[str, Any], allocation: Allocation | None = None
) -> None:
    """The human answer to `plan`, on stdout through rich."""
    from kinetics_cli.report.console import say

    unit = answer.unit
    p = setup.pricing
    priced = p.usd_per_hour is not None
    deploy = p.deploy
    deployable = deploy is not None and unit != "eflops"
    words = (
        FLOPS_LAW_UNIT_WORDS
        if answer.law == "flops"
        else (DEPLOYABLE_UNIT_WORDS if deployable else UNIT_WORDS)
    )[unit]
    # The FLOPs-only law's words already say what it counts; the others name their pricing.
    if answer.law != "flops":
        kind = "deployable" if deployable else "Kinetics law"
        words = f"{words[:-1]}; {kind})" if words.endswith(")") else f"{words} ({kind})"
    say(
        f"Plan for {setup.task}: budget {format_cost(answer.budget, unit)} {words} on "
        f"{setup.profile.name} (I = {format_intensity(p.intensity)} FLOPs/byte), chosen by the {LAW_WORDS.get(answer.law, answer.law)}"
    )
    say(source_line(setup))
    if deploy is None:
        say(f"times: {setup.profile.calibration_note}")
    else:
        print_deploy_notes(deploy, len(setup.grid))
    if doc["best"] is None:
        cheapest = doc["cheapest"]
        cost = format_cost(float(answer.law_cost[answer.cheapest]), unit)
        if unit == "eflops":  # the number alone: eFLOPs, or FLOPs under --law flops
            cost += " FLOPs" if answer.law == "flops" else " eFLOPs"
        say(
            f"No configuration fits this budget. The cheapest, {describe(cheapest)}, costs "
            f"{cost} ({cheapest['accuracy']:.1%} accuracy)."
        )
        return

    best = doc["best"]
    say(f"Best: {_pick_text(best, priced)}")
    if deployable:
        _say_serve_line(best, explain=True)
    ties = doc["indistinguishable"]
    top = doc["most_accurate"]
    if ties["count"]:
        listed = [d for d in ties["configurations"] if d != top][:3]
        names = "; ".join(f"{describe(d)} {accuracy_text(d)}" for d in listed)
        more = ties["count"] - len(listed) - (1 if top is not None and top != best else 0)
        lead = (
            f"The most accurate, {describe(top)} at {accuracy_text(top)}, cannot be told apart"
            if top is not None and top != best
            else "It cannot be told apart"
        )
        closure = _closure_text(ties["count"], ties["tested"], ties.get("least_accurate_tested"))
        say(
            f"{lead} from {plural(ties['count'], 'other configuration')} within budget at "
            f"{doc['confidence']:.0%} confidence, so the cheapest was chosen; among them: {names}"
            + (f" and {more} more" if more > 0 else "")
            + "."
            + closure
        )
    if answer.law == "flops":
        verdict = (
            "within the budget"
            if best["within_budget"]
            else f"{best['cost'] / answer.budget:.2f}x the budget"
        )
        say(
            f"The FLOPs-only law counts it at {format_cost(best['flops_law_cost'], unit)}; its "
            f"true (Kinetics) cost, {format_cost(best['cost'], unit)}, is {verdict}."
        )
    strongest = top if top is not None else best
    if strongest["accuracy"] < 0.0005:
        say("No configuration within this budget solves a problem (best: 0.0%).")
    elif best["accuracy"] < 0.0005:
        say(
            f"The pick solves no problem in the data, yet at {doc['confidence']:.0%} confidence "
            f"it cannot be told apart from the most accurate ({accuracy_text(strongest)}): too "
            "few problems to separate them. Evaluate more problems before relying on this pick."
        )
    no_topk = doc["best_without_oracle"]
    if no_topk != best:
        say(f"Best without oracle top-k: {_pick_text(no_topk, priced)}")
        if deployable:
            _say_serve_line(no_topk)
    fully = doc["best_deployable"]
    if fully != best:
        say(
            f"Best without any oracle (no oracle selection, no oracle attention; rules searched: "
            f"{', '.join(doc['selection_rules'])}): {_pick_text(fully, priced)}"
        )
        if deployable and fully != no_topk:
            _say_serve_line(fully)

    shown = [("best", best)] + [(f"alt {n}", alt) for n, alt in enumerate(doc["alternatives"], 1)]
    if no_topk is not None and all(no_topk != d for _, d in shown):
        shown.append(("no oracle top-k", no_topk))
    if fully is not None and all(fully != d for _, d in shown):
        shown.append(("no oracle", fully))
    flops_pick = doc["flops_law_pick"]
    if flops_pick is not None and answer.law != "flops":
        shown.append(("FLOPs law", flops_pick))
    kinetics_pick = doc["kinetics_law_pick"]
    if kinetics_pick is not None and answer.law != "kinetics":
        shown.append(("Kinetics law", kinetics_pick))
    equal = doc["equal_accuracy_kinetics"]
    if equal is not None and flops_pick is not None and equal not in (kinetics_pick, flops_pick):
        shown.append(("same accuracy", equal))
    mixed = mixed_kinds(setup.grid)  # say per row what each accuracy rests on
    searched = plural(doc["configurations"], "configuration")
    # what 'alt' means where the table has alternatives (--top 0 asks for none)
    alt = (
        f"; alt = best of another model or attention kind ({searched})"
        if doc["alternatives"]
        else f"; {searched}"
    )
    if deploy is not None:
        compact_table(
            f"Per problem: eFLOPs by the Kinetics law; replica (TPn xB: B problems in flight), "
            f"GPU-seconds, latency, joules "
            f"and dollars deployable ({deploy.efficiency_mode} efficiencies on "
            f"{deploy.hardware}){alt}",
            DEPLOY_COLUMNS + ([">$/1k"] if priced else []),
            [[label, *deploy_cells(d, priced, mixed)] for label, d in shown],
            {"": ("pick",)},
        )
    else:
        columns = ["", "model", "strategy", ">limit", "attention, KV", ">accuracy", ">eFLOPs"]
        columns += [">time", ">$/1k"] if priced else [">time"]
        compact_table(
            f"Per problem, Kinetics-law costs{alt}",
            columns,
            [[label, *config_cells(d, d["eflops"], priced, mixed)] for label, d in shown],
            {"": ("pick",)},
        )
    _print_comparison(answer, doc)
    if allocation is not None:
        print_allocation(allocation)
    say_oracle_note([d for _, d in shown])


def serve_note(doc: dict[str, Any]) -> str:
    """How `kinetics serve`'s figures for a configuration's serve_command give the plan's
    GPU-seconds and latency per problem."""
    f = doc["deployable"]
    trials = doc.get("expected_trials") or doc["trials"]
    n = f"{trials:g}" if float(trials).is_integer() else f"~{trials:.1f}"
    longest = (
        f"the expected longest of {doc['trials']} trials"
        if doc["trials"] > 1
        else "one trial's mean length"
    )
    return (
        f"--osl is the mean generated tokens per trial under the limit: GPU-seconds per problem "
        f"= {n} x {tokens(round(f['mean_generated_tokens']))} tokens / serve's output tokens/s "
        f"per GPU, latency = TTFT + {tokens(round(f['expected_longest_tokens']))} tokens "
        f"({longest}) x TPOT. serve runs every request at that one length, where the plan "
        "mixes the lengths: the two agree to within that difference."
        + (
            " The command prices the generation alone: the plan adds the verifier's scoring "
            "pass, on its own replica."
            if f.get("verifier") is not None
            else ""
        )
    )


def _say_serve_line(doc: dict[str, Any] | None, *, explain: bool = False) -> None:
    """'Reproduce with: kinetics serve ...' (DeployCosts.serve_command) under a pick, unbroken;
    `explain`: and how serve's figures give the plan's."""
    from kinetics_cli.report.console import say, say_command

    if doc is None or "deployable" not in doc:
        return
    command = doc["deployable"].get("serve_command")
    if command is None:
        return
    say_command("Reproduce with kinetics serve:", command)
    if explain:
        say(serve_note(doc))


def _where(config: dict[str, Any]) -> str:
    kv = "" if config.get("kv_budget") is None else f" KV {tokens(config['kv_budget'])}"
    limit = "" if config.get("gen_len") is None else f", L {tokens(config['gen_len'])}"
    return f"{config['model']}, {attention_label(config['attention'])}{kv}{limit}"


def _uniform_strategy(trials: int) -> str:
    """A uniform allocation's strategy: one trial is long-CoT, more are Best-of-N coverage."""
    return "long-CoT" if trials == 1 else f"best-of-{trials} coverage"


def print_allocation(allocation: Allocation) -> None:
    """The headroom of per-problem allocation at the budget, and the deployable adaptive rule."""
    from kinetics_cli.report.console import say

    unit = allocation.unit
    if allocation.oracle_cap is not None:
        acc, mean = allocation.oracle_cap
        line = (
            "Allocation per problem, the paper's oracle frontier: each problem takes its best "
            f"coverage among the configurations it can afford; data: {allocation.problems} "
            f"problems of {allocation.per_problem_source}. An ideal per-problem allocator would reach "
            f"{acc:.1%} with every problem at most this cost (mean {format_cost(mean, unit)})"
        )
        if allocation.oracle_mean is not None:
            m_acc, m_cost, _ = allocation.oracle_mean
            line += f", {m_acc:.1%} holding its mean to it (mean {format_cost(m_cost, unit)})"
        if allocation.uniform is not None:
            u_acc, u_cost, u_conf = allocation.uniform
            line += (
                f"; the best uniform configuration on the same data reaches {u_acc:.1%}: "
                f"{_where(u_conf)}, {_uniform_strategy(u_conf['trials'])}, "
                f"{format_cost(u_cost, unit)}."
            )
        else:
            line += "; no uniform configuration of that data fits the budget."
        headroom = allocation.headroom
        if headroom is not None:
            points, ratio = headroom
            line += (
                f" Headroom of per-problem allocation over uniform (both oracles, same data): "
                f"{points * 100:+.1f} points at no more mean cost"
            )
            line += (
                f", and {ratio:.2f}x less cost per problem for at least the same accuracy."
                if ratio is not None
                else "."
            )
        say(line)
    if allocation.adaptive is not None:
        a_acc, a_cost, conf = allocation.adaptive
        say(
            f"Deployable adaptive rule (long-first: one trial capped at {conf['first_cap']:,} "
            f"tokens; if it has not finished, majority vote over {conf['trials']} fresh trials): "
            f"{_where(conf)}: accuracy {a_acc:.1%} at expected cost {format_cost(a_cost, unit)} "
            f"(~{conf['expected_samples']:.1f} trials), from {allocation.adaptive_source}."
        )
    for note in allocation.notes:
        say(f"Not available: {note}.")


def config_merge() -> Any:
    """How a configuration table narrows: model, strategy, limit and attention become one
    wrapped column ('qwen3-8b BoN-32 L 32,768 topk (oracle) 512'); no identifying cell is lost."""
    from kinetics_cli.report.console import Merge

    return Merge(
        "configuration", ("model", "strategy", "limit", "attention, KV"), prefixes={"limit": "L "}
    )


WRAPPED = ("", "hardware", "attention", "attention, KV", "replica", "frontier", "on overall")


def compact_table(
    title: str,
    columns: list[str],
    rows: list[list[Any]],
    csv_columns: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Show a configuration table (report.console.show_table): labels and attention wrap, and
    on a narrow console the identifying columns merge into one rather than disappear. In CSV
    the configuration columns expand as CONFIG_CSV_COLUMNS says, the others as `csv_columns`."""
    from kinetics_cli.report.console import show_table

    names = {c.lstrip(">") for c in columns}
    csv = {k: v for k, v in CONFIG_CSV_COLUMNS.items() if k in names} | (csv_columns or {})
    show_table(
        title,
        columns,
        rows,
        wrap=tuple(w for w in WRAPPED if w in names),
        merge=(config_merge(),) if "model" in names else (),
        # Left out in this order while the table is too wide (numbers never fold): the
        # deployable detail first; identifying columns, accuracy and costs stay.
        optional=("active", ("frontier", "on overall"), "energy", "replica", "latency"),
        csv_columns=csv,
    )


def _pick_text(entry: dict[str, Any] | None, priced: bool) -> str:
    """One pick of the plan, in words: the configuration, its accuracy and its costs."""
    if entry is None:
        return "nothing fits this budget"
    return f"{describe(entry)}: accuracy {sourced_accuracy(entry)}, " + _costs_text(entry, priced)


def _costs_text(doc: dict[str, Any], priced: bool) -> str:
    from kinetics_cli.report.format import duration

    if "deployable" in doc:
        return deploy_text(doc)
    text = f"{format_cost(doc['eflops'], 'eflops')} eFLOPs, {duration(doc['seconds'])}"
    if priced and doc["usd_per_1000"] is not None:
        text += f" per problem, {format_cost(doc['usd_per_1000'], 'usd')} per 1,000 problems"
        return text
    return text + " per problem"


DEPLOY_COLUMNS = [
    "",
    "model",
    "strategy",
    ">limit",
    "attention, KV",
    ">accuracy",
    ">eFLOPs",
    "replica",
    ">GPU-s",
    ">latency",
    ">energy",
]


def unheld(deployment: dict[str, Any], it: str = " it") -> str:
    """'no replica of b200 holds it', and, under a TPOT target (where that is the likelier
    reason), 'or meets the TPOT target'."""
    text = f"no replica of {deployment['hardware']} holds{it}"
    return text + (" or meets the TPOT target" if deployment["batch_rule"] == "max-tpot" else "")


def _closure_text(count: int, tested: int, floor: dict[str, Any] | None) -> str:
    """' Of those 413, 17 passed the tests themselves; the least accurate of them, ..., admits
    every configuration at least as accurate as it.' where the upward closure added ties; ''
    otherwise (cheapest_tie)."""
    if floor is None or tested >= count:
        return ""
    where = f"{floor['hardware']}, " if "hardware" in floor else ""  # across accelerators
    return (
        f" Of those {count:,}, {tested:,} passed the tests themselves; the least accurate of "
        f"them, {where}{describe(floor)} at {accuracy_text(floor)}, admits every configuration "
        "at least as accurate as it."
    )


def deploy_text(doc: dict[str, Any]) -> str:
    """'8.59e15 eFLOPs (Kinetics law); deployable (default, b200 TP2, 2 problems in flight):
    90.1 GPU-s, ...' for a configuration document with deployable figures."""
    from kinetics_cli.report.format import duration, format_si, rate

    law = f"{format_cost(doc['eflops'], 'eflops')} eFLOPs (Kinetics law)"
    d, f = doc["deployment"], doc["deployable"]
    if not f["fits"]:
        return f"{law}; {unheld(d)}"
    ep = f" EP{d['ep']}" if d["ep"] and d["ep"] > 1 else ""
    parts = [
        f"{duration(f['gpu_seconds'])} GPU time",
        f"latency {duration(f['latency_s'])}",
    ]
    if f["joules"] is not None:
        parts.append(format_si(f["joules"], "J"))
    text = (
        ", ".join(parts)
        + f" per problem ({rate(f['problems_per_gpu_hour'])} problems per GPU-hour)"
    )
    if f["usd_per_1000"] is not None:
        text += f", {format_cost(f['usd_per_1000'], 'usd')} per 1,000 problems"
    scoring = f.get("verifier")
    if scoring is not None and scoring["fits"]:
        v_ep = f" EP{scoring['ep']}" if scoring["ep"] > 1 else ""
        text += (
            f"; of which the verifier {scoring['model']}'s scoring ({scoring['hardware']} "
            f"TP{scoring['tp']}{v_ep}, {tokens(round(scoring['tokens_per_candidate']))} tokens a "
            f"candidate on average): {duration(scoring['gpu_seconds'])} GPU time, "
            f"{duration(scoring['latency_s'])} latency"
        )
    return (
        f"{law}; deployable ({d['efficiency_mode']} efficiencies, {d['hardware']} TP{d['tp']}{ep}, "
        f"{d['batch']:,} problem{'s' if d['batch'] != 1 else ''} in flight): {text}"
    )


def deploy_cells(doc: dict[str, Any], priced: bool, mixed: bool = False) -> list[Any]:
    """Table cells of DEPLOY_COLUMNS (less the label), and dollars per 1,000 when `priced`;
    `mixed`: say what each accuracy rests on (attention_cell)."""
    d, f = doc["deployment"], doc["deployable"]
    row: list[Any] = [
        doc["model"],
        strategy_cell(doc),
        cells.token_count(doc["gen_len"]),
        attention_cell(doc, mixed),
        accuracy_cell(doc),
        cells.flop_count(doc["eflops"]),
    ]
    if not f["fits"]:
        unheld = Cell("does not fit", (None, None, None))
        return row + [unheld, "-", "-", "-"] + (["-"] if priced else [])
    ep = f" EP{d['ep']}" if d["ep"] and d["ep"] > 1 else ""
    row += [
        Cell(f"TP{d['tp']}{ep} x{d['batch']:,}", (d["tp"], d["ep"], d["batch"])),
        cells.seconds(f["gpu_seconds"]),
        cells.seconds(f["latency_s"]),
        cells.joules(f["joules"]),
    ]
    if priced:
        row.append(cells.usd(f["usd_per_1000"]))
    return row


def verifier_note(deploy: DeployCosts) -> str | None:
    """How the verifier rule's scoring pass is priced (None without the rule)."""
    if deploy.verifier is None:
        return None
    return (
        f"verifier: {deploy.verifier.model} on its own replica of the same accelerator (the "
        "smallest that holds its weights and the longest candidate's prefill), each candidate "
        "scored as a prefill of the prompt and its generated tokens, priced over the length "
        "distribution (the expectation, not the mean length's price); its GPU-seconds, dollars and "
        "joules are added to the verifier rule's, its scoring passes (after the longest trial) "
        "to the latency"
    )


def energy_line(pricings: Sequence[tuple[str, DeployCosts]]) -> str | None:
    """The power behind the pricings' joules: one sentence where every accelerator uses the
    same, else each accelerator's (measured serving power on some, TDP on others); None
    without pricings."""
    models = list(dict.fromkeys(d.power_model for _, d in pricings))
    if not models:
        return None
    if len(models) == 1:
        return f"energy: {models[0]}"
    return "energy: " + "; ".join(f"{name}: {d.power_model}" for name, d in pricings)


def checks_paragraph(pricings: Sequence[tuple[str, DeployCosts]]) -> str | None:
    """How the pricings' efficiency mode fared against published runs, for the kinds of model
    they priced: one accelerator's ranges, or each accelerator's in one paragraph
    (report/checks.py); None without pricings."""
    from kinetics_cli.report.checks import (
        checks_sentence,
        comparison_sentence,
        unchecked_sentence,
    )

    if not pricings:
        return None
    text = (
        checks_sentence(pricings[0][1].family_checks())
        if len(pricings) == 1
        else comparison_sentence([(name, d.family_checks()) for name, d in pricings])
    )
    return text or unchecked_sentence(pricings[0][1].efficiency_mode)


def print_deploy_notes(deploy: DeployCosts, configurations: int) -> None:
    """What the deployable figures assume, and which configurations no replica holds."""
    from kinetics_cli.report.console import say

    say(
        f"deployable: each configuration on the smallest {deploy.hardware} replica (TP within a "
        "node; EP for MoE where cheaper) that holds the weights and one problem's trials at the "
        f"limit, at the most problems in flight that "
        + ("fit" if deploy.batch_rule == "memory" else "fit and meet the TPOT target")
        + f"; {deploy.efficiency_label}"
    )
    say(checks_paragraph([(deploy.hardware, deploy)]) or "")
    say(f"energy: {deploy.power_model}")
    note = verifier_note(deploy)
    if note:
        say(note)
    dropped = sum(deploy.dropped.values())
    if dropped:
        reasons = "; ".join(f"{n:,}: {why}" for why, n in deploy.dropped.items())
        say(
            f"{dropped:,} of {configurations:,} configurations dropped (no replica of "
            f"{deploy.hardware} holds them): {reasons}"
        )


SHORT_SELECTION = {
    "coverage": "cov (oracle)",
    "majority": "majority",
    "verifier": "verifier",
    "early-stop": "early-stop",
}


def short_strategy(doc: dict[str, Any]) -> str:
    """'long-CoT' or 'BoN-8 majority': the trials and the selection rule."""
    if doc["strategy"] == "long-cot":
        return "long-CoT"
    rule = SHORT_SELECTION.get(doc.get("selection", "coverage"), "cov (oracle)")
    if doc.get("selection") == "early-stop":
        rule += f" ~{doc['expected_trials']:.1f}"
    return f"BoN-{doc['trials']} {rule}"


def strategy_cell(doc: dict[str, Any]) -> Cell:
    """short_strategy shown; in CSV the strategy, trials, selection rule (empty for one trial)
    and the expected trials run (below the trials for an early-stopped vote)."""
    rule = doc.get("selection") if doc["strategy"] != "long-cot" else None
    expected = doc.get("expected_trials")
    return Cell(
        short_strategy(doc),
        (doc["strategy"], doc["trials"], rule, doc["trials"] if expected is None else expected),
    )


def short_attention(doc: dict[str, Any]) -> str:
    label = attention_label(doc["attention"])
    return label if doc["kv_budget"] is None else f"{label} {tokens(doc['kv_budget'])}"


def config_cells(
    doc: dict[str, Any], cost: float, priced: bool = False, mixed: bool = False
) -> list[Any]:
    """One configuration as table cells: model, strategy, limit, attention (with what the accuracy
    rests on when `mixed`), accuracy, `cost` (eFLOPs or FLOPs), time, and dollars per 1,000
    problems when `priced`."""
    row: list[Any] = [
        doc["model"],
        strategy_cell(doc),
        cells.token_count(doc["gen_len"]),
        attention_cell(doc, mixed),
        accuracy_cell(doc),
        cells.flop_count(cost),
        cells.seconds(doc["seconds"]),
    ]
    if priced:
        row.append(cells.usd(doc["usd_per_1000"]))
    return row


def _print_comparison(answer: Plan, doc: dict[str, Any]) -> None:
    from kinetics_cli.report.console import say

    unit = answer.unit
    flops_pick = doc["flops_law_pick"]
    if flops_pick is None:
        say("The FLOPs-only law finds no configuration within this budget either.")
        return
    true_cost = flops_pick["cost"]
    if "deployable" in flops_pick and not flops_pick["deployable"]["fits"]:
        say(
            f"FLOPs-only law (same budget counted without memory traffic) picks "
            f"{describe(flops_pick)}: accuracy {flops_pick['accuracy']:.1%}, which "
            f"{unheld(flops_pick['deployment'], '')}."
        )
        return
    over = true_cost > answer.budget
    status = (
        f"{true_cost / answer.budget:.2f}x the budget: over budget" if over else "within the budget"
    )
    say(
        f"FLOPs-only law (same budget counted without memory traffic) picks {describe(flops_pick)}: "
        f"accuracy {accuracy_text(flops_pick)}, true cost {format_cost(true_cost, unit)} "
        f"({status})."
    )
    ratio = answer.cost_ratio
    equal = doc["equal_accuracy_kinetics"]
    if ratio is not None and equal is not None and equal == flops_pick:
        say(
            f"At its accuracy ({flops_pick['accuracy']:.1%}) no configuration is cheaper under the "
            "Kinetics law: cost ratio 1.00."
        )
    elif ratio is not None and equal is not None:
        say(
            f"At equal accuracy ({flops_pick['accuracy']:.1%}) the Kinetics law's cheapest choice, "
            f"{describe(equal)}, costs {format_cost(equal['cost'], unit)}: the FLOPs-law pick costs "
            f"{ratio:.2f}x as much."
        )


def plot_plan(setup: Setup, answer: Plan, path: Path, *, force: bool = False) -> None:
    """The frontier with the budget and the two laws' picks marked, on the axis of the law that
    chose: with --law flops the costs (and the budget) are FLOPs-law costs."""
    marks = []
    if answer.best is not None:
        marks.append((answer.best, f"{LAW_WORDS.get(answer.law, answer.law)} pick"))
    other_law = "flops" if answer.law == "kinetics" else "kinetics"
    other = answer.picks[other_law]
    if other is not None and other != answer.best:
        marks.append((other, f"{LAW_WORDS[other_law]} pick"))
    where = f"on {setup.profile.name}" + (
        f" (deployable, {setup.pricing.deploy.efficiency_mode} efficiencies)"
        if setup.pricing.deploy is not None
        else ""
    )
    if answer.law == "flops":
        xlabel = {
            "eflops": "FLOPs per problem (FLOPs-only law: memory traffic not counted)",
            "seconds": f"compute-only GPU-seconds per problem {where}",
            "usd": f"US dollars per 1,000 problems at compute-only time {where}",
            "latency": f"compute-only wall seconds per problem {where}",
            "joules": f"compute-only joules per problem {where}",
        }[answer.unit]
    else:
        xlabel = {
            "eflops": "eFLOPs per problem (Kinetics law)",
            "seconds": f"GPU-seconds per problem {where}",
            "usd": f"US dollars per 1,000 problems {where}",
            "latency": f"wall seconds per problem {where}",
            "joules": f"joules per problem {where}",
        }[answer.unit]
    frontier_plot(
        setup.grid,
        answer.law_cost,
        path,
        title=f"{setup.task}: accuracy against cost, budget {format_cost(answer.budget, answer.unit)} "
        f"({source_words(setup)}, {LAW_WORDS.get(answer.law, answer.law)})",
        xlabel=xlabel,
        budget=answer.budget,
        marks=marks,
        force=force,
    )


# ---- plans across accelerators ----------------------------------------------------------------


def comparison_document(setup: Setup, comparison: HardwareComparison) -> dict[str, Any]:
    """The `plan --json` document when several accelerators compete: the overall best, the
    best on each accelerator and how far each is from the overall best."""
    from kinetics_cli.planner.plan import configuration

    options = {h.profile.name: h for h in setup.hardware}
    rows = []
    for rank, pick in enumerate(comparison.picks):
        h = options[pick.hardware]

        def config(i: int | None, h: Any = h, pick: Any = pick) -> dict[str, Any] | None:
            if i is None:
                return None
            doc = configuration(h.grid, i, h.pricing)
            doc.update(
                cost=float(pick.plan.true_cost[i]),
                flops_law_cost=float(pick.plan.flops_cost[i]),
                within_budget=bool(pick.plan.true_cost[i] <= comparison.budget),
            )
            return doc

        rows.append(
            {
                "hardware": pick.hardware,
                "rank": rank + 1,
                "price_per_gpu_hour": h.profile.price_per_gpu_hour,
                "intensity": h.pricing.intensity,
                "best": config(pick.best),
                # 0.0 - x, not -x: a tie at the best's accuracy is 0.0 behind, never -0.0
                "accuracy_points_behind": None if rank == 0 else 0.0 - pick.accuracy_points,
                "cost_ratio": pick.cost_ratio,
                "equal_accuracy": config(pick.equal_accuracy),
                "equal_accuracy_cost_ratio": pick.equal_accuracy_ratio,
                "statistically_best": pick.in_best_set,
                "flops_law_pick": config(pick.plan.picks["flops"]),
                "cheapest": config(pick.plan.cheapest),
                **deploy_summary(h.pricing.deploy),
            }
        )
    best = rows[0]
    most = None
    if comparison.most_accurate is not None and comparison.most_accurate_hardware is not None:
        h = options[comparison.most_accurate_hardware]
        pick = next(p for p in comparison.picks if p.hardware == h.profile.name)
        most = configuration(h.grid, comparison.most_accurate, h.pricing)
        most.update(
            hardware=h.profile.name,
            cost=float(pick.plan.true_cost[comparison.most_accurate]),
        )
    floor = None
    if comparison.tie_floor is not None and comparison.tie_floor_hardware is not None:
        h = options[comparison.tie_floor_hardware]
        pick = next(p for p in comparison.picks if p.hardware == h.profile.name)
        floor = configuration(h.grid, comparison.tie_floor, h.pricing)
        floor.update(hardware=h.profile.name, cost=float(pick.plan.true_cost[comparison.tie_floor]))
    # the cheapest configuration on any accelerator, by the cost the law picks by (as `plan`
    # on one accelerator names it): what the budget would have to reach when nothing fits
    law = comparison.picks[0].plan.law
    low = min(comparison.picks, key=lambda p: float(p.plan.law_cost[p.plan.cheapest]))
    cheapest = {"hardware": low.hardware, **rows[comparison.picks.index(low)]["cheapest"]}
    return {
        "task": setup.task,
        "budget": comparison.budget,
        "budget_unit": comparison.unit,
        "law": law,
        "hardware": [h.profile.name for h in setup.hardware],
        "accuracy_source": setup.source_document,
        "best_hardware": None if best["best"] is None else best["hardware"],
        "best": best["best"],
        # the most accurate configuration any accelerator affords (on the one where it costs
        # least) and how many others within budget could not be told apart from it; the best
        # is the cheapest of those, on any accelerator
        "most_accurate": most,
        "indistinguishable_count": comparison.ties,
        # of those, how many the tests themselves could not tell apart from the most accurate,
        # and the least accurate of them (on the accelerator where it costs least)
        "indistinguishable_tested": comparison.ties_tested,
        "least_accurate_tested": floor,
        "cheapest": cheapest,
        "by_hardware": rows,
        "skipped_hardware": [{"hardware": k, "reason": v} for k, v in comparison.skipped.items()],
        "configurations": len(setup.grid),
        "left_out": setup.left_out_document,
    }


def print_comparison(setup: Setup, comparison: HardwareComparison, doc: dict[str, Any]) -> None:
    """The human answer to `plan` over several accelerators."""
    from kinetics_cli.accuracy.base import CONFIDENCE
    from kinetics_cli.report.console import say

    unit = comparison.unit
    first = setup.hardware[0].pricing.deploy
    mode = first.efficiency_mode if first is not None else "default"
    say(
        f"Plan for {setup.task} across {len(setup.hardware)} accelerators: budget "
        f"{format_cost(comparison.budget, unit)} {DEPLOYABLE_UNIT_WORDS[unit]} (deployable, "
        f"{mode} efficiencies)"
    )
    say(source_line(setup))
    for h in setup.hardware:
        deploy = h.pricing.deploy
        # a skipped accelerator is named once, with why, below; its dropped configurations
        # would only add a line about hardware that is not in the answer
        if deploy is not None and deploy.dropped and h.profile.name not in comparison.skipped:
            n = sum(deploy.dropped.values())
            say(
                f"{h.profile.name}: {n:,} of {len(h.grid):,} configurations dropped: "
                + "; ".join(f"{k:,}: {why}" for why, k in deploy.dropped.items())
            )
    for name, why in comparison.skipped.items():
        say(f"skipped {name}: {why}")
    if first is not None:
        priced = [
            (h.profile.name, h.pricing.deploy)
            for h in setup.hardware
            if h.pricing.deploy is not None and h.profile.name not in comparison.skipped
        ]
        checked = checks_paragraph(priced)
        if checked:
            say(checked)
        energy = energy_line(priced)
        if energy:
            say(energy)
        note = verifier_note(first)
        if note:
            say(note)
    best = doc["best"]
    if best is None:
        cheapest = doc["cheapest"]
        cost_key = "flops_law_cost" if doc["law"] == "flops" else "cost"
        say(
            "No configuration fits this budget on any accelerator. The cheapest, "
            f"{cheapest['hardware']}, {describe(cheapest)}, costs "
            f"{format_cost(cheapest[cost_key], unit)} ({cheapest['accuracy']:.1%} accuracy)."
        )
        return
    say(
        f"Best: {doc['best_hardware']}, {describe(best)}: accuracy {sourced_accuracy(best)}, "
        + deploy_text(best)
    )
    _say_serve_line(best, explain=True)
    most = doc["most_accurate"]
    if (
        most is not None
        and doc["indistinguishable_count"]
        and (most["hardware"] != doc["best_hardware"] or describe(most) != describe(best))
    ):
        say(
            f"The most accurate on any accelerator, {most['hardware']}, {describe(most)} at "
            f"{accuracy_text(most)}, cannot be told apart from "
            f"{plural(doc['indistinguishable_count'], 'other configuration')} within budget "
            f"(on some accelerator) at {CONFIDENCE:.0%} "
            "confidence, so the cheapest, on any accelerator, was chosen; each row below is the "
            "cheapest of those its accelerator affords, or its own best where it affords none."
            + _closure_text(
                doc["indistinguishable_count"],
                doc["indistinguishable_tested"],
                doc["least_accurate_tested"],
            )
        )
    rows = []
    mixed = mixed_kinds(setup.grid)
    for row in doc["by_hardware"]:
        b = row["best"]
        if b is None:
            rows.append([row["hardware"], "nothing fits", *["-"] * 8])
            continue
        behind = row["accuracy_points_behind"]
        equal = row["equal_accuracy_cost_ratio"]
        shown = deploy_cells(b, False, mixed)
        rows.append(
            [
                row["hardware"],
                *shown[:5],
                shown[6],
                cost_cell(b["cost"], unit),
                "-" if behind is None else Cell(f"{0.0 - behind:+.1f} pt", (0.0 - behind,)),
                "-" if equal is None else Cell(f"{equal:.2f}x", (equal,)),
            ]
        )
    compact_table(
        f"Best on each accelerator; cost: deployable, {DEPLOYABLE_UNIT_WORDS[unit]}; vs "
        "best: its accuracy minus the overall best's, in points, and the cost of reaching the best's accuracy "
        "there over its cost; replica: TPn xB, B problems in flight",
        [
            "hardware",
            "model",
            "strategy",
            ">limit",
            "attention, KV",
            ">accuracy",
            "replica",
            ">cost",
            ">accuracy vs best",
            ">cost at equal accuracy",
        ],
        rows,
        csv_columns={
            "cost": (f"cost ({COST_UNITS[unit]})",),
            "accuracy vs best": ("accuracy vs best (points)",),
            "cost at equal accuracy": ("cost at equal accuracy (ratio)",),
        },
    )
    say_oracle_note([r["best"] for r in doc["by_hardware"] if r["best"] is not None])


# ---- frontier --------------------------------------------------------------------------------

MAX_COLUMNS = 9  # cost columns of the per-model table


def frontier_document(
    setup: Setup, frontier: Frontier, allocation: Allocation | None = None, *, records: bool = False
) -> dict[str, Any]:
    """The `frontier --json` document: plain JSON values, or with `records` its configurations
    as a jsontext.Records (the same list of dicts, held by column, which `jsontext.dumps` writes
    without making a dict per configuration; what the CLI writes)."""
    from kinetics_cli.planner.plan import configuration_columns
    from kinetics_cli.report.jsontext import Records

    columns = configuration_columns(setup.grid, setup.pricing)
    columns["pareto"] = frontier.overall.tolist()
    columns["group_pareto"] = frontier.per_group.tolist()
    configurations: Records | list[dict[str, Any]] = Records(columns)
    if not records:
        configurations = list(configurations)
    return {
        "task": setup.task,
        "law": frontier.law,
        "hardware": setup.profile.name,
        "intensity": setup.pricing.intensity,
        "accuracy_source": setup.source_document,
        "selection_rules": list(setup.grid.rules),
        "configurations": configurations,
        "left_out": setup.left_out_document,
        "allocation": allocation_document(allocation),
    }


def cost_columns(cost: Any, most: int = MAX_COLUMNS) -> list[float]:
    """Cost levels (powers of ten) spanning the grid, at most `most` of them."""
    import math

    positive = cost[cost > 0]
    low = math.ceil(math.log10(float(positive.min())))
    high = math.ceil(math.log10(float(positive.max())))
    step = max(1, math.ceil((high - low + 1) / max(1, most)))
    levels = list(range(high, low - 1, -step))[::-1]
    return [10.0**e for e in levels]


def print_frontier(
    setup: Setup, frontier: Frontier, full: bool, allocation: Allocation | None = None
) -> None:
    """The human answer to `frontier`, on stdout through rich."""
    import numpy as np

    from kinetics_cli.accuracy.selection import ORACLE_RULES
    from kinetics_cli.planner.pareto import best_within, frontier_order
    from kinetics_cli.planner.plan import ORACLE_ATTENTION, configuration
    from kinetics_cli.report.console import say, table_fits

    grid = setup.grid
    law, cost, levels = frontier.law, frontier.cost, frontier.levels
    overall, per_group = frontier.overall, frontier.per_group
    groups, keys = frontier.groups, frontier.keys
    unit = "eFLOPs" if law == "kinetics" else "FLOPs"
    say(
        f"Frontier for {setup.task} on {setup.profile.name}: cost per problem in {unit} "
        f"({LAW_WORDS.get(law, law)}, I = {format_intensity(setup.pricing.intensity)} FLOPs/byte); "
        f"{plural(len(grid), 'configuration')}"
    )
    say(source_line(setup))
    say(
        "time: the law's accelerator time per problem (compute / peak + bytes / HBM bandwidth, "
        f"not a deployment); {setup.profile.calibration_note}"
    )

    mixed = mixed_kinds(grid)

    def rows(indices: Any) -> list[list[Any]]:
        return [
            config_cells(configuration(grid, int(i), setup.pricing), float(cost[i]), mixed=mixed)
            for i in indices
        ]

    columns = ["model", "strategy", ">limit", "attention, KV", ">accuracy", f">{unit}", ">time"]
    order = np.flatnonzero(overall)
    order = order[np.argsort(cost[order], kind="stable")]
    compact_table("Overall frontier, cheapest first", columns, rows(order))

    rank = {"dense": 0, "topk": 1, "block-topk": 2}
    model_params = dict(zip((s.model for s in grid.settings), grid.params, strict=True))
    ordered = sorted(
        enumerate(keys), key=lambda item: (model_params[item[1][0]], item[1][0], rank[item[1][1]])
    )
    # As many cost columns as the console holds (every one of them in CSV and Markdown); each
    # group's members and each (group, cost) cell found once, whatever the number of columns.
    members_of = {label: np.flatnonzero(groups == label) for label, _ in ordered}
    picked: dict[tuple[int, float], Cell | str] = {}

    def cell(label: int, cut: float) -> Cell | str:
        if (label, cut) not in picked:
            members = members_of[label]
            pick = best_within(cost[members], levels[members], cut)
            picked[label, cut] = "-" if pick is None else _accuracy_cell(grid, int(members[pick]))
        return picked[label, cut]

    # each group's leading cells, the same whatever the cost columns
    leading: dict[int, list[Any]] = {
        label: [
            model,
            cells.param_count(model_params[model]),
            attention_label(attention),
            int(per_group[members_of[label]].sum()),
            int(overall[members_of[label]].sum()),
        ]
        for label, (model, attention) in ordered
    }
    tried: set[tuple[float, ...]] = set()
    for most in range(MAX_COLUMNS, 0, -1):
        cuts = cost_columns(cost, most)
        if tuple(cuts) in tried and most > 1:
            continue  # fewer columns allowed, the same levels: they did not fit
        tried.add(tuple(cuts))
        table = [leading[label] + [cell(label, float(cut)) for cut in cuts] for label, _ in ordered]
        header = ["model", ">active", "attention", ">frontier", ">on overall"]
        header += [f">{format_cost(v, 'eflops')}" for v in cuts]
        if most == 1 or table_fits(
            header,
            table,
            wrap=("attention", "frontier", "on overall"),
            optional=("active", ("frontier", "on overall")),
        ):
            break
    within = {
        f"{format_cost(v, 'eflops')}": cells.accuracy_columns(
            f" within {format_cost(v, 'eflops')} {unit}"
        )
        for v in cuts
    }
    compact_table(
        "Best accuracy [interval] of each model and attention kind within a cost per "
        f"problem ({unit}); frontier: its Pareto points, on overall: how many are on the overall frontier; "
        f"Best-of-N selection: the best of {', '.join(SELECTION_WORDS[r] for r in grid.rules)}",
        header,
        table,
        {"active": ("active (parameters)",), **within},
    )
    if full:
        for label, (model, attention) in ordered:
            members = np.flatnonzero(groups == label)
            points = members[frontier_order(cost[members], levels[members])]
            compact_table(
                f"Frontier of {model} {attention_label(attention)}", columns, rows(points)
            )
    if allocation is not None and allocation.levels.size:
        # each row's label says, in CSV, the unit of its figures (accuracy or cost)
        def accuracy_row(label: str, values: Any) -> list[Any]:
            return [Cell(label, (f"{label}: accuracy (%)",)), *map(cells.percent, values)]

        def cost_row(label: str, of: str, values: Any) -> list[Any]:
            return [Cell(label, (f"{of}: {label.strip()} (eFLOPs)",)), *map(_level_cost, values)]

        rows_a = []
        if allocation.per_problem_source is not None:
            oracle, uniform = "oracle per problem (cap)", "best uniform, same data"
            rows_a.append(accuracy_row(oracle, allocation.oracle_levels))
            rows_a.append(cost_row("  its mean cost", oracle, allocation.oracle_level_cost))
            rows_a.append(accuracy_row(uniform, allocation.uniform_levels))
            rows_a.append(cost_row("  its mean cost", uniform, allocation.uniform_level_cost))
        if allocation.adaptive_source is not None:
            adaptive = "long-first (deployable)"
            rows_a.append(accuracy_row(adaptive, allocation.adaptive_levels))
            rows_a.append(cost_row("  its expected cost", adaptive, allocation.adaptive_level_cost))
        compact_table(
            "Allocation within each cost per problem (eFLOPs): the per-problem oracle (the "
            "paper's frontier) against one configuration for all, and the deployable "
            "long-first rule",
            ["", *(f">{format_cost(v, 'eflops')}" for v in allocation.levels)],
            rows_a,
            {
                "": ("allocation",),
                **{
                    format_cost(v, "eflops"): (f"within {format_cost(v, 'eflops')} eFLOPs",)
                    for v in allocation.levels
                },
            },
        )
        if allocation.per_problem_source is not None:
            say(f"per-problem data: {allocation.per_problem_source}")
        if allocation.adaptive_source is not None:
            say(f"long-first rule: {allocation.adaptive_source}")
        for note in allocation.notes:
            say(f"Not available: {note}.")
    rules = [r in ORACLE_RULES for r in (*grid.rules, "single")]  # index -1: one trial
    assert grid.selection is not None
    closing = oracle_note(
        bool(np.any(np.asarray(rules)[grid.selection] & (grid.trials > 1))),
        any(a == ORACLE_ATTENTION for _, a in keys),
    )
    if closing is not None:
        say(closing)


def _accuracy_cell(grid: Grid, i: int) -> Cell:
    """Configuration i's accuracy with its interval, as the other tables write it."""
    from kinetics_cli.planner.plan import accuracy_interval

    return accuracy_cell(
        {"accuracy": float(grid.accuracy[i]), "accuracy_ci": accuracy_interval(grid, i)}
    )


def plot_frontier(
    setup: Setup,
    frontier: Frontier,
    path: Path,
    *,
    force: bool = False,
    allocation: Allocation | None = None,
) -> None:
    """Accuracy against cost, one curve per model and attention kind; with `allocation`, its
    per-problem oracle, best uniform and long-first points at each cost level too."""
    from kinetics_cli.report.format import intensity

    frontier_plot(
        setup.grid,
        frontier.cost,
        path,
        title=f"{setup.task}: accuracy against cost per problem ({source_words(setup)}, "
        f"{LAW_WORDS.get(frontier.law, frontier.law)}, I = {intensity(setup.pricing.intensity)} FLOPs/byte)",
        xlabel="eFLOPs per problem" if frontier.law == "kinetics" else "FLOPs per problem",
        force=force,
        allocation=allocation,
    )


# ---- figures ---------------------------------------------------------------------------------

MARKERS = (  # the picks: (marker, face colour), never a model's colour
    ("*", "white"),
    ("D", "black"),
)
# Models drawn in colour: those on the overall frontier or picked, at most this many (the rest
# thin and grey, as "other models"); more hues than this cannot be told apart at a glance.
MAX_COLORED_MODELS = 8


def frontier_plot(
    grid: Grid,
    cost: np.ndarray,
    path: Path,
    *,
    title: str = "",
    xlabel: str = "cost per problem (eFLOPs)",
    budget: float | None = None,
    marks: Sequence[tuple[int, str]] = (),
    force: bool = False,
    allocation: Allocation | None = None,
) -> Path:
    """Accuracy (percent) against `cost` on a log axis.

    One step curve per (model, attention kind): those with a point on the overall frontier or a
    pick in their model's fixed colour (report.plotting.MODEL_COLORS), attention kind by line
    style, every other curve thin and grey; the overall frontier underneath in black. `marks` are
    (configuration, label) pairs drawn as large black-and-white markers, `budget` as a vertical
    line; `allocation` (costs on the same axis) its curves at each of its cost levels.
    """
    import numpy as np

    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.pareto import frontier_order
    from kinetics_cli.planner.plan import accuracy_levels
    from kinetics_cli.report.format import format_count
    from kinetics_cli.report.plotting import (
        LINESTYLES,
        check_path,
        model_colors,
        new_figure,
        overall_step,
        save_figure,
    )

    check_path(path, force=force)
    if len(grid) == 0:
        raise InputError("nothing to plot")
    fig, ax = new_figure(8.5, 5.0)

    groups, keys = grid.group_labels()
    model_params = {s.model: p for s, p in zip(grid.settings, grid.params, strict=True)}
    levels = accuracy_levels(grid.accuracy)
    positive = np.isfinite(cost) & (cost > 0)  # configurations no replica holds: inf
    overall = np.flatnonzero(positive)[frontier_order(cost[positive], levels[positive])]
    banded = grid.accuracy_lo.size == grid.accuracy.size
    # In colour: the (model, attention kind) curves with a point on the overall frontier or a
    # pick, for at most MAX_COLORED_MODELS models; every other curve thin and grey.
    featured = [int(groups[i]) for i in [*(m for m, _ in marks), *overall[::-1]]]
    colored = list(dict.fromkeys(keys[g][0] for g in featured))[:MAX_COLORED_MODELS]
    colors = model_colors(colored)
    highlighted = {g for g in featured if keys[g][0] in colors}
    others = False
    for label, (model, attention) in enumerate(keys):
        members = np.flatnonzero((groups == label) & positive)
        if members.size == 0:
            continue
        order = members[frontier_order(cost[members], levels[members])]
        mine = label in highlighted
        others = others or not mine
        ax.step(
            cost[order],
            100 * grid.accuracy[order],
            where="post",
            color=colors[model] if mine else "0.75",
            ls=LINESTYLES.get(attention, "-"),
            lw=1.4 if mine else 0.7,
            alpha=0.95 if mine else 0.8,
            zorder=3 if mine else 2,
        )
        if banded and mine and len(highlighted) <= 6:  # interval along this curve (few curves)
            ax.fill_between(
                cost[order],
                100 * grid.accuracy_lo[order],
                100 * grid.accuracy_hi[order],
                step="post",
                color=colors[model],
                alpha=0.08,
                lw=0,
            )
    if banded:
        from kinetics_cli.accuracy.base import CONFIDENCE

        ax.fill_between(
            cost[overall],
            100 * grid.accuracy_lo[overall],
            100 * grid.accuracy_hi[overall],
            step="post",
            color="black",
            alpha=0.12,
            lw=0,
            zorder=1,
            label=f"{CONFIDENCE:.0%} accuracy interval",
        )
    overall_step(ax, cost[overall], 100 * grid.accuracy[overall], "overall frontier")
    ax.scatter(cost[overall], 100 * grid.accuracy[overall], color="black", s=8, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="0.2", lw=1.2, ls="-.", label="budget", zorder=2)
    for n, (index, text) in enumerate(marks):
        marker, face = MARKERS[n % len(MARKERS)]
        ax.scatter(
            [cost[index]],
            [100 * grid.accuracy[index]],
            marker=marker,
            s=220 if marker == "*" else 90,
            facecolor=face,
            edgecolor="black",
            linewidth=1.2,
            zorder=5,
            label=f"{text}: {grid.model(index)}",
        )
    if allocation is not None:
        _draw_allocation(ax, allocation)
    for model in sorted(colors, key=lambda m: model_params[m]):
        active = format_count(model_params[model])
        ax.plot([], [], color=colors[model], lw=2, label=f"{model} ({active} active)")
    if others:
        ax.plot([], [], color="0.75", lw=1, label="off the overall frontier")
    for attention, style in LINESTYLES.items():
        if any(a == attention for _, a in keys):
            ax.plot([], [], color="black", ls=style, lw=1.4, label=attention_label(attention))
    accuracy_axes(ax, xlabel, title or "Accuracy against cost per problem")
    return save_figure(fig, path, force=force)


def _level_cost(value: float) -> Cell | str:
    """A cost cell of the allocation table: '-' where the level has no figure."""
    import math

    return "-" if math.isnan(value) else cost_cell(value, "eflops")


def allocation_curves(allocation: Allocation) -> list[tuple[str, Any, Any]]:
    """(label, cost, accuracy) of each allocation the report computed, at its cost levels, each
    at the cost it spends there: the per-problem oracle at its mean cost (each problem within
    the level), the best uniform configuration at its mean cost and the long-first rule at its
    expected cost (both at most the level); levels without a figure left out."""
    import numpy as np

    curves = []
    if allocation.per_problem_source is not None:
        curves.append(
            (
                "oracle per problem (mean cost)",
                allocation.oracle_level_cost,
                allocation.oracle_levels,
            )
        )
        curves.append(
            (
                "best uniform, same data",
                allocation.uniform_level_cost,
                allocation.uniform_levels,
            )
        )
    if allocation.adaptive_source is not None:
        curves.append(
            (
                "long-first (deployable)",
                allocation.adaptive_level_cost,
                allocation.adaptive_levels,
            )
        )
    out = []
    for label, cost, accuracy in curves:
        cost, accuracy = np.asarray(cost, dtype=float), np.asarray(accuracy, dtype=float)
        keep = np.isfinite(cost) & np.isfinite(accuracy) & (cost > 0)
        if keep.any():
            out.append((label, cost[keep], accuracy[keep]))
    return out


# Markers of the allocation curves, drawn black and solid: no model colour and no attention
# line style is reused.
ALLOCATION_MARKERS = {
    "oracle per problem (mean cost)": "o",
    "best uniform, same data": "s",
    "long-first (deployable)": "^",
}


def _draw_allocation(ax: Any, allocation: Allocation) -> None:
    """The allocation curves on a frontier plot, black markers joined by thin lines."""
    for label, cost, accuracy in allocation_curves(allocation):
        ax.plot(
            cost,
            100 * accuracy,
            marker=ALLOCATION_MARKERS[label],
            ls="-",
            color="black",
            mfc="white",
            lw=0.8,
            ms=6,
            zorder=6,
            label=label,
        )


def accuracy_axes(ax: Any, xlabel: str, title: str) -> None:
    """The frontier plots' axes: cost on a log axis, accuracy 0-100%, legend outside."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, which="major", alpha=0.3)
    import textwrap

    # Centred over the axes, a title longer than them would run off the figure's left edge.
    ax.set_title(textwrap.fill(title, width=80), fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
