"""Progress bars on stderr: the plan grid's (shown after a second, on a terminal only) and the
calibration kernels' timing bar. rich is imported inside the functions that draw."""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """A rich progress bar on stderr for `build_setup(on_progress=bar.update)`, shown only on a
    terminal and once evaluating the grid has taken more than a second (counted from the first
    report, so loading the accuracy source does not count)."""

    DELAY_S = 1.0

    def __init__(self, label: str = "evaluating settings") -> None:
        import sys
        import time

        self._clock = time.perf_counter
        self._start: float | None = None
        self._enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._label = label

    def __enter__(self) -> ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            if self._start is None:
                self._start = self._clock()
            if self._clock() - self._start < self.DELAY_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=total)
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def timing_progress() -> tuple[Any, Any]:
    """A rich progress bar on stderr for the calibration kernels and the `on_step(done, total,
    case)` callback that advances it; drawn on a terminal only, so that stderr redirected to a
    file or a CI log gets nothing (not even the line a stopped bar leaves)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task("timing", total=1)

    def step(done: int, total: int, case: Any) -> None:
        progress.update(task, total=total, completed=done, description=f"timing {case.kernel}")

    return progress, step
