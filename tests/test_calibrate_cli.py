"""`kinetics calibrate`: the pipeline's plumbing on tiny shapes, run/fit/check, the shipped files.

No timing assertions: the tiny shapes only exercise the plumbing; the speed and the held-out
error of the real quick run are printed by `kinetics calibrate` itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.calibrate import run as run_module
from kinetics_cli.calibrate.kernels import COMPOSITE, Case
from kinetics_cli.calibrate.measurements import file_checksum, read_measurements
from kinetics_cli.catalog import bundled_root, load_spec
from kinetics_cli.cli.main import app
from kinetics_cli.specs import HardwareProfile

runner = CliRunner()
SHIPPED = bundled_root() / "hardware_profiles" / "measurements"
HEADS = {"q_heads": 4, "kv_heads": 2, "head_dim": 16, "page_size": 16}
GOOD_ROW = json.dumps(
    {
        "kernel": "gemm",
        "shape": {"m": 4, "n": 8, "k": 16},
        "flops": 1024.0,
        "bytes": 896.0,
        "seconds": 1e-06,
        "spread": 0.01,
        "repeats": 5,
        "dtype": "fp32",
        "device": "test cpu",
        "backend": "numpy",
        "timestamp": "2026-01-01T00:00:00+00:00",
    }
)


def tiny_plan(*, quick: bool = True, gpu: bool = False) -> list[Case]:
    """Three or more rows per micro class over both regimes, two held-out decode steps."""
    cases = [Case("gemm", {"m": m, "n": 128, "k": 128}) for m in (2, 8, 32, 128)]
    cases += [Case("stream", {"bytes": b}) for b in (4096, 65536, 1 << 20)]
    for kernel in ("attention_decode_dense", "attention_decode_blocktopk"):
        for batch, context in ((1, 128), (2, 256), (2, 512)):
            shape = {"batch": batch, "context": context, **HEADS}
            if kernel.endswith("blocktopk"):
                shape.update(top_pages=2, window=16)
            cases.append(Case(kernel, shape))
    step = {"batch": 3, "context": 384, **HEADS, "hidden": 64, "intermediate": 128}
    cases.append(Case(COMPOSITE, {**step, "attention": "dense"}))
    cases.append(Case(COMPOSITE, {**step, "attention": "block-topk", "top_pages": 2, "window": 16}))
    return cases


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "plan", tiny_plan)
    monkeypatch.setattr("kinetics_cli.calibrate.kernels.plan", tiny_plan)
    monkeypatch.setattr(run_module, "WARMUP_SECONDS", 0.0)


def test_bare_calibrate_runs_fits_and_checks(tiny: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", "--tolerance", "1000", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "held-out: median error" in result.stdout and "pass" in result.stdout
    rows = read_measurements(tmp_path / "measurements.jsonl")
    assert [r.kernel for r in rows][-2:] == [COMPOSITE, COMPOSITE]
    saved = tmp_path / "local-cpu-calibrated.toml"
    profile = load_spec(saved, HardwareProfile)
    calibration = profile.calibration
    assert calibration is not None and calibration.source == "measurements.jsonl"
    assert calibration.checksum == file_checksum(tmp_path / "measurements.jsonl")
    assert any("fit of measurements.jsonl (sha256:" in s for s in profile.sources)
    assert "not saved" not in saved.read_text()


@pytest.fixture
def no_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to time a kernel fails the test: outputs must be refused before."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("timed kernels before checking the output paths")

    monkeypatch.setattr(run_module, "measure", refuse)


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("measurements", ["calibrate", "--out", "{tmp}"], "already exists; pass --force"),
        ("file", ["calibrate", "--out", "{tmp}/taken"], "exists and is not a folder"),
        ("", ["calibrate", "--out", "{tmp}/no/such/dir"], "does not exist"),
        ("file", ["calibrate", "run", "--out", "{tmp}/taken"], "already exists; pass --force"),
        ("", ["calibrate", "run", "--out", "{tmp}/no/x.jsonl"], "does not exist"),
        ("", ["calibrate", "run", "--out", "{tmp}", "--force"], "is a folder"),
    ],
)
def test_outputs_are_refused_before_timing(
    no_timing: None, tmp_path: Path, setup: str, args: list[str], message: str
) -> None:
    if setup == "measurements":
        (tmp_path / "measurements.jsonl").write_text("keep\n")
    if setup == "file":
        (tmp_path / "taken").write_text("keep\n")
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file())
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.rglob("*") if p.is_file()) == before


def test_fit_refuses_an_existing_out_before_fitting(tmp_path: Path) -> None:
    out = tmp_path / "mine.toml"
    out.write_text("keep\n")
    data = SHIPPED / "numpy-amd-epyc-2cpu.jsonl"
    result = runner.invoke(
        app, ["calibrate", "fit", str(data), "--hardware", "measured", "--out", str(out)]
    )
    assert result.exit_code == 2 and "already exists; pass --force" in result.stderr
    assert out.read_text() == "keep\n"


def test_fit_refuses_a_second_file_of_one_name_in_a_catalog_folder(
    isolated_env: Path,
) -> None:
    """The folder keeps one file per name: a second file named 'CPU-A' beside cpu-a.toml would be
    skipped while the closing line said '--hardware CPU-A' finds it (it found cpu-a.toml)."""
    data = SHIPPED / "numpy-amd-epyc-2cpu.jsonl"
    fit = ["calibrate", "fit", str(data), "--hardware", "measured"]
    assert runner.invoke(app, [*fit, "--name", "cpu-a"]).exit_code == 0
    folder = isolated_env / "kinetics" / "hardware_profiles"
    for extra in (["--out", str(folder / "other.toml")], []):  # CPU-A.toml by default
        result = runner.invoke(app, [*fit, "--name", "CPU-A", *extra])
        assert result.exit_code == 2, result.output
        assert "already defines a hardware profile named 'CPU-A'" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["cpu-a.toml"]


def test_bare_calibrate_exits_1_over_tolerance(tiny: None) -> None:
    result = runner.invoke(app, ["calibrate", "--tolerance", "1e-9", "--json"])
    assert result.exit_code == 1
    assert result.stderr == ""  # no progress bar, not even its last line, off a terminal
    doc = json.loads(result.stdout)
    assert doc["held_out"]["passed"] is False and len(doc["held_out"]["rows"]) == 2
    assert set(doc["fits"]) == {
        "gemm",
        "stream",
        "attention_decode_dense",
        "attention_decode_blocktopk",
    }


def test_run_fit_and_use_the_profile_by_name(tiny: None, tmp_path: Path) -> None:
    data = tmp_path / "m.jsonl"
    assert runner.invoke(app, ["calibrate", "run", "--quick", "--out", str(data)]).exit_code == 0
    assert runner.invoke(app, ["calibrate", "run", "--out", str(data)]).exit_code == 2  # exists
    result = runner.invoke(
        app,
        ["calibrate", "fit", str(data), "--hardware", "measured", "--name", "my-cpu-calibrated"],
    )
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["hardware", "show", "my-cpu-calibrated", "--json"])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["calibrated"] and doc["origin"] == "user"
    calibration = doc["calibration"]
    assert calibration["source"] == "m.jsonl" and calibration["checksum"].startswith("sha256:")
    assert calibration["kernels"]["gemm"]["points"] == 4
    checked = runner.invoke(
        app, ["calibrate", "check", str(data), "--hardware", "my-cpu-calibrated", "--json"]
    )
    assert checked.exit_code in (0, 1)
    assert len(json.loads(checked.stdout)["rows"]) == len(tiny_plan())
    strict = runner.invoke(app, ["calibrate", "check", str(data), "--tolerance", "1e-9"])
    assert strict.exit_code == 1 and "FAIL" in strict.stdout


@pytest.mark.parametrize("name", ["../../evil", "a/b", ".hidden", ""])
def test_fit_refuses_a_name_that_is_not_plain(
    tiny: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    data = tmp_path / "m.jsonl"
    assert runner.invoke(app, ["calibrate", "run", "--quick", "--out", str(data)]).exit_code == 0
    monkeypatch.chdir(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    result = runner.invoke(
        app, ["calibrate", "fit", str(data), "--hardware", "measured", "--name", name]
    )
    assert result.exit_code == 2 and "expected a plain name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before


def test_fit_against_a_catalog_profile(tiny: None, tmp_path: Path) -> None:
    data = tmp_path / "m.jsonl"
    runner.invoke(app, ["calibrate", "run", "--quick", "--out", str(data)])
    out = tmp_path / "h100-cpu.toml"
    result = runner.invoke(
        app, ["calibrate", "fit", str(data), "--hardware", "h100-sxm", "--out", str(out)]
    )
    # numpy rows are fp32 and the H100 profile lists no fp32 peak: a clear input error
    assert result.exit_code == 2 and "no fp32 peak" in result.stderr
    assert "'measured'" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    # checking fp32 rows with that profile names the file and the first row's line
    checked = runner.invoke(app, ["calibrate", "check", str(data), "--hardware", "h100-sxm"])
    assert checked.exit_code == 2 and f"{data}:1: field 'dtype'" in checked.stderr


def test_fit_on_datasheet_peaks_feeds_the_roofline(tmp_path: Path) -> None:
    """bf16 rows fitted against the bundled B200: the profile keeps the datasheet peaks, lands
    in the user catalog, and the roofline prices a step with its efficiencies."""
    from test_calibrate_fit import rows_from_model, truth

    from kinetics_cli.calibrate.kernels import plan
    from kinetics_cli.calibrate.measurements import write_measurements

    data = write_measurements(tmp_path / "b.jsonl", rows_from_model(truth(), plan(), "bf16"))
    result = runner.invoke(app, ["calibrate", "fit", str(data), "--hardware", "b200"])
    assert result.exit_code == 0, result.output
    doc = json.loads(runner.invoke(app, ["hardware", "show", "b200-calibrated", "--json"]).stdout)
    assert doc["peak_flops"]["bf16"] == 2.25e15 and doc["hbm_bandwidth"] == 8e12
    fit = doc["calibration"]["kernels"]["attention_decode_dense"]
    # the rows run at 22% of the toy profile's 1e11 B/s: 2.75e-3 of the B200's 8e12 B/s
    assert fit["bandwidth_efficiency"] == pytest.approx(0.22 * 1e11 / 8e12, rel=1e-6)
    args = ["roofline", "qwen3-8b", "-b", "64", "-c", "8192", "--json"]
    base = json.loads(runner.invoke(app, [*args, "--hardware", "b200"]).stdout)
    fitted = json.loads(runner.invoke(app, [*args, "--hardware", "b200-calibrated"]).stdout)
    assert fitted["step_seconds"] > 10 * base["step_seconds"]


def test_the_measured_base_is_typed_as_it_is_printed(tmp_path: Path) -> None:
    """The output names a measured base 'measured (local-cpu)'; --hardware reads either name and
    writes the same profile."""
    data = SHIPPED / "numpy-amd-epyc-2cpu.jsonl"
    written = {}
    for name in ("measured", "local-cpu"):
        out = tmp_path / f"{name}.toml"
        args = ["calibrate", "fit", str(data), "--hardware", name, "--out", str(out)]
        result = runner.invoke(app, [*args, "--name", "mine"])
        assert result.exit_code == 0, result.output
        assert "Fitted against measured (local-cpu): rows of numpy-amd-epyc-2cpu.jsonl" in (
            result.stdout
        )
        written[name] = out.read_text()
    assert written["measured"] == written["local-cpu"]


def test_check_on_the_shipped_cpu_measurements() -> None:
    data = SHIPPED / "numpy-amd-epyc-2cpu.jsonl"
    result = runner.invoke(app, ["calibrate", "check", str(data), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["hardware"] == "numpy-amd-epyc-2cpu" and doc["tolerance"] == 0.10
    held = runner.invoke(
        app, ["calibrate", "check", str(data), "--kernel", COMPOSITE, "--tolerance", "0.15"]
    )
    assert held.exit_code == 0, held.output


@pytest.mark.parametrize("name", sorted(p.name for p in SHIPPED.glob("*.jsonl")))
def test_check_passes_on_every_shipped_file(name: str) -> None:
    """`calibrate check FILE` on each shipped file, with the tolerance its sidecar gives; a file
    of published ratios the model does not reach stays within the gap its sidecar records."""
    path = SHIPPED / name
    assert (SHIPPED / f"{path.stem}.check.toml").is_file()  # provenance and tolerance beside it
    result = runner.invoke(app, ["calibrate", "check", str(path), "--json"])
    doc = json.loads(result.stdout)
    if "verdict" in doc:  # published ratios: outside their range, by no more than on record
        assert result.exit_code == 1 and doc["within_known_gap"] is True, result.output
        return
    assert result.exit_code == 0, result.output
    assert doc["passed"] is True


def test_check_on_a_reference_file_takes_no_kernel_filter() -> None:
    path = SHIPPED / "paper-b200-qwen3-0.6b.jsonl"
    result = runner.invoke(app, ["calibrate", "check", str(path), "--kernel", "gemm"])
    assert result.exit_code == 2 and "drop --kernel" in result.stderr


def test_reference_rows_for_the_paper_b200_figures() -> None:
    result = runner.invoke(app, ["calibrate", "reference", "--json"])
    assert result.exit_code == 1, result.output  # outside the published range: no agreement
    doc = json.loads(result.stdout)
    ratios = [r["predicted_ratio"] for r in doc["rows"]]
    # datasheet B200, one Qwen3-0.6B layer at tp 8, memory-bound: dense reads the cached context
    # C (8192, 16384) per sequence, block top-k 64 pages of 16 = 1024 tokens plus one key summary
    # per page (C / 32 token equivalents: a summary is a key, half a token's K and V), so the
    # ratio sits a little under C / (1024 + C / 32) = 6.4x and 10.7x (the weights' read, the
    # same in both, pulls it down)
    assert ratios == pytest.approx([5.76, 9.70], abs=0.05)
    assert [r["context"] for r in doc["rows"]] == [8192, 16384]
    assert [r["kv_budget"] for r in doc["rows"]] == [1024, 1024]
    assert all(r["reported_low"] == 23.6 and r["reported_high"] == 33.3 for r in doc["rows"])
    # agreement means within 10% of the range; the 67% gap is recorded (sidecar known_gap 0.70),
    # explained, and must not widen
    assert doc["tolerance"] == 0.10 and not doc["passed"]
    assert doc["verdict"] == "outside the published range"
    assert doc["known_gap"] == 0.70 and doc["within_known_gap"] is True
    assert any("datasheet peaks" in r for r in doc["reasons"])
    assert any("exceeds context / KV budget (8x, 16x)" in r for r in doc["reasons"])


def test_reference_text_says_outside_and_why() -> None:
    result = runner.invoke(app, ["calibrate", "reference"])
    assert result.exit_code == 1
    assert "outside the published range" in result.stdout and "pass" not in result.stdout
    assert "why: b200 is priced from datasheet peaks" in result.stdout
    assert "within the 70% recorded for this file" in result.stdout


def test_reference_agrees_only_within_the_tolerance(tmp_path: Path) -> None:
    """A reference range around the model's own prediction agrees; the same rows with a range
    twice as high do not, whatever the recorded gap."""
    rows = [json.loads(line) for line in (SHIPPED / "paper-b200-qwen3-0.6b.jsonl").open()]
    path = tmp_path / "near.jsonl"
    near = [{**r, "reported_low": 5.5, "reported_high": 10.0} for r in rows]  # 5.76x, 9.70x
    path.write_text("".join(json.dumps(r) + "\n" for r in near))
    result = runner.invoke(app, ["calibrate", "reference", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["verdict"] == "agrees"
    far = tmp_path / "far.jsonl"
    far.write_text(
        "".join(json.dumps({**r, "reported_low": 20.0, "reported_high": 30.0}) + "\n" for r in near)
    )
    result = runner.invoke(app, ["calibrate", "reference", str(far), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["passed"] is False


def test_reference_with_cpu_efficiencies() -> None:
    profile = SHIPPED / "numpy-amd-epyc-2cpu.profile.toml"
    result = runner.invoke(
        app, ["calibrate", "reference", "--efficiencies-from", str(profile), "--json"]
    )
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["rows"][0]["hardware"] == "b200+numpy-amd-epyc-2cpu-efficiencies"
    assert any("a CPU, not on b200" in r for r in doc["reasons"])
    assert doc["known_gap"] is None  # the recorded gap is for the file's own profile


def test_malformed_reference_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_text(json.dumps({"reference": "blocktopk_dense_throughput_ratio"}) + "\n")
    result = runner.invoke(app, ["calibrate", "reference", str(path)])
    assert result.exit_code == 2 and f"{path}:1: missing field(s)" in result.stderr


def test_torch_backend_errors_are_exit_2(tmp_path: Path) -> None:
    out = str(tmp_path / "x.jsonl")
    result = runner.invoke(app, ["calibrate", "run", "--backend", "torch", "--out", out])
    if result.exit_code == 0:
        pytest.skip("a CUDA GPU is present")
    assert result.exit_code == 2
    assert "PyTorch" in result.stderr or "CUDA" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no measurement rows (the file is empty)"),
        ("{not json\n", ":1: not valid JSON"),
        ('{"kernel": "gemm"}\n', ":1: missing fields 'shape', 'flops'"),
        (GOOD_ROW.replace("1e-06", "0") + "\n", ":1: field 'seconds' must be positive"),
        (GOOD_ROW.replace("1e-06", "-1e-06") + "\n", ":1: field 'seconds' must be positive"),
        (GOOD_ROW.replace("1e-06", "NaN") + "\n", ":1: field 'seconds' must be finite"),
        (
            GOOD_ROW.replace('"k": 16}', '"k": 16, "q_heads": 4}') + "\n",
            ":1: field 'shape': shape.q_heads is not a parameter of gemm",
        ),
        (
            GOOD_ROW.replace('"gemm"', '"stream"').replace(
                '{"m": 4, "n": 8, "k": 16}', '{"bytes": 64, "page_size": 16, "window": "x"}'
            )
            + "\n",
            ":1: field 'shape': shape.page_size is not a parameter of stream",
        ),
    ],
)
def test_installed_entry_point_reports_a_malformed_file_in_one_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """The real `kinetics` process: one line on stderr naming file, line and field, exit 2."""
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "kinetics_cli", "calibrate", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and message in lines[0], done.stderr


def test_entry_point_lists_the_calibrate_commands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kinetics_cli", "calibrate", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    for command in ("run", "fit", "check", "reference"):
        assert command in done.stdout


def test_base_line_says_whether_the_peaks_were_measured() -> None:
    """Efficiencies are fractions of the base's peaks; the line says whose peaks those are."""
    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.report.calibrate import base_line

    h100 = load_catalog().hardware.get("h100-sxm").spec
    assert "(the profile's datasheet figures;" in base_line(h100)
    measured = h100.model_copy(update={"vendor": "measured", "name": "local-cpu"})
    line = base_line(measured)
    # the largest peak, named by its format (h100-sxm: dense fp8 1,979 TFLOP/s)
    # named as --hardware takes it first ('measured'), then the profile name it gets
    assert line.startswith(
        "base measured (local-cpu): peak 1.98 PFLOP/s fp8, bandwidth 3.35 TB/s (measured:"
    )


