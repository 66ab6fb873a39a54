"""Coverage estimators: unbiased pass@k and the fixed quadratures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinetics_cli.accuracy.passk import (
    beta_binomial_pass_at_k,
    beta_nodes,
    normal_cdf,
    normal_nodes,
    pass_at_k,
)
from kinetics_cli.errors import InputError


def test_pass_at_k_golden_values():
    # n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # n=32, c=6, k=2: 1 - C(26,2)/C(32,2) = 1 - 325/496 = 0.344758...
    assert pass_at_k(32, 6, 2) == pytest.approx(1 - 325 / 496)
    # k=1 is the plain fraction c/n; c=0 never covers; k > n-c always covers
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 8, 3) == 1.0


def test_pass_at_k_not_available_beyond_n():
    out = pass_at_k(np.array([4, 8]), np.array([1, 1]), 8)
    assert np.isnan(out[0]) and out[1] == pytest.approx(1 - math.comb(7, 8) / math.comb(8, 8))


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(InputError):
        pass_at_k(4, 5, 1)
    with pytest.raises(InputError):
        pass_at_k(4, 1, 0)


@given(st.integers(1, 60), st.data())
def test_pass_at_k_matches_exact_binomials_and_rises_with_k(n, data):
    c = data.draw(st.integers(0, n))
    ks = np.arange(1, n + 1)
    got = pass_at_k(n, c, ks)
    exact = np.array([1 - math.comb(n - c, k) / math.comb(n, k) for k in ks])
    np.testing.assert_allclose(got, exact, atol=1e-12)
    assert np.all(np.diff(got) >= -1e-12)


@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_pass_at_k_rises_with_correct_count(n, k, data):
    c = data.draw(st.integers(0, n - 1))
    if k <= n:
        assert pass_at_k(n, c + 1, k) >= pass_at_k(n, c, k)


def test_normal_cdf_reference_values():
    assert normal_cdf(0.0) == pytest.approx(0.5, abs=1e-7)
    assert normal_cdf(1.959963985) == pytest.approx(0.975, abs=1e-7)
    assert normal_cdf(-3.0) == pytest.approx(0.0013498980, abs=1e-7)


@pytest.mark.parametrize("a,b", [(0.25, 0.7), (0.5, 0.5), (2.0, 3.0), (1.0, 1.0), (0.1, 0.05)])
def test_beta_quadrature_matches_exact_best_of_n(a, b):
    p, w = beta_nodes(a, b, 64)
    assert w.sum() == pytest.approx(1.0) and np.all((p >= 0) & (p <= 1))
    assert np.sum(w * p) == pytest.approx(a / (a + b), rel=1e-10)
    ks = np.array([1, 4, 64, 1024])
    quad = np.array([np.sum(w * (1 - (1 - p) ** k)) for k in ks])
    np.testing.assert_allclose(quad, beta_binomial_pass_at_k(a, b, ks), atol=1e-4)


def test_normal_nodes_moments():
    z, w = normal_nodes(8)
    assert np.sum(w) == pytest.approx(1.0)
    assert np.sum(w * z**2) == pytest.approx(1.0)
    assert np.sum(w * z**4) == pytest.approx(3.0)


def test_normal_nodes_match_numpy_gauss_hermite():
    for n in (1, 2, 8, 16):
        z, w = normal_nodes(n)
        ref_z, ref_w = np.polynomial.hermite_e.hermegauss(n)
        np.testing.assert_allclose(z, ref_z, atol=1e-12)
        np.testing.assert_allclose(w, ref_w / ref_w.sum(), atol=1e-12)


def test_normal_cdf_blocks_change_no_value(monkeypatch):
    # 2.5 blocks of values: each one's arithmetic is elementwise, so neither the block it falls
    # in nor the block size can change its bits
    from kinetics_cli.accuracy import passk

    z = np.linspace(-9.0, 9.0, passk._CDF_BLOCK * 5 // 2 + 3).reshape(-1, 1)
    whole = normal_cdf(z)
    assert whole.shape == z.shape
    monkeypatch.setattr(passk, "_CDF_BLOCK", 1000)
    np.testing.assert_array_equal(normal_cdf(z), whole)


def _cdf_as_written(z: np.ndarray) -> np.ndarray:
    """The Numerical Recipes expression step by step: x = -z / sqrt(2), t = 1 / (1 + |x| / 2),
    erfc(|x|) = t exp(-x^2 + P(t)), erfc(x) = 2 - erfc(|x|) for x < 0, Phi(z) = erfc(x) / 2."""
    from kinetics_cli.accuracy.passk import _ERFC_COEFFS

    x = -z / np.sqrt(2.0)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = np.full_like(t, _ERFC_COEFFS[0])
    for c in _ERFC_COEFFS[1:]:
        poly = poly * t + c
    erfc_abs = t * np.exp(poly - a * a)
    return 0.5 * np.where(x >= 0, erfc_abs, 2.0 - erfc_abs)


def test_normal_cdf_has_the_bits_of_the_expression_as_written():
    # the block folds the sign from z and halves before the fold (1 - e / 2 = (2 - e) / 2 when
    # halving is exact): every value, signed zeros, subnormals and infinities included, keeps
    # the bits of the plain expression
    rng = np.random.default_rng(7)
    special = [0.0, -0.0, 5e-324, -5e-324, 1e-310, -1e-310, 1e-17, -1e-17, 40.0, -40.0]
    z = np.concatenate(
        [rng.normal(0.0, 3.0, 50_000), rng.normal(0.0, 30.0, 5_000), special, [np.inf, -np.inf]]
    )
    got, want = normal_cdf(z), _cdf_as_written(z)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def test_normal_cdf_into_out_keeps_every_value():
    # written into a given array, or over z itself, block by block: the same bits as a new array
    z = np.linspace(-12.0, 12.0, 5 * 5000).reshape(-1, 5)  # 25,000 values: three blocks and a bit
    want = normal_cdf(z)
    out = np.empty_like(z)
    assert normal_cdf(z, out=out) is not None
    np.testing.assert_array_equal(out.view(np.int64), want.view(np.int64))
    same = z.copy()
    normal_cdf(same, out=same)
    np.testing.assert_array_equal(same.view(np.int64), want.view(np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        normal_cdf(z, out=np.empty((5, z.shape[0])).T)
