"""Find, load and resolve catalog entries along the search path.

Search order, later folders overriding earlier ones by name: the bundled files, the user folder
($XDG_CONFIG_HOME/kinetics or the platform's config folder), each folder of $KINETICS_PATH, then
folders given with --catalog. Each folder holds `hardware_profiles/` and `model_cards/`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from kinetics_cli.errors import CatalogError, SpecError
from kinetics_cli.specs import CatalogSpec, HardwareProfile, ModelCard
from kinetics_cli.tomlio import read_toml

HARDWARE_DIR = "hardware_profiles"
MODELS_DIR = "model_cards"
ENV_PATH = "KINETICS_PATH"

M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=CatalogSpec)


def bundled_root() -> Path:
    """Folder holding the bundled catalog: inside the wheel, or the repository top level."""
    here = Path(__file__).resolve().parent
    packaged = here / "_bundled"
    if (packaged / HARDWARE_DIR).is_dir():
        return packaged
    return here.parent


def user_root() -> Path:
    """The user's catalog folder: $XDG_CONFIG_HOME/kinetics, else the platform's config folder
    (platformdirs, as for the outcome cache: ~/.config/kinetics on Linux, ~/Library/Application
    Support/kinetics on macOS, %LOCALAPPDATA%\\kinetics on Windows).

    An empty or relative XDG_CONFIG_HOME is ignored, as the XDG Base Directory specification
    asks: read literally it would put the user catalog, and `models import` and `calibrate fit`
    output, in whatever folder the command runs from."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "kinetics"
    from platformdirs import user_config_dir

    return Path(user_config_dir("kinetics", appauthor=False, roaming=False))


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


class Entry(Generic[S]):
    """A catalog entry: its file, where on the search path it was found, its name and aliases,
    and its validated spec.

    Bundled files are indexed by name and aliases when the catalog loads and validated on first
    use of `spec` (a command reads the few entries it needs, not all of them); files of the other
    folders are validated at once, so a broken one is reported whatever the command.
    """

    def __init__(
        self,
        spec: S | None,
        path: Path,
        origin: str,
        *,
        kind: type[S] | None = None,
        name: str = "",
        aliases: Sequence[str] = (),
    ) -> None:
        self.path, self.origin = path, origin
        self._spec, self._kind = spec, kind
        self.name = spec.name if spec is not None else name
        self.aliases = tuple(spec.aliases) if spec is not None else tuple(aliases)

    @property
    def spec(self) -> S:
        """The validated spec (read from its file on first use)."""
        if self._spec is None:
            assert self._kind is not None
            spec = load_spec(self.path, self._kind)
            if spec.name != self.name or tuple(spec.aliases) != self.aliases:
                raise SpecError(
                    f"{self.path}: name and aliases read as {spec.name!r} {spec.aliases} but "
                    f"indexed as {self.name!r} {list(self.aliases)}"
                )
            self._spec = spec
        return self._spec

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {str(self.path)!r}, {self.origin!r})"


_TOP_NAME = re.compile(r'^name\s*=\s*"([^"\\\n]+)"[ \t]*(?:#[^\n]*)?$', re.MULTILINE)
_TOP_ALIASES = re.compile(r"^aliases\s*=", re.MULTILINE)
# An array of plain double-quoted strings, on one line or several, comments allowed.
_STRING_ARRAY = re.compile(
    r'^aliases\s*=\s*\[((?:\s+|"[^"\\\n]*"|,|#[^\n]*)*)\][ \t]*(?:#[^\n]*)?$', re.MULTILINE
)
_STRING_OR_COMMENT = re.compile(r'"([^"\\\n]*)"|#[^\n]*')


