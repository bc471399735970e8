"""The gamma family and the inverse error functions on the numba backend (the prelude's
own float64 implementations) against SciPy's, far beyond the conformance cases' range:
negative arguments near the poles, the asymptotic regions, and the tails of erfinv."""

from __future__ import annotations

import numpy as np
import scipy.special

import croton
import croton.tensor as T


def _assert_close(got, want, rtol=1e-10, atol=1e-300):
    both_nan = np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):  # (inf - inf)
        close = (got == want) | (np.abs(got - want) <= rtol * np.abs(want) + atol)
    bad = ~(both_nan | close)
    assert not bad.any(), list(zip(got[bad][:5], want[bad][:5], strict=True))


def test_gamma_family_matches_scipy_over_the_real_line():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-30, 30, 4000),
            rng.uniform(0, 3, 4000),
            -np.exp(rng.uniform(-30, 5, 1000)),  # negative, near and far from the poles
            np.exp(rng.uniform(-30, 10, 1000)),
            [-1e300, 1e300, -3.0, -0.5, 1e-300, 1.4616321449683622],
        ]
    )
    v = T.dvector("v")
    f = croton.function([v], [T.gamma(v), T.gammaln(v), T.psi(v), T.tri_gamma(v)], backend="numba")
    gamma, gammaln, psi, trigamma = f(x)
    with np.errstate(all="ignore"):
        _assert_close(gamma, scipy.special.gamma(x), rtol=1e-9)
        _assert_close(gammaln, scipy.special.gammaln(x), rtol=1e-9)
        # (psi has a root near 1.4616, where only the absolute error is small)
        _assert_close(psi, scipy.special.psi(x), rtol=1e-10, atol=1e-14)
        _assert_close(trigamma, scipy.special.polygamma(1, x))


def test_inverse_error_functions_match_scipy_into_the_tails():
    rng = np.random.default_rng(1)
    tiny = np.exp(rng.uniform(-700, -1, 2000))
    u = np.concatenate([rng.uniform(-1, 1, 4000), 1 - tiny, -1 + tiny, tiny, -tiny])
    w = np.concatenate([rng.uniform(0, 2, 4000), tiny, 2 - np.exp(rng.uniform(-36, -1, 1000))])
    p, q = T.dvectors("p", "q")
    f = croton.function([p, q], [T.erfinv(p), T.erfcinv(q)], backend="numba")
    erfinv, erfcinv = f(u, w)
    _assert_close(erfinv, scipy.special.erfinv(u))
    _assert_close(erfcinv, scipy.special.erfcinv(w))
    # the inverses: erf(erfinv(u)) = u, and erfc(erfcinv(w)) = w relative to w
    _assert_close(scipy.special.erf(erfinv), u, rtol=1e-14)
    _assert_close(scipy.special.erfc(erfcinv), w, rtol=1e-12)


def test_float32_rounds_the_float64_value_once():
    x = np.linspace(0.1, 6.0, 50, dtype="float32")
    v = T.fvector("v")
    got = croton.function([v], [T.gamma(v), T.psi(v)], backend="numba")(x)
    for values, reference in zip(got, [scipy.special.gamma, scipy.special.psi], strict=True):
        assert values.dtype == np.float32
        np.testing.assert_array_equal(values, reference(x.astype("float64")).astype("float32"))
