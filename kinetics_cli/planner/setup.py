"""What `plan` and `frontier` share: the grid options, the accuracy source and the evaluated grid.

`grid_options` checks which strategies, attention kinds, KV budgets, generation limits and trial
counts to evaluate; `build_setup` loads the accuracy source, picks the models and evaluates the
grid on one hardware profile of a catalog. Neither needs the CLI:

    setup = build_setup(task="aime24", catalog=load_catalog(), hardware="b200")
    answer = make_plan(setup.grid, 1e16, pricing=setup.pricing)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kinetics_cli.accuracy.selection import DEFAULT_RULES, Verifier, check_rules
from kinetics_cli.engine.kinetics import off_page_budget
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_KV_BUDGETS,
    DEFAULT_LIMITS,
    DEFAULT_TRIALS,
    STRATEGIES,
    Grid,
    Selection,
    evaluate_grid,
    select_settings,
    trials_for,
)
from kinetics_cli.planner.plan import Pricing
from kinetics_cli.units import split_values

if TYPE_CHECKING:
    from kinetics_cli.accuracy.base import AccuracySource
    from kinetics_cli.catalog import Catalog
    from kinetics_cli.planner.deploy import DeployCosts, DeployOptions
    from kinetics_cli.specs import HardwareProfile, ModelCard


@dataclass(frozen=True)
class Setup:
    """The accuracy source, the hardware profile and the evaluated grid with its pricing."""

    task: str
    source: AccuracySource
    profile: HardwareProfile
    grid: Grid
    pricing: Pricing
    warnings: tuple[str, ...] = ()  # one line each, for the caller to show
    cards: dict[str, ModelCard] = field(default_factory=dict)  # model cards of the grid's models
    # With deployable costs: one entry per hardware profile asked for, `profile` first; the grid
    # and pricing of each (law seconds rescaled to that profile's peaks and bandwidth).
    hardware: tuple[HardwareOption, ...] = ()
    # Majority vote or early stopping on evaluation rows: per setting, its trials and how many
    # are wrong with an empty answer (they do not vote); None when no vote is counted from rows.
    votes: tuple[dict[str, object], ...] | None = None
    # Evaluations without a generation cap searched past their longest generation: one line
    # saying what those limits assume and how to give the cap ('' when it does not apply).
    cap_note: str = ""

    @property
    def left_out_document(self) -> list[dict[str, object]]:
        """The configurations left out for a context window or above an evaluation run's own
        generation cap, as the JSON documents write them: per (role, model, generation limit)
        why and how many (Grid.left_out)."""
        return [
            {
                "reason": b.reason,
                "role": b.role,
                "model": b.model,
                "context_window": b.window,
                "gen_cap": _tokens(b.gen_cap),
                "gen_len": _tokens(b.gen_len),
                "configurations": b.configurations,
            }
            for b in self.grid.left_out
        ]

    @property
    def source_document(self) -> dict[str, object]:
        """Where the accuracies come from, as the JSON documents write it: the source, and per
        evaluated setting which kind of data answers for it (measured, evaluations, priors)."""
        from kinetics_cli.accuracy.base import CONFIDENCE

        grid = self.grid
        cap_of = (
            getattr(self.source, "gen_cap", None) if self.source.kind == "evaluations" else None
        )
        settings = [
            {
                "model": s.model,
                "attention": s.attention,
                "kv_budget": s.kv_budget,
                "source": note,
                "gen_cap": None if cap_of is None else _tokens(cap_of(s)),
            }
            for s, note in zip(grid.settings, grid.notes, strict=True)
        ]
        return {
            "kind": self.source.kind,
            "description": self.source.description,
            "confidence": CONFIDENCE,
            "settings": settings,
            "gen_cap_note": self.cap_note or None,
            "votes": None if self.votes is None else list(self.votes),
        }


@dataclass(frozen=True)
class HardwareOption:
    """One accelerator a plan may deploy on: its profile, grid (law figures on it) and pricing
    (with the deployable costs of every configuration)."""

    profile: HardwareProfile
    grid: Grid
    pricing: Pricing

    @property
    def deploy(self) -> DeployCosts:
        assert self.pricing.deploy is not None
        return self.pricing.deploy


@dataclass(frozen=True)
class GridOptions:
    """Which configurations to evaluate. Empty `attentions`: every kind; empty `kv_budgets`: the
    defaults with the bundled data, the evaluated ones with evaluations."""

    strategies: tuple[str, ...] = STRATEGIES
    attentions: tuple[str, ...] = ()
    kv_budgets: tuple[float, ...] = ()
    gen_limits: tuple[float, ...] = DEFAULT_LIMITS
    trials: tuple[int, ...] = DEFAULT_TRIALS
    selection: tuple[str, ...] = DEFAULT_RULES  # selection rules searched (accuracy/selection.py)
    # the verifier rule's stated recall and precision and the model whose prefill prices it
    verifier_recall: float | None = None
    verifier_precision: float | None = None
    verifier_model: str | None = None


def _tokens(value: float | None) -> float | None:
    """A token count as JSON writes it: an integer when whole (65536, not 65536.0), as every
    configuration's gen_len and kv_budget are."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _uncovered(options: GridOptions, source: AccuracySource, grid: Grid) -> list[str]:
    """One line each for the trial counts and KV budgets asked for (not the defaults) that the
    accuracy data leaves out: more trials than any setting sampled, a budget not evaluated."""
    lines = []
    if options.trials != DEFAULT_TRIALS and "best-of-n" in options.strategies:
        kept = {int(t) for t in grid.trials.tolist()}
        missing = sorted({int(t) for t in options.trials if t >= 2} - kept)
        if missing:
            lines.append(
                f"--trials {', '.join(f'{t:,}' for t in missing)} left out: the accuracy data "
                "of the chosen settings has fewer samples per problem (never extrapolated)"
            )
    if options.kv_budgets and not getattr(source, "parametric", source.kind == "priors"):
        evaluated = {s.kv_budget for s in source.settings() if s.kv_budget is not None}
        missing_budgets = sorted(set(options.kv_budgets) - evaluated)
        if missing_budgets:
            lines.append(
                f"--kv-budgets {', '.join(f'{b:,.0f}' for b in missing_budgets)} left out: "
                "not in the accuracy data (evaluated: "
                + (", ".join(f"{b:,.0f}" for b in sorted(evaluated)) or "none")
                + ")"
            )
    elif options.kv_budgets:
        # a prior's budget that holds the prompt and every limit is dense attention (grid.py)
        kept = {grid.settings[k].kv_budget for k in set(grid.setting.tolist())}
        whole = sorted(b for b in set(options.kv_budgets) if b not in kept)
        if whole:
            lines.append(
                f"--kv-budgets {', '.join(f'{b:,.0f}' for b in whole)} left out: a budget that holds "
                "the prompt and every generation limit is dense attention (the dense settings "
                "answer it)"
            )
    # per-problem rows are the user's evaluations alone: asking any other source (the outcome
    # cache's included) for the attribute would load it whole for nothing
    fixed_limit = getattr(source, "fixed_limit", None) if source.kind == "evaluations" else None
    if fixed_limit is not None:
        searched = set(options.gen_limits)
        unsearched: dict[float, list[str]] = {}
        for setting in grid.settings:
            limit = fixed_limit(setting)
            if limit is not None and limit not in searched:
                unsearched.setdefault(limit, []).append(setting.label)
        for limit, labels in sorted(unsearched.items()):
            lines.append(
                f"{', '.join(labels)} left out: per-problem rows without per-sample lengths give "
                f"coverage only at their gen_limit, {limit:,.0f} tokens, which is not among the "
                f"generation limits searched (add it: --gen-limits {limit:.0f})"
            )
    return lines


