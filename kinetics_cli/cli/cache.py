"""`kinetics cache`: where the outcome cache lives, what it holds, and clearing it."""

from __future__ import annotations

import typer

from kinetics_cli.cli.params import JSON_OPTION


def cache(
    clear: bool = typer.Option(False, "--clear", help="Delete the cache's files."),
    json: bool = JSON_OPTION,
) -> None:
    """The outcome cache: its folder, files and size (`--clear` empties it).

    `plan` and `frontier` keep the bundled accuracy outcomes of each grid there, keyed by the
    code and data that compute them (docs/performance.md); KINETICS_CACHE_DIR moves it and
    KINETICS_NO_CACHE=1 turns it off.
    """
    from kinetics_cli.accuracy import cache as outcome_cache
    from kinetics_cli.report.cache import cache_document, print_cache

    folder = outcome_cache.cache_dir()
    removed = None
    if clear and folder is not None:
        removed = outcome_cache.clear(folder)
    files = [] if folder is None else outcome_cache.cache_files(folder)
    document = cache_document(folder, files, removed)
    if json:
        from kinetics_cli.report.console import emit_json

        emit_json(document)
        return
    print_cache(document)
