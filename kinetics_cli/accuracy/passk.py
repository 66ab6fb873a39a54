"""Coverage estimators: unbiased pass@k from counts, and fixed quadratures for Beta-mixture models.

Best-of-N coverage here always means the oracle-verifier setting: a problem counts as solved when
at least one of N trials is correct.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kinetics_cli.errors import InputError


def pass_at_k(n: np.ndarray | int, c: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    """Unbiased pass@k per problem, 1 - C(n-c, k) / C(n, k) (Chen et al. 2021); NaN where k > n.

    The ratio of binomials is evaluated as the product prod_{i<k} (n-c-i) / (n-i), which never
    forms a large binomial and is exactly 0 once k > n - c. n, c, k broadcast against each other.
    """
    n_, c_, k_ = np.broadcast_arrays(
        np.asarray(n, dtype=float), np.asarray(c, dtype=float), np.asarray(k, dtype=float)
    )
    if np.any(n_ < 1) or np.any(c_ < 0) or np.any(c_ > n_) or np.any(k_ < 1):
        raise InputError("pass@k needs n >= 1 trials, 0 <= c <= n correct and k >= 1")
    valid = k_ <= n_
    kmax = int(np.max(np.where(valid, k_, 0))) if k_.size else 0
    i = np.arange(kmax, dtype=float)
    num = np.clip(n_[..., None] - c_[..., None] - i, 0.0, None)
    den = np.maximum(n_[..., None] - i, 1.0)
    ratio = np.where(i < k_[..., None], num / den, 1.0)
    miss = np.prod(ratio, axis=-1)
    return np.where(valid, 1.0 - miss, np.nan)


_ERFC_COEFFS = (  # Horner order, highest power of t first
    0.17087277,
    -0.82215223,
    1.48851587,
    -1.13520398,
    0.27886807,
    -0.18628806,
    0.09678418,
    0.37409196,
    1.00002368,
    -1.26551223,
)


# values per pass: each temporary is 64 KiB, in cache and under glibc's 128 KiB mmap threshold (larger
# blocks get fresh pages on every pass; 16,384 values ran 2.5x slower). docs/performance.md
_CDF_BLOCK = 8192


def normal_cdf(z: np.ndarray | float, out: np.ndarray | None = None) -> np.ndarray:
    """Standard normal CDF via the Chebyshev erfc approximation of Numerical Recipes (|rel err| < 1.2e-7).

    erfc(a) = t exp(-a^2 + P(t)), t = 1 / (1 + a/2), P the degree-9 polynomial above, evaluated
    by Horner's rule in place (the planner calls this on grids of ~16k points), in blocks of
    _CDF_BLOCK values: each value's arithmetic is the same, and on large grids the blocks' small
    temporaries run 2-3x faster than whole-grid ones. `out` (C-contiguous, z's shape; z itself
    may be it) receives the values instead of a new array.
    """
    z = np.asarray(z, dtype=float)
    flat = np.ravel(z)
    if out is not None and not (out.shape == z.shape and out.flags.c_contiguous):
        raise ValueError("normal_cdf: out must be C-contiguous and of z's shape")
    result = np.empty(flat.size) if out is None else out.reshape(-1)  # a view: written in place
    for start in range(0, flat.size, _CDF_BLOCK):
        stop = start + _CDF_BLOCK
        result[start:stop] = _normal_cdf_block(flat[start:stop])
    return result.reshape(z.shape)[()]  # a scalar for a scalar, as before


def _normal_cdf_block(z: np.ndarray) -> np.ndarray:
    """normal_cdf of a 1-d block: with x = -z / sqrt(2), Phi(z) = erfc(x) / 2, and
    erfc(x) = 2 - erfc(|x|) for x < 0 (z > 0). The sign is taken from z (|x| = |z| / sqrt(2)
    exactly) and the halving is done before the fold, 1 - erfc(|x|) / 2 = (2 - erfc(|x|)) / 2
    exactly (halving is exact), so each value has the bits of the expression as written."""
    a = np.abs(z)
    a /= np.sqrt(2.0)  # |x|
    t = 0.5 * a
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _ERFC_COEFFS[0]
    poly += _ERFC_COEFFS[1]
    for c in _ERFC_COEFFS[2:]:
        poly *= t
        poly += c
    a *= a
    poly -= a  # -a^2 + P(t)
    np.exp(poly, out=poly)
    poly *= t  # erfc(|x|)
    poly *= 0.5
    np.subtract(1.0, poly, out=poly, where=z > 0)  # x < 0
    return poly


@lru_cache(maxsize=512)
def _beta_nodes_cached(a: float, b: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    # Golub-Welsch on the Jacobi matrix of the weight (1-x)^alpha (1+x)^beta on [-1, 1],
    # alpha = b - 1, beta = a - 1, then x -> p = (1 + x) / 2 maps it onto the Beta(a, b) density.
    al, be = b - 1.0, a - 1.0
    k = np.arange(n, dtype=float)
    s = 2.0 * k + al + be
    diag = np.empty(n)
    diag[0] = (be - al) / (al + be + 2.0)
    if n > 1:
        diag[1:] = (be * be - al * al) / (s[1:] * (s[1:] + 2.0))
    off = np.empty(max(n - 1, 0))
    if n > 1:
        off[0] = 4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + al + be) ** 2 * (3.0 + al + be))
        kk = k[2:]
        sk = s[2:]
        off[1:] = (
            4.0 * kk * (kk + al) * (kk + be) * (kk + al + be) / (sk**2 * (sk + 1.0) * (sk - 1.0))
        )
    jacobi = np.diag(diag) + np.diag(np.sqrt(off), 1) + np.diag(np.sqrt(off), -1)
    x, vec = np.linalg.eigh(jacobi)
    w = vec[0, :] ** 2
    p = np.clip((1.0 + x) / 2.0, 0.0, 1.0)
    return p, w / w.sum()


def beta_nodes(a: float, b: float, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights (summing to 1) for expectations over p ~ Beta(a, b).

    Exact for polynomials in p up to degree 2n - 1; the endpoint behaviour p^(a-1) (1-p)^(b-1)
    of U-shaped Betas (a, b < 1) is carried by the weight, not sampled.
    """
    if not (a > 0 and b > 0) or n < 1:
        raise ValueError(f"Beta quadrature needs a, b > 0 and n >= 1 (got a={a}, b={b}, n={n})")
    p, w = _beta_nodes_cached(float(a), float(b), int(n))
    return p.copy(), w.copy()