def _numbers(
    values: Iterable[str | float], option: str, bounds: tuple[float, float] | None = None
) -> list[float]:
    """Positive numbers from texts or numbers; `option` names them in errors. Token counts
    (`bounds` None) read k, M, G as powers of 1024 ('4k,8k' is 4096, 8192) and stay within
    units.MAX_TOKENS; other values are quantities within `bounds`. Given but empty (`''`) is an
    error, not the defaults."""
    from kinetics_cli.units import check_range, parse_quantity, parse_tokens

    given = list(values)
    out: list[float] = []
    for value in given:
        texts = split_values([value], option) if isinstance(value, str) else [value]
        for v in texts:
            if bounds is None:
                out.append(parse_tokens(v, what=option))
            else:
                value = parse_quantity(v, what=option, unit=False)  # counts: '4W' is refused
                out.append(check_range(value, *bounds, what=option))
    if given and not out:
        raise InputError(f"{option}: no values given (leave the option out for the defaults)")
    bad = [v for v in out if v <= 0]
    if bad:
        raise InputError(f"{option}: values must be positive (got {bad[0]:g})")
    return out


def grid_options(
    *,
    strategy: str = "all",
    attention: Iterable[str] = (),
    kv_budgets: Iterable[str | float] = (),
    gen_limits: Iterable[str | float] = (),
    trials: Iterable[str | float] = (),
    selection: Iterable[str] = (),
    verifier_recall: float | None = None,
    verifier_precision: float | None = None,
    verifier_model: str | None = None,
) -> GridOptions:
    """Check the grid options: a strategy (long-cot, best-of-n or all), attention kinds, and
    positive KV budgets, whole generation limits and whole trial counts (numbers, or texts with
    SI suffixes and commas as the CLI takes them). Empty means the defaults."""
    if strategy == "all":
        strategies: tuple[str, ...] = STRATEGIES
    elif strategy in STRATEGIES:
        strategies = (strategy,)
    else:
        raise InputError(f"unknown strategy {strategy!r}; choose long-cot, best-of-n or all")
    from kinetics_cli.limits import TRIALS

    limits = _numbers(gen_limits, "--gen-limits") or list(DEFAULT_LIMITS)
    if any(v != int(v) for v in limits):
        raise InputError("--gen-limits: generation limits must be whole numbers of tokens")
    given_trials = _numbers(trials, "--trials", TRIALS)
    if any(t != int(t) for t in given_trials):
        raise InputError("--trials: trial counts must be whole numbers")
    if given_trials and strategies == ("long-cot",):
        raise InputError(
            "--trials applies to best-of-n; --strategy long-cot runs one trial per problem "
            "(drop --trials, or use --strategy best-of-n or all)"
        )
    trial_values = given_trials or list(DEFAULT_TRIALS)
    budgets = _numbers(kv_budgets, "--kv-budgets")
    attention = list(attention)
    attentions = split_values(attention, "--attention")
    if attention and not attentions:
        raise InputError("--attention: no values given (leave the option out for every kind)")
    if budgets and attentions and set(attentions) == {"dense"}:
        raise InputError(
            "--kv-budgets applies to sparse attention; --attention dense attends to the whole "
            "context (drop --kv-budgets, or add topk or block-topk)"
        )
    if not attentions or "block-topk" in attentions:
        # the planner costs block top-k at DEFAULT_BLOCK_SIZE-token pages (no --block-size)
        for b in budgets:
            reason = off_page_budget(
                b, DEFAULT_BLOCK_SIZE, "--kv-budgets", other="; or --attention topk alone"
            )
            if reason:
                raise InputError(reason)
    selection = list(selection)
    chosen_rules = split_values(selection, "--selection")
    if selection and not chosen_rules:
        raise InputError("--selection: no values given (leave the option out for the defaults)")
    rules = check_rules(chosen_rules) if chosen_rules else DEFAULT_RULES
    if chosen_rules and strategies == ("long-cot",):
        raise InputError(
            "--selection chooses among the N >= 2 answers of best-of-n; --strategy long-cot runs "
            "one trial per problem (drop --selection, or use --strategy best-of-n or all)"
        )
    stated = (verifier_recall, verifier_precision, verifier_model)
    if "verifier" in rules and any(v is None for v in stated):
        raise InputError(
            "--selection verifier needs the verifier's --verifier-recall, --verifier-precision "
            "and --verifier-model (the model whose prefill prices the scoring pass)"
        )
    if "verifier" not in rules and any(v is not None for v in stated):
        raise InputError(
            "--verifier-recall, --verifier-precision and --verifier-model apply to the verifier "
            "rule; add verifier to --selection, or drop them"
        )
    for name, value in (("recall", verifier_recall), ("precision", verifier_precision)):
        if value is not None and not 0.0 < value <= 1.0:
            raise InputError(f"--verifier-{name} must lie in (0, 1] (got {value:g})")
    return GridOptions(
        strategies=strategies,
        attentions=tuple(attentions),
        kv_budgets=tuple(budgets),
        gen_limits=tuple(limits),
        trials=tuple(int(t) for t in trial_values),
        selection=rules,
        verifier_recall=verifier_recall,
        verifier_precision=verifier_precision,
        verifier_model=verifier_model,
    )