def index_entry(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """(name, aliases) of a catalog file from its top-level `name = "..."` and `aliases = [...]`
    (plain double-quoted strings), without parsing the rest; None when the file is written
    otherwise (the caller then validates it whole)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    top = re.split(r"^[ \t]*\[[^\]\n]*\][ \t]*(?:#[^\n]*)?$", text, maxsplit=1, flags=re.MULTILINE)[
        0
    ]
    names = _TOP_NAME.findall(top)
    if len(names) != 1:
        return None
    if not _TOP_ALIASES.search(top):
        return names[0], ()
    arrays = _STRING_ARRAY.findall(top)
    if len(arrays) != 1 or len(_TOP_ALIASES.findall(top)) != 1:
        return None
    strings = (m.group(1) for m in _STRING_OR_COMMENT.finditer(arrays[0]))
    return names[0], tuple(x for x in strings if x is not None)


_TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(?:#.*)?$")
_KEY = re.compile(r'^\s*((?:[A-Za-z0-9_-]+|"[^"]*")(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"))*)\s*=')


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of each `key = ...` in a TOML text, by its dotted path.

    Best effort for error messages: follows `[table]` headers and bare or quoted keys; keys inside
    inline tables are not located (the error then names the field without a line).
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.split("\n"), start=1):
        header = _TABLE.match(line)
        if header:
            table = tuple(part.strip().strip('"') for part in header.group(1).split("."))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = (*table, *(part.strip().strip('"') for part in key.group(1).split(".")))
            lines.setdefault(path, number)
    return lines


def _short_int(value: int) -> str:
    """An integer as written, or its digit count when it is too long to show."""
    if isinstance(value, bool) or -(10**30) < value < 10**30:
        return repr(value)
    return f"an integer of {len(str(abs(value))):,} digits"


def format_validation_error(path: Path, exc: ValidationError, text: str = "") -> str:
    """One clause per problem: file, dotted field path, what was wrong, what was given, and the
    line of the field when `text` (the file's contents) is given."""
    lines = _key_lines(text) if text else {}
    parts = []
    for err in exc.errors():
        loc = tuple(str(x) for x in err["loc"])
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the schema)"
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        given = err.get("input")
        details = []
        if not (isinstance(given, dict) or err["type"] == "missing"):
            shown_value = repr(given) if not isinstance(given, int) else _short_int(given)
            if len(shown_value) > 60:  # a list of thousands of indices, a very long string
                shown_value = shown_value[:40] + f"... ({len(shown_value):,} characters)"
            details.append(f"got {shown_value}")
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        if line is not None:
            details.append(f"line {line}")
        shown = f" ({', '.join(details)})" if details else ""
        parts.append(f"{'.'.join(loc) or '(top level)'}: {msg}{shown}")
    return f"{path}: " + "; ".join(parts)


def load_spec(path: Path, kind: type[M]) -> M:
    """Read and validate one TOML file as `kind`; errors name the file and field."""
    data = read_toml(path)
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        text = path.read_text(encoding="utf-8", errors="replace")
        raise SpecError(format_validation_error(path, exc, text)) from exc


class Registry(Generic[S]):
    """Entries of one kind, resolvable by name or alias, case-insensitively.

    `entries` come in search-path order. A later entry replaces an earlier one of the same name and
    answers to its aliases too; an alias (or file stem) claimed by two entries resolves to the later
    one. A name always wins over an alias.
    """

    def __init__(
        self,
        what: str,
        command: str,
        entries: Iterable[Entry[S]],
        broken: Mapping[Path, str] | Sequence[Path] = (),
    ):
        self.what = what
        self.command = command
        # files of this kind that were skipped as invalid, with why
        self.broken: dict[Path, str] = (
            dict(broken) if isinstance(broken, Mapping) else dict.fromkeys(broken, "invalid")
        )
        ordered = list(entries)
        self._by_name: dict[str, Entry[S]] = {}
        replaced: list[str] = []
        for entry in ordered:
            earlier = self._by_name.get(entry.name.lower())
            # a later folder's entry of the same name takes over (the same file reached twice,
            # a folder both on KINETICS_PATH and given as --catalog, replaces nothing)
            if earlier is not None and earlier.path.resolve() != entry.path.resolve():
                replaced.append(
                    f"{entry.path} ({entry.origin}) replaces the {what} {earlier.name!r} "
                    f"of {earlier.path} ({earlier.origin})"
                )
            self._by_name[entry.name.lower()] = entry
        self._aliases: dict[str, str] = {}
        claims: dict[str, list[Entry[S]]] = {}
        for entry in ordered:  # a replaced entry's aliases lead to the entry that replaced it
            for alias in [*entry.aliases, entry.path.stem]:
                self._aliases[alias.lower()] = entry.name.lower()
                claims.setdefault(alias.lower(), []).append(entry)
        self.warnings = replaced + self._ambiguities(claims)

    def _ambiguities(self, claims: dict[str, list[Entry[S]]]) -> list[str]:
        """One line per alias that two different entries claim, or that names another entry:
        which entry answers to it, so that a user file cannot take over a name unnoticed."""
        lines = []
        for alias, entries in claims.items():
            names = list(dict.fromkeys(e.name.lower() for e in entries))
            if alias in self._by_name:
                owner = self._by_name[alias]
                for entry in (e for e in entries if e.name.lower() != alias):
                    lines.append(
                        f"{entry.path} ({entry.origin}): alias {alias!r} of {entry.name!r} "
                        f"is the name of the {self.what} in {owner.path} ({owner.origin}); the "
                        "name wins, the alias is ignored"
                    )
            elif len(names) > 1:
                winner = self._by_name[self._aliases[alias]]
                others = [e for e in entries if e.name.lower() != winner.name.lower()]
                lines.append(
                    f"{winner.path} ({winner.origin}): alias {alias!r} of "
                    f"{winner.name!r} is also claimed by "
                    + ", ".join(f"{e.name!r} ({e.path}, {e.origin})" for e in others)
                    + f"; {alias!r} now means {winner.name!r}"
                )
        return lines

    def __iter__(self) -> Iterator[Entry[S]]:
        return iter(sorted(self._by_name.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return [e.name for e in self]

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
        for path, reason in self.broken.items():
            if path.stem.lower() == name.strip().lower():
                why = reason if reason.startswith(str(path)) else f"{path}: {reason}"
                raise CatalogError(f"unknown {self.what} {name!r}: skipped {why}")
        candidates = list(self._by_name) + list(self._aliases)
        close = difflib.get_close_matches(name.strip().lower(), candidates, n=4, cutoff=0.5)
        close_names = list(
            dict.fromkeys(self._by_name[self._aliases.get(c, c)].name for c in close)
        )
        hint = f"; closest: {', '.join(close_names)}" if close_names else ""
        raise CatalogError(
            f"unknown {self.what} {name!r}{hint} (see 'kinetics {self.command} list')"
        )


@dataclass
class Catalog:
    """Every hardware profile and model card on the search path, plus files that were skipped."""

    hardware: Registry[HardwareProfile]
    models: Registry[ModelCard]
    skipped: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # ambiguous aliases, empty folders


def _load_folder(
    source: Source, sub: str, kind: type[S], skipped: list[str], broken: dict[Path, str]
) -> list[Entry[S]]:
    """Every entry in `source.root / sub`. Bundled files are indexed (validated on first use; a
    broken one raises then); other files are validated now, and a broken or duplicate one is
    reported in `skipped`, listed in `broken` and left out. A duplicate bundled name raises."""
    folder = source.root / sub
    if not folder.is_dir():
        return []
    entries: list[Entry[S]] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            index = index_entry(path) if source.origin == "bundled" else None
            if index is not None:
                entry = Entry(None, path, source.origin, kind=kind, name=index[0], aliases=index[1])
            else:
                entry = Entry(load_spec(path, kind), path, source.origin)
            first = seen.setdefault(entry.name.lower(), path)
            if first != path:
                raise SpecError(f"{path}: name {entry.name!r} is already used by {first}")
        except SpecError as exc:
            if source.origin == "bundled":
                raise
            skipped.append(f"skipped {exc}")
            broken[path] = str(exc)
            continue
        entries.append(entry)
    return entries


def load_catalog(extra: Sequence[Path] = ()) -> Catalog:
    """Load every entry on the search path. Broken user files are skipped and reported in
    `Catalog.skipped`; bundled files are validated when first used (a broken one raises then)."""
    sources = search_path(extra)
    skipped: list[str] = []
    for source in sources:
        if source.root.is_dir():
            if source.origin in ("--catalog", ENV_PATH) and not any(
                (source.root / sub).is_dir() for sub in (HARDWARE_DIR, MODELS_DIR)
            ):
                skipped.append(
                    f"{source.origin} folder {source.root} has neither {HARDWARE_DIR}/ nor "
                    f"{MODELS_DIR}/; nothing loaded from it"
                )
            continue
        if source.origin == "--catalog":
            what = "is a file, not a folder" if source.root.exists() else "no such folder"
            raise CatalogError(f"--catalog {source.root}: {what}")
        if source.origin == ENV_PATH:
            skipped.append(f"{ENV_PATH} folder {source.root} does not exist; ignored")
    hardware: list[Entry[HardwareProfile]] = []
    models: list[Entry[ModelCard]] = []
    broken_hardware: dict[Path, str] = {}
    broken_models: dict[Path, str] = {}
    for source in sources:
        hardware += _load_folder(source, HARDWARE_DIR, HardwareProfile, skipped, broken_hardware)
        models += _load_folder(source, MODELS_DIR, ModelCard, skipped, broken_models)
    hardware_registry = Registry("hardware profile", "hardware", hardware, broken_hardware)
    model_registry = Registry("model", "models", models, broken_models)
    return Catalog(
        hardware=hardware_registry,
        models=model_registry,
        skipped=skipped,
        sources=sources,
        warnings=hardware_registry.warnings
        + model_registry.warnings
        + _published_mismatches(models),
    )


def _published_mismatches(models: Sequence[Entry[ModelCard]]) -> list[str]:
    """One line per card outside the bundled catalog whose derived parameter counts miss its
    [published] figures by more than specs.PUBLISHED_TOLERANCE: every cost priced on the card
    rests on its shape, so a mistyped field must not pass unnoticed. (Bundled cards are held
    to the same tolerance by the tests.)"""
    from kinetics_cli.specs import PUBLISHED_TOLERANCE

    lines = []
    for entry in models:
        if entry.origin == "bundled":
            continue
        misses = entry.spec.published_mismatches()
        if misses:
            lines.append(
                f"{entry.path} ({entry.origin}): model {entry.name!r} does not match its "
                f"[published] figures: {'; '.join(misses)} (more than "
                f"{PUBLISHED_TOLERANCE:.0%} apart); check its [architecture] fields against "
                "the model's config.json, or the [published] table"
            )
    return lines
