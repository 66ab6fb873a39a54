"""How the serving model fared against published runs, in words: the sentence `plan` and
`serve` print beside their deployable figures (engine/serving_checks.py holds the figures)."""

from __future__ import annotations

from collections.abc import Sequence

from kinetics_cli.engine.serving_checks import ServingCheck

FAMILY_WORDS = {"dense": "dense models", "moe": "MoE models"}


def _range(check: ServingCheck) -> str:
    """'0.61-2.23x (median 1.47x, 20 runs)'."""
    return f"{check.low:.2f}-{check.high:.2f}x (median {check.median:.2f}x, {check.runs} runs)"


def _runs(checks: Sequence[ServingCheck]) -> str:
    """'checked against published max-throughput runs (TensorRT-LLM, fp8 and nvfp4 weights, ...;
    docs/serving.md section 7)': what the runs were."""
    isl = (min(c.isl[0] for c in checks), max(c.isl[1] for c in checks))
    osl = (min(c.osl[0] for c in checks), max(c.osl[1] for c in checks))
    weights = sorted({w for c in checks for w in c.weights})
    formats = " and ".join(weights) if len(weights) < 3 else ", ".join(weights)
    return (
        f"checked against published max-throughput runs (TensorRT-LLM, {formats} weights, dense "
        f"attention, prompts of {isl[0]:,}-{isl[1]:,} and generations of {osl[0]:,}-{osl[1]:,} "
        "tokens; docs/serving.md section 7)"
    )


def _where(check: ServingCheck) -> str:
    """'on b200', or for an accelerator without runs, 'on b200, h200 (none run on mi300x)'."""
    if check.on_hardware:
        return f"on {check.hardware}"
    return f"on {', '.join(check.checked_on)} (none run on {check.hardware})"


PLAN_CONSEQUENCE = "GPU time, dollars and energy are low by that factor (below 1x, high)"
SERVE_CONSEQUENCE = "tokens/s and requests/s here are high by that factor (below 1x, low)"


def checks_sentence(
    checks: Sequence[ServingCheck], consequence: str = PLAN_CONSEQUENCE
) -> str | None:
    """One paragraph on the checks of a mode's predictions (one per model kind), or None where
    there are none: predicted / published output tokens/s, what a ratio above 1 means for the
    figures printed (`consequence`), the lengths the runs covered and what they did not."""
    if not checks:
        return None
    places = {_where(c) for c in checks}
    if len(places) == 1:  # every kind checked on the same accelerators: say them once
        clauses = f"{places.pop()}: " + "; ".join(
            f"{FAMILY_WORDS[c.family]} {_range(c)}" for c in checks
        )
    else:
        clauses = "; ".join(f"{FAMILY_WORDS[c.family]} {_where(c)} {_range(c)}" for c in checks)
    return (
        f"{_runs(checks)}, predicted / published output tokens/s with {checks[0].mode} "
        f"efficiencies {clauses}. Above 1x a prediction is too fast, and {consequence}. Sparse "
        "attention and longer generations were not in those runs."
    )


def comparison_sentence(by_hardware: Sequence[tuple[str, Sequence[ServingCheck]]]) -> str | None:
    """The checks of several accelerators' pricings in one paragraph: per accelerator, each
    model kind's range (an accelerator without runs gets those on every accelerator with runs,
    said so). None where no accelerator's mode was checked."""
    rows = [(name, checks) for name, checks in by_hardware if checks]
    if not rows:
        return None
    every = [c for _, checks in rows for c in checks]
    families = list(dict.fromkeys(c.family for c in every))

    def cell(checks: Sequence[ServingCheck]) -> str:
        found = {c.family: c for c in checks}
        text = " / ".join(
            f"{found[f].low:.2f}-{found[f].high:.2f}x" if f in found else "-" for f in families
        )
        off = next((c for c in checks if not c.on_hardware), None)
        return text + (f" (none run there; runs on {', '.join(off.checked_on)})" if off else "")

    kinds = " / ".join(FAMILY_WORDS[f].removesuffix(" models") for f in families)
    return (
        f"{_runs(every)}, predicted / published output tokens/s with {every[0].mode} "
        f"efficiencies, {kinds} models: "
        + "; ".join(f"{name} {cell(checks)}" for name, checks in rows)
        + f". Above 1x a prediction is too fast, and {PLAN_CONSEQUENCE}. Sparse attention and "
        "longer generations were not in those runs."
    )


def unchecked_sentence(mode: str) -> str:
    """What to say where a mode's predictions were never checked (no published run has a
    profile in that mode, e.g. calibrated)."""
    return (
        f"not checked: no published run was predicted with {mode} efficiencies "
        "(docs/serving.md section 7 has the default and datasheet checks)"
    )