def load_source(task: str, evals: Sequence[Path], resolve: Callable[[str], str]) -> AccuracySource:
    """The accuracy source: the user's evaluations when given, else the bundled data
    (accuracy.load_accuracy: measurements where they cover a setting, priors elsewhere) behind
    the outcome cache (accuracy/cache.py)."""
    from kinetics_cli.accuracy import load_accuracy

    if evals:
        return load_accuracy(task, list(evals), resolve)
    from kinetics_cli.accuracy.cache import cached_source, is_bundled_task

    if not is_bundled_task(task):
        return load_accuracy(task, None, resolve)  # its message lists the known tasks
    return cached_source(task, lambda: load_accuracy(task, None, resolve))


def _pick_models(
    patterns: Iterable[str], covered: list[str], catalog: Catalog, task: str
) -> list[str]:
    """Catalog names for `patterns` (names, aliases, globs over the covered models' names and
    aliases: `Qwen/*` is every covered model published under Qwen/)."""
    import fnmatch

    chosen: dict[str, None] = {}
    for pattern in split_values(patterns, "--models"):
        if any(ch in pattern for ch in "*?["):
            hits = [
                m
                for m in covered
                if any(
                    fnmatch.fnmatch(x.lower(), pattern.lower())
                    for x in (m, *catalog.models.get(m).aliases)
                )
            ]
            if not hits:
                raise InputError(
                    f"--models {pattern!r} matches no model with accuracy data for {task}; "
                    f"covered: {', '.join(covered)}"
                )
        else:
            hits = [catalog.models.get(pattern).spec.name]
            if hits[0] not in covered:
                raise InputError(
                    f"no accuracy data for model {hits[0]!r} on {task} (covered: "
                    f"{', '.join(covered)}); bring your own evaluations with --evals FILE: one "
                    "row per trial or per problem (docs/accuracy-priors.md), or convert "
                    "lm-evaluation-harness / Qwen2.5-Math logs with `kinetics evals import`"
                )
        chosen.update(dict.fromkeys(hits))
    return list(chosen)


