"""Backends whose arrays are not numpy arrays: outputs, inputs used in place, resident shared values.

A small backend defined here stands in for a device: its arrays are `Boxed` wrappers
around numpy arrays (which, like ``cupy.ndarray``, refuse implicit conversion to numpy),
and it runs graphs through the numpy backend's executable. It records what it converts,
so the tests can tell a value used in place from one copied over.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import croton
import croton.backend
import croton.tensor as T
from croton.backend import Backend


class Boxed:
    """An array on the pretend device."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.dtype = array.dtype
        self.ndim = array.ndim
        self.shape = array.shape

    def copy(self) -> Boxed:
        return Boxed(self.array.copy())

    def __array__(self, *args, **kwargs):
        raise TypeError("implicit conversion of a device array to numpy is not allowed")


class BoxedBackend(Backend):
    """Runs graphs with the numpy backend's kernels on `Boxed` arrays."""

    name = "boxed"
    device = "gpu"

    def __init__(self):
        super().__init__()
        self.uploads = 0  # numpy arrays copied to the device
        self.downloads = 0  # device arrays copied to numpy
        self.calls: list[tuple] = []  # the arguments of each executable call

    @property
    def uses_numpy_arrays(self) -> bool:
        return False

    def compile(self, fgraph, *, allow_fallback: bool = False):
        inner = croton.backend.get_backend("numpy").compile(fgraph, allow_fallback=allow_fallback)

        def run(*args):
            assert all(isinstance(a, Boxed) for a in args), args
            self.calls.append(args)
            return [Boxed(np.asarray(v)) for v in inner(*[a.array for a in args])]

        return run

    def to_backend(self, array):
        assert isinstance(array, np.ndarray)
        self.uploads += 1
        return Boxed(np.array(array))

    def native_value(self, value, type):
        if isinstance(value, Boxed) and value.dtype.name == type.dtype and value.ndim == type.ndim:
            return value
        return None

    def to_numpy(self, value) -> np.ndarray:
        self.downloads += 1
        return value.array.copy()


@pytest.fixture
def boxed():
    return BoxedBackend()


def test_outputs_are_numpy_arrays_by_default(boxed):
    x = T.dvector("x")
    f = croton.function([x], [x * 2, x.sum()], backend=boxed)
    doubled, total = f(np.arange(3.0))
    assert type(doubled) is np.ndarray and type(total) is np.ndarray
    np.testing.assert_array_equal(doubled, [0.0, 2.0, 4.0])
    assert total.shape == () and total == 3.0
    assert boxed.downloads == 2


def test_return_device_arrays_returns_the_backends_arrays(boxed):
    x = T.dvector("x")
    f = croton.function([x], [x * 2, x.sum()], backend=boxed, return_device_arrays=True)
    doubled, total = f(np.arange(3.0))
    assert isinstance(doubled, Boxed) and isinstance(total, Boxed)
    np.testing.assert_array_equal(doubled.array, [0.0, 2.0, 4.0])
    assert boxed.downloads == 0
    single = croton.function([x], x + 1, backend=boxed, return_device_arrays=True)
    assert isinstance(single(np.zeros(2)), Boxed)


def test_return_device_arrays_on_a_numpy_backend_still_gives_numpy_arrays():
    x = T.dvector("x")
    f = croton.function([x], x + 1, backend="numpy", return_device_arrays=True)
    out = f(np.zeros(2))
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [1.0, 1.0])


def test_the_option_survives_pickling():
    x = T.dvector("x")
    f = croton.function([x], x + 1, backend="numpy", return_device_arrays=True)
    g = pickle.loads(pickle.dumps(f))
    assert g.return_device_arrays is True
    np.testing.assert_array_equal(g(np.zeros(2)), [1.0, 1.0])


def test_device_inputs_are_used_in_place(boxed):
    x, y = T.dvector("x"), T.dvector("y")
    f = croton.function([x, y], x + y, backend=boxed, return_device_arrays=True)
    on_device = Boxed(np.arange(3.0))
    out = f(on_device, np.ones(3))
    assert boxed.calls[-1][0] is on_device  # not converted, not copied
    assert boxed.uploads == 1  # only the numpy input was copied over
    np.testing.assert_array_equal(out.array, [1.0, 2.0, 3.0])
    f(y=on_device, x=on_device)  # by name too
    assert boxed.calls[-1][0] is on_device and boxed.calls[-1][1] is on_device
    assert boxed.uploads == 1


def test_device_inputs_of_the_wrong_type_are_refused_naming_the_input(boxed):
    x = T.fvector("x")
    f = croton.function([x], x * 2, backend=boxed)
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(Boxed(np.arange(3.0)))  # float64 on the device, for a float32 input
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(Boxed(np.zeros((2, 2), dtype="float32")))
    assert boxed.calls == []


