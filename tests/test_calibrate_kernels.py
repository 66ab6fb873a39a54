"""calibrate.kernels and the backends: accounting by hand, and attention against a reference."""

from __future__ import annotations

import importlib.util
import math
import re

import numpy as np
import pytest

from kinetics_cli.calibrate.backends import get_backend
from kinetics_cli.calibrate.backends.numpy_backend import (
    DecodeLayer,
    PagedCache,
    decode_attention,
    paged_attention,
    select_pages,
)
from kinetics_cli.calibrate.kernels import (
    COMPOSITE,
    MICRO_KERNELS,
    Case,
    check_shape,
    cost,
    decode_layer_operators,
    operators,
    plan,
)
from kinetics_cli.engine.operators import matmul
from kinetics_cli.errors import InputError

HAS_TORCH = importlib.util.find_spec("torch") is not None
TINY = {"q_heads": 4, "kv_heads": 2, "head_dim": 8, "page_size": 16}


def test_gemm_and_stream_costs_by_hand() -> None:
    c = cost("gemm", {"m": 4, "n": 8, "k": 16}, "fp32")
    assert float(c.flops) == 2 * 4 * 8 * 16 == 1024
    assert float(c.bytes) == (4 * 16 + 16 * 8 + 4 * 8) * 4 == 896
    c = cost("stream", {"bytes": 1000}, "bf16")
    assert float(c.flops) == 0 and float(c.bytes) == 2000


def test_attention_costs_by_hand() -> None:
    shape = {"batch": 2, "context": 64, **TINY}
    dense = cost("attention_decode_dense", shape, "fp32")
    # 2 B H_q T (d + d) = 2 * 2 * 4 * 64 * 16; cache 2 * 64 * (2 * 2 * 8) * 4 + q/out 2 * 4 * 16 * 4
    assert float(dense.flops) == 16384
    assert float(dense.bytes) == 16384 + 512
    sparse = cost("attention_decode_blocktopk", {**shape, "top_pages": 1, "window": 16}, "fp32")
    # attends 1 page + 16-token window = 32 tokens; scores 64 / 16 = 4 page summaries of 2 x 8
    # attention: 2*2*4*32*16 = 8192 FLOPs, 2*32*32*4 + 512 = 8704 B
    # search: 2 * 2 * 4 * 8 * 4 = 512 FLOPs, 2 * 4 * 16 * 4 = 512 B
    assert float(sparse.flops) == 8192 + 512
    assert float(sparse.bytes) == 8704 + 512
    # a budget covering the context attends densely and searches nothing
    whole = cost("attention_decode_blocktopk", {**shape, "top_pages": 3, "window": 16}, "fp32")
    assert float(whole.flops) == float(dense.flops) and float(whole.bytes) == float(dense.bytes)


def test_decode_step_is_the_sum_of_its_operators() -> None:
    shape = {"batch": 3, "context": 64, **TINY, "hidden": 32, "intermediate": 64}
    dense = {**shape, "attention": "dense"}
    ops = decode_layer_operators(dense, 4.0)
    assert [op.kernel for op in ops].count("gemm") == 4
    assert {op.kernel for op in ops} == {"gemm", "stream", "attention_decode_dense"}
    total = cost(COMPOSITE, dense, "fp32")
    assert float(total.flops) == pytest.approx(sum(float(op.cost.flops) for op in ops))
    qkv = matmul(3, 32, (4 + 2 * 2) * 8, weight_bytes=4, act_bytes=4)
    assert float(ops[1].cost.bytes) == float(qkv.bytes)
    sparse = {**shape, "attention": "block-topk", "top_pages": 1, "window": 16}
    kinds = [op.kernel for op in operators(COMPOSITE, sparse, "fp32")]
    assert "attention_decode_blocktopk" in kinds