def build_setup(
    *,
    task: str,
    catalog: Catalog,
    hardware: str,
    evals: Sequence[Path] = (),
    models: Sequence[str] = (),
    options: GridOptions | None = None,
    intensity: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    deploy: DeployOptions | None = None,
    on_deploy_progress: Callable[[int, int], None] | None = None,
) -> Setup:
    """Load the accuracy source for `task` (`evals` files, else the bundled data), keep the
    `models` asked for (names, aliases or globs; default: every covered model with a card in
    `catalog`) and evaluate the grid of `options` on the `hardware` profile at `intensity`
    (default: the profile's). `on_progress(done, total)` follows the evaluated settings.

    With `deploy`, `hardware` may name several profiles (comma-separated, or `all`) and every
    configuration is also priced on a deployment of each (planner/deploy.py); the first is the
    setup's profile. `on_deploy_progress(done, total)` follows the profiles."""
    from kinetics_cli.arrays import keep_freed_temporaries

    keep_freed_temporaries()  # the grid's temporaries reused, not faulted in again (arrays.py)
    options = GridOptions() if options is None else options
    names = hardware_names(hardware, catalog) if deploy is not None else [hardware]
    hardware = names[0]
    profile = catalog.hardware.get(hardware).spec
    i = profile.intensity if intensity is None else intensity
    if i < 0:
        raise InputError(f"--intensity must not be negative (got {i:g})")

    def resolve(name: str) -> str:
        return str(catalog.models.get(name).spec.name)

    source = load_source(task, evals, resolve)

    def has_card(name: str) -> bool:
        return catalog.models.find(name) is not None

    covered = list(dict.fromkeys(s.model for s in source.settings() if has_card(s.model)))
    if models and not split_values(models, "--models"):
        raise InputError("--models: no values given (leave the option out for every model)")
    wanted = _pick_models(models, covered, catalog, source.task) if models else None
    budgets = list(options.kv_budgets)
    if not budgets and getattr(source, "parametric", source.kind == "priors"):
        budgets = list(DEFAULT_KV_BUDGETS)
    settings = select_settings(
        source,
        models=wanted,
        attentions=list(options.attentions) or None,
        kv_budgets=budgets or None,
        available_models=has_card,
    )
    cards = {s.model: catalog.models.get(s.model).spec for s in settings}
    verifier = None
    verifier_card = None
    if "verifier" in options.selection:
        if options.verifier_recall is None or options.verifier_precision is None:
            raise InputError("the verifier rule needs a stated recall and precision")
        verifier_card = catalog.models.get(str(options.verifier_model)).spec
        verifier = Verifier(
            options.verifier_recall, 0.0, verifier_card.name, options.verifier_precision
        )
    log = None
    if deploy is not None:
        from kinetics_cli.planner.deploy import OutcomeLog

        log = OutcomeLog()
    grid = evaluate_grid(
        source,
        cards,
        settings,
        profile,
        trials=trials_for(options.strategies, list(options.trials)),
        limits=list(options.gen_limits),
        selection=Selection(options.selection, verifier, verifier_card),
        on_progress=on_progress,
        on_outcome=log,
    )
    from kinetics_cli.accuracy.cache import CachedSource

    if isinstance(source, CachedSource):
        source.save()  # the outcomes of this grid, for the next run
    pricing = Pricing(intensity=i, usd_per_hour=profile.price_per_gpu_hour, hardware=profile.name)
    warnings = []
    if grid.beyond_context:
        by_model: dict[tuple[str, int], list[float]] = {}
        for model, limit, window in grid.beyond_context:
            by_model.setdefault((model, window), []).append(limit)
        listed = "; ".join(
            f"{model} (window {window:,}): {', '.join(f'{x:,.0f}' for x in sorted(lims))}"
            for (model, window), lims in by_model.items()
        )
        if len(grid) == 0:
            raise InputError(
                "every generation limit with the prompt is beyond the context window "
                f"(max_position_embeddings) of the chosen models: {listed}"
            )
        warnings.append(
            f"generation limits left out, the prompt plus the limit being beyond the model's "
            f"context window: {listed}"
        )
    scored_beyond = [b for b in grid.left_out if b.role == "verifier"]
    if scored_beyond:
        first = scored_beyond[0]
        count = sum(b.configurations for b in scored_beyond)
        at = ", ".join(f"{b.gen_len:,.0f}" for b in sorted(scored_beyond, key=lambda b: b.gen_len))
        what = (
            f"the verifier {first.model} reads each candidate whole (prompt + generated tokens) "
            f"and its context window (max_position_embeddings) is {first.window:,} tokens"
        )
        if len(grid) == 0:
            raise InputError(
                f"every configuration is beyond the verifier's context window: {what}; every "
                f"generation limit searched with the prompt is longer ({at})"
            )
        limits = "limit" if len(scored_beyond) == 1 else "limits"
        warnings.append(
            f"{count:,} verifier-rule configuration{'' if count == 1 else 's'} left out at "
            f"generation {limits} {at}: {what}"
        )
    uncovered = _uncovered(options, source, grid)
    if len(grid) == 0:
        capped = [f"{line} (search limits at or below the cap)" for line in _above_cap(grid)]
        raise InputError(
            "no configuration to evaluate: "
            + (
                "; ".join(uncovered + capped)
                or "the accuracy data gives no accuracy for the chosen strategies, trials and "
                "generation limits"
            )
        )
    warnings += uncovered
    warnings += _above_cap(grid)
    cap_note = _cap_note(source, grid)
    votes = _votes(source, grid, options.selection, warnings)
    if deploy is None or log is None:
        return Setup(
            source.task,
            source,
            profile,
            grid,
            pricing,
            tuple(warnings),
            cards,
            votes=votes,
            cap_note=cap_note,
        )
    from dataclasses import replace

    from kinetics_cli.planner.deploy import law_grid_on, price_grid, usable_mode

    profiles = [catalog.hardware.get(name).spec for name in names]
    for p in profiles:
        if usable_mode(p, deploy.efficiency) != deploy.efficiency:
            warnings.append(
                f"{p.name} has no [efficiency] table: its deployable figures use datasheet "
                "efficiencies (100% of peaks, no overheads)"
            )
    priced = price_grid(
        log,
        grid.setting,
        grid.trials,
        grid.gen_len,
        settings,
        cards,
        profiles,
        deploy,
        grid_samples=grid.samples,
        on_progress=on_deploy_progress,
        verifier_card=verifier_card,
        grid_verifier=grid.rule_rows("verifier"),
    )
    choices = []
    for n, (p, costs) in enumerate(zip(profiles, priced, strict=True)):
        if n == 0:
            choices.append(HardwareOption(p, grid, replace(pricing, deploy=costs)))
            continue
        other = Pricing(
            intensity=p.intensity if intensity is None else intensity,
            usd_per_hour=p.price_per_gpu_hour,
            hardware=p.name,
            deploy=costs,
        )
        choices.append(HardwareOption(p, law_grid_on(grid, profile, p), other))
    return Setup(
        source.task,
        source,
        profile,
        grid,
        choices[0].pricing,
        tuple(warnings),
        cards,
        hardware=tuple(choices),
        votes=votes,
        cap_note=cap_note,
    )


