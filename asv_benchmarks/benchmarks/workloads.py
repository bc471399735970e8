"""Run-time workloads on every backend, next to numpy eager (issue: the numba backend).

Each benchmark is parametrised by backend; a backend that is not available here (cupy
without a GPU) is reported as n/a by raising ``NotImplementedError`` in ``setup``, as
asv expects. ``numpy-eager`` is plain NumPy, the baseline the targets are set against.

On cupy, `on_device` places the inputs on the GPU in ``setup`` and `compiled` functions
keep their outputs there and wait for the device before returning (kernels launch
asynchronously), so a timed call is the device's work, with no host transfer of inputs
or outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

import croton
import croton.backend
import croton.tensor as T

BACKENDS = ["numpy-eager", "numpy", "numba", "cupy"]


def _require(backend: str) -> None:
    """Skip a backend that is not available; time the steady state of those that are.

    Run-time benchmarks compile the numba backend's threaded variants with the graph
    (``numba_threaded_compile="eager"``) rather than in the background, so that every
    timed call runs the code a long-running program settles on.
    """
    croton.config.numba_threaded_compile = "eager"
    if backend == "numpy-eager":
        return
    try:
        croton.backend.get_backend(backend)
    except croton.backend.BackendError as error:
        raise NotImplementedError(str(error)) from None


def on_device(backend: str, array):
    """``array`` where ``backend``'s functions read it without a copy (a cupy array on cupy)."""
    if backend != "cupy":
        return array
    import cupy

    return cupy.asarray(array)


def compiled(inputs, outputs, backend: str, **options):
    """``croton.function`` for timing: on cupy, a call returns its outputs as device arrays
    once the device has finished computing them."""
    if backend != "cupy":
        return croton.function(inputs, outputs, backend=backend, **options)
    import cupy

    function = croton.function(
        inputs, outputs, backend=backend, return_device_arrays=True, **options
    )

    def synchronized(*args, **kwargs):
        out = function(*args, **kwargs)
        cupy.cuda.get_current_stream().synchronize()
        return out

    synchronized.function = function
    return synchronized


def chain(x, y, lib):
    """The elementwise chain of the performance notes."""
    return lib.exp(-((x * y) ** 2)) * lib.sin(x) + lib.log1p(y * y) / (1 + abs(x))


class ElementwiseChain:
    params = (BACKENDS, [10**6, 10**7])
    param_names = ["backend", "size"]
    timeout = 300

    def setup(self, backend, size):
        _require(backend)
        rng = np.random.default_rng(0)
        self.a = on_device(backend, rng.normal(size=size))
        self.b = on_device(backend, rng.normal(size=size))
        if backend == "numpy-eager":
            self.f = lambda a, b: chain(a, b, np)
        else:
            x, y = T.dvectors("x", "y")
            self.f = compiled([x, y], chain(x, y, T), backend)
        self.f(self.a, self.b)  # compiled and warm

    def time_chain(self, backend, size):
        self.f(self.a, self.b)


class FusedReductions:
    params = (BACKENDS,)
    param_names = ["backend"]
    timeout = 300

    def setup(self, backend):
        _require(backend)
        rng = np.random.default_rng(1)
        self.a = on_device(backend, rng.normal(size=10**7))
        self.b = on_device(backend, rng.normal(size=10**7))
        self.m = on_device(backend, rng.normal(size=(4000, 4000)))
        if backend == "numpy-eager":
            self.ssd = lambda a, b: np.sum((a - b) ** 2)
            self.lse = lambda m: np.log(np.sum(np.exp(m - m.max(1, keepdims=True)), 1)) + m.max(1)
        else:
            x, y, m = T.dvector("x"), T.dvector("y"), T.dmatrix("m")
            self.ssd = compiled([x, y], T.sum((x - y) ** 2), backend)
            self.lse = compiled([m], T.logsumexp(m, axis=1), backend)
        # the same, written out as NumPy users write it (the maximum subtracted)
        self.written = (
            self.lse if backend == "numpy-eager" else compiled([m], written_lse(m), backend)
        )
        self.ssd(self.a, self.b)
        self.lse(self.m)
        self.written(self.m)

    def time_sum_squared_difference(self, backend):
        self.ssd(self.a, self.b)

    def time_rowwise_logsumexp(self, backend):
        self.lse(self.m)

    def time_rowwise_logsumexp_written_out(self, backend):
        self.written(self.m)


