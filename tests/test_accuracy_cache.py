"""The outcome cache: the same arrays bit for bit, keyed by everything they are computed from."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kinetics_cli.accuracy import cache, load_accuracy
from kinetics_cli.accuracy.base import AccuracySource, Outcome, Setting
from kinetics_cli.cli.main import app

TRIALS = np.array([1.0, 4.0, 32.0])
LIMITS = np.array([2048.0, 8192.0, 32768.0])


def bundled() -> AccuracySource:
    return load_accuracy("aime24", None, lambda name: name)


class Counting:
    """A `load` callable that counts how often the source was built."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> AccuracySource:
        self.calls += 1
        return bundled()


def same(a: Outcome, b: Outcome) -> None:
    for name in ("accuracy", "gen_lengths", "gen_weights", "accuracy_ci", "replicates"):
        x, y = getattr(a, name), getattr(b, name)
        if x is None or y is None:
            assert x is None and y is None, name
            continue
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name  # bit for bit, NaN included
    assert (a.prompt_len, a.pairing, a.kind, a.note) == (b.prompt_len, b.pairing, b.kind, b.note)


def some_settings(source: AccuracySource) -> list[Setting]:
    """A measured dense, a measured sparse and two prior settings of the bundled aime24 source."""
    kinds = {s: source.setting_kind(s) for s in source.settings()}  # type: ignore[attr-defined]
    measured = [s for s, k in kinds.items() if k == "measured"]
    priors = [s for s, k in kinds.items() if k == "priors"]
    return [measured[0], measured[-1], priors[0], priors[-1]]


def test_encode_decode_keeps_every_field() -> None:
    outcome = Outcome(
        accuracy=np.array([[0.1, np.nan], [0.3, 0.4]]),
        gen_lengths=np.arange(6, dtype=float).reshape(2, 3),
        gen_weights=np.full((2, 3), 1 / 3),
        prompt_len=160.0,
        accuracy_ci=None,
        replicates=np.arange(8, dtype=np.float32).reshape(2, 2, 2),  # not float64: kept as is
        pairing=None,
        kind="priors",
        note="prior, 3 points either side",
    )
    key = Setting("m", "topk", 512.0)
    header, back = cache.decode(bytearray(cache.encode({"x": 1}, {key: outcome})))
    assert header == {"x": 1}
    same(back[key], outcome)
    assert back[key].accuracy.flags.writeable  # views of a bytearray: writeable like the source's


def test_file_written_in_pieces_is_the_encoded_bytes(tmp_path: Path) -> None:
    """save() writes the pieces of `encoded_parts` (views of the arrays, a running CRC-32): the
    file holds `encode`'s bytes, padding after an odd-sized array and a non-contiguous array
    included."""
    outcome = Outcome(
        accuracy=np.arange(6, dtype=float).reshape(3, 2).T,  # a transposed view
        gen_lengths=np.ones((2, 1)),
        gen_weights=np.ones((2, 1)),
        prompt_len=1.0,
        accuracy_ci=np.zeros((2, 0, 2)),  # no values
        replicates=np.arange(3, dtype=np.float32),  # 12 bytes: 4 of padding follow
    )
    outcomes = {Setting("m", "dense", None): outcome, Setting("m", "topk", 64.0): outcome}
    path = tmp_path / "grid.bin"
    cache._write(path, cache.encoded_parts({"x": 1}, outcomes))
    raw = path.read_bytes()
    assert raw == cache.encode({"x": 1}, outcomes)
    header, back = cache.decode(raw)
    assert header == {"x": 1}
    for kept in back.values():
        same(kept, outcome)


@pytest.mark.parametrize(
    "raw", [b"", b"something else\n", cache.FORMAT + b"{not json\n", cache.FORMAT + b"{}\n"]
)
def test_decode_refuses_what_encode_did_not_write(raw: bytes) -> None:
    with pytest.raises((ValueError, KeyError)):
        cache.decode(raw)


def test_decode_refuses_a_truncated_file() -> None:
    outcome = Outcome(np.ones((2, 2)), np.ones((2, 1)), np.ones((2, 1)), 1.0)
    raw = cache.encode({}, {Setting("m", "dense", None): outcome})
    for cut in (len(raw) - 8, len(raw) - 1, len(cache.FORMAT) + 4):
        with pytest.raises(ValueError, match="truncated"):
            cache.decode(raw[:cut])
    # torn: the right length, the tail never written (zeros)
    torn = raw[: len(raw) - 16] + bytes(16)
    with pytest.raises(ValueError, match="CRC-32"):
        cache.decode(torn)


