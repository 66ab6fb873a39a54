"""`kinetics isocost`: what every model affords within one per-problem budget, under both laws."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import (
    JSON_OPTION,
    block_size_option,
    count,
    hardware_option,
    intensity_option,
    plot_option,
    quantity,
)


def isocost(
    budget: float | None = typer.Option(
        None, "--budget", parser=quantity, metavar="X", help="eFLOPs per problem, e.g. 1e15 or 1P."
    ),
    match: str | None = typer.Option(
        None,
        "--match",
        metavar="MODEL:L_OUT[:N]",
        help="Use the cost of this reference (dense attention) as the budget, priced by each law.",
    ),
    models: list[str] = typer.Option(
        [],
        "--models",
        "-m",
        help="Models to include: names, aliases or globs, comma-separated or repeated "
        "(default: every model in the catalog).",
    ),
    strategy: str = typer.Option(
        "long-cot",
        "--strategy",
        help="long-cot: the longest generation per trial (N = --trials); best-of-n: the most "
        "trials (L_out = --gen-len).",
    ),
    trials: int = typer.Option(1, "--trials", "-n", parser=count, help="Trials for long-cot."),
    gen_len: float | None = typer.Option(
        None, "--gen-len", parser=quantity, metavar="L_OUT", help="Tokens per trial for best-of-n."
    ),
    prompt_len: float | None = typer.Option(
        None,
        "--prompt-len",
        parser=quantity,
        metavar="L_IN",
        help="Prompt tokens (default 160, the mean AIME prompt with its chat template).",
    ),
    attention: list[str] = typer.Option(
        [],
        "--attention",
        help="Sparse variants to add to dense (topk, block-topk); repeatable. Each is solved at "
        "every --kv-budget.",
    ),
    kv_budget: list[float] = typer.Option(
        [], "--kv-budget", parser=quantity, metavar="B", help="KV budgets (tokens); repeatable."
    ),
    block_size: float = block_size_option(),
    hardware: str = hardware_option("Hardware profile giving the intensity I (name or alias)."),
    intensity: float | None = intensity_option("FLOPs per byte (overrides the profile)."),
    law: str | None = typer.Option(
        None, "--law", help="Keep only the rows of one law (kinetics or flops)."
    ),
    plot: Path | None = plot_option("Draw the iso-cost curves to FILE (.png or .svg)."),
    json: bool = JSON_OPTION,
) -> None:
    """Largest L_out (or N) each model affords at one cost, under the Kinetics and FLOPs laws."""
    from kinetics_cli.cli import context
    from kinetics_cli.engine.isocost import DEFAULT_PROMPT_LEN, isocost_rows
    from kinetics_cli.engine.kinetics import LAWS, law_intensity, problem_cost
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import emit_json, warn
    from kinetics_cli.report.isocost import print_isocost

    catalog = context.catalog()
    if (budget is None) == (match is None):
        raise InputError("give exactly one of --budget X or --match MODEL:L_OUT[:N]")
    if law is not None and law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    profile = catalog.hardware.get(hardware).spec
    i = profile.intensity if intensity is None else intensity
    if i < 0:
        raise InputError(f"--intensity must not be negative (got {i:g})")
    l_in = DEFAULT_PROMPT_LEN if prompt_len is None else prompt_len

    settings: list[tuple[str, float | None]] = [("dense", None)]
    for name in attention:
        if name == "dense":
            continue
        if not kv_budget:
            raise InputError(f"--kv-budget is required for {name} attention")
        settings += [(name, b) for b in kv_budget]
    if kv_budget and len(settings) == 1:
        warn(
            "--kv-budget applies to sparse attention only (--attention topk or block-topk); "
            "dense attention ignores it"
        )

    if match is not None:
        ref_card, ref_len, ref_trials = _parse_match(match, catalog)
        reference = problem_cost(ref_card, l_in, ref_len, ref_trials)
        budgets = {name: float(reference.eflops(law_intensity(name, i))) for name in LAWS}
        label = f"cost of {ref_card.name} at L_out {ref_len:g}, N {ref_trials:g} (dense)"
    else:
        assert budget is not None
        budgets = {name: budget for name in LAWS}
        label = f"{budget:.4g} eFLOPs per problem"

    # Smallest to largest, so the table reads as the size axis of the iso-cost curve.
    cards = sorted((e.spec for e in _select(models, catalog)), key=lambda c: c.active_params)
    rows = isocost_rows(
        cards,
        budgets,
        intensity=i,
        strategy=strategy,
        prompt_len=l_in,
        gen_len=gen_len,
        trials=trials,
        settings=settings,
        block_size=block_size,
    )
    if law is not None:
        rows = [r for r in rows if r.law == law]
    if plot is not None:
        from kinetics_cli.report.isocost import isocost_plot

        isocost_plot(rows, plot, title=f"Iso-cost at {label}, I = {i:g}")
    if json:
        emit_json([r.as_dict() for r in rows])
        return
    print_isocost(rows, label, i, strategy, l_in)


def _parse_match(text: str, catalog):  # type: ignore[no-untyped-def]
    """MODEL:L_OUT[:N]; the model name may itself hold colons (aliases such as qwen3:8b)."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_quantity

    parts = text.split(":")
    for numbers in (2, 1):
        if len(parts) <= numbers:
            continue
        name = ":".join(parts[:-numbers])
        entry = catalog.models.find(name)
        if entry is None:
            continue
        values = [parse_quantity(p, what="--match") for p in parts[-numbers:]]
        length, trials = values[0], (values[1] if numbers == 2 else 1.0)
        if length <= 0 or trials < 1 or trials != int(trials):
            raise InputError(f"--match {text!r}: L_OUT must be positive and N a whole number >= 1")
        return entry.spec, length, trials
    if len(parts) < 2:
        raise InputError(f"--match {text!r}: expected MODEL:L_OUT[:N], e.g. qwen3-32b:16k")
    catalog.models.get(parts[0])  # raises naming the closest models
    raise InputError(f"--match {text!r}: expected MODEL:L_OUT[:N], e.g. qwen3-32b:16k")


def _select(patterns: list[str], catalog):  # type: ignore[no-untyped-def]
    """Entries named by `patterns` (names, aliases, globs), or every model when none are given."""
    import fnmatch

    from kinetics_cli.errors import InputError

    entries = list(catalog.models)
    if not patterns:
        return entries
    chosen: dict[str, object] = {}
    for pattern in (p.strip() for text in patterns for p in text.split(",")):
        if not pattern:
            continue
        if any(ch in pattern for ch in "*?["):
            hits = [
                e
                for e in entries
                if fnmatch.fnmatch(e.spec.name.lower(), pattern.lower())
                or any(fnmatch.fnmatch(a.lower(), pattern.lower()) for a in e.spec.aliases)
            ]
            if not hits:
                raise InputError(f"--models {pattern!r} matches no model in the catalog")
        else:
            hits = [catalog.models.get(pattern)]
        for e in hits:
            chosen[e.spec.name] = e
    return list(chosen.values())
