"""A small end-to-end example: a multilayer perceptron trained on spiral data.

Everything the model does goes through croton's Theano-style API: shared
variables hold the weights, ``croton.tensor`` builds the graph, ``grad`` derives
the gradients and ``croton.function`` compiles one training step whose updates
apply momentum SGD.  The ``croton demo`` command runs :func:`train_mlp`.
"""

from __future__ import annotations

import sys
import time
from typing import TypedDict

import numpy as np

import croton
import croton.tensor as T

__all__ = ["TrainingResult", "initial_parameters", "make_spirals", "train_mlp", "training_graph"]

ACTIVATIONS = ("relu", "tanh")


class TrainingResult(TypedDict):
    """What :func:`train_mlp` reports after training."""

    loss: float
    accuracy: float
    seconds_per_epoch: float
    backend: str


def make_spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the classic two-dimensional interleaved spirals data set.

    Class ``k`` is an arm whose radius grows linearly from 0 to 1 while its angle
    sweeps four radians, starting ``4 * k`` radians further round than the arm
    before; Gaussian noise on the angle blurs the arms into each other.

    Parameters
    ----------
    n_per_class : int
        Number of points on each arm.
    n_classes : int
        Number of arms, that is of classes.
    noise : float
        Standard deviation of the noise added to each point's angle, in radians.
    seed : int
        Seed of the numpy random generator; the same seed gives the same data.

    Returns
    -------
    X : numpy.ndarray
        Float64 points of shape ``(n_per_class * n_classes, 2)``.
    y : numpy.ndarray
        Int64 class labels in ``range(n_classes)``, shape ``(n_per_class * n_classes,)``.
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(
            f"make_spirals needs at least one class and one point per class, "
            f"got n_classes={n_classes}, n_per_class={n_per_class}"
        )
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    angle = np.linspace(0.0, 4.0, n_per_class)[None, :] + 4.0 * np.arange(n_classes)[:, None]
    angle = angle.ravel() + noise * rng.standard_normal(n_per_class * n_classes)
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    return X, y


def initial_parameters(
    rng: np.random.Generator, n_inputs: int, hidden: int, n_classes: int
) -> list[croton.SharedVariable]:
    """Weights drawn with fan-in scaling, biases at zero, as float64 shared variables."""
    W1 = rng.normal(0.0, np.sqrt(2.0 / n_inputs), size=(n_inputs, hidden))
    W2 = rng.normal(0.0, 1.0 / np.sqrt(hidden), size=(hidden, n_classes))
    return [
        croton.shared(W1, name="W1"),
        croton.shared(np.zeros(hidden), name="b1"),
        croton.shared(W2, name="W2"),
        croton.shared(np.zeros(n_classes), name="b2"),
    ]


def _probabilities(x: T.TensorVariable, params: list, activation: str) -> T.TensorVariable:
    """Class probabilities of the two-layer perceptron for the rows of ``x``."""
    W1, b1, W2, b2 = params
    pre_activation = T.dot(x, W1) + b1
    if activation == "relu":
        hidden = T.nnet.relu(pre_activation)
    else:
        hidden = T.tanh(pre_activation)
    return T.nnet.softmax(T.dot(hidden, W2) + b2)


def _momentum_updates(
    cost: T.TensorVariable, params: list, learning_rate: float, momentum: float
) -> list[tuple]:
    """Updates for momentum SGD: one velocity per parameter, kept in a shared variable.

    Updates are computed from the values before the call, so each parameter's
    update spells out the new velocity rather than reading the updated one.
    """
    updates = []
    for param, gradient in zip(params, T.grad(cost, params), strict=True):
        velocity = croton.shared(np.zeros_like(param.get_value()), name=f"velocity_{param.name}")
        new_velocity = momentum * velocity - learning_rate * gradient
        updates.append((velocity, new_velocity))
        updates.append((param, param + new_velocity))
    return updates


def training_graph(
    params: list, activation: str = "relu", learning_rate: float = 0.1, momentum: float = 0.9
) -> tuple:
    """The symbolic training step: ``(x, y, probabilities, cost, updates)``.

    ``x`` is a float64 matrix of points, ``y`` the int64 labels; ``updates`` apply
    momentum SGD to ``params`` (as made by `initial_parameters`).
    """
    x = T.dmatrix("x")
    y = T.lvector("y")
    probabilities = _probabilities(x, params, activation)
    cost = T.nnet.categorical_crossentropy(probabilities, y).mean()
    updates = _momentum_updates(cost, params, learning_rate, momentum)
    return x, y, probabilities, cost, updates


