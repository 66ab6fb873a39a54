"""Process-wide CLI options (--catalog, --debug) and the lazily loaded catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinetics_cli.catalog import Catalog


@dataclass
class Options:
    catalog_dirs: list[Path] = field(default_factory=list)
    debug: bool = False


OPTIONS = Options()
_catalog: Catalog | None = None
_pending: list[str] = []  # skipped-file warnings, shown when the command ends


def reset(catalog_dirs: list[Path] | None = None, debug: bool = False) -> None:
    """Set the options for this invocation and forget any catalog loaded before."""
    global _catalog
    from kinetics_cli.report import console

    console.reset()
    OPTIONS.catalog_dirs = list(catalog_dirs or [])
    OPTIONS.debug = debug
    _catalog = None
    _pending.clear()


def catalog() -> Catalog:
    """Load the catalog once per invocation: ambiguous names are reported on stderr at once,
    skipped files when the command ends (see flush_warnings)."""
    global _catalog
    if _catalog is None:
        from kinetics_cli.catalog import load_catalog
        from kinetics_cli.report.console import warn

        _catalog = load_catalog(OPTIONS.catalog_dirs)
        for message in _catalog.warnings:
            warn(message)
        _pending[:] = _catalog.skipped
    return _catalog


def flush_warnings(error: str = "") -> None:
    """Report the skipped catalog files, except one the command's `error` already explains (it
    names the file), so that a failed lookup of a broken entry stays one line."""
    from kinetics_cli.report.console import warn

    named = set()
    if error and _catalog is not None:
        broken = [*_catalog.hardware.broken, *_catalog.models.broken]
        named = {str(p) for p in broken if str(p) in error}
    for message in _pending:
        if not any(path in message for path in named):
            warn(message)
    _pending.clear()
