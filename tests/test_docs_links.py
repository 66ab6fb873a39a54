"""The README's and docs/*.md's references resolve: every relative link names a file that exists
(and, with an #anchor, a heading of it), and every "FILE.md section N" names a numbered section
FILE.md has, in the documents and in the messages the code prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted((ROOT / "kinetics_cli").rglob("*.py"))

LINK = re.compile(r"\]\(([^)\s]+)\)")
# 'serving.md section 7', '[serving.md](serving.md) section 4', 'calibration.md (section 6'
SECTION = re.compile(r"([\w-]+\.md)(?:\]\([^)]*\))?,? \(?section (\d+(?:\.\d+)?)")


def headings(path: Path) -> list[str]:
    """The headings of a Markdown file, outside code blocks."""
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.append(line.lstrip("#").strip())
    return found


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")


def test_anchor_follows_github() -> None:
    assert anchor("2.3 Attention compute and KV memory") == "23-attention-compute-and-kv-memory"
    assert anchor("The deployable frontier: `--cost gpu-seconds|usd`") == (
        "the-deployable-frontier---cost-gpu-secondsusd"
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_relative_links_resolve(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and fragment not in {anchor(h) for h in headings(linked)}:
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_section_references_name_sections_that_exist() -> None:
    """'docs/serving.md section 7' in a document or in printed text points at '## 7. ...'."""
    numbered = {
        path.name: {h.split(" ", 1)[0].rstrip(".") for h in headings(path) if h[:1].isdigit()}
        for path in (ROOT / "docs").glob("*.md")
    }
    references = 0
    missing = []
    for path in DOCUMENTS + SOURCES:
        for name, number in SECTION.findall(path.read_text(encoding="utf-8")):
            references += 1
            if number not in numbered.get(name, set()):
                missing.append(f"{path.relative_to(ROOT)}: {name} section {number}")
    assert missing == []
    assert references > 20  # the pattern still finds the references it was written for
