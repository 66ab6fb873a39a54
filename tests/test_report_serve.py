"""The serve report's plot title: the request as priced."""

from __future__ import annotations

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.serving import Deployment, serve
from kinetics_cli.report.serve import plot_title


def _served(**request: object) -> str:
    catalog = load_catalog()
    card = catalog.models.get("qwen3-8b").spec
    profile = catalog.hardware.get("b200").spec
    result = serve(card, profile, Deployment(), prompt_len=1000, gen_len=1000, **request)  # type: ignore[arg-type]
    return plot_title(result)


def test_a_dense_title_names_the_lengths_only() -> None:
    title = _served()
    assert title.endswith("ISL 1,000 / OSL 1,000")


def test_a_sparse_grouped_title_says_how_it_was_priced() -> None:
    """A block top-k curve of best-of-4 groups read as dense single requests before."""
    title = _served(attention="block-topk", kv_budget=512, trials=4)
    assert "groups of 4 trials sharing a prompt" in title
    assert "block-topk attention, KV budget 512 tokens (pages of 16)" in title
    oracle = _served(attention="topk", kv_budget=512)
    assert "topk (oracle) attention" in oracle
