"""The `--json` documents against the docs that describe them.

Every key name a command's document holds, at any depth, is named in backticks in the docs that
describe that command (outside code blocks); and every key-shaped name in the docs' key lists (a
passage opening with "`... --json` writes", "gives", ...) is a key some document holds. The
commands run in process on small grids (the hand-written accuracy source where it fits, the tiny
calibration plan of tests/test_calibrate_cli.py).

A key is checked by its name, not by its place: a key named in the right file for another
document still passes. Single-word names in a key list (`best`, `cost`) are not checked the other
way: the same lists name values in backticks (`dense`, `usd`, `tdp`), and telling the two apart
would take a parse of each sentence.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hf_configs import QWEN3_8B
from test_calibrate_cli import tiny_plan
from test_cli_plan import answer_rows
from test_planner_fakes import FakeSource
from typer.testing import CliRunner

from kinetics_cli.calibrate import run as run_module
from kinetics_cli.cli.main import app

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    """One command run with --json (`command`: its arguments, split as a shell would; {tmp} is a
    folder of the test's own, {examples} tests/examples); `docs` describe its document."""

    name: str
    command: str
    docs: tuple[str, ...]
    exit_code: int = 0
    cache: bool = False  # the outcome cache on (in a folder of the test's own)


PLANNING = ("docs/planning.md", "docs/serving.md")  # checked: as serve --json has it
CALIBRATION = ("docs/calibration.md", "docs/catalog.md")  # base: as hardware show has it
EVALS = "--task mytask --evals {tmp}/evals.jsonl --gen-limits 16k"
VERIFIER = "--verifier-recall 0.9 --verifier-precision 0.9 --verifier-model qwen3-0.6b"
CASES = (
    # fake source: 3 models; 64K is past their 40,960-token window, so left_out has rows
    Case("plan", "plan --task fake --budget 1e16 --gen-limits 16k,64k", PLANNING),
    Case("plan across accelerators", "plan --task fake --budget-usd 5 -H b200,h100", PLANNING),
    Case(
        "plan with votes and allocation",
        f"plan {EVALS} --budget 1e18 --selection coverage,majority,early-stop "
        "--allocation oracle-per-problem",
        PLANNING,
    ),
    Case(
        "plan with a verifier",  # the fake source has no priors to score a verifier with
        f"plan --task aime24 -m qwen3-0.6b,qwen3-8b --budget 1e16 --selection verifier {VERIFIER}",
        PLANNING,
    ),
    Case("frontier", "frontier --task fake -m qwen3-8b", PLANNING),
    Case("frontier with allocation", f"frontier {EVALS} --allocation oracle-per-problem", PLANNING),
    Case(
        "frontier in dollars", "frontier --task fake -m qwen3-8b --cost usd -H b200,h100", PLANNING
    ),
    Case("serve", "serve qwen3-8b -H h100 --isl 1000 --osl 1000", ("docs/serving.md",)),
    Case(
        "serve sweep",
        "serve qwen3-30b-a3b -H h200 --isl 1000 --osl 1000 --max-tpot 50ms --sweep",
        ("docs/serving.md",),
    ),
    Case("roofline", "roofline qwen3-8b -H h100", ("docs/cost-model.md",)),
    Case("cost", "cost qwen3-8b --prompt-len 1000 --gen-len 4000", ("docs/cost-model.md",)),
    Case("isocost", "isocost --budget 1e16 -m qwen3-8b", ("docs/cost-model.md",)),
    Case("calibrate", "calibrate --tolerance 1000 --out {tmp}/bare", CALIBRATION),
    Case("calibrate run", "calibrate run --quick --out {tmp}/m.jsonl", CALIBRATION),
    # into the user catalog folder, where hardware list and show find it below
    Case(
        "calibrate fit",
        "calibrate fit {tmp}/m.jsonl --hardware measured --name my-cpu",
        CALIBRATION,
    ),
    Case("calibrate check", "calibrate check {tmp}/m.jsonl", CALIBRATION),
    # the paper's B200 rows: outside the published range, so exit code 1 (calibration.md 7)
    Case("calibrate reference", "calibrate reference", CALIBRATION, exit_code=1),
    Case(
        "evals import",
        "evals import {examples}/qwen_math_aime24.jsonl --task mytask --model qwen3-8b "
        "--out {tmp}/imported.jsonl",
        ("docs/accuracy-priors.md",),
    ),
    Case("cache", "cache", ("docs/performance.md",)),
    Case("cache clear", "cache --clear", ("docs/performance.md",)),
    Case("cache warm", "cache --warm --task aime25", ("docs/performance.md",), cache=True),
    Case("models list", "models list", ("docs/catalog.md",)),
    Case("models show", "models show qwen3-8b", ("docs/catalog.md",)),
    Case("models import", "models import {tmp}/config.json", ("docs/catalog.md",)),
    # the bundled profiles and the one calibrate fit wrote into the user catalog
    Case("hardware list", "hardware list", CALIBRATION),
    Case("hardware show", "hardware show h100", ("docs/catalog.md",)),
    # the profile calibrate fit wrote: its [calibration] table
    Case("hardware show calibrated", "hardware show my-cpu", CALIBRATION),
)

# Containers whose keys are data, not names, by the key that holds them: their keys are not
# looked up in the docs (what they hold still is).
DATA_KEYS = {
    "peak_flops": "one entry per number format the profile lists (bf16, fp8, ...)",
    "kernels": "one entry per kernel class: calibrate run's timings, a profile's "
    "[calibration.kernels.CLASS] tables",
    "fits": "calibrate, calibrate fit: one entry per kernel class fitted",
    "shape": "a measured row's kernel shape, whose fields depend on the kernel (the measurement "
    "file's `shape`, calibration.md section 5)",
}


# ------------------------------------------------------------------------------ the documents


def key_paths(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key, path) for every key of a JSON document at any depth; a list's items are read at
    `path[]`, and the keys of a container named in DATA_KEYS are read as `<data>`."""
    if isinstance(document, dict):
        data = path.rsplit(".", 1)[-1].removesuffix("[]") in DATA_KEYS
        for key, value in document.items():
            name = "<data>" if data else key
            inner = f"{path}.{name}" if path else name
            if not data:
                yield key, inner
            yield from key_paths(value, inner)
    elif isinstance(document, list):
        for item in document:
            yield from key_paths(item, f"{path}[]")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case's document, run in one isolated environment (the module shares it)."""
    from kinetics_cli.cli import context
    from kinetics_cli.planner import setup

    tmp = tmp_path_factory.mktemp("json-keys")
    (tmp / "evals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in answer_rows()))
    (tmp / "config.json").write_text(json.dumps(QWEN3_8B))
    source, bundled = FakeSource(), setup.load_source

    def load(task: str, evals: list[Path], resolve: Any) -> Any:
        return source if task == "fake" else bundled(task, evals, resolve)

    out: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp / "config"))
        patch.delenv("KINETICS_PATH", raising=False)
        patch.setenv("KINETICS_NO_CACHE", "1")
        patch.setattr("kinetics_cli.planner.setup.load_source", load)
        patch.setattr(run_module, "plan", tiny_plan)
        patch.setattr("kinetics_cli.calibrate.kernels.plan", tiny_plan)
        patch.setattr(run_module, "WARMUP_SECONDS", 0.0)
        patch.setenv("KINETICS_CACHE_DIR", str(tmp / "cache"))
        for case in CASES:
            context.reset()
            patch.setenv("KINETICS_NO_CACHE", "0" if case.cache else "1")
            command = case.command.format(tmp=tmp, examples=REPO / "tests" / "examples")
            args = shlex.split(command)
            result = CliRunner().invoke(app, [*args, "--json"])
            assert result.exit_code == case.exit_code, (case.name, result.output)
            out[case.name] = json.loads(result.stdout)
    context.reset()
    return out


