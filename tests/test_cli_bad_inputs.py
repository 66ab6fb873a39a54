"""A corpus of bad inputs for every command, by family.

Every case must end the way the README promises: exit code 2, nothing on stdout, exactly one line
on stderr that starts with 'error: ', no traceback, and no file changed anywhere under the test's
folder (the small catalog, the user catalog folder, the output folder), which is snapshotted
before and after.

One line adds a case: (family, argv, setup). In argv, {tmp} is the test's folder; `setup(tmp)`
writes the files the case needs (a broken card, an existing output) before the snapshot. A new
command adds its rows here and inherits the same checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hf_configs import QWEN3_8B
from typer.testing import CliRunner

from kinetics_cli.catalog import bundled_root
from kinetics_cli.cli.main import app

Setup = Callable[[Path], None] | None

MEASUREMENTS = bundled_root() / "hardware_profiles" / "measurements" / "numpy-amd-epyc-2cpu.jsonl"


def write(relative: str, text: str) -> Setup:
    """A setup writing `text` to tmp/relative."""

    def setup(tmp: Path) -> None:
        path = tmp / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return setup


class Raw(str):
    """JSON text spliced into a config as it is: numbers Python's json module would not write."""


def config(**changes: object) -> Setup:
    """A setup writing tmp/config.json: Qwen3-8B's config with `changes`."""
    raw = {k: v for k, v in changes.items() if isinstance(v, Raw)}
    data = {k: v for k, v in {**QWEN3_8B, **changes}.items() if k not in raw}
    text = json.dumps(data)[:-1] + "".join(f', "{k}": {v}' for k, v in raw.items()) + "}"
    return write("config.json", text)


def card(name: str, replace: tuple[str, str]) -> Setup:
    """A setup writing tmp/cat/model_cards/NAME.toml: the bundled qwen3-8b card renamed, with one
    line replaced."""
    text = (bundled_root() / "model_cards" / "qwen3-8b.toml").read_text()
    text = text.replace('name = "qwen3-8b"', f'name = "{name}"').replace(
        'aliases = ["Qwen/Qwen3-8B", "qwen3:8b"]', "aliases = []"
    )
    assert replace[0] in text
    return write(f"cat/model_cards/{name}.toml", text.replace(*replace))


def profile(name: str, replace: tuple[str, str]) -> Setup:
    """A setup writing tmp/cat/hardware_profiles/NAME.toml: the bundled h100-sxm renamed, with
    one line replaced."""
    text = (bundled_root() / "hardware_profiles" / "h100-sxm.toml").read_text()
    text = text.replace('name = "h100-sxm"', f'name = "{name}"')
    text = "\n".join(x for x in text.splitlines() if not x.startswith("aliases"))
    assert replace[0] in text
    return write(f"cat/hardware_profiles/{name}.toml", text.replace(*replace))


def both(*setups: Setup) -> Setup:
    def setup(tmp: Path) -> None:
        for s in setups:
            if s is not None:
                s(tmp)

    return setup


CAT = ["--catalog", "{tmp}/cat"]
COST = ["cost", "qwen3-8b", "--prompt-len", "100", "--gen-len", "1k"]
PLAN = ["plan", "--budget", "1e16", "-m", "qwen3-0.6b"]
FRONTIER = ["frontier", "-m", "qwen3-0.6b"]
ISO = ["isocost", "--budget", "1e16", "-m", "qwen3-8b"]
EXISTING_OUT = write("out/rows.csv", "keep me\n")
IMPORT = ["evals", "import", "{tmp}/trace.jsonl", "--model", "qwen3-8b", "--out", "{tmp}/out/n.csv"]
MEASURED_ROWS = MEASUREMENTS.read_text().splitlines()
REFERENCE_ROWS = (
    bundled_root() / "hardware_profiles" / "measurements" / "paper-b200-qwen3-0.6b.jsonl"
).read_text()


def rows_with(field: str, literal: str, relative: str = "bad.jsonl") -> Setup:
    """The shipped CPU measurements with `field` of the first row set to the JSON `literal`."""
    first = json.loads(MEASURED_ROWS[0])
    first[field] = "@@"
    text = "\n".join([json.dumps(first).replace('"@@"', literal), *MEASURED_ROWS[1:]]) + "\n"
    return write(relative, text)


TRACE = write(
    "trace.jsonl",
    '{"attn_local": 0, "attn_topk": 0}\n{"query": "q", "prediction": "p", "score": 100}\n',
)