def _above_cap(grid: Grid) -> list[str]:
    """One line for the configurations left out above an evaluation run's own generation cap
    (Grid.left_out, BeyondCap), or none."""
    from kinetics_cli.planner.grid import BeyondCap

    above = [b for b in grid.left_out if isinstance(b, BeyondCap)]
    if not above:
        return []
    count = sum(b.configurations for b in above)
    by_cap: dict[tuple[str, float], list[float]] = {}
    for b in above:
        by_cap.setdefault((b.model, b.gen_cap), []).append(b.gen_len)
    listed = "; ".join(
        f"{model} (cap {cap:,.0f}): {', '.join(f'{x:,.0f}' for x in sorted(limits))}"
        for (model, cap), limits in by_cap.items()
    )
    return [
        f"{count:,} configuration{'' if count == 1 else 's'} left out at generation limits above "
        f"the evaluation run's own cap (gen_limit; a trial cut there might have been right with "
        f"more room): {listed}"
    ]


def _cap_note(source: AccuracySource, grid: Grid) -> str:
    """For evaluated settings without a generation cap whose grid searches limits beyond their
    longest generation: one line saying those limits assume no trial was cut by the run's own
    cap, and how to give it; '' otherwise."""
    if source.kind != "evaluations" or len(grid) == 0:
        return ""
    cap_of = getattr(source, "gen_cap", None)
    longest_of = getattr(source, "longest_generation", None)
    fixed_of = getattr(source, "fixed_limit", None)
    if cap_of is None or longest_of is None:
        return ""
    searched: dict[int, float] = {}
    for k, limit in zip(grid.setting.tolist(), grid.gen_len.tolist(), strict=True):
        searched[k] = max(searched.get(k, 0.0), float(limit))
    longest: list[tuple[float, str]] = []
    for k, setting in enumerate(grid.settings):
        if k not in searched or cap_of(setting) is not None:
            continue
        if fixed_of is not None and fixed_of(setting) is not None:
            continue  # coverage only at its own limit: nothing beyond it is searched
        top = longest_of(setting)
        if searched[k] > top:
            longest.append((top, setting.label))
    if not longest:
        return ""
    if len(longest) == 1:
        (top, label), *_ = longest
        where = f"{top:,.0f} tokens, the longest generation of {label},"
    else:
        where = (
            "the longest generation of each setting ("
            + ", ".join(f"{label} {top:,.0f}" for top, label in sorted(longest))
            + " tokens)"
        )
    return (
        f"limits above {where} assume no trial was cut by the run's own generation cap; give "
        "the cap (gen_limit on each row, or `kinetics evals import --gen-limit N`) to leave "
        "longer limits out"
    )