def written_lse(m):
    """Row-wise logsumexp as users write it by hand."""
    peak = T.max(m, axis=1, keepdims=True)
    return T.log(T.sum(T.exp(m - peak), axis=1)) + peak[:, 0]


class AxisReductions:
    """Sums of a 256x256x256 array over leading, trailing and mixed axes (no axis may be a
    pathological case next to numpy's)."""

    params = (BACKENDS, ["0", "0,1", "0,2", "1,2", "2"])
    param_names = ["backend", "axes"]
    timeout = 300

    def setup(self, backend, axes):
        _require(backend)
        axis = tuple(int(a) for a in axes.split(","))
        self.a = on_device(backend, np.random.default_rng(4).normal(size=(256, 256, 256)))
        if backend == "numpy-eager":
            self.f = lambda a: np.sum(a, axis=axis)
        else:
            x = T.dtensor3("x")
            self.f = compiled([x], T.sum(x, axis=axis), backend)
        self.f(self.a)

    def time_sum(self, backend, axes):
        self.f(self.a)


#: memory-bound loops, where a new array's page faults and the order memory is read in
#: decide the time: (croton graph, numpy eager) on a 4000x4000 matrix ``m``
_LAYOUTS = {
    "m + 1": (lambda m: m + 1, lambda m: m + 1),
    "m.T + 1": (lambda m: m.T + 1, lambda m: m.T + 1),
    "m + m.T": (lambda m: m + m.T, lambda m: m + m.T),
    # a row broadcast down the matrix: a loop nest, not one flat loop
    "where(m > 0, m, 0) + m[0]": (
        lambda m: T.switch(m > 0, m, 0) + m[0],
        lambda m: np.where(m > 0, m, 0) + m[0],
    ),
    "sum(m.T, axis=1)": (lambda m: T.sum(m.T, axis=1), lambda m: np.sum(m.T, axis=1)),
    "argmax(m, axis=1)": (lambda m: T.argmax(m, axis=1), lambda m: np.argmax(m, axis=1)),
    "max(m, axis=1)": (lambda m: T.max(m, axis=1), lambda m: np.max(m, axis=1)),
    "min(m)": (lambda m: T.min(m), lambda m: np.min(m)),
    "m.T.flatten()": (lambda m: m.T.flatten(), lambda m: m.T.flatten()),
    "concatenate": (
        lambda m: T.concatenate([m, m], axis=1),
        lambda m: np.concatenate([m, m], axis=1),
    ),
    "cumsum(m, axis=1)": (lambda m: T.cumsum(m, axis=1), lambda m: np.cumsum(m, axis=1)),
}


class MemoryLayouts:
    """Loops bound by memory, not arithmetic: a new array, a transposed input, a
    reduction of a transpose, a copy (no case may be a pathological one next to
    numpy's)."""

    params = (BACKENDS, list(_LAYOUTS))
    param_names = ["backend", "case"]
    timeout = 300

    def setup(self, backend, case):
        _require(backend)
        self.m = on_device(backend, np.random.default_rng(5).normal(size=(4000, 4000)))
        graph, eager = _LAYOUTS[case]
        if backend == "numpy-eager":
            self.f = eager
        else:
            m = T.dmatrix("m")
            self.f = compiled([m], graph(m), backend)
        self.f(self.m)

    def time_case(self, backend, case):
        self.f(self.m)


def logistic_regression_data():
    """1000 examples of 100 features and their 0/1 targets."""
    rng = np.random.default_rng(2)
    return rng.normal(size=(1000, 100)), (rng.random(1000) < 0.5).astype("float64")