@pytest.mark.parametrize(
    ("kernel", "shape", "message"),
    [
        ("gemm", {"m": 1, "n": 2}, "shape.k is missing"),
        ("stream", {"bytes": -1}, "whole number from 0 to 2**40"),
        ("stream", {"bytes": 2**41}, "whole number from 0 to 2**40"),
        (
            "attention_decode_dense",
            {"batch": 1, "context": 20, **TINY},
            "multiple of shape.page_size",
        ),
        (
            "attention_decode_dense",
            {"batch": 1, "context": 32, **TINY, "q_heads": 3},
            "multiple of",
        ),
        (
            "decode_step",
            {
                "batch": 1,
                "context": 32,
                **TINY,
                "hidden": 8,
                "intermediate": 8,
                "attention": "sparse",
            },
            "shape.attention",
        ),
        (
            "decode_step",
            {
                "batch": 1,
                "context": 32,
                **TINY,
                "hidden": 8,
                "intermediate": 8,
                "attention": "block-topk",
            },
            "top_pages is missing",
        ),
        ("conv", {}, "unknown kernel"),
        ("gemm", {"m": 1, "n": 1, "k": 1, "q_heads": 4}, "shape.q_heads is not a parameter"),
        ("stream", {"bytes": 8, "page_size": 16, "window": "x"}, "shape.page_size is not a"),
        (
            "decode_step",
            {
                "batch": 1,
                "context": 32,
                **TINY,
                "hidden": 8,
                "intermediate": 8,
                "attention": "dense",
                "window": "x",
            },
            "shape.window must be a whole number",
        ),
    ],
)
def test_bad_shapes(kernel: str, shape: dict[str, object], message: str) -> None:
    problem = check_shape(kernel, shape)
    assert problem is not None and message in problem
    with pytest.raises(InputError, match=re.escape(message)):
        operators(kernel, shape, "fp32")  # type: ignore[arg-type]


def test_plan_is_valid_and_holds_out_the_decode_steps() -> None:
    for quick in (True, False):
        for gpu in (False, True):
            cases = plan(quick=quick, gpu=gpu)
            assert all(check_shape(c.kernel, c.shape) is None for c in cases)
            assert {c.kernel for c in cases} == {*MICRO_KERNELS, COMPOSITE}
    cases = plan(quick=True)
    micro_attention = {
        (c.shape["batch"], c.shape["context"]) for c in cases if c.kernel.startswith("attention")
    }
    steps = [c for c in cases if c.kernel == COMPOSITE]
    assert steps and all(
        (c.shape["batch"], c.shape["context"]) not in micro_attention for c in steps
    )
    assert cases[-len(steps) :] == steps  # held-out rows come last
    # every CPU shape is also timed on a GPU
    gpu_cases = plan(quick=True, gpu=True)
    assert all(c in gpu_cases for c in cases)


# ---------------------------------------------------------------------------------------------
# numpy backend: attention against a direct softmax over the sequence's tokens
# ---------------------------------------------------------------------------------------------


def reference_attention(q: np.ndarray, cache: PagedCache, pages: np.ndarray) -> np.ndarray:
    """softmax(q K^T / sqrt(d)) V over `pages` (batch, kv_heads, n), one sequence at a time."""
    b, hkv, _, d = q.shape
    out = np.zeros_like(q, dtype=np.float64)
    for i in range(b):
        for h in range(hkv):
            keys = cache.k_pages[pages[i, h], h].reshape(-1, d).astype(np.float64)
            values = cache.v_pages[pages[i, h], h].reshape(-1, d).astype(np.float64)
            scores = q[i, h].astype(np.float64) @ keys.T / math.sqrt(d)
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            out[i, h] = weights @ values
    return out


def make(batch: int = 3, context: int = 256, seed: int = 0) -> tuple[np.ndarray, PagedCache]:
    rng = np.random.default_rng(seed)
    cache = PagedCache(rng, batch, context, 2, 8, 16)
    q = rng.standard_normal((batch, 2, 2, 8), dtype=np.float32)
    return q, cache


