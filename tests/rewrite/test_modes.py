"""Compilation modes, ``croton.config.optimizer``, and what is printed about rewriting."""

from __future__ import annotations

import numpy as np
import pytest

import croton
import croton.tensor as T
from croton.ops.composite import Composite
from croton.ops.elemwise import Elemwise

RNG = np.random.default_rng(0)
X = RNG.normal(size=6)
Y = RNG.normal(size=6)


def _graph():
    """One graph with work for every pass."""
    x, y = T.dvectors("x", "y")
    out = (
        T.log(1 + T.exp(x)) * 1  # stabilize: softplus; canonicalize: x * 1
        + (x - y) ** 2  # specialize: sqr; fuse: one loop
        + T.neg(T.neg(y))  # canonicalize: --y
        + T.exp(T.constant(0.5)) * T.exp(x)  # constant folding; merging with exp(x) above
    )
    return [x, y], out


def _expected(a, b):
    return np.log(1 + np.exp(a)) + (a - b) ** 2 + b + np.exp(0.5) * np.exp(a)


def _has_composite(f) -> bool:
    return any(
        isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)
        for n in f.maker.fgraph.apply_nodes
    )


def test_fast_run_runs_every_pass(op_names):
    inputs, out = _graph()
    f = croton.function(inputs, out, mode="FAST_RUN")
    names = op_names(f)
    assert {"softplus", "sqr"} <= set(names), names
    assert not {"log", "pow", "neg"} & set(names), names
    assert _has_composite(f)
    assert set(f.maker.fgraph.rewrite_stats.pass_seconds) == {
        "merge",
        "canonicalize",
        "stabilize",
        "specialize",
        "fuse",
    }
    np.testing.assert_allclose(f(X, Y), _expected(X, Y), rtol=1e-12)


def test_fast_compile_only_merges_and_simplifies(op_names):
    inputs, out = _graph()
    f = croton.function(inputs, out, mode="FAST_COMPILE")
    naive = croton.function(inputs, out, mode="NONE")
    names = op_names(f)
    # no stabilize, specialize or fuse
    assert {"log", "pow", "add"} <= set(names), names
    assert not {"softplus", "sqr", "log1p"} & set(names), names
    assert not _has_composite(f)
    # but the cheap algebra, constant folding and merging ran
    assert "neg" not in names
    assert names["exp"] == 1 and op_names(naive)["exp"] == 3
    assert len(f.maker.fgraph.apply_nodes) < len(naive.maker.fgraph.apply_nodes)
    stats = f.maker.fgraph.rewrite_stats
    assert set(stats.pass_seconds) == {"merge", "canonicalize_cheap"}
    assert stats.fired["constant_fold"] >= 1 and stats.fired["neg_neg"] == 1
    np.testing.assert_allclose(f(X, Y), _expected(X, Y), rtol=1e-12)


def test_none_rewrites_nothing(op_names):
    inputs, out = _graph()
    f = croton.function(inputs, out, mode="NONE")
    names = op_names(f)
    assert names["neg"] == 2 and names["exp"] == 3 and names["pow"] == 1, names
    assert not _has_composite(f)
    stats = f.maker.fgraph.rewrite_stats
    assert not stats.fired and not stats.pass_seconds
    np.testing.assert_allclose(f(X, Y), _expected(X, Y), rtol=1e-12)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "NONE"])
def test_every_mode_gives_the_same_values(mode):
    m, v = T.dmatrix("m"), T.dvector("v")
    labels = T.lvector("labels")
    probabilities = T.nnet.softmax(T.dot(m, m.T) + v)
    cost = T.nnet.categorical_crossentropy(probabilities, labels).mean()
    outputs = [cost, T.grad(cost, m), T.sum((m - 1) ** 2, axis=1)]
    f = croton.function([m, v, labels], outputs, mode=mode)
    data, shift, y = RNG.normal(size=(4, 3)), RNG.normal(size=4), np.array([0, 3, 1, 1])
    got_cost, got_grad, got_sum = f(data, shift, y)
    logits = data @ data.T + shift
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got_cost, -log_p[np.arange(4), y].mean(), rtol=1e-12)
    np.testing.assert_allclose(got_sum, ((data - 1) ** 2).sum(axis=1), rtol=1e-12)
    reference = croton.function([m, v, labels], outputs[1], mode="NONE")
    np.testing.assert_allclose(got_grad, reference(data, shift, y), rtol=1e-12, atol=1e-15)


def test_mode_names_are_case_insensitive(op_names):
    x = T.dvector("x")
    f = croton.function([x], T.log(1 + T.exp(x)), mode="fast_compile")
    assert f.maker.mode == "FAST_COMPILE"
    assert "softplus" not in op_names(f)
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)


