"""Helpers every plot shares: matplotlib loaded lazily, the path check, the house figure, stable
colours per model and per attention kind, and the atomic save.

matplotlib is an optional extra (`pip install kinetics-cli[plot]`) and is imported only inside
the functions that draw.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kinetics_cli.errors import InputError

FORMATS = (".png", ".svg")

# Ten clearly distinct hues (matplotlib's tab10 without its grey, plus navy), none of them the
# black, grey or white the plots use for frontiers, budgets and picks.
PALETTE = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#bcbd22",  # olive
    "#17becf",  # cyan
    "#000080",  # navy
)
# The bundled models' colours, so a model has the same colour in every plot and run; models of
# one family that are often compared get different hues. Other models get a colour from a hash
# of their name (stable across runs), moved to the next free hue if a plot already uses it.
MODEL_COLORS = {
    "qwen3-0.6b": 0,
    "qwen3-1.7b": 1,
    "qwen3-4b": 2,
    "qwen3-8b": 3,
    "qwen3-14b": 4,
    "qwen3-32b": 5,
    "qwen3-30b-a3b": 6,
    "qwen3-235b-a22b": 9,
    "qwen3-next-80b-a3b": 8,
    "deepseek-r1-distill-qwen-1.5b": 7,
    "deepseek-r1-distill-qwen-7b": 8,
    "deepseek-r1-distill-qwen-14b": 1,
    "deepseek-r1-distill-qwen-32b": 0,
    "deepseek-v3": 3,
    "gpt-oss-20b": 2,
    "gpt-oss-120b": 4,
    "llama-3.1-8b": 5,
    "llama-3.1-70b": 6,
}
# Attention kinds by line style, in every plot that draws them.
LINESTYLES = {"dense": "-", "topk": "--", "block-topk": ":"}


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """A distinct colour for each model (up to len(PALETTE)), the same for a model in every plot
    where it does not collide with another's: bundled models have fixed hues, others a hue from a
    hash of the name; a collision moves the later name (alphabetically) to the next free hue."""
    names = sorted(dict.fromkeys(models))
    taken: dict[int, str] = {}
    colors: dict[str, str] = {}
    for name in sorted(names, key=lambda m: (m not in MODEL_COLORS, m)):
        index = MODEL_COLORS.get(name, zlib.crc32(name.encode()) % len(PALETTE))
        for step in range(len(PALETTE)):
            candidate = (index + step) % len(PALETTE)
            if candidate not in taken:
                index = candidate
                break
        taken.setdefault(index, name)
        colors[name] = PALETTE[index]
    return colors


def pyplot() -> Any:
    """matplotlib.pyplot on a non-interactive backend, or InputError naming the extra."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("plotting needs matplotlib: pip install 'kinetics-cli[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_path(path: Path, *, force: bool = False) -> Path:
    """The --plot path, if its suffix is a supported format, its folder exists and is writable,
    and it is not an existing file (unless `force`). Call before any work; `save_figure` checks
    again."""
    from kinetics_cli.fsutil import check_writable

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"--plot {path}: use a .png or .svg file name")
    if not path.parent.exists():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")
    try:  # an existing file without --force, a folder, a folder this process cannot write into
        return check_writable(path, force=force)
    except InputError as exc:
        raise InputError(f"--plot {exc}") from None


def check_plot(path: Path, *, force: bool = False) -> None:
    """Fail early, in one line, on an unusable --plot path or when matplotlib is missing."""
    check_path(path, force=force)
    pyplot()


def new_figure(width: float = 7.0, height: float = 4.5) -> tuple[Any, Any]:
    """A figure and one axes of the house size."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def overall_step(ax: Any, cost: Any, accuracy_points: Any, label: str) -> None:
    """The overall frontier as the paper's Figure 1 draws it: a wide grey step line under the
    per-group ones (accuracy in points)."""
    ax.step(
        cost, accuracy_points, where="post", color="black", lw=5, alpha=0.15, zorder=1, label=label
    )


def save_figure(fig: Any, path: Path, *, force: bool = False) -> Path:
    """Write `fig` to `path` (png at 150 dpi, or svg) atomically and close it: a killed run
    leaves the old file or none, never a part."""
    from kinetics_cli.fsutil import atomic_output

    path = check_path(path, force=force)
    plt = pyplot()
    try:
        atomic_output(
            path,
            lambda tmp: fig.savefig(tmp, dpi=150, format=path.suffix.lower().lstrip(".")),
            force=force,
            option="--plot",
        )
    finally:
        plt.close(fig)
    return path