def test_run_json_says_what_was_measured(tiny: None, tmp_path: Path) -> None:
    """`calibrate run --json`: the file written, its rows, the backend, device and clock, and per
    kernel class the rows and their median times (checked against the file the run wrote)."""
    data = tmp_path / "m.jsonl"
    result = runner.invoke(app, ["calibrate", "run", "--quick", "--out", str(data), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = read_measurements(data)
    assert doc["file"] == str(data) and doc["rows"] == len(rows) == len(tiny_plan())
    assert (doc["backend"], doc["dtype"], doc["clock"]) == ("numpy", "fp32", rows[0].clock)
    assert doc["device"] == rows[0].device and doc["shapes"] == "quick" and doc["repeats"] == 5
    # tiny_plan: 4 gemm, 3 stream, 3 + 3 attention, 2 decode steps
    counts = {k: v["rows"] for k, v in doc["kernels"].items()}
    assert counts == {
        "gemm": 4,
        "stream": 3,
        "attention_decode_dense": 3,
        "attention_decode_blocktopk": 3,
        COMPOSITE: 2,
    }
    gemm = sorted(r.seconds for r in rows if r.kernel == "gemm")
    assert doc["kernels"]["gemm"]["seconds_median"] == pytest.approx((gemm[1] + gemm[2]) / 2)
    assert doc["kernels"]["gemm"]["seconds_min"] == gemm[0]
    assert doc["kernels"]["gemm"]["seconds_max"] == gemm[-1]
    assert 0 < doc["measure_seconds"] <= doc["wall_seconds"]
    # the text form names the classes and the time too
    text = runner.invoke(app, ["calibrate", "run", "--quick", "--out", str(data), "--force"])
    assert text.exit_code == 0, text.output
    assert f"wrote {len(rows)} rows (5 kernel classes, timed in " in " ".join(text.stdout.split())


@pytest.mark.parametrize("command", ["run", "fit", "check", "reference"])
def test_calibrate_commands_take_json_and_name_their_file_argument(command: str) -> None:
    """Every calibrate command that prints results takes --json; a file argument reads FILE in
    the usage line, as other commands' arguments do (MODEL, CONFIG.json), not '{file}'."""
    result = runner.invoke(app, ["calibrate", command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "--json" in result.stdout
    usage = result.stdout.splitlines()[0]
    assert "file" not in usage
    if command != "run":
        assert "FILE" in usage


def test_repeats_help_gives_the_counts_the_run_uses() -> None:
    """`calibrate run --repeats` sets the calls of each micro-kernel only; the decode steps take
    run.COMPOSITE_REPEATS calls in run.ROUNDS rounds and the bare pipeline run.REPEATS, and the
    help says so with those numbers."""
    result = runner.invoke(app, ["calibrate", "run", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    assert "Timed calls per micro-kernel (median kept)" in text
    assert f"timed {run_module.COMPOSITE_REPEATS} times in {run_module.ROUNDS} rounds" in text
    assert f"times {run_module.REPEATS} per micro-kernel" in text
    assert "[default: 5]" in text


def test_check_tolerance_default_comes_from_the_sidecar_as_the_help_says() -> None:
    """The shipped numpy file's sidecar sets tolerance = 0.10: that is the limit applied, not the
    0.25 the help used to give as the default, so the help names the sidecar first."""
    data = bundled_root() / "hardware_profiles" / "measurements" / "numpy-amd-epyc-2cpu.jsonl"
    result = runner.invoke(app, ["calibrate", "check", str(data), "--json"])
    assert json.loads(result.stdout)["tolerance"] == 0.10
    for command in ("check", "reference"):
        help_text = runner.invoke(app, ["calibrate", command, "--help"], env={"COLUMNS": "200"})
        line = " ".join(help_text.stdout.split())
        assert "(default: the tolerance in the file's <stem>.check.toml, else 0." in line