def _votes(
    source: AccuracySource, grid: Grid, rules: Sequence[str], warnings: list[str]
) -> tuple[dict[str, object], ...] | None:
    """Per evaluated setting, what majority vote and early stopping counted from the rows (None
    without such a rule or without per-trial rows); a warning for each setting whose wrong
    trials include some without a final answer (they do not vote, which raises the vote)."""
    from kinetics_cli.accuracy.selection import VOTE_RULES, answer_census, silent_note

    if not any(r in VOTE_RULES for r in rules):
        return None  # before asking the source: a cached one would load itself to answer
    rows_by_setting = getattr(source, "trials_by_setting", None)
    if not rows_by_setting:
        return None
    out: list[dict[str, object]] = []
    for setting in grid.settings:
        census = answer_census(rows_by_setting.get(setting, []))
        note = silent_note(census, setting.label)
        if note:
            warnings.append(note)
        out.append(
            {
                "model": setting.model,
                "attention": setting.attention,
                "kv_budget": setting.kv_budget,
                "trials": census.trials,
                "wrong_without_answer": census.silent,
                "counted_as": "no vote",
            }
        )
    return tuple(out)


def hardware_names(text: str, catalog: Catalog) -> list[str]:
    """Profile names from `--hardware`: one name or alias, several comma-separated, or `all`
    (every profile of the catalog); duplicates dropped, order kept."""
    parts = split_values([text], "--hardware")
    if not parts:
        raise InputError("--hardware needs a profile name")
    if parts == ["all"]:
        return list(catalog.hardware.names())
    return list(dict.fromkeys(str(catalog.hardware.get(p).spec.name) for p in parts))
