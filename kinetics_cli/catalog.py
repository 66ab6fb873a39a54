"""Find, load and resolve catalog entries along the search path.

Search order, later folders overriding earlier ones by name: the bundled files, the user folder
($XDG_CONFIG_HOME/kinetics or the platform's config folder), each folder of $KINETICS_PATH, then
folders given with --catalog. Each folder holds `hardware_profiles/` and `model_cards/`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from kinetics_cli.errors import CatalogError, SpecError
from kinetics_cli.specs import HardwareProfile, ModelCard
from kinetics_cli.tomlio import read_toml

HARDWARE_DIR = "hardware_profiles"
MODELS_DIR = "model_cards"
ENV_PATH = "KINETICS_PATH"

S = TypeVar("S", bound=BaseModel)


def bundled_root() -> Path:
    """Folder holding the bundled catalog: inside the wheel, or the repository top level."""
    here = Path(__file__).resolve().parent
    packaged = here / "_bundled"
    if (packaged / HARDWARE_DIR).is_dir():
        return packaged
    return here.parent


def user_root() -> Path:
    """The user's catalog folder: $XDG_CONFIG_HOME/kinetics, else the platform's config folder."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg) / "kinetics"
    import platformdirs

    return Path(platformdirs.user_config_dir("kinetics", appauthor=False))


@dataclass(frozen=True)
class Source:
    """One folder on the search path and why it is there."""

    root: Path
    origin: str  # "bundled", "user", "KINETICS_PATH", "--catalog"


def search_path(extra: Sequence[Path] = ()) -> list[Source]:
    """The catalog folders in override order (later wins)."""
    sources = [Source(bundled_root(), "bundled"), Source(user_root(), "user")]
    for part in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if part.strip():
            sources.append(Source(Path(part).expanduser(), ENV_PATH))
    sources.extend(Source(Path(p).expanduser(), "--catalog") for p in extra)
    return sources


@dataclass(frozen=True)
class Entry(Generic[S]):
    """A validated spec and the file it came from."""

    spec: S
    path: Path
    origin: str


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: file, dotted field path, what was wrong and what was given."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the schema)"
        given = err.get("input")
        shown = "" if isinstance(given, dict) or err["type"] == "missing" else f" (got {given!r})"
        parts.append(f"{loc}: {msg}{shown}")
    return f"{path}: " + "; ".join(parts)


def load_spec(path: Path, kind: type[S]) -> S:
    """Read and validate one TOML file as `kind`; errors name the file and field."""
    data = read_toml(path)
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(path, exc)) from exc


class Registry(Generic[S]):
    """Entries of one kind, resolvable by name or alias, case-insensitively."""

    def __init__(self, what: str, entries: Iterable[Entry[S]]):
        self.what = what
        self._by_name: dict[str, Entry[S]] = {}
        for entry in entries:  # later entries override earlier ones by name
            self._by_name[entry.spec.name.lower()] = entry  # type: ignore[attr-defined]
        self._aliases: dict[str, str] = {}
        for key, entry in self._by_name.items():
            for alias in [*entry.spec.aliases, entry.path.stem]:  # type: ignore[attr-defined]
                self._aliases.setdefault(alias.lower(), key)

    def __iter__(self):
        return iter(sorted(self._by_name.values(), key=lambda e: e.spec.name))  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return [e.spec.name for e in self]  # type: ignore[attr-defined]

    def find(self, name: str) -> Entry[S] | None:
        key = name.strip().lower()
        if key in self._by_name:
            return self._by_name[key]
        if key in self._aliases:
            return self._by_name[self._aliases[key]]
        return None

    def get(self, name: str) -> Entry[S]:
        """Resolve `name`; unknown names raise CatalogError listing the closest names."""
        entry = self.find(name)
        if entry is not None:
            return entry
        candidates = list(self._by_name) + list(self._aliases)
        close = difflib.get_close_matches(name.strip().lower(), candidates, n=4, cutoff=0.5)
        close_names = list(
            dict.fromkeys(self._by_name[self._aliases.get(c, c)].spec.name for c in close)  # type: ignore[attr-defined]
        )
        hint = f"; closest: {', '.join(close_names)}" if close_names else ""
        raise CatalogError(
            f"unknown {self.what} {name!r}{hint} (see 'kinetics {self._command()} list')"
        )

    def _command(self) -> str:
        return "hardware" if self.what == "hardware profile" else "models"


@dataclass
class Catalog:
    """Every hardware profile and model card on the search path, plus files that were skipped."""

    hardware: Registry[HardwareProfile]
    models: Registry[ModelCard]
    skipped: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def _load_folder(source: Source, sub: str, kind: type[S], skipped: list[str]) -> list[Entry[S]]:
    folder = source.root / sub
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob("*.toml")):
        try:
            entries.append(Entry(load_spec(path, kind), path, source.origin))
        except SpecError as exc:
            if source.origin == "bundled":
                raise
            skipped.append(f"skipped {exc}")
    return entries


def load_catalog(extra: Sequence[Path] = ()) -> Catalog:
    """Load every entry on the search path. Broken bundled files raise; broken user files are
    skipped and reported in `Catalog.skipped`."""
    sources = search_path(extra)
    for source in sources:
        if source.origin == "--catalog" and not source.root.is_dir():
            raise CatalogError(f"--catalog {source.root}: no such folder")
    skipped: list[str] = []
    hardware: list[Entry[HardwareProfile]] = []
    models: list[Entry[ModelCard]] = []
    for source in sources:
        hardware += _load_folder(source, HARDWARE_DIR, HardwareProfile, skipped)
        models += _load_folder(source, MODELS_DIR, ModelCard, skipped)
    return Catalog(
        hardware=Registry("hardware profile", hardware),
        models=Registry("model", models),
        skipped=skipped,
        sources=sources,
    )
