"""`kinetics evals import`: turn the Kinetics paper's trace files into evaluation rows."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Evaluation results (one row per trial) for `plan --evals`: import released traces.",
    no_args_is_help=True,
)


@app.callback()
def evals() -> None:
    """Evaluation results: one row per sampled trial (task, model, attention, kv_budget, problem,
    prompt_tokens, gen_tokens, correct), JSON Lines or CSV."""


@app.command("import")
def import_command(
    traces: Path = typer.Argument(
        ..., metavar="TRACES", help="Trace file (JSON Lines, metadata on line 1)."
    ),
    task: str = typer.Option(..., "--task", help="Task name to write on every row, e.g. aime24."),
    model: str = typer.Option(
        ..., "--model", help="Model name or alias, e.g. qwen3-8b or Qwen/Qwen3-8B."
    ),
    tokenizer: Path | None = typer.Option(
        None,
        "--tokenizer",
        metavar="FILE",
        help="tokenizer.json to count tokens with (needs the 'tokenizers' package); "
        "without it tokens are approximated as characters / 4.",
    ),
    out: Path = typer.Option(
        ..., "--out", metavar="FILE", help="Output file: .csv for CSV, else JSON Lines."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Convert one trace file of the Kinetics paper into evaluation rows."""
    from kinetics_cli.accuracy.traces import import_traces, token_counter, write_rows
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import warn

    if out.exists() and not force:  # before reading anything (write_rows checks again)
        raise InputError(f"{out} already exists; pass --force to overwrite it")
    name = context.catalog().models.get(model).spec.name
    counter = token_counter(tokenizer)
    rows = import_traces(traces, task, name, counter)
    path = write_rows(rows, out, force=force)
    problems = len({r["problem"] for r in rows})
    if counter.approximate:
        warn(
            "token counts are approximate (characters / 4); pass --tokenizer FILE for exact counts"
        )
    typer.echo(
        f"wrote {len(rows)} trials of {problems} problems ({rows[0]['attention']}"
        f"{'@' + rows[0]['kv_budget'] if rows[0]['kv_budget'] else ''}, {name}, task {task}) to {path}; "
        f"token counts: {counter.source}"
    )
