"""The comparison rules of the conformance suite, and its random-graph recipes."""

from __future__ import annotations

import numpy as np
import pytest

import croton
from croton.testing.compare import ConformanceError, assert_conforms, tolerance
from croton.testing.graphs import INPUT_SHAPES, Recipe


@pytest.mark.parametrize(
    "expected, actual",
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0], dtype="float32")),  # dtype
        (np.array([1.0, 2.0]), np.array([[1.0, 2.0]])),  # shape
        (np.array([np.nan, 1.0]), np.array([0.0, 1.0])),  # nan lost
        (np.array([1.0, 1.0]), np.array([np.nan, 1.0])),  # nan made up
        (np.array([np.inf]), np.array([-np.inf])),  # sign of infinity
        (np.array([-0.0]), np.array([0.0])),  # sign of zero
        (np.array([1.0]), np.array([1.0 + 1e-8])),  # beyond float64 tolerance
        (np.array([3], dtype="int8"), np.array([4], dtype="int8")),  # integers are exact
    ],
)
def test_differences_are_caught(expected, actual):
    with pytest.raises(ConformanceError):
        assert_conforms(expected, actual, "case")


@pytest.mark.parametrize(
    "expected, actual",
    [
        (np.array([np.nan, np.inf, -0.0]), np.array([np.nan, np.inf, -0.0])),
        (np.array([1.0], dtype="float32"), np.array([1.0 + 1e-6], dtype="float32")),
        (np.array([1.0]), np.array([1.0 + 1e-12])),
    ],
)
def test_agreement_within_tolerance_passes(expected, actual):
    assert_conforms(expected, actual, "case")


def test_tolerance_is_set_by_dtype():
    assert tolerance("int64") == (0.0, 0.0)
    assert tolerance("bool") == (0.0, 0.0)
    assert tolerance("float16")[0] > tolerance("float32")[0] > tolerance("float64")[0]


def test_recipe_source_is_the_graph_that_runs():
    recipe = Recipe((("tanh", 0, 0, 0), ("dot", 3, 2, 0), ("sum", 1, 0, 1), ("add", 4, 5, 0)))
    namespace: dict = {}
    exec(recipe.source(), namespace)
    inputs = [namespace[name] for name, _ in INPUT_SHAPES]
    f = croton.function(inputs, namespace["output"], on_unused_input="ignore")
    a, b, c = recipe.values(np.random.default_rng(1))
    expected = np.tanh(a) @ c + b.sum(axis=1)
    np.testing.assert_allclose(f(a, b, c), expected, rtol=1e-12)


def test_steps_that_do_not_fit_are_skipped():
    # transpose of a vector and dot of (3, 4) with (3, 4) do not apply
    recipe = Recipe((("transpose", 2, 0, 0), ("dot", 0, 1, 0), ("neg", 0, 0, 0)))
    assert recipe.lines() == ["v3 = -a"]
