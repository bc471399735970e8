"""Tiered compilation: a segment runs serial code first, threaded code once it is built.

numba compiles every ``numba.prange`` loop into a function of its own, so the
multi-threaded variant of a segment costs about as much again as its serial variant.
Compiling a graph therefore builds the serial variant only, and that variant also
reports the largest amount of work (elements) any of its loops met. The threaded
variant, whose loops choose between one thread and several by size at run time, is
built when a call first reaches ``croton.config.numba_parallel_threshold``:

* ``numba_threaded_compile="background"`` (the default): a low-priority process
  compiles it into the disk cache while calls go on running the serial variant; the
  first call after that process finishes loads the machine code and switches over.
  The process is separate so that compiling holds neither this process's GIL nor its
  cores at normal priority.
* ``numba_threaded_compile="eager"``: the threaded variant is compiled when the
  graph is, in this process, and the serial one not at all.

Machine code already on disk (a second process compiling the same graph) is loaded
when the graph compiles, whatever the setting, again without the serial variant.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path


class TieredSegment:
    """Calls a segment's serial variant until its threaded variant is ready.

    ``serial`` returns the segment's outputs followed by the work it met;
    ``threaded`` is ``(module path, digest, function name)`` of the threaded variant.
    `attach` tells it where the program looks it up, so the threaded function can
    take its place there and later calls pay nothing for the tiering.
    """

    def __init__(self, serial, threaded: tuple[Path, str, str], threshold: int, outputs: int):
        self.serial = serial
        self.threaded_module = threaded
        self.threshold = threshold
        self.single = outputs == 1
        self._slot = None
        self._process: subprocess.Popen | None = None
        self._failed = False
        self.upgraded = None  # the threaded function, once loaded

    def attach(self, namespace: dict, name: str) -> None:
        self._slot = (namespace, name)

    def __call__(self, *args):
        *outputs, work = self.serial(*args)
        if self._process is not None:
            self._poll()
        elif work >= self.threshold and not self._failed and self.upgraded is None:
            self.start_background()
        return outputs[0] if self.single else tuple(outputs)

    # -- the threaded variant -------------------------------------------------------
    def _signatures(self) -> list:
        return list(self.serial.signatures)

    def cached(self) -> bool:
        """Whether the threaded variant's machine code is already on disk."""
        from croton_numba import cache

        path, _, _ = self.threaded_module
        return bool(cache.machine_code_files(path))

    def compile_now(self) -> None:
        """Compile (or load) the threaded variant in this process and switch to it."""
        path, digest, name = self.threaded_module
        self._install(_compiled(path, digest, name, self._signatures()))

    def start_background(self) -> None:
        from croton.config import config

        path, digest, name = self.threaded_module
        handle, signatures = tempfile.mkstemp(dir=path.parent, prefix=".sig-", suffix=".pkl")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(self._signatures(), file)
        arguments = [str(path), digest, name, signatures, str(config.numba_opt)]
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "croton_numba.tiers", *arguments],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "CROTON_CACHE_DIR": str(path.parent.parent)},
            )
        except OSError:
            os.unlink(signatures)
            self.compile_now()  # no way to start a process: compile here

    def wait(self) -> bool:
        """Block until a background compile ends; whether the threaded variant is in use."""
        if self._process is not None:
            self._process.wait()
            self._poll()
        return self.upgraded is not None

    def _poll(self) -> None:
        if self._process.poll() is None:
            return
        succeeded = self._process.returncode == 0 and self.cached()
        self._process = None
        if not succeeded:
            self._failed = True  # keep the serial variant; it is correct, only slower
            return
        self.compile_now()  # loads the machine code the process cached

    def _install(self, function) -> None:
        self.upgraded = function
        if self._slot is not None:
            namespace, name = self._slot
            namespace[name] = function


def _compiled(path: Path, digest: str, name: str, signatures: list):
    """The function ``name`` of a generated module, compiled (or loaded from the disk
    cache) for ``signatures`` at croton's LLVM level."""
    from croton_numba.backend import _import_generated, llvm_level

    function = getattr(_import_generated(path, digest), name)
    with llvm_level():
        for signature in signatures:
            function.compile(signature)
    return function


def _compile_in_background(path: str, digest: str, name: str, signatures: str, level: str):
    """The background process: compile the threaded variant into the disk cache, at the
    LLVM level of the process that started it."""
    from croton.config import config

    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass
    try:
        with open(signatures, "rb") as file:
            wanted = pickle.load(file)
    finally:
        os.unlink(signatures)
    config.numba_opt = level
    _compiled(Path(path), digest, name, wanted)


if __name__ == "__main__":
    _compile_in_background(*sys.argv[1:6])
