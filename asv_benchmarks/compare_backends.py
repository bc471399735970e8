"""Time the workloads of ``benchmarks/workloads.py`` on every backend, in one run.

Prints a Markdown table for ``docs/performance.md``: numpy eager, croton's CPU backends,
croton's cupy backend (n/a where it cannot run: no GPU), and, when installed, PyTensor
(its numba mode) and ``jax.jit``. Every result is checked against numpy eager before it
is timed; on cupy the inputs are on the device and a timed call waits for the device to
finish (``workloads.compiled``). Run it from this directory::

    python compare_backends.py
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys
import timeit
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "benchmarks"))
warnings.simplefilter("ignore")

from workloads import (  # noqa: E402
    chain,
    compiled,
    logistic_regression_data,
    logistic_regression_step,
    mlp_data,
    mlp_step,
    on_device,
)

import croton  # noqa: E402
import croton.backend  # noqa: E402
import croton.tensor as T  # noqa: E402


def _machine() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _median_seconds(call, repeat: int = 7) -> float:
    call()
    number = max(1, int(0.2 / max(timeit.timeit(call, number=1), 1e-6)))
    return float(np.median(timeit.repeat(call, number=number, repeat=repeat))) / number


def _croton_backends() -> list[str]:
    """croton's available CPU backends, then ``cupy`` (available or not: a column of n/a)."""
    cpu = [b.name for b in croton.backend.list_backends() if b.is_available() and b.device == "cpu"]
    return cpu + ["cupy"]


def _runs(backend: str) -> bool:
    """Whether ``backend`` can run here (cupy needs a GPU)."""
    try:
        croton.backend.get_backend(backend)
    except croton.backend.BackendError:
        return False
    return True


def _host(values):
    """Device arrays (and lists of them) copied to numpy; anything else as it is."""
    if isinstance(values, (list, tuple)):
        return [_host(v) for v in values]
    return values.get() if type(values).__module__.startswith("cupy") else values


def _placed(backend: str, args) -> tuple:
    return tuple(on_device(backend, a) for a in args)


def _workloads():
    rng = np.random.default_rng(0)
    big_a, big_b = rng.normal(size=10**7), rng.normal(size=10**7)
    small_a, small_b = big_a[: 10**6].copy(), big_b[: 10**6].copy()
    matrix = rng.normal(size=(4000, 4000))
    scalars = (np.asarray(1.0), np.asarray(2.0))

    def eager_lse(m):
        top = m.max(axis=1, keepdims=True)
        return np.log(np.exp(m - top).sum(axis=1)) + top[:, 0]

    return [
        ("chain, 1e6 elements", (small_a, small_b), lambda a, b: chain(a, b, np), "chain"),
        ("chain, 1e7 elements", (big_a, big_b), lambda a, b: chain(a, b, np), "chain"),
        ("sum((x - y)**2), 1e7", (big_a, big_b), lambda a, b: np.sum((a - b) ** 2), "ssd"),
        ("row-wise logsumexp, 4000x4000", (matrix,), eager_lse, "lse"),
        ("a + b on 0-d arrays", scalars, np.add, "add"),
    ]


def _croton_function(kind: str, backend: str):
    if kind in ("chain", "ssd"):
        x, y = T.dvectors("x", "y")
        out = chain(x, y, T) if kind == "chain" else T.sum((x - y) ** 2)
        return compiled([x, y], out, backend)
    if kind == "lse":
        m = T.dmatrix("m")
        return compiled([m], T.logsumexp(m, axis=1), backend)
    a, b = T.dscalars("a", "b")
    return compiled([a, b], a + b, backend)


def _jax_function(kind: str):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    functions = {
        "chain": lambda a, b: chain(a, b, jnp),
        "ssd": lambda a, b: jnp.sum((a - b) ** 2),
        "lse": lambda m: jax.scipy.special.logsumexp(m, axis=1),
        "add": lambda a, b: a + b,
    }
    jitted = jax.jit(functions[kind])
    return lambda *args: np.asarray(jitted(*args))


def _pytensor_function(kind: str):
    import pytensor
    import pytensor.tensor as pt

    if kind in ("chain", "ssd"):
        x, y = pt.dvectors("x", "y")
        out = chain(x, y, pt) if kind == "chain" else pt.sum((x - y) ** 2)
        return pytensor.function([x, y], out, mode="NUMBA")
    if kind == "lse":
        m = pt.dmatrix("m")
        return pytensor.function([m], pt.logsumexp(m, axis=1), mode="NUMBA")
    a, b = pt.dscalars("a", "b")
    return pytensor.function([a, b], a + b, mode="NUMBA")