def test_dense_paged_attention_matches_the_reference() -> None:
    q, cache = make()
    pages = np.broadcast_to(cache.page_table[:, None, :], (3, 2, 16))
    expected = reference_attention(q, cache, pages)
    np.testing.assert_allclose(decode_attention(q, cache), expected, atol=2e-5)
    for chunk in (1, 3, 64):  # the online softmax does not depend on the chunking
        got = paged_attention(q, cache.k_pages, cache.v_pages, pages, chunk)
        np.testing.assert_allclose(got, expected, atol=2e-5)


def expected_pages(
    q: np.ndarray, cache: PagedCache, top: int, window_pages: int
) -> list[list[set[int]]]:
    """Top pages by summed group score over each page's mean key, plus the window: by brute force."""
    b, hkv = q.shape[:2]
    n = cache.page_table.shape[1]
    chosen = []
    for i in range(b):
        per_head = []
        for h in range(hkv):
            ids = cache.page_table[i]
            means = cache.k_pages[ids, h].mean(axis=1)  # (n, d)
            score = (q[i, h] @ means.T).sum(axis=0)
            candidates = sorted(range(n - window_pages), key=lambda p: -score[p])[:top]
            per_head.append(
                {int(ids[p]) for p in candidates} | {int(x) for x in ids[n - window_pages :]}
            )
        chosen.append(per_head)
    return chosen


def test_block_topk_attends_over_the_best_pages_and_the_window() -> None:
    q, cache = make()
    pages = select_pages(q, cache, top_pages=3, window_pages=2)
    assert pages.shape == (3, 2, 5)
    want = expected_pages(q, cache, 3, 2)
    for i in range(3):
        for h in range(2):
            assert set(pages[i, h].tolist()) == want[i][h]
    got = decode_attention(q, cache, top_pages=3, window=32)
    np.testing.assert_allclose(got, reference_attention(q, cache, pages), atol=2e-5)
    # and differs from dense attention: it is not a slice of the dense result
    assert not np.allclose(got, decode_attention(q, cache), atol=1e-3)


def test_block_topk_with_a_budget_over_the_context_is_dense() -> None:
    q, cache = make(context=64)
    np.testing.assert_allclose(
        decode_attention(q, cache, top_pages=4, window=16), decode_attention(q, cache), atol=1e-6
    )


def tiny_cases() -> list[Case]:
    step = {"batch": 2, "context": 64, **TINY, "hidden": 16, "intermediate": 32}
    return [
        Case("gemm", {"m": 2, "n": 8, "k": 8}),
        Case("stream", {"bytes": 4096}),
        Case("attention_decode_dense", {"batch": 2, "context": 64, **TINY}),
        Case(
            "attention_decode_blocktopk",
            {"batch": 2, "context": 64, **TINY, "top_pages": 1, "window": 16},
        ),
        Case(COMPOSITE, {**step, "attention": "dense"}),
        Case(COMPOSITE, {**step, "attention": "block-topk", "top_pages": 1, "window": 16}),
    ]


def test_numpy_backend_prepares_every_kernel() -> None:
    backend = get_backend("numpy")
    try:
        for case in tiny_cases():
            out = backend.prepare(case)()
            assert out is None or np.all(np.isfinite(np.asarray(out)))
            assert backend.time_call(backend.prepare(case)) >= 0
    finally:
        backend.close()
    layer = DecodeLayer(np.random.default_rng(1), tiny_cases()[-1].shape)
    assert layer.step().shape == (2, 16)


def test_unknown_backend_and_numpy_options() -> None:
    with pytest.raises(InputError, match="unknown backend"):
        get_backend("jax")
    with pytest.raises(InputError, match="CPU only"):
        get_backend("numpy", device="cuda")
    with pytest.raises(InputError, match="fp32 only"):
        get_backend("numpy", dtype="bf16")


