"""The library never prints or plots: engine/, accuracy/, planner/, calibrate/ and the spec,
catalog and units modules import neither rich, matplotlib, the presentation layer
(kinetics_cli.report) nor the CLI, anywhere in a module (inside functions too), and call no
print()."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kinetics_cli

PACKAGE = Path(kinetics_cli.__file__).parent
LIBRARY_FOLDERS = ("engine", "accuracy", "planner", "calibrate")
LIBRARY_FILES = ("specs.py", "catalog.py", "units.py")
FORBIDDEN = ("rich", "matplotlib", "kinetics_cli.report", "kinetics_cli.cli")


def library_modules() -> list[Path]:
    """Every Python file of the library layers."""
    files = [p for folder in LIBRARY_FOLDERS for p in sorted((PACKAGE / folder).rglob("*.py"))]
    return files + [PACKAGE / name for name in LIBRARY_FILES]


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def violations(source: str, package: str = "kinetics_cli.planner") -> list[str]:
    """What in `source` (a module of `package`) breaks the layering: forbidden imports anywhere in
    the module (relative ones resolved; `from kinetics_cli import report` included) and print()
    calls, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            anchor = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [module] + [f"{module}.{a.name}" for a in node.names]
            if any(_forbidden(name) for name in names):
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "print"
        ):
            found.append(f"{node.lineno}: print()")
    return found


def test_walker_finds_the_library() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in library_modules()}
    expected = {
        "engine/kinetics.py",
        "engine/roofline.py",
        "accuracy/evals.py",
        "planner/plan.py",
        "planner/setup.py",
        "calibrate/workflow.py",
        "calibrate/run.py",
        "calibrate/backends/numpy_backend.py",
        "specs.py",
        "catalog.py",
        "units.py",
    }
    assert expected <= names
    assert not any(name.startswith(("report/", "cli/")) for name in names)


@pytest.mark.parametrize(
    "source",
    [
        "import rich\n",
        "from rich.console import Console\n",
        "def f():\n    import matplotlib.pyplot as plt\n",
        "def f():\n    from kinetics_cli.report.console import console\n",
        "from kinetics_cli import report\n",
        "from kinetics_cli import cli\n",
        "import kinetics_cli.cli.main\n",
        "def f(x):\n    print(x)\n",
        "from ..report import plan\n",  # relative, from kinetics_cli.planner
        "from .. import cli\n",
    ],
)
def test_walker_flags_a_bad_module(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "import richer\n",  # a name that only starts like a forbidden one
        "from kinetics_cli.reporting import x\n",
        "from kinetics_cli.planner.plan import make_plan\n",
        "from .grid import Grid\n",
        "from ..engine import kinetics\n",
        "def f(out):\n    out.print('x')\n",  # a method named print is not the builtin
    ],
)
def test_walker_passes_a_clean_module(source: str) -> None:
    assert violations(source) == []


@pytest.mark.parametrize("path", library_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_library_never_prints_or_plots(path: Path) -> None:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = ".".join(parts[:-1] if parts[-1] != "__init__" else parts)
    assert violations(path.read_text(encoding="utf-8"), package) == []
