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


def reset(catalog_dirs: list[Path] | None = None, debug: bool = False) -> None:
    """Set the options for this invocation and forget any catalog loaded before."""
    global _catalog
    OPTIONS.catalog_dirs = list(catalog_dirs or [])
    OPTIONS.debug = debug
    _catalog = None


def catalog() -> Catalog:
    """Load the catalog once per invocation, reporting skipped user files on stderr."""
    global _catalog
    if _catalog is None:
        from kinetics_cli.catalog import load_catalog
        from kinetics_cli.report.console import warn

        _catalog = load_catalog(OPTIONS.catalog_dirs)
        for message in _catalog.skipped:
            warn(message)
    return _catalog
