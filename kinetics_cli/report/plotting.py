"""Helpers every plot shares: matplotlib loaded lazily, the path check, the house figure, saving.

matplotlib is an optional extra (`pip install kinetics-cli[plot]`) and is imported only inside
the functions that draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinetics_cli.errors import InputError

FORMATS = (".png", ".svg")


def pyplot() -> Any:
    """matplotlib.pyplot on a non-interactive backend, or InputError naming the extra."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("plotting needs matplotlib: pip install 'kinetics-cli[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_path(path: Path) -> Path:
    """The output path, if its suffix is a supported format and its folder exists."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"--plot {path}: use a .png or .svg file name")
    if not path.parent.exists():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")
    return path


def new_figure(width: float = 7.0, height: float = 4.5) -> tuple[Any, Any]:
    """A figure and one axes of the house size."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def save_figure(fig: Any, path: Path) -> Path:
    """Write `fig` to `path` (png at 150 dpi, or svg) and close it."""
    path = check_path(path)
    fig.savefig(path, dpi=150)
    pyplot().close(fig)
    return path
