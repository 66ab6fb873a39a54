"""The calibration kernels in PyTorch: bf16 on a CUDA GPU (or any dtype on the CPU, for testing).

The same kernels as the numpy backend, step for step: matmul, device-to-device copy, decode
attention over a paged KV cache in chunks with an online softmax, and block top-k (score one
mean-key summary per page, keep the top pages per KV head plus the local window, attend over
those pages only). GPU calls are timed with CUDA events after a synchronise, with the L2 cache
flushed by overwriting a buffer larger than it before every call. torch is imported here only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from kinetics_cli.calibrate.kernels import COMPOSITE, Case, ShapeValue
from kinetics_cli.errors import InputError

TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
GPU_CHUNK_BYTES = 512 << 20  # K and V gathered per attention chunk on a GPU
CPU_CHUNK_BYTES = 2 << 20


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InputError(
            "the torch backend needs PyTorch (pip install 'kinetics-cli[torch]'); "
            "--backend numpy runs on any CPU"
        ) from None
    return torch


class PagedCache:
    """Torch twin of numpy_backend.PagedCache: page pool, shuffled page table, page summaries."""

    def __init__(
        self, torch: Any, gen: Any, shape: Mapping[str, ShapeValue], dtype: Any, device: Any
    ):
        batch, context = int(shape["batch"]), int(shape["context"])
        hkv, d, s = int(shape["kv_heads"]), int(shape["head_dim"]), int(shape["page_size"])
        pool = batch * (context // s)
        self.page_size = s
        shape_ = (pool, hkv, s, d)
        self.k_pages = torch.randn(shape_, generator=gen, device=device, dtype=dtype)
        self.v_pages = torch.randn(shape_, generator=gen, device=device, dtype=dtype)
        perm = torch.randperm(pool, generator=gen, device=device)
        self.page_table = perm.reshape(batch, context // s)
        self.summaries = self.k_pages.mean(dim=2, dtype=torch.float32).to(dtype)


def paged_attention(torch: Any, q: Any, cache: PagedCache, pages: Any, chunk_pages: int) -> Any:
    """softmax(q K^T / sqrt(d)) V over the listed pages, a chunk at a time (online softmax in fp32).

    q: (batch, kv_heads, group, dim); pages: (batch, kv_heads, n) page ids.
    """
    b, hkv, g, d = q.shape
    s = cache.page_size
    k_rows = cache.k_pages.reshape(-1, s, d)
    v_rows = cache.v_pages.reshape(-1, s, d)
    rows = pages * hkv + torch.arange(hkv, device=q.device)[None, :, None]
    qs = q * (1.0 / math.sqrt(d))
    m = torch.full((b, hkv, g, 1), -math.inf, device=q.device)
    denom = torch.zeros((b, hkv, g, 1), device=q.device)
    acc = torch.zeros((b, hkv, g, d), device=q.device)
    n = pages.shape[-1]
    for start in range(0, n, chunk_pages):
        ids = rows[:, :, start : start + chunk_pages]
        c = ids.shape[-1]
        keys = k_rows.index_select(0, ids.reshape(-1)).reshape(b, hkv, c * s, d)
        values = v_rows.index_select(0, ids.reshape(-1)).reshape(b, hkv, c * s, d)
        scores = torch.matmul(qs, keys.transpose(-1, -2)).float()
        m_new = torch.maximum(m, scores.amax(dim=-1, keepdim=True))
        p = torch.exp(scores - m_new)
        correction = torch.exp(m - m_new)
        denom = denom * correction + p.sum(dim=-1, keepdim=True)
        acc = acc * correction + torch.matmul(p.to(q.dtype), values).float()
        m = m_new
    return (acc / denom).to(q.dtype)


def select_pages(torch: Any, q: Any, cache: PagedCache, top_pages: int, window_pages: int) -> Any:
    """Block top-k page choice, as numpy_backend.select_pages."""
    table = cache.page_table
    b, n = table.shape
    summaries = cache.summaries[table]  # (batch, pages, kv_heads, dim)
    scores = torch.matmul(q, summaries.permute(0, 2, 3, 1)).float().sum(dim=2)
    if window_pages:
        scores[:, :, n - window_pages :] = -math.inf
    top = torch.topk(scores, top_pages, dim=-1).indices
    local = torch.arange(n - window_pages, n, device=q.device).expand(*top.shape[:2], window_pages)
    positions = torch.cat([top, local], dim=-1)
    return torch.gather(table[:, None, :].expand(b, q.shape[1], n), 2, positions)


class TorchBackend:
    """Times the calibration kernels with PyTorch on `device` (CUDA by default)."""

    name = "torch"

    def __init__(self, device: str | None = None, dtype: str | None = None, seed: int = 0):
        torch = _torch()
        self.torch = torch
        if device is None:
            if not torch.cuda.is_available():
                raise InputError(
                    "the torch backend found no CUDA GPU; pass --device cpu to time it on the "
                    "CPU, or use --backend numpy"
                )
            device = "cuda"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InputError(f"--device {device}: torch sees no CUDA GPU")
        self.dev = torch.device(device)
        self.gpu = self.dev.type == "cuda"
        # On a CPU, as the numpy backend: one thread, timed by its CPU time (numpy_backend).
        self.clock = "cuda_events" if self.gpu else "thread_cpu"
        self._threads = torch.get_num_threads()
        if not self.gpu:
            torch.set_num_threads(1)
        self.dtype = dtype or ("bf16" if self.gpu else "fp32")
        if self.dtype not in TORCH_DTYPES:
            raise InputError(
                f"unknown dtype {self.dtype!r}; choose one of {', '.join(TORCH_DTYPES)}"
            )
        self.tdtype = getattr(torch, TORCH_DTYPES[self.dtype])
        self.elem_size = torch.empty((), dtype=self.tdtype).element_size()
        self.gen = torch.Generator(device=self.dev).manual_seed(seed)
        if self.gpu:
            props = torch.cuda.get_device_properties(self.dev)
            self.device = torch.cuda.get_device_name(self.dev)
            l2 = int(getattr(props, "L2_cache_size", 0) or (64 << 20))
            self._flush = torch.empty(max(256 << 20, 4 * l2), dtype=torch.uint8, device=self.dev)
            self.chunk_bytes = GPU_CHUNK_BYTES
        else:
            from kinetics_cli.calibrate.backends.numpy_backend import (
                _cpu_name,
                _last_level_cache_bytes,
            )

            self.device = _cpu_name()
            llc = _last_level_cache_bytes()
            self._flush = torch.ones(max(64 << 20, 3 * llc), dtype=torch.uint8)
            self.chunk_bytes = CPU_CHUNK_BYTES

    def describe(self) -> str:
        return f"torch {self.torch.__version__} on {self.device} ({self.dev.type}), {self.dtype}"

    def close(self) -> None:
        if self.gpu:
            self.torch.cuda.empty_cache()
        else:
            self.torch.set_num_threads(self._threads)

    def flush(self) -> None:
        """Evict caches: overwrite (GPU) or read (CPU) a buffer larger than the last-level cache."""
        if self.gpu:
            self._flush.zero_()
        else:
            self._flush.max()

    def time_call(self, fn: Callable[[], object]) -> float:
        torch = self.torch
        if not self.gpu:
            start = time.thread_time()
            fn()
            return time.thread_time() - start
        begin = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(self.dev)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        return float(begin.elapsed_time(end)) / 1e3

    def _randn(self, *shape: int) -> Any:
        return self.torch.randn(shape, generator=self.gen, device=self.dev, dtype=self.tdtype)

    def _chunk(self, batch: int, kv_heads: int, page_size: int, head_dim: int) -> int:
        per_page = 2 * batch * kv_heads * page_size * head_dim * self.elem_size
        return max(1, self.chunk_bytes // per_page)

    def decode_attention(
        self, q: Any, cache: PagedCache, top_pages: int | None = None, window: int = 0
    ) -> Any:
        torch = self.torch
        b, hkv, _, d = q.shape
        s = cache.page_size
        n = cache.page_table.shape[1]
        chunk = self._chunk(b, hkv, s, d)
        if top_pages is not None and top_pages * s + window < n * s:
            pages = select_pages(torch, q, cache, top_pages, window // s)
        else:
            pages = cache.page_table[:, None, :].expand(b, hkv, n)
        return paged_attention(torch, q, cache, pages, chunk)

    def prepare(self, case: Case) -> Callable[[], object]:
        torch, shape = self.torch, case.shape
        if case.kernel == "gemm":
            m, n, k = (int(shape[x]) for x in ("m", "n", "k"))
            a, b = self._randn(m, k), self._randn(k, n)
            c = torch.empty((m, n), dtype=self.tdtype, device=self.dev)
            return lambda: torch.matmul(a, b, out=c)
        if case.kernel == "stream":
            count = int(shape["bytes"]) // self.elem_size
            src = torch.empty(count, dtype=self.tdtype, device=self.dev).normal_(generator=self.gen)
            dst = torch.empty_like(src)
            return lambda: dst.copy_(src)
        if case.kernel == COMPOSITE:
            return self._decode_layer(shape)
        cache = PagedCache(torch, self.gen, shape, self.tdtype, self.dev)
        hq, hkv = int(shape["q_heads"]), int(shape["kv_heads"])
        q = self._randn(int(shape["batch"]), hkv, hq // hkv, int(shape["head_dim"]))
        if case.kernel == "attention_decode_blocktopk":
            top, window = int(shape["top_pages"]), int(shape["window"])
            return lambda: self.decode_attention(q, cache, top, window)
        return lambda: self.decode_attention(q, cache)

    def _decode_layer(self, shape: Mapping[str, ShapeValue]) -> Callable[[], object]:
        """Pre-norm SwiGLU layer with GQA over the paged cache, as numpy_backend.DecodeLayer."""
        torch = self.torch
        b, h = int(shape["batch"]), int(shape["hidden"])
        hq, hkv, d = int(shape["q_heads"]), int(shape["kv_heads"]), int(shape["head_dim"])
        inter = int(shape["intermediate"])
        top = int(shape["top_pages"]) if shape["attention"] == "block-topk" else None
        window = int(shape.get("window", 0))
        w_qkv = self._randn(h, (hq + 2 * hkv) * d) * h**-0.5
        w_o = self._randn(hq * d, h) * (hq * d) ** -0.5
        w_gate_up = self._randn(h, 2 * inter) * h**-0.5
        w_down = self._randn(inter, h) * inter**-0.5
        g_attn = torch.ones(h, dtype=self.tdtype, device=self.dev)
        g_mlp = torch.ones(h, dtype=self.tdtype, device=self.dev)
        cache = PagedCache(torch, self.gen, shape, self.tdtype, self.dev)
        last_pages = cache.page_table[:, -1]
        slot = cache.page_size - 1
        x0 = self._randn(b, h)

        def rms_norm(x: Any, gain: Any) -> Any:
            return (
                x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype) * gain
            )

        def step() -> Any:
            qkv = rms_norm(x0, g_attn) @ w_qkv
            q = qkv[:, : hq * d].reshape(b, hkv, hq // hkv, d)
            k = qkv[:, hq * d : (hq + hkv) * d].reshape(b, hkv, d)
            v = qkv[:, (hq + hkv) * d :].reshape(b, hkv, d)
            cache.k_pages[last_pages, :, slot] = k
            cache.v_pages[last_pages, :, slot] = v
            attn = self.decode_attention(q, cache, top, window)
            x = x0 + attn.reshape(b, hq * d) @ w_o
            gate_up = rms_norm(x, g_mlp) @ w_gate_up
            gate, up = gate_up[:, :inter], gate_up[:, inter:]
            return x + (torch.nn.functional.silu(gate) * up) @ w_down

        return step