def test_numpy_inputs_are_checked_and_converted_once(boxed):
    x = T.fvector("x")
    f = croton.function([x], x * 2, backend=boxed)
    np.testing.assert_array_equal(f([1, 2]), np.array([2, 4], dtype="float32"))
    assert boxed.uploads == 1
    with pytest.raises(TypeError, match=r"input 0 \(x\).*lossily"):
        f(np.arange(2.0))


def test_shared_values_stay_on_the_backend_across_calls(boxed):
    w = croton.shared(np.zeros(3), name="w")
    x = T.dvector("x")
    f = croton.function([x], (w * x).sum(), updates=[(w, w + x)], backend=boxed)
    f(np.ones(3))
    resident = w.get_value(borrow=True, return_internal_type=True)
    assert isinstance(resident, Boxed)
    np.testing.assert_array_equal(resident.array, [1.0, 1.0, 1.0])
    uploads = boxed.uploads
    out = f(np.ones(3))
    # the update computed by the first call is what the second call received
    assert boxed.calls[-1][1] is resident
    assert boxed.uploads == uploads + 1  # the input only, not the shared value
    assert out == 3.0
    np.testing.assert_array_equal(
        w.get_value(borrow=True, return_internal_type=True).array, [2.0] * 3
    )


def test_get_value_gives_a_numpy_copy_of_a_resident_value(boxed):
    w = croton.shared(np.zeros(2), name="w")
    f = croton.function([], [], updates=[(w, w + 1)], backend=boxed)
    f()
    value = w.get_value()
    assert type(value) is np.ndarray
    np.testing.assert_array_equal(value, [1.0, 1.0])
    value[:] = 7.0  # a copy: the resident value does not change
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(w.get_value(borrow=True), [1.0, 1.0])
    assert type(w.get_value(borrow=True)) is np.ndarray


def test_set_value_replaces_a_resident_value(boxed):
    w = croton.shared(np.zeros(2), name="w")
    f = croton.function([], w * 2, updates=[(w, w + 1)], backend=boxed)
    f()
    w.set_value(np.array([10.0, 20.0]))
    assert type(w.get_value(return_internal_type=True)) is np.ndarray
    np.testing.assert_array_equal(f(), [20.0, 40.0])
    np.testing.assert_array_equal(w.get_value(), [11.0, 21.0])


def test_a_resident_value_moves_to_another_backend_when_it_is_used_there(boxed):
    w = croton.shared(np.zeros(2), name="w")
    on_device = croton.function([], [], updates=[(w, w + 1)], backend=boxed)
    on_host = croton.function([], w * 10, updates=[(w, w - 3)], backend="numpy")
    on_device()
    np.testing.assert_array_equal(on_host(), [10.0, 10.0])
    assert type(w.get_value(return_internal_type=True)) is np.ndarray
    on_device()
    np.testing.assert_array_equal(w.get_value(), [-1.0, -1.0])


def test_a_failing_call_leaves_resident_shared_values_untouched(boxed):
    w = croton.shared(np.zeros(3), name="w")
    b = croton.shared(np.asarray(0.0), name="b")
    x = T.dvector("x")
    f = croton.function([x], (w + x).sum(), updates=[(b, b + 1), (w, w + x)], backend=boxed)
    f(np.ones(3))
    before_w = w.get_value(borrow=True, return_internal_type=True)
    before_b = b.get_value(borrow=True, return_internal_type=True)
    with pytest.raises(Exception, match="shape|broadcast"):
        f(np.ones(4))  # w + x cannot broadcast: the call fails inside the executable
    assert w.get_value(borrow=True, return_internal_type=True) is before_w
    assert b.get_value(borrow=True, return_internal_type=True) is before_b
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0, 1.0])
    assert b.get_value() == 1.0
    with pytest.raises(TypeError):
        f(np.ones((2, 2)))  # refused before the call
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0, 1.0])
    f(np.ones(3))  # and the function still works
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])
    assert b.get_value() == 2.0


def test_an_update_taken_from_a_device_input_does_not_alias_it(boxed):
    w = croton.shared(np.zeros(3), name="w")
    x = T.dvector("x")
    f = croton.function([x], [], updates=[(w, x)], backend=boxed)
    given = Boxed(np.ones(3))
    f(given)
    given.array[:] = 5.0  # the caller reuses its buffer
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0, 1.0])


def test_a_device_output_does_not_alias_a_shared_value(boxed):
    w = croton.shared(np.zeros(3), name="w")
    croton.function([], [], updates=[(w, w + 1)], backend=boxed)()
    out = croton.function([], w, backend=boxed, return_device_arrays=True)()
    out.array[:] = 9.0
    np.testing.assert_array_equal(w.get_value(), [1.0, 1.0, 1.0])