def test_config_mode_is_the_default(op_names):
    x = T.dvector("x")
    with croton.config.change(mode="NONE"):
        f = croton.function([x], T.log(1 + T.exp(x)))
    assert f.maker.mode == "NONE"
    assert op_names(f) == {"log": 1, "add": 1, "exp": 1, "DimShuffle": 1}
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)


@pytest.mark.parametrize(
    "optimizer, passes",
    [
        ("fast_run", {"merge", "canonicalize", "stabilize", "specialize", "fuse"}),
        ("fast_compile", {"merge", "canonicalize_cheap"}),
        (None, set()),
        ("None", set()),
    ],
)
def test_config_optimizer_sets_what_fast_run_does(optimizer, passes):
    x = T.dvector("x")
    out = T.log(1 + T.exp(x)) * 1
    with croton.config.change(optimizer=optimizer):
        f = croton.function([x], out)
        explicit_none = croton.function([x], out, mode="NONE")
    assert set(f.maker.fgraph.rewrite_stats.pass_seconds) == passes
    assert not explicit_none.maker.fgraph.rewrite_stats.pass_seconds
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)


def test_invalid_optimizer_is_refused():
    with pytest.raises(ValueError, match="croton.config.optimizer"):
        croton.config.optimizer = "fastest"
    assert croton.config.optimizer == "fast_run"


@pytest.mark.parametrize("mode", ["FAST", "DEBUG_MODE", "fast-run"])
def test_invalid_mode_raises_a_clear_error(mode):
    x = T.dvector("x")
    with pytest.raises(ValueError, match=r"unknown mode .*FAST_RUN.*FAST_COMPILE.*NONE"):
        croton.function([x], x * 2, mode=mode)


def test_invalid_config_mode_is_refused():
    with pytest.raises(ValueError, match="croton.config.mode"):
        croton.config.mode = "SLOW"
    assert croton.config.mode == "FAST_RUN"


# -- printing ----------------------------------------------------------------------------


def test_profile_prints_fired_rewrites_and_pass_times(capsys):
    x = T.dvector("x")
    f = croton.function([x], T.log(1 + T.exp(x)) * 1, profile=True)
    printed = capsys.readouterr().out
    assert printed.strip() == f.maker.fgraph.rewrite_stats.report()
    lines = printed.splitlines()
    assert lines[0] == "rewrite passes (seconds):"
    for name in ("merge", "canonicalize", "stabilize", "specialize", "fuse"):
        assert any(line.split()[0] == name for line in lines[1:6]), lines
    fired = lines[lines.index("rewrites fired:") + 1 :]
    assert ["softplus", "1"] in [line.split() for line in fired]
    assert ["mul_one", "1"] in [line.split() for line in fired]
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)


def test_no_report_without_profile(capsys):
    x = T.dvector("x")
    f = croton.function([x], T.log(1 + T.exp(x)))
    assert capsys.readouterr().out == ""
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)


def test_print_rewrites_reports_every_function(capsys):
    x = T.dvector("x")
    with croton.config.change(print_rewrites=True):
        f = croton.function([x], T.log(1 + T.exp(x)))
        g = croton.function([x], x**2, mode="FAST_COMPILE")
    printed = capsys.readouterr().out
    assert printed.count("rewrite passes (seconds):") == 2
    first, second = printed.split("rewrite passes (seconds):")[1:]
    assert "softplus" in first and "stabilize" in first
    assert "canonicalize_cheap" in second and "stabilize" not in second
    np.testing.assert_allclose(f(X), np.log(1 + np.exp(X)), rtol=1e-12)
    np.testing.assert_allclose(g(X), X**2, rtol=1e-15)


def test_debugprint_shows_the_rewritten_graph():
    x = T.dvector("x")
    out = T.log(1 + T.exp(x))
    fast = croton.function([x], out)
    naive = croton.function([x], out, mode="NONE")
    rewritten = croton.printing.debugprint(fast, file="str")
    written = croton.printing.debugprint(naive, file="str")
    assert rewritten.splitlines() == ["Elemwise{softplus} [id A]", " |x [id B]"]
    assert "softplus" not in written
    assert "Elemwise{log}" in written and "Elemwise{exp}" in written
    # the user's variable is untouched by compilation
    assert croton.printing.debugprint(out, file="str") == written
    np.testing.assert_allclose(fast(X), naive(X), rtol=1e-12)
    np.testing.assert_allclose(fast(X), np.logaddexp(0, X), rtol=1e-12)


@pytest.mark.parametrize("mode", [123, ["FAST_RUN"], ""])
def test_a_mode_that_is_not_a_mode_name_is_refused(mode):
    x = T.dvector("x")
    with pytest.raises(ValueError, match="unknown mode"):
        croton.function([x], x * 2, mode=mode)
