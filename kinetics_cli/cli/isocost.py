"""`kinetics isocost`: what every model affords within one per-problem budget, under both laws."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import (
    FORCE_PLOT_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    block_size_option,
    bounded,
    catalog_names,
    choices,
    hardware_option,
    intensity_option,
    page_size,
    plot_option,
    tokens,
)
from kinetics_cli.limits import EFLOPS_BUDGET, TRIALS


def isocost(
    budget: float | None = typer.Option(
        None,
        "--budget",
        parser=bounded(EFLOPS_BUDGET, kind="flops"),
        metavar="X",
        help="eFLOPs per problem, e.g. 1e15 or 1P.",
    ),
    match: str | None = typer.Option(
        None,
        "--match",
        metavar="MODEL:L_OUT[:N]",
        help="Use the cost of this reference (dense attention) as the budget, priced by each law "
        "(L_OUT in tokens, k = 1024: qwen3-32b:16k is 16,384).",
    ),
    models: list[str] = typer.Option(
        [],
        "--models",
        "-m",
        metavar="NAMES",
        autocompletion=catalog_names("models"),
        help="Models to include: names, aliases or globs, comma-separated or repeated "
        "(default: every model in the catalog).",
    ),
    strategy: str = typer.Option(
        "long-cot",
        "--strategy",
        metavar="STRATEGY",
        autocompletion=choices(source="kinetics_cli.engine.isocost:STRATEGIES"),
        help="long-cot: the longest generation per trial (N = --trials); best-of-n: the most "
        "trials (L_out = --gen-len).",
    ),
    trials: int | None = typer.Option(
        None,
        "--trials",
        "-n",
        metavar="N",
        parser=bounded(TRIALS, whole=True),
        help="Trials for long-cot (default 1).",
    ),
    gen_len: float | None = typer.Option(
        None,
        "--gen-len",
        parser=tokens,
        metavar="L_OUT",
        help="Tokens per trial for best-of-n (k = 1024 tokens).",
    ),
    prompt_len: float | None = typer.Option(
        None,
        "--prompt-len",
        parser=tokens,
        metavar="L_IN",
        help="Prompt tokens (default 160, the mean AIME prompt with its chat template; "
        "k = 1024 tokens).",
    ),
    attention: list[str] = typer.Option(
        [],
        "--attention",
        metavar="KINDS",
        autocompletion=choices("topk", "block-topk"),
        help="Sparse variants to add to dense (topk, block-topk), comma-separated or repeated. "
        "Each is solved at every --kv-budget.",
    ),
    kv_budget: list[str] = typer.Option(
        [],
        "--kv-budget",
        metavar="B,...",
        help="KV budgets (tokens; k = 1024), comma-separated or repeated, as plan's --kv-budgets.",
    ),
    block_size: float | None = block_size_option(),
    hardware: str = hardware_option("Hardware profile giving the intensity I (name or alias)."),
    intensity: float | None = intensity_option("FLOPs per byte (overrides the profile)."),
    law: str | None = typer.Option(
        None,
        "--law",
        metavar="LAW",
        help="Keep only the rows of one law (kinetics or flops).",
        autocompletion=choices(source="kinetics_cli.engine.kinetics:LAWS"),
    ),
    plot: Path | None = plot_option("Draw what each model affords to FILE (.png or .svg)."),
    force: bool = FORCE_PLOT_OPTION,
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Largest L_out (or N) each model affords at one cost, under the Kinetics and FLOPs laws."""
    from kinetics_cli.cli import context
    from kinetics_cli.cli.params import check_pages
    from kinetics_cli.cli.plan import check_law_intensity
    from kinetics_cli.engine.isocost import DEFAULT_PROMPT_LEN, STRATEGIES, isocost_rows
    from kinetics_cli.engine.kinetics import LAWS, check_context, law_intensity, problem_cost
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import emit_json, warn
    from kinetics_cli.report.isocost import (
        beyond_context_warning,
        budget_label,
        match_label,
        out_of_range_warnings,
        print_isocost,
        unbound_budget_warning,
    )

    if plot is not None:
        from kinetics_cli.report.plotting import check_plot

        check_plot(plot, force=force)
    if (budget is None) == (match is None):
        raise InputError("give exactly one of --budget X or --match MODEL:L_OUT[:N]")
    if law is not None and law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    # The free variable of each strategy is solved for, so giving it is a contradiction.
    if strategy == "long-cot" and gen_len is not None:
        raise InputError(
            "--gen-len is what long-cot solves for (the longest generation within the budget); "
            "drop it, or use --strategy best-of-n to fix the length and solve for trials"
        )
    if strategy == "best-of-n" and trials is not None:
        raise InputError(
            "--trials is what best-of-n solves for (the most trials within the budget); drop it, "
            "or use --strategy long-cot to fix the trials and solve for the length"
        )
    check_law_intensity(law, intensity, needs_intensity=False)
    trials = 1 if trials is None else trials
    catalog = context.catalog()
    profile = catalog.hardware.get(hardware).spec
    i = profile.intensity if intensity is None else intensity
    if i < 0:
        raise InputError(f"--intensity must not be negative (got {i:g})")
    l_in = DEFAULT_PROMPT_LEN if prompt_len is None else prompt_len

    # Comma-separated or repeated, as plan and frontier take their lists.
    from kinetics_cli.units import parse_tokens, split_values

    kv_values = [
        parse_tokens(v, what="--kv-budget") for v in split_values(kv_budget, "--kv-budget")
    ]
    if kv_budget and not kv_values:
        raise InputError("--kv-budget: no values given (leave the option out for dense only)")
    if any(b <= 0 for b in kv_values):
        raise InputError("--kv-budget: values must be positive")
    names = split_values(attention, "--attention")
    if attention and not names:
        raise InputError("--attention: no values given (leave the option out for dense only)")
    block_size = page_size(block_size, names)
    settings: list[tuple[str, float | None]] = [("dense", None)]
    for name in names:
        if name == "dense":
            warn("--attention dense adds nothing: dense attention is always solved")
            continue
        if not kv_values:
            raise InputError(f"--kv-budget is required for {name} attention")
        check_pages(name, kv_values, block_size)
        settings += [(name, b) for b in kv_values]
    if kv_values and len(settings) == 1:
        raise InputError(
            "--kv-budget applies to sparse attention; dense attention attends to the whole "
            "context (add --attention topk or block-topk, or drop --kv-budget)"
        )

    if match is not None:
        ref_card, ref_len, ref_trials = _parse_match(match, catalog)
        check_context(
            ref_card,
            l_in + ref_len,
            f"--match prompt + L_OUT ({l_in:,.0f} + {ref_len:,.0f} tokens)",
        )
        reference = problem_cost(ref_card, l_in, ref_len, ref_trials)
        budgets = {name: float(reference.eflops(law_intensity(name, i))) for name in LAWS}
        label = match_label(ref_card.name, ref_len, ref_trials)
    else:
        assert budget is not None
        budgets = {name: budget for name in LAWS}
        label = budget_label(budget)

    # Smallest to largest, so the table reads as the size axis of the iso-cost curve.
    cards = sorted((e.spec for e in _select(models, catalog)), key=lambda c: c.active_params)
    if strategy == "best-of-n" and gen_len is not None:
        for card in cards:
            check_context(
                card,
                l_in + gen_len,
                f"--prompt-len + --gen-len ({l_in:,.0f} + {gen_len:,.0f} tokens)",
            )
        # Every trial ends at L_in + L_out: a budget beyond it never selects, and the law would
        # charge dense attention as unshared sparse reads (as `cost` refuses it).
        from kinetics_cli.cli.cost import check_kv_budget

        final = l_in + gen_len
        for name, b in settings[1:]:
            check_kv_budget(
                name,
                b,
                final,
                f"the final context ({l_in:g} + {gen_len:g} = {final:g} tokens)",
                block_size,
            )
    else:  # long-cot: a prompt that alone fills the window leaves no length to solve for
        for card in cards:
            check_context(card, l_in + 1, f"--prompt-len ({l_in:,.0f} tokens) + 1 generated")
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
    windows = {c.name: c.architecture.max_position_embeddings for c in cards}
    for line in out_of_range_warnings(rows):
        warn(line)
    if strategy == "long-cot":
        beyond = beyond_context_warning(rows, windows, l_in)
        if beyond:
            warn(beyond)
        unbound = unbound_budget_warning(rows)
        if unbound:
            warn(unbound)
    if plot is not None:
        from kinetics_cli.report.isocost import isocost_plot, plot_title, solved_label

        title = plot_title(label, i, solved_label(strategy, trials, gen_len or 0.0))
        isocost_plot(rows, plot, title=title, context_windows=windows, force=force)
    if json:
        emit_json([r.as_dict() for r in rows])
        return
    print_isocost(rows, label, i, strategy, l_in)


def _parse_match(text: str, catalog):  # type: ignore[no-untyped-def]
    """MODEL:L_OUT[:N]; the model name may itself hold colons (aliases such as qwen3:8b)."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_quantity, parse_tokens

    parts = text.split(":")
    for numbers in (2, 1):
        if len(parts) <= numbers:
            continue
        name = ":".join(parts[:-numbers])
        entry = catalog.models.find(name)
        if entry is None:
            continue
        values = [parse_tokens(parts[-numbers], what="--match L_OUT")]
        if numbers == 2:
            values.append(parse_quantity(parts[-1], what="--match N"))
        length, trials = values[0], (values[1] if numbers == 2 else 1.0)
        if length <= 0 or not 1 <= trials <= TRIALS[1] or trials != int(trials):
            raise InputError(
                f"--match {text!r}: L_OUT must be positive and N a whole number from 1 to "
                f"{TRIALS[1]:,}"
            )
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
    from kinetics_cli.units import split_values

    for pattern in split_values(patterns, "--models"):
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
    if not chosen:
        raise InputError("--models: no values given (leave the option out for every model)")
    return list(chosen.values())
