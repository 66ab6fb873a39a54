"""What `kinetics cache` shows: the outcome cache's folder, files and size."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cache_document(
    folder: Path,
    enabled: bool,
    files: list[Path],
    removed: tuple[int, int] | None,
    warmed: list[str] | None = None,
    computed: list[str] | None = None,
) -> dict[str, Any]:
    """The `cache --json` document: folder, enabled (false under KINETICS_NO_CACHE), files,
    bytes, problem (why the folder cannot hold files, else None); with --clear the files and
    bytes removed, with --warm the tasks warmed and those whose outcomes were computed now (the
    others' were already cached)."""
    from kinetics_cli.accuracy.cache import folder_problem

    sizes = []
    for path in files:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    document: dict[str, Any] = {
        "folder": str(folder),
        "enabled": enabled,
        "files": len(files),
        "bytes": sum(sizes),
        # why nothing can be kept there (a file in the folder's place or an ancestor's), else None
        "problem": folder_problem(folder),
    }
    if removed is not None:
        document["removed_files"], document["removed_bytes"] = removed
    if warmed is not None:
        document["warmed_tasks"] = warmed
        document["computed_tasks"] = computed or []
    return document


def print_cache(document: dict[str, Any]) -> None:
    """The human answer to `cache`, on stdout."""
    from kinetics_cli.report.console import say
    from kinetics_cli.report.format import plural
    from kinetics_cli.units import format_bytes

    if "warmed_tasks" in document:
        computed = document["computed_tasks"]
        cached = [t for t in document["warmed_tasks"] if t not in computed]
        if computed:
            say(f"computed the default grid's outcomes of {', '.join(computed)}")
        if cached:
            say(f"the default grid's outcomes of {', '.join(cached)} were already cached")
    if "removed_files" in document:
        say(
            f"removed {plural(document['removed_files'], 'file')} "
            f"({format_bytes(document['removed_bytes'])})"
        )
    state = "" if document["enabled"] else " (off: KINETICS_NO_CACHE is set)"
    if document["problem"] and document["enabled"]:
        state = f" (unusable: {document['problem']})"
    say(
        f"outcome cache{state}: {document['folder']}: {plural(document['files'], 'file')}, "
        f"{format_bytes(document['bytes'])}"
    )