def _eager_logistic_regression_step():
    """The logistic-regression step written with numpy by hand: its gradients too."""
    data, targets = logistic_regression_data()
    state = {"w": np.zeros(100), "b": 0.0}

    def run():
        w, b = state["w"], state["b"]
        p = 1 / (1 + np.exp(-(data @ w + b)))
        cost = np.mean(-targets * np.log(p) - (1 - targets) * np.log1p(-p)) + 0.01 * w @ w
        error = (p - targets) / len(targets)
        state["w"] = w - 0.1 * (data.T @ error + 0.02 * w)
        state["b"] = b - 0.1 * error.sum()
        return cost

    return run


def _pytensor_logistic_regression_step():
    import pytensor
    import pytensor.tensor as pt

    data, targets = logistic_regression_data()
    w, b = pytensor.shared(np.zeros(100)), pytensor.shared(np.asarray(0.0))
    x, t = pt.dmatrix("x"), pt.dvector("t")
    p = pt.sigmoid(pt.dot(x, w) + b)
    cost = pt.mean(-t * pt.log(p) - (1 - t) * pt.log1p(-p)) + 0.01 * (w**2).sum()
    gw, gb = pytensor.grad(cost, [w, b])
    updates = [(w, w - 0.1 * gw), (b, b - 0.1 * gb)]
    step = pytensor.function([x, t], cost, updates=updates, mode="NUMBA")
    return lambda: step(data, targets)


def _jax_logistic_regression_step():
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    data, targets = (jnp.asarray(a) for a in logistic_regression_data())

    def cost(params, x, t):
        w, b = params
        p = jax.nn.sigmoid(x @ w + b)
        return jnp.mean(-t * jnp.log(p) - (1 - t) * jnp.log1p(-p)) + 0.01 * (w**2).sum()

    @jax.jit
    def step(params, x, t):
        value, grads = jax.value_and_grad(cost)(params, x, t)
        return value, tuple(p - 0.1 * g for p, g in zip(params, grads))

    state = {"params": (jnp.zeros(100), jnp.asarray(0.0))}

    def run():
        value, state["params"] = step(state["params"], data, targets)
        return float(value)

    return run


def _croton_logistic_regression_step(backend: str):
    step, data, targets = logistic_regression_step(backend)
    return lambda: step(data, targets)


def _logistic_regression_row(extra: list[str]):
    """The training step on every column, the first three costs checked against numpy's."""
    makers = {"numpy eager": _eager_logistic_regression_step}
    makers.update(
        {name: lambda n=name: _croton_logistic_regression_step(n) for name in _croton_backends()}
    )
    makers.update(
        {
            "PyTensor (numba)": _pytensor_logistic_regression_step,
            "jax.jit": _jax_logistic_regression_step,
        }
    )
    columns = ["numpy eager", *_croton_backends(), *extra]
    expected = None
    cells = [None] * len(columns)
    for position, name in enumerate(columns):
        if name in _croton_backends() and not _runs(name):
            continue
        step = makers[name]()
        costs = [float(_host(step())) for _ in range(3)]
        if expected is None:
            expected = costs
        np.testing.assert_allclose(costs, expected, rtol=1e-8)
        cells[position] = _median_seconds(step)
    return ("logistic-regression step, 1000x100, float64", cells)


def _pytensor_mlp_step():
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.special import softmax

    values, data, labels = mlp_data()
    params = [pytensor.shared(v) for v in values]
    W1, b1, W2, b2 = params
    x, y = pt.matrix("x", dtype="float32"), pt.lvector("y")
    probabilities = softmax(pt.dot(pt.maximum(pt.dot(x, W1) + b1, 0), W2) + b2, axis=-1)
    cost = -pt.mean(pt.log(probabilities[pt.arange(y.shape[0]), y]))
    grads = pytensor.grad(cost, params)
    rate = np.asarray(0.1, dtype="float32")
    updates = [(p, p - rate * g) for p, g in zip(params, grads)]
    step = pytensor.function([x, y], cost, updates=updates, mode="NUMBA")
    return lambda: step(data, labels)


def _jax_mlp_step():
    import jax
    import jax.numpy as jnp

    values, data, labels = mlp_data()

    def cost(params, x, y):
        W1, b1, W2, b2 = params
        logits = jnp.maximum(x @ W1 + b1, 0) @ W2 + b2
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(y.shape[0]), y])

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(cost)(params, x, y)
        return value, [p - np.float32(0.1) * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(v) for v in values]}

    def run():
        value, state["params"] = step(state["params"], data, labels)
        return float(value)

    return run


