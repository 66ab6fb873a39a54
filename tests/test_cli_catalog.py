"""CLI: `hardware` and `models` list/show, JSON contracts, bad input, start-up and entry points."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli import __version__
from kinetics_cli.cli.main import app

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"kinetics {__version__}"


def test_models_show_json_contract() -> None:
    result = invoke("models", "show", "Qwen/Qwen3-8B", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    for key in (
        "name",
        "total_params",
        "active_params",
        "non_embedding_params",
        "kv_bytes_per_token",
        "layers",
        "attention_heads",
        "kv_heads",
        "head_dim",
    ):
        assert key in doc
    assert doc["name"] == "qwen3-8b"
    # 2 (K, V) x 36 layers x 8 KV heads x 128 dims x 2 bytes
    assert doc["kv_bytes_per_token"] == 2 * 36 * 8 * 128 * 2 == 147456
    assert doc["origin"] == "bundled" and doc["file"].endswith("qwen3-8b.toml")


def test_hardware_show_json_contract() -> None:
    result = invoke("hardware", "show", "B200", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["peak_flops"]["bf16"] == 2.25e15
    assert doc["hbm_bandwidth"] == 8e12 and doc["hbm_capacity"] == 180e9
    assert doc["intensity"] == 2.25e15 / 8e12 == 281.25


def test_lists_as_json_are_one_document() -> None:
    for group in ("hardware", "models"):
        result = invoke(group, "list", "--json")
        assert result.exit_code == 0
        names = [d["name"] for d in json.loads(result.stdout)]
        assert names == sorted(names) and names


def test_list_tables_render(tiny_catalog: Path) -> None:
    result = invoke("--catalog", str(tiny_catalog), "models", "list")
    assert result.exit_code == 0 and "tiny-lm" in result.stdout
    result = invoke("--catalog", str(tiny_catalog), "hardware", "show", "tiny")
    # intensity with at most two decimals, trailing zeros dropped: 1e15 / 2e12 = 500
    assert result.exit_code == 0 and "500 FLOPs/byte" in result.stdout


def test_unknown_name_is_one_line_exit_2() -> None:
    result = invoke("models", "show", "qwen3-8")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown model 'qwen3-8'" in lines[0] and "qwen3-8b" in lines[0]


def test_broken_user_file_is_reported_not_fatal(tiny_catalog: Path) -> None:
    (tiny_catalog / "model_cards" / "bad.toml").write_text("name = [\n")
    result = invoke("--catalog", str(tiny_catalog), "models", "list", "--json")
    assert result.exit_code == 0
    assert "warning: skipped" in result.stderr and "bad.toml" in result.stderr
    assert "tiny-lm" in [d["name"] for d in json.loads(result.stdout)]


def test_kinetics_path_env(tiny_catalog: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KINETICS_PATH", str(tiny_catalog))
    result = invoke("models", "show", "tiny-lm", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["origin"] == "KINETICS_PATH"


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from kinetics_cli.cli.main import app\n"
        "heavy = [m for m in ('numpy', 'pydantic', 'matplotlib', 'torch') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_and_entry_point(tmp_path: Path) -> None:
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-m", "kinetics_cli", "hardware", "show", "h100-unknown"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: unknown hardware profile")


# ---- every bad input is one line on stderr and exit code 2 -------------------------------------


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan", "--budget", "2.5X"], "invalid value for '--budget'"),
        (["isocost", "--budget", "2.5X"], "invalid value for '--budget'"),
        (["cost", "qwen3-8b", "--prompt-len", "2.5X", "--gen-len", "1k"], "'--prompt-len'"),
        (["roofline", "qwen3-8b", "--batch", "2.5X"], "'--batch'"),
        (["roofline", "qwen3-8b", "--batch", "1.5"], "expected a whole number"),
        (["models", "show", "qwen3-8b", "--jsn"], "no such option: --jsn"),
        (["models", "show"], "missing argument 'MODEL'"),
        (["--bogus", "models", "list"], "no such option: --bogus"),
        (["nosuch"], "no such command 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    line = one_error_line(invoke(*args))
    assert expected in line
    if "2.5X" in args and "--budget" in args:  # a quantity option names the units it takes
        assert "'2.5X': this option takes no 'X'; it takes a number with an optional SI" in line
    elif "2.5X" in args:
        assert "cannot read '2.5X' as a " in line
        assert "number; expected plain or scientific notation" in line or "token count" in line
    if args[0] != "--bogus":
        assert "--help')" in line  # where to read the usage


def test_debug_keeps_clicks_usage_block() -> None:
    result = invoke("--debug", "plan", "--budget", "2.5X")
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: ") and "Invalid value for '--budget'" in result.stderr


def test_broken_user_file_with_a_bad_number(isolated_env: Path) -> None:
    """A user profile whose number does not parse is skipped with its file, field and line; the
    bundled catalog still answers, and asking for the broken entry says why it is missing."""
    folder = isolated_env / "kinetics" / "hardware_profiles"
    folder.mkdir(parents=True)
    (folder / "my-gpu.toml").write_text(
        'name = "my-gpu"\nvendor = "v"\nhbm_bandwidth = "3X"\nhbm_capacity = 8e10\n'
        'sources = ["s"]\n[peak_flops]\nbf16 = 1e15\n'
    )
    result = invoke("hardware", "show", "h100", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["name"] == "h100-sxm"
    assert result.stderr == (
        f"warning: skipped {folder / 'my-gpu.toml'}: hbm_bandwidth: cannot read '3X' as a number; "
        "expected plain or scientific notation with an optional SI or binary suffix (e.g. 2.5e15, "
        "2.5P, 80G, 80GiB, 3.35T/s) (got '3X', line 3)\n"
    )
    result = invoke("hardware", "show", "my-gpu")
    assert result.exit_code == 2
    # one line: the error says why, and the warning about the same file is not repeated
    assert result.stderr == (
        f"error: unknown hardware profile 'my-gpu': skipped {folder / 'my-gpu.toml'}: "
        "hbm_bandwidth: cannot read '3X' as a number; expected plain or scientific notation with "
        "an optional SI or binary suffix (e.g. 2.5e15, 2.5P, 80G, 80GiB, 3.35T/s) (got '3X', "
        "line 3)\n"
    )


def test_missing_catalog_folder_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(invoke("--catalog", str(tmp_path / "nowhere"), "models", "list"))
    assert line == f"error: --catalog {tmp_path / 'nowhere'}: no such folder"
    (tmp_path / "file.toml").write_text("")
    line = one_error_line(invoke("--catalog", str(tmp_path / "file.toml"), "models", "list"))
    assert line == f"error: --catalog {tmp_path / 'file.toml'}: is a file, not a folder"


def test_file_system_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that lets an OSError through still ends in one line and exit code 2."""

    def unreadable(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/data/profiles")

    monkeypatch.setattr("kinetics_cli.catalog.load_catalog", unreadable)
    line = one_error_line(invoke("models", "list"))
    assert line == "error: /data/profiles: Permission denied"


def test_b200_show_explains_the_papers_intensity() -> None:
    result = invoke("hardware", "show", "b200")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # cells wrap at the console's width
    assert "281.25 FLOPs/byte" in text and "--intensity 562.5" in text


def test_a_price_without_its_source_says_so(isolated_env: Path) -> None:
    """'price $0.50 per GPU-hour; source:' ended in nothing for a profile without price_source."""
    folder = isolated_env / "kinetics" / "hardware_profiles"
    folder.mkdir(parents=True)
    (folder / "cheap.toml").write_text(
        'name = "cheap"\nvendor = "x"\nhbm_bandwidth = 1e12\nhbm_capacity = 8e10\n'
        'gpus_per_node = 8\nprice_per_gpu_hour = 0.5\nsources = ["mine"]\n'
        "[peak_flops]\nbf16 = 1e15\n"
    )
    result = invoke("hardware", "show", "cheap")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "$0.50 per GPU-hour; source: none given (price_source is empty)" in text


def test_installed_console_script(tmp_path: Path) -> None:
    """The `kinetics` script next to this interpreter, run from an unrelated folder."""
    script = Path(sys.executable).with_name("kinetics")
    if not script.exists():
        pytest.skip("no kinetics console script next to this interpreter")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("KINETICS_PATH", None)
    run = functools.partial(subprocess.run, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run([str(script), "--version"]).stdout.strip() == f"kinetics {__version__}"
    done = run([str(script), "hardware", "show", "b200", "--json"])
    assert done.returncode == 0 and json.loads(done.stdout)["intensity"] == 281.25
    done = run([str(script), "plan", "--budget", "2.5X"])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: invalid value for '--budget'")
    assert done.stderr.count("\n") == 1 and "kinetics plan --help" in done.stderr


def test_top_level_help_and_version_stay_light() -> None:
    """`kinetics --help` and `--version` run without numpy, pydantic, rich tables or matplotlib."""
    code = (
        "import sys\n"
        "from kinetics_cli.cli.main import app\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('numpy', 'pydantic', 'matplotlib', 'torch', 'rich.table')\n"
        "sys.stderr.write(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage:" in out.stdout and f"kinetics {__version__}" in out.stdout
    assert out.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "models", "show", "nosuch"],
        ["models", "show", "nosuch", "--debug"],
        ["models", "--debug", "show", "nosuch"],
    ],
)
def test_debug_is_accepted_anywhere(args: list[str]) -> None:
    """--debug is global, yet users type it after the subcommand: both show the traceback."""
    from kinetics_cli.errors import CatalogError

    result = invoke(*args)
    assert isinstance(result.exception, CatalogError)


