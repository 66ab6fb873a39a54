"""Shared fixtures: an isolated environment and a tiny hand-written catalog."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from test_planner_fakes import FakeSource

# No per-example deadline (a loaded 2-core machine can stall any example); under CI the examples
# are derived from each test's name, so a run is reproducible.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# No outcome cache for the whole session, module-scoped fixtures and subprocesses included: tests
# that patch the priors or the measurements must see their own outcomes, and nothing is written
# to the user's cache folder (tests/test_accuracy_cache.py turns it on in a folder of its own).
os.environ["KINETICS_NO_CACHE"] = "1"
os.environ.pop("KINETICS_CACHE_DIR", None)

TINY_HARDWARE = """
name = "tiny-gpu"
aliases = ["tiny"]
vendor = "Example"
peak_flops = { bf16 = 1.0e15, fp8 = "2P" }
hbm_bandwidth = "2T"
hbm_capacity = 80e9
interconnect_bandwidth = 4.5e11
gpus_per_node = 8
sources = ["hand-written test fixture"]
"""

# A 2-layer GQA model small enough to count by hand:
# attention per layer: q 64*128 + k 64*32 + v 64*32 + o 128*64 = 8192+2048+2048+8192 = 20480
# MLP per layer: 3 * 64 * 256 = 49152; norms 2*64 = 128
# embedding 1000*64 = 64000 (tied); final norm 64
# total = 64000 + 2*(20480+49152+128) + 64 = 203584
TINY_MODEL = """
name = "tiny-lm"
aliases = ["example/Tiny-LM"]
family = "tiny"
sources = ["hand-written test fixture"]

[architecture]
layers = 2
hidden_size = 64
attention_heads = 4
kv_heads = 1
head_dim = 32
intermediate_size = 256
vocab_size = 1000
tie_embeddings = true
"""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user catalog at an empty folder, clear KINETICS_PATH and turn the outcome cache
    off for every test (tests that patch the priors or the measurements must see their own
    outcomes; tests/test_accuracy_cache.py turns it on in a folder of its own)."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("KINETICS_PATH", raising=False)
    monkeypatch.delenv("KINETICS_CACHE_DIR", raising=False)
    monkeypatch.setenv("KINETICS_NO_CACHE", "1")
    from kinetics_cli.cli import context

    context.reset()
    return home


@pytest.fixture
def tiny_catalog(tmp_path: Path) -> Path:
    """A catalog folder with one hardware profile and one model card."""
    root = tmp_path / "catalog"
    (root / "hardware_profiles").mkdir(parents=True)
    (root / "model_cards").mkdir(parents=True)
    (root / "hardware_profiles" / "tiny-gpu.toml").write_text(TINY_HARDWARE)
    (root / "model_cards" / "tiny-lm.toml").write_text(TINY_MODEL)
    return root


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSource:
    """The hand-written accuracy source (tests/test_planner_fakes.py) in place of the catalog's
    accuracy data for task "fake"; any other task is unknown. Cards come from the bundled catalog."""
    from test_planner_fakes import FakeSource

    from kinetics_cli.errors import InputError

    source = FakeSource()

    def load(task: str, evals: list[Path], resolve):  # type: ignore[no-untyped-def]
        if task != "fake":
            raise InputError(f"no accuracy data for task {task!r}")
        return source

    monkeypatch.setattr("kinetics_cli.planner.setup.load_source", load)
    return source