def _compile_model(
    params: list,
    activation: str,
    learning_rate: float,
    momentum: float,
    backend: str | None,
) -> tuple[croton.Function, croton.Function, croton.Function]:
    """Compile the training step, the loss and the prediction functions."""
    x, y, probabilities, cost, updates = training_graph(params, activation, learning_rate, momentum)
    train_step = croton.function([x, y], cost, updates=updates, backend=backend)
    evaluate_loss = croton.function([x, y], cost, backend=backend)
    predict = croton.function([x], T.argmax(probabilities, axis=1), backend=backend)
    return train_step, evaluate_loss, predict


def _run_epoch(
    train_step: croton.Function,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
) -> float:
    """One pass over shuffled mini-batches; returns the mean of the batch losses."""
    order = rng.permutation(len(X))
    losses = []
    for start in range(0, len(X), batch_size):
        batch = order[start : start + batch_size]
        losses.append(float(train_step(X[batch], y[batch])))
    return float(np.mean(losses))


def _check_settings(epochs: int, hidden: int, batch_size: int, activation: str) -> None:
    """Raise ``ValueError`` for settings the training loop cannot use."""
    for name, value in (("epochs", epochs), ("hidden", hidden), ("batch_size", batch_size)):
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def train_mlp(
    backend: str | None = None,
    epochs: int = 200,
    hidden: int = 64,
    batch_size: int = 32,
    learning_rate: float = 0.1,
    seed: int = 0,
    progress: bool = True,
    *,
    momentum: float = 0.9,
    activation: str = "relu",
    n_per_class: int = 100,
    n_classes: int = 3,
) -> TrainingResult:
    """Train a one-hidden-layer perceptron on :func:`make_spirals` data.

    Parameters
    ----------
    backend : str, optional
        Name of the croton backend that compiles the functions; by default croton
        picks one (see ``croton.config.backend``).
    epochs : int
        Number of passes over the training data.
    hidden : int
        Width of the hidden layer.
    batch_size : int
        Number of points per SGD step; the last batch of an epoch may be smaller.
    learning_rate : float
        Step size of momentum SGD.
    seed : int
        Seeds the data, the initial weights and the batch order.
    progress : bool
        Show the epoch and its mean batch loss on one line of standard error.
    momentum : float
        Momentum coefficient; 0 gives plain SGD.
    activation : {"relu", "tanh"}
        Non-linearity of the hidden layer.
    n_per_class, n_classes : int
        Size of the spiral data set, passed to :func:`make_spirals`.

    Returns
    -------
    TrainingResult
        ``loss``: mean cross-entropy on the whole training set after training;
        ``accuracy``: fraction of training points classified correctly;
        ``seconds_per_epoch``: training time per epoch, compilation excluded;
        ``backend``: name of the backend that ran the model.

    Raises
    ------
    ValueError
        For a non-positive size or an unknown activation, and, from croton, for
        an unknown or unavailable backend.
    """
    _check_settings(epochs, hidden, batch_size, activation)
    X, y = make_spirals(n_per_class=n_per_class, n_classes=n_classes, seed=seed)
    (model_seed,) = np.random.SeedSequence(seed).spawn(1)
    rng = np.random.default_rng(model_seed)
    params = initial_parameters(rng, X.shape[1], hidden, n_classes)
    train_step, evaluate_loss, predict = _compile_model(
        params, activation, learning_rate, momentum, backend
    )

    start = time.perf_counter()
    shown = 0.0  # when the progress line was last written
    for epoch in range(1, epochs + 1):
        loss = _run_epoch(train_step, X, y, batch_size, rng)
        now = time.perf_counter()
        if progress and (now - shown > 0.1 or epoch == epochs):
            shown = now
            end = "\n" if epoch == epochs else ""
            print(f"\rtraining: epoch {epoch}/{epochs}, loss {loss:.4f}", end=end, file=sys.stderr)
    seconds_per_epoch = (time.perf_counter() - start) / epochs

    return TrainingResult(
        loss=float(evaluate_loss(X, y)),
        accuracy=float(np.mean(predict(X) == y)),
        seconds_per_epoch=seconds_per_epoch,
        backend=train_step.maker.backend.name,
    )