_MLP_EXTRA = {"PyTensor (numba)": _pytensor_mlp_step, "jax.jit": _jax_mlp_step}

#: the conv2d layer of the comparison (`benchmarks/conv.py`): 32 grey 28x28 images, 16 3x3 filters
_CONV_LAYER = "32x1x28x28-16x1x3x3"


def _pytensor_conv():
    """PyTensor has no conv2d with channels; its nearest is ``signal.convolve2d``, batched
    over (image, filter, channel) and summed over channels."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.signal import convolve2d

    x, w = pt.tensor4("x", dtype="float32"), pt.tensor4("w", dtype="float32")
    out = convolve2d(x[:, None], w[None], mode="valid").sum(axis=2)
    gx, gw = pytensor.grad((out**2).sum(), [x, w])
    return pytensor.function([x, w], [out, gx, gw], mode="NUMBA")


def _jax_conv():
    import jax

    def forward(x, w):
        return jax.lax.conv_general_dilated(
            x, w[:, :, ::-1, ::-1], (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )

    def both(x, w):
        out, pullback = jax.vjp(forward, x, w)
        return (out, *pullback(2 * out))

    jitted = jax.jit(both)
    return lambda x, w: [np.asarray(a) for a in jitted(x, w)]


_CONV_EXTRA = {"PyTensor (numba)": _pytensor_conv, "jax.jit": _jax_conv}


def _conv_row(extra: list[str]):
    """conv2d forward + gradients of ``sum(out ** 2)``, checked against the numpy backend."""
    from benchmarks.conv import conv_data, conv_functions

    x, w = conv_data(_CONV_LAYER)
    expected = conv_functions("numpy", _CONV_LAYER)[1](x, w)
    runs = [
        (name, conv_functions(name, _CONV_LAYER)[1]) for name in _croton_backends() if _runs(name)
    ]
    runs += [(name, _CONV_EXTRA[name]()) for name in extra]
    cells = [None] + [None] * (len(_croton_backends()) + len(extra))
    columns = [*_croton_backends(), *extra]
    for name, function in runs:
        args = _placed(name, (x, w))
        for got, want in zip(_host(function(*args)), expected):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
        cells[1 + columns.index(name)] = _median_seconds(
            lambda f=function, args=args: f(*args), repeat=5
        )
    return ("conv2d 1->16 3x3, 32x28x28, + gradients, float32", cells)


def _pytensor_rnn():
    """The same recurrent layer with PyTensor's scan, forward and gradients."""
    import pytensor
    import pytensor.tensor as pt
    from benchmarks.scan import rnn_graph

    inputs, states, gradients = rnn_graph(pytensor, pt)
    return pytensor.function(inputs, [states, *gradients], mode="NUMBA")


def _jax_rnn():
    import jax
    import jax.numpy as jnp

    def forward(X, W, U, b, h0):
        def step(h, x):
            h = jnp.tanh(x @ W + h @ U + b)
            return h, h

        return jax.lax.scan(step, h0, X)[1]

    def both(X, W, U, b, h0):
        states, pullback = jax.vjp(lambda *p: forward(X, *p), W, U, b, h0)
        return (states, *pullback(2 * states))

    jitted = jax.jit(both)
    return lambda *args: [np.asarray(a) for a in jitted(*args)]


_RNN_EXTRA = {"PyTensor (numba)": _pytensor_rnn, "jax.jit": _jax_rnn}


def _rnn_row(extra: list[str]):
    """A scan recurrent layer's states and gradients, checked against the numpy backend."""
    from benchmarks.scan import rnn_graph, rnn_values

    values = rnn_values()
    inputs, states, gradients = rnn_graph()
    expected = croton.function(inputs, [states, *gradients], backend="numpy")(*values)
    runs = []
    for name in _croton_backends():
        if _runs(name):
            inputs, states, gradients = rnn_graph()
            runs.append((name, compiled(inputs, [states, *gradients], name)))
    runs += [(name, _RNN_EXTRA[name]()) for name in extra]
    cells = [None] + [None] * (len(_croton_backends()) + len(extra))
    columns = [*_croton_backends(), *extra]
    for name, function in runs:
        args = _placed(name, values)
        for got, want in zip(_host(function(*args)), expected):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
        cells[1 + columns.index(name)] = _median_seconds(
            lambda f=function, args=args: f(*args), repeat=5
        )
    return ("RNN scan 100 steps, 32x64->128, + gradients, float32", cells)


