"""calibrate.measurements: the JSON Lines format, its validation, and atomic profile writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.calibrate.measurements import (
    Measurement,
    file_checksum,
    read_measurements,
    write_measurements,
)
from kinetics_cli.cli.main import app
from kinetics_cli.errors import InputError

runner = CliRunner()

GOOD = {
    "kernel": "gemm",
    "shape": {"m": 4, "n": 8, "k": 16},
    "flops": 1024.0,  # 2 * 4 * 8 * 16
    "bytes": 896.0,  # (4*16 + 16*8 + 4*8) * 4
    "seconds": 1e-6,
    "spread": 0.01,
    "repeats": 5,
    "dtype": "fp32",
    "device": "test cpu",
    "backend": "numpy",
    "timestamp": "2026-01-01T00:00:00+00:00",
}


def write_rows(path: Path, *docs: object) -> Path:
    path.write_text("".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs))
    return path


def test_byte_order_mark_and_raw_line_separators_are_read(tmp_path: Path) -> None:
    """A file saved by an editor that writes a UTF-8 byte-order mark reads as without it (as
    evaluation files do), and a note holding a raw U+2028 stays on its line (JSON Lines splits
    at '\\n' only): each was refused as 'not valid JSON'."""
    text = json.dumps(dict(GOOD, note="run\u2028two"), ensure_ascii=False) + "\r\n"
    path = tmp_path / "m.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + (text * 2).encode("utf-8"))
    rows = read_measurements(path)
    assert [r.line for r in rows] == [1, 2] and rows[0].note == "run\u2028two"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    with pytest.raises(InputError, match=rf"^{path}: the file is UTF-16"):
        read_measurements(path)


def test_round_trip(tmp_path: Path) -> None:
    rows = [Measurement(**{**GOOD, "shape": dict(GOOD["shape"])}, seconds_min=9e-7, clock="wall")]  # type: ignore[arg-type]
    path = write_measurements(tmp_path / "m.jsonl", rows)
    back = read_measurements(path)
    assert back == rows and back[0].line == 1
    assert file_checksum(path).startswith("sha256:") and len(file_checksum(path)) == 71


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seconds": None}, "missing field 'seconds'"),
        ({"seconds": -1.0}, "field 'seconds' must be positive"),
        ({"seconds": 0}, "field 'seconds' must be positive"),
        ({"seconds": "fast"}, "field 'seconds' must be a number"),
        ({"flops": -5.0}, "field 'flops' must not be negative"),
        ({"kernel": "fft"}, "field 'kernel': unknown kernel 'fft'"),
        ({"shape": {"m": 4, "n": 8}}, "field 'shape': shape.k is missing"),
        ({"shape": {"m": 4, "n": 8, "k": 0}}, "shape.k must be positive"),
        ({"dtype": "int4"}, "field 'dtype': unknown dtype"),
        ({"repeats": 0}, "field 'repeats' must be a whole number"),
        ({"device": ""}, "field 'device' must be a non-empty string"),
    ],
)
def test_malformed_rows_name_file_line_and_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    doc = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = write_rows(tmp_path / "bad.jsonl", GOOD, doc)
    with pytest.raises(InputError) as info:
        read_measurements(path)
    assert str(info.value).startswith(f"{path}:2: ")
    assert message in str(info.value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected_naming_the_field(tmp_path: Path, literal: str) -> None:
    text = json.dumps(GOOD).replace('"seconds": 1e-06', f'"seconds": {literal}')
    path = write_rows(tmp_path / "nan.jsonl", text)
    with pytest.raises(InputError, match=r"nan\.jsonl:1: field 'seconds' must be finite"):
        read_measurements(path)


def test_nan_given_as_a_float_is_rejected(tmp_path: Path) -> None:
    from kinetics_cli.calibrate.measurements import parse_row

    with pytest.raises(InputError, match="field 'seconds' must be finite"):
        parse_row({**GOOD, "seconds": float("nan")}, "row")


def test_empty_and_unreadable_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="no measurement rows"):
        read_measurements(empty)
    with pytest.raises(InputError, match="no such measurement file"):
        read_measurements(tmp_path / "missing.jsonl")
    broken = write_rows(tmp_path / "broken.jsonl", GOOD, "{not json")
    with pytest.raises(InputError, match=r"broken\.jsonl:2: not valid JSON"):
        read_measurements(broken)
    listed = write_rows(tmp_path / "list.jsonl", [1, 2])
    with pytest.raises(InputError, match=r"list\.jsonl:1: expected a JSON object"):
        read_measurements(listed)


@pytest.mark.parametrize("command", ["check", "fit"])
def test_cli_malformed_file_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    path = write_rows(tmp_path / "bad.jsonl", {**GOOD, "seconds": -2.0})
    args = ["calibrate", command, str(path)] + (
        ["--hardware", "measured"] if command == "fit" else []
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:1: field 'seconds' must be positive" in lines[0]


def test_cli_empty_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    result = runner.invoke(app, ["calibrate", "check", str(path)])
    assert result.exit_code == 2 and "no measurement rows" in result.stderr


def shipped_like_file(tmp_path: Path) -> Path:
    """A small valid measurement file: synthetic rows of every micro class."""
    from test_calibrate_fit import rows_from_model, truth

    from kinetics_cli.calibrate.kernels import plan

    return write_measurements(tmp_path / "m.jsonl", rows_from_model(truth(), plan(quick=True)))


def test_fit_never_overwrites_without_force(tmp_path: Path) -> None:
    data = shipped_like_file(tmp_path)
    out = tmp_path / "p.toml"
    out.write_text("old\n")
    args = ["calibrate", "fit", str(data), "--hardware", "measured", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "already exists; pass --force" in result.stderr
    assert out.read_text() == "old\n"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert "[calibration.kernels.gemm]" in out.read_text()


def test_interrupted_fit_leaves_the_old_profile_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = shipped_like_file(tmp_path)
    folder = tmp_path / "profiles"
    folder.mkdir()
    out = folder / "p.toml"
    out.write_text("old profile\n")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    args = ["calibrate", "fit", str(data), "--hardware", "measured", "--out", str(out), "--force"]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert out.read_text() == "old profile\n"
    assert [p.name for p in folder.iterdir()] == ["p.toml"]


# Bad values, as JSON literals, for every number of a row: each must be refused on the row's
# line, naming the field, before any fit or TOML sees it.
HUGE_INT = "1" + "0" * 400  # beyond any float
BIG_INT = "1" + "0" * 300  # a float, but no physical quantity
BAD_NUMBERS = {
    "huge integer": HUGE_INT,
    "big integer": BIG_INT,
    "1e308": "1e308",
    "Infinity": "Infinity",
    "NaN": "NaN",
    "negative": "-1",
    "string": '"5"',
    "boolean": "true",
    "list": "[1]",
    "object": "{}",
    "null": "null",
}
NUMBER_FIELDS = ["flops", "bytes", "seconds", "spread", "repeats", "seconds_min", "shape.m"]


def _row_with(field: str, literal: str) -> str:
    doc: dict[str, object] = {**GOOD, "shape": dict(GOOD["shape"])}  # type: ignore[arg-type]
    if field.startswith("shape."):
        doc["shape"][field.split(".")[1]] = "@@"  # type: ignore[index]
    else:
        doc[field] = "@@"
    return json.dumps(doc).replace('"@@"', literal)


@pytest.mark.parametrize("command", ["fit", "check"])
@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("name", list(BAD_NUMBERS))
def test_bad_numbers_in_any_field_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, command: str, field: str, name: str
) -> None:
    if field == "seconds_min" and name == "null":
        pytest.skip("seconds_min is optional: null means absent")
    path = write_rows(tmp_path / "bad.jsonl", GOOD, _row_with(field, BAD_NUMBERS[name]))
    out = tmp_path / "profile.toml"
    args = ["calibrate", command, str(path)]
    args += ["--hardware", "measured", "--out", str(out)] if command == "fit" else []
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    key = "shape" if field.startswith("shape.") else field
    assert lines[0].startswith(f"error: {path}:2: field '{key}'"), lines[0]
    assert len(lines[0]) < 200  # a 400-digit integer is described, not printed
    assert not out.exists()


def test_fastest_call_cannot_exceed_the_median(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "m.jsonl", {**GOOD, "seconds_min": 2e-6})
    with pytest.raises(InputError, match=r"m\.jsonl:1: field 'seconds_min' \(2e-06\) exceeds"):
        read_measurements(path)


def test_deeply_nested_json_is_invalid_json_not_a_crash(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "deep.jsonl", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match=r"deep\.jsonl:1: not valid JSON"):
        read_measurements(path)


def test_a_fit_that_cannot_be_written_as_toml_is_refused() -> None:
    """The last line of defence: whatever reaches the writer, no TOML with inf or nan."""
    from kinetics_cli.calibrate.fit import profile_toml
    from kinetics_cli.catalog import load_catalog

    profile = load_catalog().hardware.get("h100-sxm").spec
    broken = profile.model_copy(update={"hbm_bandwidth": float("inf")})
    with pytest.raises(InputError, match="cannot be written as TOML"):
        profile_toml(broken)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("flops", 1e19, "field 'flops' must be at most 1e18 (got 1e+19)"),
        ("bytes", 1e16, "field 'bytes' must be at most 1e15 (got 1e+16)"),
        ("seconds", 1e-10, "field 'seconds' must be at least 1e-9 (got 1e-10)"),
        ("seconds", 2e4, "field 'seconds' must be at most 10,000 (got 20000.0)"),
        ("spread", 101.0, "field 'spread' must be at most 100 (got 101.0)"),
        ("repeats", 2_000_000, "field 'repeats' must be a whole number from 1 to 1,000,000"),
    ],
)
def test_range_bounds_are_written_as_the_tool_writes_limits(
    tmp_path: Path, field: str, value: float, message: str
) -> None:
    """Bounds read as docs/calibration.md and the code's comments write them (1e18, 10,000), not
    as '1e+18' or '10000'; the value given is shown as the file has it."""
    path = write_rows(tmp_path / "m.jsonl", {**GOOD, field: value})
    with pytest.raises(InputError) as err:
        read_measurements(path)
    assert f"m.jsonl:1: {message}" in str(err.value)
