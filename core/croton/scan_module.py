"""Theano's ``theano.scan_module`` names: `scan`, `until` and the loops made of `scan`
(`map`, `reduce`, `foldl`, `foldr`)."""

from __future__ import annotations

from collections.abc import Callable

from croton.scan import scan, until

__all__ = ["foldl", "foldr", "map", "reduce", "scan", "until"]


def map(
    fn: Callable,
    sequences,
    non_sequences=None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode=None,
    name: str | None = None,
):
    """``fn`` applied to each row of the sequences (Theano's ``map``): `scan` without
    states. Returns ``(outputs, updates)``."""
    return scan(
        fn,
        sequences=sequences,
        non_sequences=non_sequences,
        truncate_gradient=truncate_gradient,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
    )


def reduce(
    fn: Callable,
    sequences,
    outputs_info,
    non_sequences=None,
    go_backwards: bool = False,
    mode=None,
    name: str | None = None,
):
    """The states after the last step of `scan` (Theano's ``reduce``): ``fn`` folds the
    rows of the sequences into ``outputs_info``. Returns ``(results, updates)``, the
    results one value per output instead of one row per step."""
    outputs, updates = scan(
        fn,
        sequences=sequences,
        outputs_info=outputs_info,
        non_sequences=non_sequences,
        go_backwards=go_backwards,
        mode=mode,
        name=name,
    )
    if isinstance(outputs, (list, tuple)):
        return [out[-1] for out in outputs], updates
    return outputs[-1], updates


def foldl(fn: Callable, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """`reduce` from the first row to the last (Theano's ``foldl``)."""
    return reduce(fn, sequences, outputs_info, non_sequences, False, mode, name)


def foldr(fn: Callable, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """`reduce` from the last row to the first (Theano's ``foldr``)."""
    return reduce(fn, sequences, outputs_info, non_sequences, True, mode, name)
