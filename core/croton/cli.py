"""The ``croton`` command: ``info``, ``backends``, ``cache`` and ``demo``.

A mistake on the user's side (an unknown backend, a bad setting) ends with one
line ``croton: error: ...`` on standard error and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import croton
import croton.backend

__all__ = ["main"]

USAGE_ERROR = 2
INTERRUPTED = 130


def _build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="croton", description="croton, a symbolic array compiler with Theano's API."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    info = commands.add_parser("info", help="show croton's version and the backends it found")
    info.set_defaults(run=_run_info)

    backends = commands.add_parser(
        "backends", help="show each backend's availability, version and op coverage"
    )
    backends.add_argument(
        "--missing", action="store_true", help="also list the ops each backend cannot lower"
    )
    backends.set_defaults(run=_run_backends)

    cache = commands.add_parser("cache", help="show or clear the backends' compilation caches")
    cache.add_argument("action", choices=["info", "clear"], help="what to do")
    cache.set_defaults(run=_run_cache)

    demo = commands.add_parser("demo", help="train a small MLP on spiral data")
    demo.add_argument("--backend", metavar="NAME", help="backend that compiles the model")
    demo.add_argument("--epochs", type=int, metavar="N", help="passes over the data")
    demo.add_argument("--hidden", type=int, metavar="N", help="width of the hidden layer")
    demo.add_argument("--batch-size", type=int, metavar="N", help="points per SGD step")
    demo.add_argument("--learning-rate", type=float, metavar="RATE", help="SGD step size")
    demo.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    demo.add_argument(
        "--no-progress", dest="progress", action="store_false", help="hide the progress line"
    )
    demo.set_defaults(run=_run_demo)
    return parser


def _backend_status(backend: croton.backend.Backend) -> str:
    """``available`` or ``unavailable: <reason>`` for one backend."""
    if backend.is_available():
        return "available"
    return f"unavailable: {backend.unavailable_reason() or 'no reason given'}"


def _run_info(args: argparse.Namespace) -> None:
    """Print croton's version, then one line per discovered backend."""
    print(f"croton {croton.__version__}")
    backends = croton.backend.list_backends()
    width = max((len(backend.name) for backend in backends), default=0)
    for backend in backends:
        print(f"  {backend.name:<{width}}  {backend.version:<10}  {_backend_status(backend)}")


def _run_backends(args: argparse.Namespace) -> None:
    """A table of backends: name, version, status and how many core ops each lowers."""
    from croton.ops import core_op_classes

    ops = core_op_classes()
    rows = [("backend", "version", "ops lowered", "status")]
    gaps = {}
    for backend in croton.backend.list_backends():
        missing = [op.__name__ for op in ops if op not in backend.registry]
        gaps[backend.name] = missing
        lowered = f"{len(ops) - len(missing)}/{len(ops)}"
        rows.append((backend.name, backend.version, lowered, _backend_status(backend)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    if args.missing:
        for name, missing in gaps.items():
            print(
                f"\n{name} cannot lower: {', '.join(missing) if missing else 'nothing (complete)'}"
            )


def _run_cache(args: argparse.Namespace) -> None:
    """``croton cache info``: where each backend's cache is and its size; ``clear``: empty it."""
    found = False
    for backend in croton.backend.list_backends():
        info = backend.cache_info() if backend.is_available() else None
        if info is None:
            continue
        found = True
        if args.action == "clear":
            print(f"{backend.name}: removed {backend.clear_cache()} files from {info['directory']}")
        else:
            details = ", ".join(
                f"{key} {value}" for key, value in info.items() if key != "directory"
            )
            print(f"{backend.name}: {info['directory']} ({details})")
    if not found:
        print("no backend here keeps a compilation cache")


def _run_demo(args: argparse.Namespace) -> None:
    """Train the demo model and print one ``final:`` line with the results."""
    from croton.demo import train_mlp

    settings = {
        "epochs": args.epochs,
        "hidden": args.hidden,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }
    result = train_mlp(
        backend=args.backend,
        seed=args.seed,
        progress=args.progress,
        **{name: value for name, value in settings.items() if value is not None},
    )
    print(
        f"final: loss {result['loss']:.4f}  accuracy {result['accuracy']:.3f}  "
        f"time/epoch {result['seconds_per_epoch'] * 1e3:.1f} ms  backend {result['backend']}"
    )


def _one_line(error: BaseException) -> str:
    """The error's message with its line breaks folded into spaces."""
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``croton`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name; by default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 for a usage error, 130 when interrupted.
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    try:
        args.run(args)
    except (ValueError, TypeError) as error:
        print(f"croton: error: {_one_line(error)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("croton: interrupted", file=sys.stderr)
        return INTERRUPTED
    return 0