# ------------------------------------------------------------------------------ the docs

FENCE = re.compile(r"^\s*```.*$", re.M)
SPAN = re.compile(r"`([^`]+)`")  # within a paragraph: a span may wrap at a line's end
PARAGRAPH = re.compile(r"\n\s*\n")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a key list opens where a command's --json is said to write something
KEY_LIST = re.compile(
    r"`[^`\n]*--json`\s+(?:writes|gives|counts|reports|lists|adds|has)\b"
    r"|`[^`\n]*--json`\s+and\s+`[^`\n]*--json`\s+(?:write|give)\b"
    r"|With `--json`, `[^`\n]+`\s+(?:writes|gives)\b"
)
# or a section's bulleted lists, where its heading names --json (docs/serving.md section 1)
KEY_SECTION = re.compile(r"^#+ .*`--json`.*$", re.M)
LIST_ITEM = re.compile(r"\n\s*(?:[-*]|\d+\.) ")
KEY_SHAPED = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return "\n".join(part for i, part in enumerate(FENCE.split(text)) if i % 2 == 0)


def backticked_names(text: str) -> set[str]:
    """Every name inside a backticked span of the prose (`accuracy_ci: [lo, hi]` names
    accuracy_ci, lo and hi; `indistinguishable.tested` both)."""
    return {
        name
        for paragraph in PARAGRAPH.split(prose(text))
        for span in SPAN.findall(paragraph)
        for name in NAME.findall(span)
    }


