"""``diag``, ``diagonal``, ``trace``, ``nonzero`` and ``flatnonzero``, made of indexing:
numpy's values, shapes and dtypes on every offset and pair of axes, gradients by finite
differences, and no Python step on the numba backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.gradient import verify_grad


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return request.param


def test_diagonals_and_nonzero_match_numpy(backend):
    m, v, t3, im = T.dmatrix("m"), T.dvector("v"), T.dtensor3("t"), T.imatrix("im")
    outputs = [
        T.diagonal(m),
        m.diagonal(1),
        T.diagonal(m, -2),
        T.diagonal(m, 7),  # past the corner: empty
        T.diag(v),
        T.diag(v, 2),
        T.diag(v, -1),
        T.diag(m),
        T.trace(m),
        m.trace(-1),
        T.diagonal(t3, 0, 1, 2),
        T.diagonal(t3, 1, 2, 0),
        T.trace(t3, 0, 0, 2),
        T.flatnonzero(im),
        *T.nonzero(im),
        im.nonzero(return_matrix=True),
        T.nonzero(v)[0],
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (a Python step would warn)
        f = croton.function([m, v, t3, im], outputs, backend=backend)
    rng = np.random.default_rng(0)
    x, vec, cube = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(2, 3, 4))
    vec[1] = 0.0
    ints = np.array([[0, 2, 0], [1, 0, 3]], "int32")
    expected = [
        np.diagonal(x),
        np.diagonal(x, 1),
        np.diagonal(x, -2),
        np.diagonal(x, 7),
        np.diag(vec),
        np.diag(vec, 2),
        np.diag(vec, -1),
        np.diag(x),
        np.trace(x),
        np.trace(x, -1),
        np.diagonal(cube, 0, 1, 2),
        np.diagonal(cube, 1, 2, 0),
        np.trace(cube, 0, 0, 2),
        np.flatnonzero(ints),
        *np.nonzero(ints),
        np.array(np.nonzero(ints)),
        np.nonzero(vec)[0],
    ]
    for k, (got, want) in enumerate(zip(f(x, vec, cube, ints), expected)):
        assert got.shape == want.shape and got.dtype == want.dtype, k
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"output {k}")


def test_gradients():
    rng = np.random.default_rng(3)
    verify_grad(lambda x: T.diagonal(x, 1) ** 2, [rng.normal(size=(3, 4))], rng=rng)
    verify_grad(lambda x: T.diag(x, -1) * 3, [rng.normal(size=3)], rng=rng)
    verify_grad(lambda x: T.trace(x) * T.trace(x), [rng.normal(size=(4, 4))], rng=rng)


def test_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        T.diagonal(T.dvector())
    with pytest.raises(ValueError, match="cannot be the same"):
        T.diagonal(T.dmatrix(), 0, 1, -1)
    with pytest.raises(ValueError, match="vector or a matrix"):
        T.diag(T.dtensor3())
    with pytest.raises(ValueError, match="0-d"):
        T.nonzero(T.dscalar())
