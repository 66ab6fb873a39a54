"""Read TOML (tomllib, or tomli before Python 3.11) and write the small subset our data files use."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from kinetics_cli.errors import SpecError

TOMLDecodeError = tomllib.TOMLDecodeError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a syntax error becomes a SpecError naming the file, line and column. A
    UTF-8 byte-order mark (which some editors write) is skipped, as the CSV readers skip it."""
    try:
        data = path.read_bytes()
        return tomllib.loads(data.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:  # an integer of more than 4300 digits (Python's conversion limit)
        raise SpecError(f"{path}: not valid TOML for this tool: {exc}") from exc


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:  # TOML integers are 64-bit; other parsers refuse more
            raise ValueError(f"TOML cannot hold the integer {value} (beyond 64 bits)")
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"TOML cannot hold {value!r} here")
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, Sequence):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: Mapping[str, Any], header: str = "") -> str:
    """Serialise nested mappings of scalars and lists; `header` lines become leading comments."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]

    def emit(table: Mapping[str, Any], prefix: str) -> None:
        subtables = []
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                subtables.append((key, value))
            else:
                lines.append(f"{key} = {_scalar(value)}")
        for key, value in subtables:
            name = f"{prefix}.{key}" if prefix else key
            lines.append("")
            lines.append(f"[{name}]")
            emit(value, name)

    emit(data, "")
    return "\n".join(lines).strip("\n") + "\n"
