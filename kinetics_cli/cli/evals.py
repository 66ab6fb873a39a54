"""`kinetics evals import`: turn evaluation logs (the Kinetics paper's traces, lm-evaluation-harness
sample logs, Qwen2.5-Math evaluation outputs) into evaluation rows for `plan --evals`."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import JSON_OPTION, choices, tokens

app = typer.Typer(
    help="Evaluation results for `plan --evals`: import evaluation logs into rows.",
    no_args_is_help=True,
)


@app.callback()
def evals() -> None:
    """Evaluation results for `plan --evals`, JSON Lines or CSV: one row per sampled trial (task,
    model, attention, kv_budget, problem, prompt_tokens, gen_tokens, correct) or one per problem
    (task, model, attention, kv_budget, problem, prompt_tokens, samples, correct, gen_lengths),
    either with an optional gen_limit (the run's own generation cap). docs/accuracy-priors.md
    describes both."""


@app.command("import")
def import_command(
    logs: list[Path] = typer.Argument(
        ...,
        metavar="FILE",
        help="Evaluation logs (JSON Lines); several files of one format (e.g. one per seed).",
    ),
    task: str = typer.Option(
        ..., "--task", metavar="TASK", help="Task name to write on every row, e.g. aime24."
    ),
    model: str = typer.Option(
        ..., "--model", metavar="MODEL", help="Model name or alias, e.g. qwen3-8b or Qwen/Qwen3-8B."
    ),
    log_format: str | None = typer.Option(
        None,
        "--log-format",
        metavar="FORMAT",
        autocompletion=choices(source="kinetics_cli.accuracy.formats:FORMATS"),
        help="Format of the input logs: kinetics (the paper's traces), lm-eval "
        "(lm-evaluation-harness --log_samples), qwen-math (Qwen2.5-Math evaluation outputs) or "
        "auto (from the first line; the default).",
    ),
    legacy_format: str | None = typer.Option(
        None, "--format", hidden=True, help="Former name of --log-format, still read."
    ),
    attention: str = typer.Option(
        "dense",
        "--attention",
        metavar="KIND",
        autocompletion=choices(source="kinetics_cli.engine.kinetics:ATTENTIONS"),
        help="Attention the logs were generated with (lm-eval, qwen-math): dense, topk, block-topk.",
    ),
    kv_budget: float | None = typer.Option(
        None,
        "--kv-budget",
        parser=tokens,
        metavar="B",
        help="KV budget for topk / block-topk logs, in tokens (512, 1k = 1,024).",
    ),
    metric: str | None = typer.Option(
        None,
        "--metric",
        metavar="NAME",
        help="lm-eval: the metric that grades a sample (default: exact_match).",
    ),
    filter_name: str | None = typer.Option(
        None,
        "--filter",
        metavar="NAME",
        help="lm-eval: the filter whose rows to use (default: the first seen).",
    ),
    gen_limit: float | None = typer.Option(
        None,
        "--gen-limit",
        parser=tokens,
        metavar="N",
        help="The generation cap (max tokens) the run used, written on every row as gen_limit "
        "(lm-eval logs state theirs as max_gen_toks); plan then searches no longer limit.",
    ),
    tokenizer: Path | None = typer.Option(
        None,
        "--tokenizer",
        metavar="FILE",
        help="tokenizer.json to count tokens with (needs the 'tokenizers' package); "
        "without it tokens are approximated as characters / 4.",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        metavar="FILE",
        help="Output file: .csv for CSV, else JSON Lines; its folder must exist.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    json: bool = JSON_OPTION,
) -> None:
    """Convert evaluation logs into evaluation rows."""
    from kinetics_cli.accuracy.formats import (
        FORMATS,
        detect_format,
        fill_caps,
        import_lm_eval,
        import_qwen_math,
    )
    from kinetics_cli.accuracy.traces import import_traces, token_counter, write_rows
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.fsutil import check_distinct, check_writable
    from kinetics_cli.report.console import warn

    # Before reading anything (write_rows checks again): an existing file without --force, a
    # folder, or a missing or read-only folder is refused, as --plot refuses them.
    try:
        check_writable(out, force=force)
    except InputError as exc:
        raise InputError(f"--out: {exc}") from None
    if log_format is not None and legacy_format is not None and log_format != legacy_format:
        raise InputError("--format is the former name of --log-format: give one of them")
    log_format = log_format or legacy_format or "auto"
    check_distinct(logs, "evals import")
    if any(Path(log).resolve() == Path(out).resolve() for log in logs):
        # --force would replace the logs (every generation's text) by the rows made from them
        raise InputError(f"--out {out} is one of the input logs; write the rows to another file")
    if log_format not in FORMATS:
        flag = "--log-format" if legacy_format is None else "--format"
        raise InputError(f"unknown {flag} {log_format!r}; choose one of {', '.join(FORMATS)}")
    if attention not in ("dense", "topk", "block-topk"):
        raise InputError(f"unknown --attention {attention!r}; choose dense, topk or block-topk")
    if not task.strip():
        raise InputError("--task needs a name, e.g. aime24")
    if attention != "dense" and kv_budget is None:
        raise InputError(f"--attention {attention} needs --kv-budget B (the tokens it attended)")
    if (attention == "dense") != (kv_budget is None) or (kv_budget is not None and kv_budget <= 0):
        raise InputError("--kv-budget B (positive) goes with --attention topk or block-topk only")
    if gen_limit is not None and (gen_limit < 1 or gen_limit != int(gen_limit)):
        raise InputError(
            f"--gen-limit: expected a positive whole number of tokens (the run's cap), got {gen_limit:g}"
        )
    name = context.catalog().models.get(model).spec.name
    counter = token_counter(tokenizer)
    kind = detect_format(logs[0]) if log_format == "auto" else log_format
    # options the format does not read would be dropped without a word: refuse them
    if kind != "lm-eval" and (metric is not None or filter_name is not None):
        given = "--metric" if metric is not None else "--filter"
        raise InputError(f"{given} applies to lm-eval logs; these are {kind} logs: drop it")
    if kind == "kinetics" and (attention != "dense" or kv_budget is not None):
        raise InputError(
            "the paper's traces state their attention and KV budget on their metadata line; "
            "drop --attention and --kv-budget"
        )
    if kind == "kinetics":
        rows = [row for path in logs for row in import_traces(path, task, name, counter, gen_limit)]
    elif kind == "lm-eval":
        rows = import_lm_eval(
            logs,
            task,
            name,
            counter,
            attention=attention,
            kv_budget=kv_budget,
            metric=metric,
            filter_name=filter_name,
            gen_limit=gen_limit,
        )
    else:
        rows = import_qwen_math(
            logs, task, name, counter, attention=attention, kv_budget=kv_budget, gen_limit=gen_limit
        )
    caps = fill_caps(rows)
    with_answer = sum("answer" in row for row in rows)
    if 0 < with_answer < len(rows):
        # a row without the field is an unknown vote, one with it empty a trial without a final
        # answer: CSV cannot tell them apart, and a vote over a setting with unknown votes is
        # refused anyway, so the column goes for every row
        for row in rows:
            row.pop("answer", None)
        warn(
            f"{len(rows) - with_answer:,} of {len(rows):,} trials have no extracted final answer "
            "in the logs, so no row has an answer column (majority vote and early stopping need "
            "one on every trial)"
        )
    path = write_rows(rows, out, force=force)
    problems = len({r["problem"] for r in rows})
    settings = sorted(
        {f"{r['attention']}{'@' + r['kv_budget'] if r['kv_budget'] else ''}" for r in rows}
    )
    if counter.approximate:
        warn(
            "token counts are approximate (characters / 4); pass --tokenizer FILE for exact counts"
        )
    if json:
        from kinetics_cli.report.console import emit_json

        emit_json(
            {
                "out": str(path),
                "trials": len(rows),
                "problems": problems,
                "settings": settings,
                "model": name,
                "task": task,
                "log_format": kind,
                "token_counts": counter.source,
                "approximate_token_counts": counter.approximate,
                "gen_limits": [int(c) for c in caps],
            }
        )
        return
    if caps:
        capped = sum(r.get("gen_limit") is not None for r in rows)
        cap_text = f"generation cap: {', '.join(f'{c:,.0f}' for c in caps)} tokens" + (
            f" ({capped:,} of {len(rows):,} trials)" if capped < len(rows) else ""
        )
    else:
        cap_text = "no generation cap (give the run's with --gen-limit N)"
    typer.echo(
        f"wrote {len(rows)} trials of {problems} problems ({', '.join(settings)}, {name}, task "
        f"{task}, {kind} format) to {path}; token counts: {counter.source}; {cap_text}"
    )
