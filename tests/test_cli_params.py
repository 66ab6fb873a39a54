"""The CLI's option parsers (kinetics_cli/cli/params.py): what they read and what they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from kinetics_cli.cli.params import duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("50ms", 0.05),
        ("2s", 2.0),
        ("0.05", 0.05),
        ("200us", 200e-6),
        ("200µs", 200e-6),
        ("3min", 180.0),  # as the output writes a minute and longer: '3.01 min'
        ("1.5h", 5400.0),
        (" 2 s ", 2.0),
    ],
)
def test_duration_reads_the_units_the_output_writes(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2m", "cannot read"),  # milli or minutes: refused rather than guessed
        ("1.2.3ms", "cannot read"),  # no 'could not convert string to float'
        ("..s", "cannot read"),
        ("1e999s", "finite"),
        ("0s", "positive"),
        ("5 parsecs", "cannot read"),
    ],
)
def test_duration_refuses_with_one_plain_message(text: str, message: str) -> None:
    with pytest.raises(typer.BadParameter, match=message):
        duration(text)


# ---- shell completion of option values (`kinetics --install-completion`) ---------------------


def complete(monkeypatch: pytest.MonkeyPatch, line: str) -> list[str]:
    """What bash completion offers for the last word of `line` (a trailing space: a new word)."""
    from typer.testing import CliRunner

    from kinetics_cli.cli.main import app

    words = line.split()
    monkeypatch.setenv("_KINETICS_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) if line.endswith(" ") else len(words) - 1))
    result = CliRunner().invoke(app, [], prog_name="kinetics")
    assert result.exit_code == 0, result.output
    return result.stdout.split()


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        # names from the catalog: hardware profiles and model cards, option or argument
        ("kinetics serve qwen3-8b -H mi", ["mi300x", "mi325x", "mi355x"]),
        ("kinetics cost qwen3-8b --hardware b", ["b200"]),
        ("kinetics hardware show h", ["h100-pcie", "h100-sxm", "h200"]),
        ("kinetics serve qwen3-3", ["qwen3-30b-a3b", "qwen3-32b"]),
        ("kinetics models show gpt", ["gpt-oss-120b", "gpt-oss-20b"]),
        # a comma-separated list completes its last item; `all` where several are taken
        ("kinetics plan -H b200,h1", ["b200,h100-pcie", "b200,h100-sxm"]),
        ("kinetics frontier -H a", ["a100-80gb-sxm", "all"]),
        ("kinetics plan --models qwen3-8b,qwen3-1", ["qwen3-8b,qwen3-1.7b", "qwen3-8b,qwen3-14b"]),
        ("kinetics plan --attention dense,b", ["dense,block-topk"]),
        # fixed values
        ("kinetics plan --task ", ["aime24", "aime25", "livecodebench"]),
        ("kinetics serve qwen3-8b --efficiency ", ["default", "datasheet", "calibrated"]),
        ("kinetics roofline qwen3-8b --weights nv", ["nvfp4"]),
        ("kinetics frontier --cost ", ["eflops", "gpu-seconds", "usd", "latency", "joules"]),
        (
            "kinetics plan --selection majority,",
            [f"majority,{r}" for r in ("coverage", "majority", "verifier", "early-stop")],
        ),
        (
            "kinetics evals import x.jsonl --log-format ",
            ["auto", "kinetics", "lm-eval", "qwen-math"],
        ),
    ],
)
def test_option_values_complete_in_the_shell(
    monkeypatch: pytest.MonkeyPatch, line: str, offered: list[str]
) -> None:
    """The README promises completion of commands, options and values: a value is completed
    from the catalog (hardware, models), the bundled tasks or the option's fixed choices."""
    assert complete(monkeypatch, line) == offered


def test_completion_reads_the_catalog_folders_given(
    monkeypatch: pytest.MonkeyPatch, tiny_catalog: Path
) -> None:
    """`--catalog DIR` before the command adds its entries to what completes."""
    assert complete(monkeypatch, "kinetics serve ti") == []
    assert complete(monkeypatch, f"kinetics --catalog {tiny_catalog} serve ti") == ["tiny-lm"]
    assert complete(monkeypatch, f"kinetics --catalog {tiny_catalog} roofline tiny-lm -H ti") == [
        "tiny-gpu"
    ]


def test_fixed_values_complete_as_the_library_accepts_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Completion reads the library's own lists, so it offers exactly what the commands accept
    (fp16 weights and caches included) and follows any change to them."""
    from kinetics_cli.engine import formats, kinetics

    assert complete(monkeypatch, "kinetics serve qwen3-8b --weights ") == list(
        formats.WEIGHT_FORMATS
    )
    assert complete(monkeypatch, "kinetics serve qwen3-8b --kv ") == list(formats.KV_FORMATS)
    assert complete(monkeypatch, "kinetics cost qwen3-8b --law ") == list(kinetics.LAWS)
    monkeypatch.setattr(formats, "KV_FORMATS", ("bf16", "fp8", "fp6"))
    assert complete(monkeypatch, "kinetics serve qwen3-8b --kv fp") == ["fp8", "fp6"]