def logistic_regression_step(backend: str):
    """The tutorial's logistic-regression training step (cost, updates of ``w`` and ``b``)."""
    data, targets = logistic_regression_data()
    w = croton.shared(np.zeros(100), name="w")
    b = croton.shared(np.asarray(0.0), name="b")
    x, t = T.dmatrix("x"), T.dvector("t")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, t).mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    step = compiled([x, t], cost, backend, updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
    return step, on_device(backend, data), on_device(backend, targets)


class LogisticRegressionStep:
    params = (BACKENDS,)
    param_names = ["backend"]
    timeout = 300

    def setup(self, backend):
        _require(backend)
        if backend == "numpy-eager":
            raise NotImplementedError("a training step needs gradients; compare the backends")
        self.step, self.data, self.targets = logistic_regression_step(backend)
        self.step(self.data, self.targets)

    def time_step(self, backend):
        self.step(self.data, self.targets)


def mlp_data(floatX: str = "float32"):
    """The MLP's initial parameters ``[W1, b1, W2, b2]``, a batch of 256 and its labels."""
    rng = np.random.default_rng(3)
    params = [
        (rng.normal(size=(784, 256)) * 0.05).astype(floatX),
        np.zeros(256, dtype=floatX),
        (rng.normal(size=(256, 10)) * 0.05).astype(floatX),
        np.zeros(10, dtype=floatX),
    ]
    data = rng.normal(size=(256, 784)).astype(floatX)
    labels = rng.integers(0, 10, size=256)
    return params, data, labels


def mlp_step(backend: str, floatX: str = "float32"):
    """The 784-256-10 MLP training step (batch 256) and its data (on the device on cupy)."""
    values, data, labels = mlp_data(floatX)
    with croton.config.change(floatX=floatX):
        W1, b1, W2, b2 = (
            croton.shared(value, name=name) for value, name in zip(values, ["W1", "b1", "W2", "b2"])
        )
        x, y = T.matrix("x"), T.lvector("y")
        hidden = T.nnet.relu(T.dot(x, W1) + b1)
        probabilities = T.nnet.softmax(T.dot(hidden, W2) + b2)
        cost = T.nnet.categorical_crossentropy(probabilities, y).mean()
        params = [W1, b1, W2, b2]
        grads = T.grad(cost, params)
        updates = [(p, p - np.asarray(0.1, dtype=floatX) * g) for p, g in zip(params, grads)]
        step = compiled([x, y], cost, backend, updates=updates)
    return step, on_device(backend, data), on_device(backend, labels)


class MLPTrainingStep:
    params = (BACKENDS,)
    param_names = ["backend"]
    timeout = 600

    def setup(self, backend):
        _require(backend)
        if backend == "numpy-eager":
            raise NotImplementedError("a training step needs gradients; compare the backends")
        self.step, self.data, self.labels = mlp_step(backend)
        self.step(self.data, self.labels)

    def time_step(self, backend):
        self.step(self.data, self.labels)


class CallOverhead:
    params = (BACKENDS,)
    param_names = ["backend"]

    def setup(self, backend):
        _require(backend)
        self.a, self.b = on_device(backend, np.asarray(1.0)), on_device(backend, np.asarray(2.0))
        if backend == "numpy-eager":
            self.f = np.add
        else:
            a, b = T.dscalars("a", "b")
            self.f = compiled([a, b], a + b, backend)
        self.f(self.a, self.b)

    def time_scalar_add(self, backend):
        self.f(self.a, self.b)


_COMPILE_MLP = textwrap.dedent(
    """
    import sys, time
    start = time.perf_counter()
    sys.path.insert(0, {benchmarks!r})
    from workloads import mlp_step
    step, data, labels = mlp_step({backend!r})
    step(data, labels)
    print(time.perf_counter() - start)
    """
)


class CompileMLP:
    """Compiling (and first calling) the MLP training step in a fresh process.

    ``cold``: an empty cache directory; ``warm``: a second process after a first one
    filled it. The time includes importing croton.
    """

    params = (["numpy", "numba"], ["cold", "warm"])
    param_names = ["backend", "cache"]
    timeout = 600
    number = 1
    repeat = 1

    def setup(self, backend, cache):
        _require(backend)  # (the compile itself runs in a fresh process, with the defaults)
        self.directory = tempfile.mkdtemp(prefix="croton-bench-cache-")
        if cache == "warm":
            self._run(backend)

    def _run(self, backend) -> float:
        script = _COMPILE_MLP.format(
            benchmarks=os.path.dirname(os.path.abspath(__file__)), backend=backend
        )
        env = {**os.environ, "CROTON_CACHE_DIR": self.directory}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
        )
        return float(out.stdout.strip().splitlines()[-1])

    def track_seconds(self, backend, cache):
        return self._run(backend)

    track_seconds.unit = "seconds"