@pytest.mark.skipif(HAS_TORCH, reason="torch is installed")
def test_torch_backend_without_torch_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="needs PyTorch"):
        get_backend("torch")


# ---------------------------------------------------------------------------------------------
# torch backend (CPU), when torch is installed
# ---------------------------------------------------------------------------------------------


def torch_twin(cache: PagedCache) -> object:
    """The torch backend's PagedCache holding copies of a numpy cache's arrays."""
    import torch

    from kinetics_cli.calibrate.backends import torch_backend as tb

    twin = object.__new__(tb.PagedCache)
    twin.page_size = cache.page_size
    twin.k_pages = torch.from_numpy(cache.k_pages.copy())
    twin.v_pages = torch.from_numpy(cache.v_pages.copy())
    twin.page_table = torch.from_numpy(cache.page_table.copy())
    twin.summaries = torch.from_numpy(cache.summaries.copy())
    return twin


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_attention_matches_numpy_on_the_same_cache() -> None:
    import torch

    from kinetics_cli.calibrate.backends import torch_backend as tb

    backend = tb.TorchBackend(device="cpu", dtype="fp32")
    try:
        q, cache = make()
        twin = torch_twin(cache)
        tq = torch.from_numpy(q.copy())
        np.testing.assert_allclose(
            backend.decode_attention(tq, twin).numpy(), decode_attention(q, cache), atol=2e-5
        )
        pages = tb.select_pages(torch, tq, twin, 3, 2).numpy()
        want = expected_pages(q, cache, 3, 2)
        assert all(set(pages[i, h].tolist()) == want[i][h] for i in range(3) for h in range(2))
        np.testing.assert_allclose(
            backend.decode_attention(tq, twin, 3, 32).numpy(),
            decode_attention(q, cache, top_pages=3, window=32),
            atol=2e-5,
        )
        for case in tiny_cases():
            assert backend.time_call(backend.prepare(case)) >= 0
    finally:
        backend.close()


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_backend_needs_a_gpu_unless_told_cpu() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    with pytest.raises(InputError, match="no CUDA GPU"):
        get_backend("torch")


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("attention", ["dense", "block-topk"])
def test_torch_decode_layer_matches_numpy_with_the_same_weights(attention: str) -> None:
    """One decode step of the torch layer equals the numpy layer's, cache write included: the
    same kernels in the same order (the GPU run times exactly what the CPU run times)."""
    import torch

    from kinetics_cli.calibrate.backends import torch_backend as tb

    shape: dict[str, object] = {"batch": 2, "context": 256, **TINY, "hidden": 16}
    shape.update(intermediate=32, attention=attention)
    if attention == "block-topk":
        shape.update(top_pages=3, window=32)
    ref = DecodeLayer(np.random.default_rng(2), shape)  # type: ignore[arg-type]
    backend = tb.TorchBackend(device="cpu", dtype="fp32")
    try:
        layer = tb.DecodeLayer(backend, shape)  # type: ignore[arg-type]
        for name in ("w_qkv", "w_o", "w_gate_up", "w_down", "g_attn", "g_mlp", "x"):
            setattr(layer, name, torch.from_numpy(getattr(ref, name).copy()))
        layer.cache = torch_twin(ref.cache)
        layer.last_pages = layer.cache.page_table[:, -1]
        want = ref.step()
        got = backend.time_call(lambda: setattr(layer, "out", layer.step()))
        assert got >= 0
        np.testing.assert_allclose(layer.out.numpy(), want, rtol=1e-4, atol=1e-4)
        # the step wrote the new token's K and V into the last slot of each sequence's last page
        np.testing.assert_allclose(layer.cache.k_pages.numpy(), ref.cache.k_pages, atol=1e-5)
    finally:
        backend.close()


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_device_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cuda` becomes the current GPU with its index (set_device and the events need one); bad
    names are one-line input errors, not tracebacks."""
    import torch

    from kinetics_cli.calibrate.backends.torch_backend import resolve_device

    assert resolve_device(torch, "cpu") == torch.device("cpu")
    for bad, message in (("gpu", "expected cuda, cuda:N or cpu"), ("mps", "cuda or cpu devices")):
        with pytest.raises(InputError, match=message):
            resolve_device(torch, bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device(torch, None) == torch.device("cuda", 1)
    assert resolve_device(torch, "cuda") == torch.device("cuda", 1)
    assert resolve_device(torch, "cuda:0") == torch.device("cuda", 0)
    with pytest.raises(InputError, match="sees 2 CUDA GPU"):
        resolve_device(torch, "cuda:2")


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_gpu_timing_protocol() -> None:
    """The CUDA path of time_call, against a recording stand-in for torch.cuda: drain the device,
    record the start event on the timed device's stream, call, record the end event on the same
    stream, wait for it, and convert the events' milliseconds to seconds."""
    import contextlib
    from types import SimpleNamespace

    from kinetics_cli.calibrate.backends import torch_backend as tb

    log: list[object] = []
    names = iter(["begin", "end"])  # the order time_call creates its two events in

    class Event:
        def __init__(self, enable_timing: bool = False):
            assert enable_timing
            self.name = next(names)

        def record(self, stream: object) -> None:
            log.append(("record", self.name, stream))

        def synchronize(self) -> None:
            log.append(("wait", self.name))

        def elapsed_time(self, other: object) -> float:
            return 2.5

    cuda = SimpleNamespace(
        Event=Event,
        current_stream=lambda dev: f"stream of {dev}",
        synchronize=lambda dev: log.append(f"synchronize {dev}"),
    )
    backend = object.__new__(tb.TorchBackend)
    backend.torch = SimpleNamespace(cuda=cuda, inference_mode=contextlib.nullcontext)
    backend.gpu, backend.dev = True, "cuda:1"
    seconds = backend.time_call(lambda: log.append("kernels"))
    assert seconds == pytest.approx(2.5e-3)
    assert log == [
        "synchronize cuda:1",
        ("record", "begin", "stream of cuda:1"),
        "kernels",
        ("record", "end", "stream of cuda:1"),
        ("wait", "end"),
    ]


def test_flush_is_one_last_level_cache_within_bounds() -> None:
    from kinetics_cli.calibrate.backends.numpy_backend import FLUSH_MAX, FLUSH_MIN, flush_bytes

    assert flush_bytes(0) == FLUSH_MIN == 64 << 20  # unknown cache: the floor
    assert flush_bytes(260 << 20) == 260 << 20  # a VM reporting its host's L3: one cache's worth
    assert flush_bytes(4 << 30) == FLUSH_MAX == 512 << 20


def test_inputs_are_aligned_non_overlapping_pool_views_and_steps_share_a_layer() -> None:
    """The pool is filled once; a case's views never overlap each other, start on FILL_BLOCK
    boundaries (so equal shapes hold equal values); dense and block top-k steps of one shape
    share weights and cache."""
    from kinetics_cli.calibrate.backends.numpy_backend import FILL_BLOCK, NumpyBackend

    backend = NumpyBackend()
    try:
        cases = tiny_cases()
        backend.reserve(cases)
        a, b = backend._inputs([(3, FILL_BLOCK + 1), (3, FILL_BLOCK + 1)])  # grows the pool
        assert np.shares_memory(a, backend._pool) and not np.shares_memory(a, b)
        offset = (b.__array_interface__["data"][0] - a.__array_interface__["data"][0]) // 4
        assert offset % FILL_BLOCK == 0 and np.array_equal(a, b)
        dense, sparse = (backend._decode_layer(c.shape) for c in cases[-2:])
        assert dense.cache is sparse.cache and dense.w_qkv is sparse.w_qkv
        assert dense.top_pages is None and sparse.top_pages == 1
    finally:
        backend.close()
    assert backend._pool.size == 0 and not backend._layers
