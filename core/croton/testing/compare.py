"""Running a case on two backends and comparing what they return."""

from __future__ import annotations

import numpy as np

__all__ = ["ConformanceError", "tolerance", "assert_conforms", "run_case", "check_case"]


class ConformanceError(AssertionError):
    """A backend's result differs from the reference backend's."""


#: (rtol, atol) by dtype kind and item size: what a correct kernel may differ by
_TOLERANCES = {
    ("f", 2): (1e-2, 1e-3),
    ("f", 4): (2e-5, 1e-6),
    ("f", 8): (1e-10, 1e-13),
    ("c", 8): (2e-5, 1e-6),
    ("c", 16): (1e-10, 1e-13),
}


def tolerance(dtype) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing values of ``dtype``; (0, 0) for exact dtypes."""
    dtype = np.dtype(dtype)
    return _TOLERANCES.get((dtype.kind, dtype.itemsize), (0.0, 0.0))


def assert_conforms(expected, actual, label: str, scale: float = 1.0) -> None:
    """``actual`` has ``expected``'s dtype and shape, and its values within tolerance.

    nan must be where the reference has nan, infinities must match in sign and place,
    and a zero must carry the reference's sign. ``scale`` widens the tolerance (for
    gradients, which add rounding of their own).
    """
    expected, actual = np.asarray(expected), np.asarray(actual)
    if actual.dtype != expected.dtype:
        raise ConformanceError(
            f"{label}: dtype {actual.dtype}, the reference gives {expected.dtype}"
        )
    if actual.shape != expected.shape:
        raise ConformanceError(
            f"{label}: shape {actual.shape}, the reference gives {expected.shape}"
        )
    rtol, atol = tolerance(expected.dtype)
    if rtol == 0:
        if not np.array_equal(actual, expected):
            raise ConformanceError(
                f"{label}: values differ at {_first_mismatch(expected != actual)}\n"
                f"  reference: {expected!r}\n  backend:   {actual!r}"
            )
        return
    try:
        np.testing.assert_allclose(
            actual, expected, rtol=rtol * scale, atol=atol * scale, equal_nan=True, err_msg=label
        )
    except AssertionError as err:
        raise ConformanceError(str(err)) from None
    zeros = (expected == 0) & ~np.isnan(expected)
    if expected.dtype.kind == "f" and zeros.any():
        signs = np.signbit(expected[zeros]) != np.signbit(actual[zeros])
        if signs.any() and (actual[zeros] == 0).all():
            raise ConformanceError(f"{label}: the sign of zero differs from the reference")


def _first_mismatch(mask) -> tuple:
    return tuple(int(i) for i in np.argwhere(np.atleast_1d(mask))[0]) if np.any(mask) else ()


def _weights(rng, outputs):
    """Fixed random weights, one per output, so the cost mixes every output element."""
    return [rng.uniform(0.5, 1.5, size=np.shape(v)) for v in outputs]


def run_case(case, backend: str, values: list, mode: str = "NONE") -> list:
    """Compile ``case`` on ``backend`` (without rewrites by default) and run it on ``values``."""
    import croton

    inputs, outputs = case.build()
    function = croton.function(
        inputs, outputs, backend=backend, mode=mode, on_unused_input="ignore"
    )
    return function(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in values])


def _gradient_function(case, backend: str, weights):
    import croton
    import croton.tensor as T
    from croton.autodiff import grad

    inputs, outputs = case.build()
    wrt = [x for x in inputs if x.dtype.startswith("float")]
    cost = sum(
        T.sum(T.cast(out, "float64") * T.constant(w))
        for out, w in zip(outputs, weights)
        if out.dtype.startswith(("float", "complex"))
    )
    gradients = grad(cost, wrt, disconnected_inputs="ignore")
    # (with the default rewrites, as users run gradients: the ops of a case's outputs are
    # checked one by one without rewrites, and unfused gradients are slow to compile)
    return croton.function(
        inputs, gradients, backend=backend, mode="FAST_RUN", on_unused_input="ignore"
    )


def check_case(case, backend: str, seed: int = 0, reference: str = "numpy") -> None:
    """Raise `ConformanceError` unless ``backend`` agrees with ``reference`` on ``case``.

    Values, dtypes and shapes of every output are compared; for a gradient case, so are
    the gradients with respect to every floating-point input.
    """
    rng = np.random.default_rng(seed)
    values = case.values(rng)
    with np.errstate(all="ignore"):
        expected = run_case(case, reference, values)
        actual = run_case(case, backend, values)
    for i, (e, a) in enumerate(zip(expected, actual)):
        assert_conforms(e, a, f"{case.id}: output {i} on backend {backend!r}")
    if not case.grad:
        return
    weights = _weights(rng, expected)
    copies = [np.copy(v) for v in values]
    with np.errstate(all="ignore"):
        expected_grads = _gradient_function(case, reference, weights)(*copies)
        actual_grads = _gradient_function(case, backend, weights)(*[np.copy(v) for v in values])
    for i, (e, a) in enumerate(zip(expected_grads, actual_grads)):
        assert_conforms(e, a, f"{case.id}: gradient {i} on backend {backend!r}", scale=10.0)


def check_error_case(case, backend: str) -> None:
    """Raise `ConformanceError` unless ``backend`` raises what the reference raises on
    ``case`` (an `ErrorCase`): ``case.error``, when the compiled function is called."""
    import croton

    for name in ("numpy", backend):
        inputs, outputs = case.build()
        function = croton.function(inputs, outputs, backend=name, on_unused_input="ignore")
        try:
            with np.errstate(all="ignore"):
                function(*case.values())
        except case.error:
            continue
        except Exception as err:
            raise ConformanceError(
                f"{case.id}: backend {name!r} raised {type(err).__name__} ({err}), "
                f"expected {case.error.__name__}"
            ) from err
        raise ConformanceError(
            f"{case.id}: backend {name!r} raised nothing, expected {case.error.__name__}"
        )