def normal_nodes(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights (summing to 1) for expectations over z ~ N(0, 1)."""
    z, w = _normal_nodes_cached(int(n))
    return z.copy(), w.copy()


@lru_cache(maxsize=16)
def _normal_nodes_cached(n: int) -> tuple[np.ndarray, np.ndarray]:
    # Golub-Welsch on the Jacobi matrix of the probabilists' Hermite polynomials (zero diagonal,
    # off-diagonal sqrt(k)); the same nodes as numpy.polynomial.hermite_e.hermegauss without
    # importing numpy.polynomial (and numpy.ma) at start-up.
    off = np.sqrt(np.arange(1, n, dtype=float))
    z, vec = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
    w = vec[0, :] ** 2
    return z, w / w.sum()


def beta_binomial_pass_at_k(a: float, b: float, k: np.ndarray | int) -> np.ndarray:
    """E_p[1 - (1-p)^k] for p ~ Beta(a, b), exactly: 1 - B(a, b+k) / B(a, b).

    Uses 1 - prod_{i<k} (b+i) / (a+b+i); the reference against which the quadrature is checked.
    """
    k_ = np.atleast_1d(np.asarray(k, dtype=float))
    kmax = int(k_.max())
    i = np.arange(kmax, dtype=float)
    log_terms = np.log(b + i) - np.log(a + b + i)
    cum = np.concatenate([[0.0], np.cumsum(log_terms)])
    out = 1.0 - np.exp(cum[k_.astype(int)])
    return out.reshape(np.shape(k)) if np.ndim(k) else out[0]