CASES: list[tuple[str, list[str], Setup]] = [
    # ---- tracebacks before: values no Python number or parser holds ---------------------------
    (
        "traceback",
        ["models", "import", "{tmp}/config.json"],
        config(quantization_config=Raw('{"bits": 1e999}')),
    ),
    ("traceback", ["models", "import", "{tmp}/config.json"], config(vocab_size=Raw("9" * 5000))),
    (
        "traceback",
        ["models", "import", "{tmp}/config.json"],
        config(num_hidden_layers=300_000_000, use_sliding_window=True, sliding_window=4096),
    ),
    (
        "traceback",
        [*CAT, "models", "show", "big"],
        card("big", ("layers = 36", "layers = " + "9" * 5000)),
    ),
    (
        "traceback",
        [*CAT, "hardware", "show", "huge"],
        profile("huge", ("bf16 = 989.4e12", "bf16 = " + "1" * 400)),
    ),
    # ---- hangs before: absurd layer counts, refused before any per-layer loop -------------------
    ("hang", ["models", "import", "{tmp}/config.json"], config(num_hidden_layers=10**30)),
    ("hang", ["models", "import", "{tmp}/config.json"], config(num_hidden_layers=Raw("1e20"))),
    ("hang", ["models", "import", "{tmp}/config.json"], config(num_hidden_layers=1_000_000)),
    (
        "hang",
        [*CAT, "cost", "deep", "--prompt-len", "1", "--gen-len", "1"],
        card("deep", ("layers = 36", "layers = 1000000")),
    ),
    # ---- invalid values in the catalog: each field has a physical range ------------------------
    ("invalid value", [*CAT, "models", "show", "m"], card("m", ("layers = 36", "layers = true"))),
    ("invalid value", [*CAT, "models", "show", "m"], card("m", ("layers = 36", 'layers = "32"'))),
    (
        "invalid value",
        [*CAT, "models", "show", "m"],
        card("m", ("vocab_size = 151936", "vocab_size = 151936\nweight_bytes = inf")),
    ),
    ("invalid value", [*CAT, "models", "show", "m"], card("m", ("head_dim = 128", "head_dim = 0"))),
    (
        "invalid value",
        [*CAT, "hardware", "show", "g"],
        profile("g", ("bf16 = 989.4e12", "bf16 = inf")),
    ),
    (
        "invalid value",
        [*CAT, "hardware", "show", "g"],
        profile("g", ("bf16 = 989.4e12", "bf16 = 1e308")),
    ),
    (
        "invalid value",
        [*CAT, "hardware", "show", "g"],
        profile("g", ("gpus_per_node = 8", "gpus_per_node = 1e23")),
    ),
    (
        "invalid value",
        [*CAT, "cost", "qwen3-8b", "-H", "g", "--prompt-len", "1", "--gen-len", "1"],
        profile("g", ("hbm_bandwidth = 3.35e12", "hbm_bandwidth = inf")),
    ),
    # ---- nonsense results: lengths, budgets and counts out of any physical range --------------
    ("nonsense", ["plan", "--budget", "1e16", "--gen-limits", "1e12"], None),
    ("nonsense", ["cost", "qwen3-8b", "--prompt-len", "100", "--gen-len", "1e200"], None),
    ("nonsense", ["cost", "qwen3-8b", "--prompt-len", "100", "--gen-len", "64k"], None),
    ("nonsense", ["cost", "qwen3-8b", "--prompt-len", "40k", "--gen-len", "1k"], None),
    ("nonsense", ["roofline", "qwen3-8b", "--context", "64k"], None),
    ("nonsense", ["roofline", "qwen3-8b", "--phase", "prefill", "--prompt-len", "48k"], None),
    ("nonsense", [*ISO, "--strategy", "best-of-n", "--gen-len", "64k"], None),
    ("nonsense", ["isocost", "--match", "qwen3-8b:64k"], None),
    ("nonsense", [*PLAN, "--gen-limits", "64k,128k"], None),
    ("nonsense", ["plan", "--budget", "1e40"], None),
    ("nonsense", ["plan", "--budget", "0"], None),
    ("nonsense", ["plan", "--budget-seconds", "1e12"], None),
    ("nonsense", ["plan", "--budget-usd", "-1"], None),
    ("nonsense", [*PLAN, "--top", "1001"], None),
    ("nonsense", [*PLAN, "--trials", "1e7"], None),
    ("nonsense", [*COST, "--trials", "1e7"], None),
    ("nonsense", [*COST, "--intensity", "1e9"], None),
    ("nonsense", [*COST, "--intensity", "inf"], None),
    ("nonsense", [*COST, "--params", "1e30"], None),
    (
        "nonsense",
        [*COST, "--attention", "block-topk", "--kv-budget", "512", "--block-size", "0"],
        None,
    ),
    (  # a page holds whole tokens
        "nonsense",
        [*COST, "--attention", "block-topk", "--kv-budget", "512", "--block-size", "16.5"],
        None,
    ),
    ("nonsense", ["roofline", "qwen3-8b", "--batch", "1e9"], None),
    ("nonsense", ["roofline", "qwen3-8b", "--tp", "4096"], None),
    ("nonsense", ["serve", "qwen3-8b", "--isl", "32k", "--osl", "32k"], None),
    ("nonsense", ["serve", "qwen3-8b", "--tp", "4096"], None),
    ("nonsense", ["serve", "qwen3-8b", "--batch", "1e9"], None),
    ("nonsense", ["serve", "qwen3-8b", "--max-tpot", "-5ms"], None),
    ("nonsense", ["serve", "qwen3-8b", "--max-tpot", "1.2.3ms"], None),
    ("nonsense", ["serve", "qwen3-8b", "--max-ttft", "1e999s"], None),
    ("nonsense", ["plan", "--budget-latency", "2m"], None),
    # ---- units of another kind: each quantity option takes its own ----------------------------
    (
        "contradiction",
        [
            "frontier",
            "--allocation",
            "oracle-per-problem",
            "--law",
            "flops",
            "--plot",
            "{tmp}/f.png",
        ],
        None,
    ),
    ("wrong unit", ["plan", "--budget-joules", "5kW"], None),
    ("wrong unit", ["plan", "--budget-usd", "5B"], None),
    ("wrong unit", ["plan", "--budget-seconds", "5J"], None),
    ("wrong unit", ["plan", "--budget-seconds", "1Ms"], None),  # a prefix, or a typo of 1ms
    ("wrong unit", ["plan", "--budget", "1e16W"], None),
    ("wrong unit", ["plan", "--budget", "1e16", "--trials", "4W"], None),
    ("wrong unit", ["plan", "--budget", "1e16", "--intensity", "562.5W"], None),
    ("wrong unit", ["isocost", "--budget", "1e16J", "-m", "qwen3-8b"], None),
    ("wrong unit", ["cost", "qwen3-8b", "--params", "8.19B"], None),
    (
        "wrong unit",
        [*ISO, "--attention", "block-topk", "--kv-budget", "512", "--block-size", "16B"],
        None,
    ),
    ("wrong unit", ["calibrate", "check", str(MEASUREMENTS), "--tolerance", "0.25s"], None),
    ("nonsense", ["serve", "qwen3-8b", "-H", "h100", "--tp", "3"], None),
    ("nonsense", ["serve", "qwen3-8b", "-H", "h100", "--max-tpot", "1us"], None),
    ("nonsense", ["isocost", "--budget", "1e31"], None),
    ("nonsense", [*ISO, "--trials", "0"], None),
    # ---- token counts: k is 1024, and only k, M, G are token prefixes ---------------------------
    ("token suffix", ["cost", "qwen3-8b", "--prompt-len", "100", "--gen-len", "1P"], None),
    ("token suffix", [*PLAN, "--gen-limits", "32kB"], None),
    ("token suffix", [*PLAN, "--kv-budgets", "1.5X"], None),
    ("token suffix", ["roofline", "qwen3-8b", "--context", "1.5"], None),
    # ---- contradictions: an option another option makes meaningless is refused ----------------
    ("contradiction", [*PLAN, "--strategy", "long-cot", "--trials", "8"], None),
    ("contradiction", [*PLAN, "--attention", "dense", "--kv-budgets", "512"], None),
    ("contradiction", [*PLAN, "--gen-limits", ""], None),
    ("contradiction", [*PLAN, "--trials", ","], None),
    ("contradiction", ["frontier", "-m", "qwen3-0.6b", "--attention", ""], None),
    ("contradiction", [*PLAN, "--selection", ""], None),
    ("contradiction", [*PLAN, "--verifier-model", "qwen3-8b"], None),
    ("contradiction", [*FRONTIER, "--selection", "majority", "--verifier-recall", "0.9"], None),
    ("contradiction", ["plan", "--budget", "1e16", "-m", ""], None),
    ("contradiction", ["frontier", "-m", ","], None),
    ("contradiction", ["isocost", "--budget", "1e16", "-m", ""], None),
    ("contradiction", [*ISO, "--attention", ""], None),
    (
        "contradiction",
        ["frontier", "-m", "qwen3-0.6b", "--law", "flops", "--intensity", "562.5"],
        None,
    ),
    ("contradiction", [*FRONTIER, "--efficiency", "datasheet"], None),
    ("contradiction", [*FRONTIER, "--max-tpot", "50ms"], None),
    ("contradiction", [*FRONTIER, "--max-batch", "64"], None),
    ("contradiction", [*FRONTIER, "-H", "b200,h100"], None),
    ("contradiction", [*FRONTIER, "--cost", "usd", "--law", "flops"], None),
    ("contradiction", [*FRONTIER, "--cost", "usd", "--allocation", "oracle-per-problem"], None),
    ("missing figure", [*FRONTIER, "--cost", "usd", "-H", "a100-80gb-sxm"], None),
    ("unknown name", [*FRONTIER, "--cost", "watts"], None),
    ("unknown name", [*FRONTIER, "--cost", "usd", "--efficiency", "fast"], None),
    ("unknown name", [*FRONTIER, "--cost", "usd", "-H", "b200,h900"], None),
    ("nonsense", [*FRONTIER, "--cost", "latency", "--max-tpot", "0s"], None),
    ("impossible", [*FRONTIER, "--cost", "gpu-seconds", "--max-tpot", "1us"], None),
    ("nonsense", [*FRONTIER, "--cost", "usd", "--max-batch", "-1"], None),
    ("contradiction", [*ISO, "--strategy", "long-cot", "--gen-len", "8192"], None),
    ("contradiction", [*ISO, "--strategy", "best-of-n", "--trials", "4", "--gen-len", "1k"], None),
    ("contradiction", [*ISO, "--law", "flops", "--intensity", "562.5"], None),
    ("contradiction", [*ISO, "--kv-budget", "512"], None),
    ("contradiction", [*COST, "--law", "flops", "--intensity", "562.5"], None),
    ("contradiction", [*COST, "--kv-budget", "512"], None),
    # --block-size is block top-k's page: given without block top-k it would change nothing
    ("contradiction", [*COST, "--block-size", "32"], None),
    (
        "contradiction",
        [*COST, "--attention", "topk", "--kv-budget", "512", "--block-size", "32"],
        None,
    ),
    ("contradiction", ["roofline", "qwen3-8b", "--block-size", "32"], None),
    ("contradiction", ["serve", "qwen3-8b", "--block-size", "32"], None),
    ("contradiction", [*ISO, "--block-size", "32"], None),
    # block top-k selects whole pages: a budget below one page cannot be served
    ("contradiction", [*COST, "--attention", "block-topk", "--kv-budget", "8"], None),
    (
        "contradiction",
        [*ISO, "--attention", "block-topk", "--kv-budget", "256", "--block-size", "512"],
        None,
    ),
    (
        "contradiction",
        ["roofline", "qwen3-8b", "--attention", "block-topk", "--kv-budget", "8"],
        None,
    ),
    ("contradiction", ["serve", "qwen3-8b", "--attention", "block-topk", "--kv-budget", "8"], None),
    ("contradiction", [*PLAN, "--kv-budgets", "8,256"], None),
    ("contradiction", [*FRONTIER, "--attention", "block-topk", "--kv-budgets", "8"], None),
    # ... and no fraction of one either: 1000 tokens are 62.5 pages of 16, 15.6 of 64
    ("contradiction", [*COST, "--attention", "block-topk", "--kv-budget", "1000"], None),
    (
        "contradiction",
        [*COST, "--attention", "block-topk", "--kv-budget", "1000", "--block-size", "64"],
        None,
    ),
    (
        "contradiction",
        ["roofline", "qwen3-8b", "--attention", "block-topk", "--kv-budget", "1000"],
        None,
    ),
    (
        "contradiction",
        [
            *["roofline", "qwen3-8b", "--phase", "prefill", "--prompt-len", "4k"],
            *["--attention", "block-topk", "--kv-budget", "1000"],
        ],
        None,
    ),
    (
        "contradiction",
        ["serve", "qwen3-8b", "--attention", "block-topk", "--kv-budget", "1000"],
        None,
    ),
    ("contradiction", [*ISO, "--attention", "block-topk", "--kv-budget", "1024,1000"], None),
    ("contradiction", [*PLAN, "--kv-budgets", "1024,1000"], None),
    ("contradiction", [*FRONTIER, "--attention", "block-topk", "--kv-budgets", "1000"], None),
    ("contradiction", ["roofline", "qwen3-8b", "--kv-budget", "512"], None),
    ("contradiction", ["roofline", "qwen3-8b", "--prompt-len", "100"], None),
    ("contradiction", ["serve", "qwen3-8b", "--kv-budget", "512"], None),
    ("contradiction", ["serve", "qwen3-8b", "--batch", "8", "--max-tpot", "50ms"], None),
    ("contradiction", ["serve", "qwen3-8b", "--ep", "2", "--tp", "2"], None),
    ("contradiction", ["plan", "--budget", "1e16", "--budget-seconds", "1"], None),
    ("contradiction", [*PLAN, "-H", "b200,h100"], None),
    ("contradiction", [*PLAN, "--budget-latency", "1s"], None),
    ("nonsense", ["plan", "--budget-latency", "0s"], None),
    ("nonsense", ["plan", "--budget-joules", "-5"], None),
    ("nonsense", [*PLAN, "--efficiency", "fast"], None),
    ("unknown name", ["plan", "--budget-usd", "5", "-H", "b200,h900"], None),
    ("impossible", ["serve", "deepseek-v3", "-H", "h100", "--isl", "1k", "--osl", "1k"], None),
    # ---- ambiguity that would change the answer: refused without --force ----------------------
    (
        "ambiguity",
        ["models", "import", "{tmp}/config.json", "--name", "qwen3-8b"],
        config(num_hidden_layers=40),
    ),
    # ---- names and folders ---------------------------------------------------------------------
    ("unknown name", ["models", "show", "qwen9"], None),
    ("unknown name", ["hardware", "show", "h900"], None),
    (
        "unknown name",
        ["cost", "qwen3-8b", "-H", "h900", "--prompt-len", "1", "--gen-len", "1"],
        None,
    ),
    ("unknown name", [*PLAN, "--task", "nosuch"], None),
    ("unknown name", ["serve", "qwen3-8b", "-H", "h900"], None),
    ("unknown name", ["serve", "qwen3-8b", "--weights", "int3"], None),
    ("unknown name", ["serve", "qwen3-8b", "--efficiency", "best"], None),
    ("unknown name", ["--catalog", "{tmp}/nowhere", "models", "list"], None),
    ("unknown name", ["models", "import", "{tmp}/config.json", "--name", "a b"], config()),
    # ---- files: missing inputs, and outputs never overwritten without --force -----------------
    ("files", ["models", "import", "{tmp}/missing.json"], None),
    ("files", ["models", "import", "{tmp}/config.json"], write("config.json", "{not json")),
    ("files", ["models", "import", "{tmp}/config.json"], write("config.json", "[1, 2]")),
    (
        "files",
        ["models", "import", "{tmp}/config.json", "--name", "q8"],
        both(config(), write("config/kinetics/model_cards/q8.toml", "keep me\n")),
    ),
    (
        "files",
        [
            "evals",
            "import",
            "{tmp}/missing.jsonl",
            "--task",
            "aime24",
            "--model",
            "qwen3-8b",
            "--out",
            "{tmp}/out/new.csv",
        ],
        None,
    ),
    (
        "files",
        [
            "evals",
            "import",
            "{tmp}/trace.jsonl",
            "--task",
            "aime24",
            "--model",
            "qwen3-8b",
            "--out",
            "{tmp}/out/rows.csv",
        ],
        both(TRACE, EXISTING_OUT),
    ),
    (
        "files",
        [
            "evals",
            "import",
            "{tmp}/trace.jsonl",
            "--task",
            "aime24",
            "--model",
            "qwen9",
            "--out",
            "{tmp}/out/new.csv",
        ],
        TRACE,
    ),
    ("contradiction", [*IMPORT, "--task", ""], TRACE),
    ("contradiction", [*IMPORT, "--task", "aime24", "--attention", "topk"], TRACE),
    ("unknown name", [*IMPORT, "--task", "aime24", "--log-format", "csv"], TRACE),
    ("missing", [*IMPORT[:-1], "{tmp}/no/such/n.csv", "--task", "aime24"], TRACE),
    (
        "contradiction",
        [*IMPORT, "--task", "t", "--format", "kinetics", "--log-format", "lm-eval"],
        TRACE,
    ),
    ("files", [*PLAN, "--evals", "{tmp}/missing.csv"], None),
    ("files", ["calibrate", "fit", "{tmp}/missing.jsonl", "--hardware", "measured"], None),
    (
        "files",
        ["calibrate", "fit", str(MEASUREMENTS), "--hardware", "measured", "--out", "{tmp}/p.txt"],
        None,
    ),
    ("files", ["calibrate", "fit", str(MEASUREMENTS), "--hardware", "h900"], None),
    (
        "files",
        [
            "calibrate",
            "fit",
            str(MEASUREMENTS),
            "--hardware",
            "measured",
            "--out",
            "{tmp}/out/rows.csv",
        ],
        EXISTING_OUT,
    ),
    ("files", ["calibrate", "check", "{tmp}/missing.jsonl"], None),
    ("files", ["calibrate", "check", str(MEASUREMENTS), "--tolerance", "-1"], None),
    ("files", ["calibrate", "run", "--repeats", "0"], None),
    ("files", ["calibrate", "reference", "{tmp}/missing.jsonl"], None),
    ("files", ["calibrate", "--tolerance", "x"], None),
    # ---- calibrate: measurement-file numbers and output paths, refused before any work ------
    ("calibrate", ["calibrate", "check", "{tmp}/bad.jsonl"], rows_with("flops", "1" + "0" * 400)),
    (
        "calibrate",
        ["calibrate", "fit", "{tmp}/bad.jsonl", "--hardware", "measured", "--out", "{tmp}/p.toml"],
        rows_with("flops", "1e308"),
    ),
    ("calibrate", ["calibrate", "check", "{tmp}/bad.jsonl"], rows_with("seconds", "Infinity")),
    ("calibrate", ["calibrate", "check", "{tmp}/bad.jsonl"], rows_with("repeats", "1e3")),
    ("calibrate", ["calibrate", "check", "{tmp}/bad.jsonl"], rows_with("spread", '"wide"')),
    (
        "calibrate",
        ["calibrate", "reference", "{tmp}/ref.jsonl"],
        write("ref.jsonl", REFERENCE_ROWS.replace('"layers": 1', '"layers": ' + "9" * 400)),
    ),
    ("calibrate", ["calibrate", "--out", "{tmp}/out"], write("out/measurements.jsonl", "keep\n")),
    ("calibrate", ["calibrate", "--out", "{tmp}/out/rows.csv"], EXISTING_OUT),
    ("calibrate", ["calibrate", "run", "--out", "{tmp}/no/such/rows.jsonl"], None),
    # ---- usage ---------------------------------------------------------------------------------
    ("usage", ["cost", "qwen3-8b", "--gen-len", "1k"], None),
    ("usage", ["models", "show"], None),
    ("usage", ["plan", "--budget", "1e16", "--nosuch"], None),
    ("usage", ["nosuch"], None),
    ("usage", ["cache", "--clear", "--nosuch"], None),
    ("usage", ["cache", "extra"], None),
]


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root`: a digest of each file's bytes and its mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[key] = f"{digest} {path.stat().st_mtime_ns}"
        else:
            out[key] = "folder"
    return out


@pytest.mark.parametrize(
    ("family", "argv", "setup"),
    CASES,
    ids=[f"{family}: {' '.join(argv)[:60]}" for family, argv, _ in CASES],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    family: str, argv: list[str], setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "cat").mkdir()
    (tmp_path / "out").mkdir()
    if setup is not None:
        setup(tmp_path)
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert result.exit_code == 2, (family, result.output)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines[0]) < 600, lines[0]  # no 5,000-digit number echoed back
    assert snapshot(tmp_path) == before


def test_every_command_has_a_case() -> None:
    """A command added to the CLI without a row here fails this test."""
    from typer.main import get_command

    def commands(group: object, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
        out: set[tuple[str, ...]] = set()
        for name, command in getattr(group, "commands", {}).items():
            path = (*prefix, name)
            out |= commands(command, path) if hasattr(command, "commands") else {path}
        return out

    cases = [
        [a for a in argv if not a.startswith("-") and "{tmp}" not in a] for _, argv, _ in CASES
    ]
    missing = [
        " ".join(path)
        for path in sorted(commands(get_command(app)))
        if path not in {("hardware", "list"), ("models", "list")}  # no input to get wrong
        and not any(tuple(words[: len(path)]) == path for words in cases)
    ]
    assert missing == []