def test_decode_refuses_a_damaged_file() -> None:
    """One flipped bit in an accuracy value (a plausible number still) or in the JSON line is
    refused, not read as outcomes."""
    outcome = Outcome(np.full((2, 2), 0.5), np.ones((2, 1)), np.ones((2, 1)), 160.0)
    raw = cache.encode({}, {Setting("m", "dense", None): outcome})
    cache.decode(raw)  # whole: read
    value = raw.index(np.float64(0.5).tobytes())  # the first accuracy's bytes
    prompt = raw.index(b"160.0")
    for at, bit in ((value + 6, 0x01), (prompt, 0x02)):  # 0.5 -> 0.25; "160" -> "360"
        damaged = bytearray(raw)
        damaged[at] ^= bit
        with pytest.raises(ValueError, match="CRC-32"):
            cache.decode(damaged)


def test_cached_outcomes_equal_the_source_and_skip_loading_it(tmp_path: Path) -> None:
    plain = bundled()
    chosen = some_settings(plain)
    first_load = Counting()
    first = cache.CachedSource("aime24", first_load, tmp_path)
    for s in chosen:
        same(first.outcome(s, TRIALS, LIMITS), plain.outcome(s, TRIALS, LIMITS))
    first.save()
    assert first_load.calls == 1
    digest = cache.source_digest("aime24")
    (grid,) = tmp_path.glob(f"aime24-{digest}-*.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == [grid.name, f"aime24-{digest}.json"]

    second_load = Counting()
    second = cache.CachedSource("aime24", second_load, tmp_path)
    assert second.settings() == plain.settings()
    assert (second.task, second.kind, second.description) == (
        plain.task,
        plain.kind,
        plain.description,
    )
    assert second.parametric is True
    for s in chosen:
        same(second.outcome(s, TRIALS, LIMITS), plain.outcome(s, TRIALS, LIMITS))
    assert second_load.calls == 0  # everything came from the files
    # a setting the file lacks, and anything else the source has, load it once
    other = next(s for s in plain.settings() if s not in chosen)
    same(second.outcome(other, TRIALS, LIMITS), plain.outcome(other, TRIALS, LIMITS))
    assert second.setting_kind(chosen[0]) == "measured"  # type: ignore[attr-defined]
    assert second_load.calls == 1


def test_another_grid_is_another_file(tmp_path: Path) -> None:
    source = cache.CachedSource("aime24", bundled, tmp_path)
    s = some_settings(bundled())[0]
    source.outcome(s, TRIALS, LIMITS)
    source.outcome(s, TRIALS, LIMITS[:2])
    source.save()
    assert len(list(tmp_path.glob("aime24-*.bin"))) == 2
    assert cache.grid_digest("d", TRIALS, LIMITS) != cache.grid_digest("d", TRIALS, LIMITS[:2])
    assert cache.source_digest("aime24") != cache.source_digest("aime25")


def test_a_changed_input_file_changes_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = Path(cache.__file__).resolve().parent.parent
    copy = tmp_path / "kinetics_cli"
    shutil.copytree(package / "accuracy", copy / "accuracy")
    for name in cache._INPUTS[1:]:
        shutil.copy(package / name, copy / name)
    monkeypatch.setattr(cache, "_PACKAGE", copy)
    before = cache.source_digest("aime24")
    assert before == cache.source_digest("aime24")  # deterministic
    priors = copy / "accuracy" / "priors" / "aime24.toml"
    priors.write_text(priors.read_text() + "\n# an edit\n")
    assert cache.source_digest("aime24") != before
    # a module outside accuracy/ that reads the measurements' CSV (fsutil.read_text)
    edited = cache.source_digest("aime24")
    helper = copy / "fsutil.py"
    helper.write_text(helper.read_text() + "\n# an edit\n")
    assert cache.source_digest("aime24") != edited


def _package_imports(path: Path) -> set[str]:
    """The kinetics_cli modules a source file imports (anywhere in it), as file names relative
    to the package: "fsutil.py", "accuracy/priors.py"."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name == "kinetics_cli":
                found.add("__init__.py")
            elif name.startswith("kinetics_cli."):
                found.add(name.removeprefix("kinetics_cli.").replace(".", "/") + ".py")
    return found


def test_the_hashed_inputs_are_every_module_the_accuracy_code_imports() -> None:
    """An outcome depends on every module the accuracy code reaches (fsutil reads the measured
    CSV): one left out of the digest would let an upgrade that changes it read old outcomes."""
    package = Path(cache.__file__).resolve().parent.parent
    seen: set[str] = set()
    todo = [str(p.relative_to(package)) for p in (package / "accuracy").glob("*.py")]
    while todo:
        name = todo.pop()
        if name in seen or not (package / name).is_file():
            continue  # "kinetics_cli.accuracy.cache" as a package attribute, not a file
        seen.add(name)
        todo.extend(_package_imports(package / name))
    hashed = {str(p.relative_to(package)) for p in cache._input_files()}
    assert seen <= hashed, sorted(seen - hashed)


def test_a_damaged_file_is_recomputed_and_rewritten(tmp_path: Path) -> None:
    s = some_settings(bundled())[2]
    first = cache.CachedSource("aime24", bundled, tmp_path)
    expected = first.outcome(s, TRIALS, LIMITS)
    first.save()
    (grid,) = tmp_path.glob("aime24-*.bin")
    grid.write_bytes(grid.read_bytes()[:100])
    load = Counting()
    again = cache.CachedSource("aime24", load, tmp_path)
    same(again.outcome(s, TRIALS, LIMITS), expected)
    assert load.calls == 1
    again.save()
    same(cache.decode(grid.read_bytes())[1][s], expected)


def test_a_folder_that_cannot_be_written_costs_only_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    source = cache.CachedSource("aime24", bundled, blocker / "cache")  # under a file
    s = some_settings(bundled())[0]
    same(source.outcome(s, TRIALS, LIMITS), bundled().outcome(s, TRIALS, LIMITS))
    source.save()  # no exception


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "1")
    assert cache.cache_dir() is None
    assert not isinstance(cache.cached_source("aime24", bundled), cache.CachedSource)
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    assert cache.cache_dir() == tmp_path
    assert isinstance(cache.cached_source("aime24", bundled), cache.CachedSource)
    monkeypatch.setenv("KINETICS_CACHE_DIR", "~/kinetics-outcomes")
    assert cache.cache_dir() == Path.home() / "kinetics-outcomes"  # ~ expanded
    monkeypatch.delenv("KINETICS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = cache.cache_dir()
    assert folder is not None and "kinetics" in folder.parts  # ...\kinetics\Cache on Windows
    for off in ("1", "true", "YES", "on"):
        monkeypatch.setenv("KINETICS_NO_CACHE", off)
        assert cache.cache_off() and cache.cache_dir() is None
    for on in ("", "0", "false", "No", "off"):
        monkeypatch.setenv("KINETICS_NO_CACHE", on)
        assert not cache.cache_off()


def test_is_bundled_task() -> None:
    assert cache.is_bundled_task("aime24") and cache.is_bundled_task(" AIME24 ")
    assert not cache.is_bundled_task("") and not cache.is_bundled_task("no-such-task")
    # a path to a bundled profile is not a task name: the name goes into the cache's file names
    for path in ("../priors/aime24", "./aime24", "priors/aime24", "/aime24"):
        assert not cache.is_bundled_task(path)


def test_a_path_as_task_writes_nothing_outside_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(folder))
    result = CliRunner().invoke(app, ["plan", "--task", "../priors/aime24", "--budget", "1e16"])
    assert result.exit_code == 2 and "known tasks" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["cache"])


def test_files_get_the_mode_a_plain_write_gives(tmp_path: Path) -> None:
    import os
    import stat

    source = cache.CachedSource("aime24", bundled, tmp_path)
    source.outcome(some_settings(bundled())[2], TRIALS, LIMITS)
    assert source.save() is True
    umask = os.umask(0)
    os.umask(umask)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # readable by other users


def test_a_header_missing_a_field_is_rewritten_not_trusted(tmp_path: Path) -> None:
    plain = bundled()
    first = cache.CachedSource("aime24", bundled, tmp_path)
    first.outcome(some_settings(plain)[0], TRIALS, LIMITS)
    first.save()
    (header,) = tmp_path.glob("*.json")
    header.write_text('{"format": "kinetics-outcomes 1", "task": "aime24"}')  # no settings
    load = Counting()
    again = cache.CachedSource("aime24", load, tmp_path)
    assert again.settings() == plain.settings() and load.calls == 1  # from the source
    again.outcome(some_settings(plain)[1], TRIALS, LIMITS)
    again.save()
    assert cache.read_header(header.read_bytes()) is not None  # rewritten whole


def test_a_changed_header_is_not_trusted(tmp_path: Path) -> None:
    """A source file whose text changed since it was written (one letter of the description) is
    not read: the source's own fields are."""
    plain = bundled()
    first = cache.CachedSource("aime24", bundled, tmp_path)
    first.outcome(some_settings(plain)[0], TRIALS, LIMITS)
    first.save()
    (header,) = tmp_path.glob("*.json")
    fields = json.loads(header.read_bytes())
    assert cache.read_header(header.read_bytes()) is not None
    fields["description"] = "x" + fields["description"][1:]
    header.write_text(json.dumps(fields))
    assert cache.read_header(header.read_bytes()) is None
    load = Counting()
    again = cache.CachedSource("aime24", load, tmp_path)
    assert again.description == plain.description and load.calls == 1


def test_an_install_without_sources_caches_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setattr(cache, "_INPUTS", (*cache._INPUTS, "no_such_module.py"))
    source = cache.cached_source("aime24", bundled)
    assert not isinstance(source, cache.CachedSource)  # the plain source, the same answers


def test_plan_prints_the_same_with_the_cache_off_cold_and_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["plan", "--budget", "1e16", "--json", "-m", "qwen3-0.6b,qwen3-4b", "--trials", "1,8"]
    runner = CliRunner()
    off = runner.invoke(app, args)
    assert off.exit_code == 0, off.output
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    cold = runner.invoke(app, args)
    assert list(tmp_path.glob("aime24-*.bin"))
    warm = runner.invoke(app, args)
    assert cold.exit_code == warm.exit_code == 0
    assert off.stdout == cold.stdout == warm.stdout


def test_a_warm_plan_never_loads_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole point of the cache: a later run of a grid reads its outcomes and header and
    never loads the measurements and priors, whatever the plan asks of the source (votes,
    per-problem rows, generation caps: each of those once made a cached run load it)."""
    args = ["plan", "--budget", "1e16", "-m", "qwen3-0.6b,qwen3-4b", "--trials", "1,8"]
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code == 0  # cold: computes and saves

    def refuse(self: cache.CachedSource) -> AccuracySource:
        raise AssertionError("a warm run loaded the accuracy source")

    monkeypatch.setattr(cache.CachedSource, "inner", property(refuse))
    warm = runner.invoke(app, args)
    assert warm.exit_code == 0, warm.output


def test_an_unknown_task_says_so_with_the_cache_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["plan", "--task", "no-such-task", "--budget", "1e16"])
    assert result.exit_code == 2
    assert "known tasks" in result.stderr and "Traceback" not in result.output


def test_save_prunes_other_versions_and_old_grids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = cache.source_digest("aime24")
    stale = tmp_path / f"aime24-{'0' * 32}-{'1' * 32}.bin"  # another version of the code or data
    other_task = tmp_path / f"aime25-{'0' * 32}.json"
    unrelated = tmp_path / "notes.txt"
    for path in (stale, other_task, unrelated):
        path.write_text("x")
    monkeypatch.setattr(cache, "KEEP_GRIDS", 2)
    monkeypatch.setattr(cache, "KEEP_VERSIONS", 2)  # this one and the latest other
    older = tmp_path / f"aime24-{'2' * 32}.json"  # a version written before `stale`
    older.write_text("x")
    os.utime(older, ns=(1, 1))
    source = cache.CachedSource("aime24", bundled, tmp_path)
    s = some_settings(bundled())[2]
    for n in (1, 2, 3):
        source.outcome(s, TRIALS[:n], LIMITS)
        source.save()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert stale.name in names and older.name not in names  # another install's latest stays
    assert other_task.name in names and unrelated.name in names
    grids = list(tmp_path.glob(f"aime24-{digest}-*.bin"))
    assert len(grids) == 2  # the two written last
    kept = {p.name for p in grids}
    assert (
        tmp_path.joinpath(
            f"aime24-{digest}-{cache.grid_digest(digest, TRIALS[:3], LIMITS)}.bin"
        ).name
        in kept
    )