def test_debug_after_a_double_dash_is_an_argument() -> None:
    line = one_error_line(invoke("models", "show", "--", "--debug"))
    assert "unknown model '--debug'" in line


def test_hardware_show_prints_a_hand_written_calibration_whole(tmp_path: Path) -> None:
    """A [calibration] table written by hand has no backend, device or date, and its table-wide
    figures time every class without a fit of its own (Calibration.for_kernel): `show` says the
    first plainly (not 'on ,  (x.jsonl)') and prints the second, which it had left out."""
    folder = tmp_path / "hardware_profiles"
    folder.mkdir()
    (folder / "mine.toml").write_text(
        'name = "mine"\nvendor = "v"\nhbm_bandwidth = 2e12\nhbm_capacity = 80e9\n'
        'sources = ["test"]\n[peak_flops]\nbf16 = 1e15\n'
        "[calibration]\ncompute_efficiency = 0.8\nbandwidth_efficiency = 0.9\n"
        'overhead_seconds = 5e-6\nsource = "x.jsonl"\n'
        "[calibration.kernels.gemm]\ncompute_efficiency = 0.7\n",
        encoding="utf-8",
    )
    env = {"COLUMNS": "200"}
    result = runner.invoke(app, ["--catalog", str(tmp_path), "hardware", "show", "mine"], env=env)
    assert result.exit_code == 0, result.output

    def row(label: str) -> str:
        return next(line for line in result.stdout.splitlines() if line.strip().startswith(label))

    assert "no backend, device or date recorded; source x.jsonl" in row("calibration ")
    assert "compute 0.7, bandwidth 1, overhead 0 s" in row("gemm ")
    assert "compute 0.8, bandwidth 0.9, overhead 5 µs" in row("other classes ")
    assert " on ," not in result.stdout