_COMPILE = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, {benchmarks!r})
{body}
print(time.perf_counter() - start)
"""

_COMPILE_CROTON = """
from workloads import mlp_step
step, data, labels = mlp_step("numba")
step(data, labels)
"""

_COMPILE_PYTENSOR = """
from compare_backends import _pytensor_mlp_step
_pytensor_mlp_step()()
"""


def _compile_seconds(body: str, env: dict) -> float:
    """Seconds a fresh process takes to import, build, compile and call the MLP step."""
    import subprocess

    here = os.path.dirname(os.path.abspath(__file__))
    script = _COMPILE.format(benchmarks=os.path.join(here, "benchmarks"), body=body)
    environment = {**os.environ, **env, "PYTHONPATH": here}
    # as on a user's machine: imported modules leave bytecode for the next process
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _compile_rows(columns: list[str]) -> list:
    """Cold (empty caches) and warm (a second process) compile of the MLP step."""
    import tempfile

    cold, warm = [None] * len(columns), [None] * len(columns)
    runs = {"croton numba": ("CROTON_CACHE_DIR", _COMPILE_CROTON)}
    if "PyTensor (numba)" in columns:
        runs["PyTensor (numba)"] = ("PYTENSOR_FLAGS", _COMPILE_PYTENSOR)
    for column, (variable, body) in runs.items():
        if column not in columns:
            continue
        directory = tempfile.mkdtemp(prefix="compile-")
        # PyTensor keeps its numba machine code under base_compiledir, not compiledir
        value = directory if variable == "CROTON_CACHE_DIR" else f"base_compiledir={directory}"
        env = {variable: value, "NUMBA_CACHE_DIR": os.path.join(directory, "numba")}
        position = columns.index(column)
        cold[position] = _compile_seconds(body, env)
        warm[position] = _compile_seconds(body, env)
    return [
        ("MLP step compile, cold (s, with imports)", cold),
        ("MLP step compile, warm (s, second process)", warm),
    ]


def main() -> None:
    # steady-state timings: threaded variants are compiled with the graph rather than in
    # the background (compile time is measured in its own rows, with the defaults)
    croton.config.numba_threaded_compile = "eager"
    columns = ["numpy eager"] + [f"croton {name}" for name in _croton_backends()]
    extra = {}
    if importlib.util.find_spec("pytensor"):
        extra["PyTensor (numba)"] = _pytensor_function
    if importlib.util.find_spec("jax"):
        extra["jax.jit"] = _jax_function
    columns += list(extra)
    rows = []
    for label, args, eager, kind in _workloads():
        expected = eager(*args)
        cells = [_median_seconds(lambda eager=eager, args=args: eager(*args))]
        makers = [(b, lambda k, b=b: _croton_function(k, b)) for b in _croton_backends()]
        makers += list(extra.items())
        for name, make in makers:
            if name in _croton_backends() and not _runs(name):
                cells.append(None)
                continue
            function, placed = make(kind), _placed(name, args)
            np.testing.assert_allclose(_host(function(*placed)), expected, rtol=1e-8)
            cells.append(_median_seconds(lambda f=function, placed=placed: f(*placed)))
        rows.append((label, cells))
    rows.append(_logistic_regression_row(list(extra)))
    # the MLP training step: no numpy eager column (it needs gradients)
    cells = [None]
    for name in _croton_backends():
        if not _runs(name):
            cells.append(None)
            continue
        step, data, labels = mlp_step(name)
        timed = lambda step=step, data=data, labels=labels: step(data, labels)  # noqa: E731
        cells.append(_median_seconds(timed, repeat=5))
    for name in extra:
        cells.append(_median_seconds(_MLP_EXTRA[name](), repeat=5))
    rows.append(("MLP step 784-256-10, batch 256, float32", cells))
    rows.append(_conv_row(list(extra)))
    rows.append(_rnn_row(list(extra)))
    compile_rows = _compile_rows(columns)
    versions = [f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    for package in ("numba", "pytensor", "jax"):
        if importlib.util.find_spec(package):
            versions.append(f"{package} {importlib.import_module(package).__version__}")
    print(f"Machine: {_machine()}, {os.cpu_count()} cores; {', '.join(versions)}\n")
    print("| workload | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for label, cells in rows:
        base = cells[0]
        shown = [
            "n/a" if c is None else f"{c * 1e3:.3g} ms" + (f" ({base / c:.2g}x)" if base else "")
            for c in cells
        ]
        print(f"| {label} | " + " | ".join(shown) + " |")
    for label, cells in compile_rows:
        shown = ["n/a" if c is None else f"{c:.3g} s" for c in cells]
        print(f"| {label} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    main()
