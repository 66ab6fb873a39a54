"""`kinetics cache`: where the outcome cache lives, what it holds, filling it and clearing it."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import JSON_OPTION


def cache(
    clear: bool = typer.Option(False, "--clear", help="Delete the cache's files."),
    warm: bool = typer.Option(
        False,
        "--warm",
        help="Compute the default grid's outcomes of every bundled task now (of --task only, "
        "when given), e.g. when building an image, so no later plan or frontier pays for them.",
    ),
    tasks: list[str] = typer.Option(
        [],
        "--task",
        metavar="TASK",
        help="With --warm: a bundled task to compute (repeatable); default all.",
    ),
    json: bool = JSON_OPTION,
) -> None:
    """The outcome cache: its folder, files and size (`--clear` empties it, `--warm` fills it).

    `plan` and `frontier` keep the bundled accuracy outcomes of each grid there, keyed by the
    code and data that compute them (docs/performance.md); KINETICS_CACHE_DIR moves it and
    KINETICS_NO_CACHE=1 turns it off.
    """
    from kinetics_cli.accuracy import cache as outcome_cache
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.cache import cache_document, print_cache

    if tasks and not warm:
        raise InputError("--task goes with --warm (the tasks to compute)")
    if clear and warm:
        raise InputError("--clear and --warm contradict each other; give one")
    enabled = not outcome_cache.cache_off()
    if warm and not enabled:
        raise InputError("the outcome cache is off (KINETICS_NO_CACHE is set): nothing to fill")
    folder = outcome_cache.cache_folder()  # --clear empties it even while the cache is off
    removed = outcome_cache.clear(folder) if clear else None
    warmed, computed = _warm(tasks, folder) if warm else (None, None)
    files = outcome_cache.cache_files(folder)
    document = cache_document(folder, enabled, files, removed, warmed, computed)
    if json:
        from kinetics_cli.report.console import emit_json

        emit_json(document)
        return
    print_cache(document)


def _warm(tasks: list[str], folder: Path) -> tuple[list[str], list[str]]:
    """Build each task's default plan setup (the grid `plan` and `frontier` evaluate without grid
    options), which computes and keeps its outcomes; the tasks warmed, and of those the ones
    whose outcomes were computed now (the others' were all read from the cache's files).
    InputError when a task is not bundled or its outcomes could not be written to `folder`."""
    from kinetics_cli.accuracy import available_tasks
    from kinetics_cli.accuracy import cache as outcome_cache
    from kinetics_cli.cli import context
    from kinetics_cli.cli.params import DEFAULT_HARDWARE
    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.setup import build_setup
    from kinetics_cli.units import split_values

    known = available_tasks()
    chosen = [t.strip().lower() for t in split_values(tasks, "--task")]
    if tasks and not chosen:
        raise InputError("--task: no values given (leave the option out for every bundled task)")
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise InputError(
            f"--task {', '.join(unknown)}: not a bundled task; known: {', '.join(known)}"
        )
    catalog = context.catalog()
    computed = []
    for task in chosen or known:
        source = build_setup(task=task, catalog=catalog, hardware=DEFAULT_HARDWARE).source
        if not isinstance(source, outcome_cache.CachedSource):  # no sources to hash: none kept
            raise InputError(
                f"cannot write the outcome cache in {folder}: this install lacks the Python "
                "sources its files are keyed by"
            )
        if source.save_error is not None:  # a grid or source file not written (a full disk)
            problem = outcome_cache.folder_problem(folder)
            raise InputError(
                f"cannot write the outcome cache in {folder}: {problem or source.save_error}"
            )
        if source.computed:
            computed.append(task)
    return chosen or known, computed
