"""The numba rule for ifelse: ``if``/``else`` in the jitted code, each branch's nodes
written in its block; a branch numba cannot compile makes the node a (still lazy) Python
step."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

pytest.importorskip("numba")

import croton  # noqa: E402
import croton.tensor as T  # noqa: E402
from croton.ifelse import ifelse  # noqa: E402
from croton_numba.backend import SegmentWarning  # noqa: E402


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CROTON_CACHE_DIR", str(tmp_path / "cache"))


def test_ifelse_compiles_into_the_jitted_segment():
    c = T.bscalar("c")
    x, y = T.dvectors("x", "y")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SegmentWarning)  # no Python steps
        f = croton.function([c, x, y], ifelse(c, [T.exp(x), x], [y[::2], y * 3]), backend="numba")
    source = f.source()
    # one jitted function: the node and its branches written into the segment
    assert re.search(r"\n +if k\d+_condition\[\(\)\] != 0:\n", source)
    assert source.count("def ") == 2  # (the segment and the outer program)
    assert f._executable.python_steps == []
    xv, yv = np.linspace(-1, 1, 5), np.linspace(2, 3, 5)
    first, second = f(1, xv, yv)
    np.testing.assert_allclose(first, np.exp(xv))
    np.testing.assert_allclose(second, xv)
    assert not np.shares_memory(second, xv)  # a passed-on argument is copied
    first, second = f(0, xv, yv)
    np.testing.assert_allclose(first, yv[::2])
    np.testing.assert_allclose(second, yv * 3)


def test_a_branch_numba_cannot_compile_makes_a_lazy_python_step():
    c = T.bscalar("c")
    x = T.TensorType("float16", shape=(None,))("x")
    half_total = T.sum(T.exp(x) * 2)  # a float16 reduction: numba runs it as a Python step
    impossible = x.reshape((x.shape[0] + 1,))
    with pytest.warns(SegmentWarning, match="IfElse"):
        f = croton.function([c, x], ifelse(c, half_total, T.sum(impossible)), backend="numba")
    a = np.linspace(-1, 1, 4).astype(np.float16)
    want = croton.function([x], half_total, backend="numpy")(a)
    np.testing.assert_allclose(f(1, a), want)
    with pytest.raises(ValueError):
        f(0, a)  # the else branch does run when taken
