"""CLI: `hardware` and `models` list/show, JSON contracts, bad input, start-up and entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert result.exit_code == 0 and "500.00 FLOPs/byte" in result.stdout


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