def key_lists(text: str) -> Iterator[str]:
    """Each key list of the prose: from its opening to the end of its paragraph or list item,
    or the bulleted lists of a section whose heading names `--json`."""
    text = prose(text)
    for paragraph in PARAGRAPH.split(text):
        for match in KEY_LIST.finditer(paragraph):
            yield LIST_ITEM.split(paragraph[match.start() :], maxsplit=1)[0]
    for match in KEY_SECTION.finditer(text):
        section = re.split(r"^#", text[match.end() :], maxsplit=1, flags=re.M)[0]
        yield from (p for p in PARAGRAPH.split(section) if p.lstrip().startswith("- "))


def undocumented(documents: dict[str, Any], names: dict[str, set[str]]) -> list[str]:
    """'case: path' for every key of a document not named in its case's docs."""
    missing = []
    for case in CASES:
        documented = set().union(*(names[f] for f in case.docs))
        for key, path in key_paths(documents[case.name]):
            if key not in documented:
                missing.append(f"{case.name}: {path}")
    return sorted(set(missing))


def unlisted_keys(documents: dict[str, Any], texts: dict[str, str]) -> list[str]:
    """'file: name' for every key-shaped name of the texts' key lists that no document holds
    (a dotted name, `allocation.headroom`, must end a document's path)."""
    keys = {key for doc in documents.values() for key, _ in key_paths(doc)}
    paths = {path.replace("[]", "") for doc in documents.values() for _, path in key_paths(doc)}
    unknown = []
    for file, text in texts.items():
        for passage in key_lists(text):
            for span in SPAN.findall(passage):
                if not KEY_SHAPED.fullmatch(span):
                    continue
                if "." in span:
                    known = any(p == span or p.endswith("." + span) for p in paths)
                else:
                    known = span in keys
                if not known:
                    unknown.append(f"{file}: {span}")
    return unknown


def doc_names() -> dict[str, set[str]]:
    """The backticked names of each file a case names."""
    files = {f for case in CASES for f in case.docs}
    return {f: backticked_names((REPO / f).read_text()) for f in files}


def doc_texts() -> dict[str, str]:
    """README.md and docs/*.md, by their path in the repository."""
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    return {str(f.relative_to(REPO)): f.read_text() for f in files}


# ------------------------------------------------------------------------------ the checks


def test_every_key_is_named_in_the_docs_of_its_command(documents: dict[str, Any]) -> None:
    missing = undocumented(documents, doc_names())
    assert not missing, "keys no doc of their command names in backticks:\n" + "\n".join(missing)


def test_every_key_the_docs_list_is_a_key(documents: dict[str, Any]) -> None:
    unknown = unlisted_keys(documents, doc_texts())
    assert not unknown, "names the docs list as keys that no document holds:\n" + "\n".join(unknown)


def test_every_data_key_container_is_met(documents: dict[str, Any]) -> None:
    """An entry of DATA_KEYS that no document holds any more is stale."""
    containers = {
        path.rsplit(".", 1)[-1].removesuffix("[]")
        for doc in documents.values()
        for _, path in key_paths(doc)
    }
    assert set(DATA_KEYS) <= containers


def test_a_key_without_docs_is_found(documents: dict[str, Any]) -> None:
    """The check finds a key no doc names, at any depth, and one named only in another
    command's docs; data keys pass."""
    names = doc_names()
    changed = json.loads(json.dumps(documents))
    changed["cache"]["undocumented_key"] = 1
    changed["plan"]["best"]["deployment"]["undocumented_too"] = None
    changed["calibrate run"]["kernels"]["a_new_kernel_class"] = {"rows": 1}
    # named in docs/calibration.md only
    changed["serve"]["measure_seconds"] = 0.0
    found = set(undocumented(changed, names)) - set(undocumented(documents, names))
    assert found == {
        "cache: undocumented_key",
        "plan: best.deployment.undocumented_too",
        "serve: measure_seconds",
    }


def test_a_listed_name_that_is_no_key_is_found(documents: dict[str, Any]) -> None:
    """The other way: a key-shaped name in a key list that no document holds, plain or dotted;
    values (`usd`), flags and text outside a key list pass."""
    text = (
        "`kinetics cache --json` gives `folder`, `removed_files`, `no_such_key` and\n"
        "`allocation.headroom`, `allocation.no_such_part`, where `--clear` is `usd`.\n\n"
        "The module's `memory_plan` is no key and is in no key list.\n\n"
        "## 9. The contract (`--json`)\n\n- `ttft_s`, `tpot_ms` per replica\n"
    )
    assert unlisted_keys(documents, {"x.md": text}) == [
        "x.md: no_such_key",
        "x.md: allocation.no_such_part",
        "x.md: tpot_ms",
    ]
