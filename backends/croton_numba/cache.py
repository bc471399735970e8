"""The disk cache of generated modules and their machine code.

A graph's generated source is written once to ``<cache>/numba/g_<hash>.py``, the hash
taken over the source and the versions of croton, numba and Python. numba caches the
machine code of each jitted function next to it (``__pycache__``), keyed by that file,
so a second process compiling the same graph loads machine code instead of compiling.

Writing is atomic and never replaces a file another process may be reading: the
source goes to a temporary file that is then hard-linked to its final name, which
fails harmlessly if another process got there first. A module file whose content does
not match its hash (a corrupt entry) is replaced; machine code numba cannot load is
deleted and rebuilt (see `croton_numba.backend`).

The location is ``$CROTON_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/croton`` or
``~/.cache/croton``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path


def cache_root() -> Path:
    """The directory holding croton's caches."""
    explicit = os.environ.get("CROTON_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "croton"


def numba_cache_dir() -> Path:
    return cache_root() / "numba"


def source_hash(source: str, versions: str) -> str:
    return hashlib.sha256((versions + "\n" + source).encode()).hexdigest()[:32]


def module_path(digest: str) -> Path:
    return numba_cache_dir() / f"g_{digest}.py"


def write_module(source: str, digest: str) -> Path:
    """The module file for ``source`` (written if absent or corrupt)."""
    path = module_path(digest)
    if path.exists():
        try:
            if path.read_text() == source:
                return path
        except OSError:
            pass
        _remove_entry(path)  # corrupt: rebuild it
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(source)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process wrote the same content first
    finally:
        os.unlink(temporary)
    return path


def _remove_entry(path: Path) -> None:
    """Delete a module file and numba's machine code for it."""
    for cached in machine_code_files(path):
        cached.unlink(missing_ok=True)
    path.unlink(missing_ok=True)


_MACHINE_CODE_SUFFIXES = (".nbi", ".nbc")


def machine_code_files(path: Path) -> list[Path]:
    """numba's index and data files for the functions of module ``path``.

    Python's bytecode for the module (``.pyc``) lives in the same folder and is not one
    of them: it is no pickle, and taking it for unreadable machine code would throw the
    machine code away on every import that wrote bytecode.
    """
    pycache = path.parent / "__pycache__"
    if not pycache.is_dir():
        return []
    return [
        p
        for p in pycache.iterdir()
        if p.name.startswith(path.stem + ".") and p.suffix in _MACHINE_CODE_SUFFIXES
    ]


class _Anything:
    """Stands for every class a pickle names, so a stream is parsed without imports."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()


class _Skimmer(pickle.Unpickler):
    def find_class(self, module, name):
        return _Anything


def _readable(cached: Path) -> bool:
    """Whether a machine-code file is complete (an index holds two pickles, data one).

    The pickles are parsed, not loaded: they name the generated module, which may not
    be imported yet.
    """
    try:
        with open(cached, "rb") as file:
            if cached.suffix == ".nbi":
                _Skimmer(file).load()
            _Skimmer(io.BytesIO(file.read())).load()
        return True
    except Exception:
        return False


def _drop_unreadable_machine_code(path: Path) -> None:
    cached = machine_code_files(path)
    if not all(_readable(p) for p in cached):
        for p in cached:
            p.unlink(missing_ok=True)


def load_module(path: Path, digest: str):
    """Import the generated module at ``path`` (once per process).

    Machine code numba could not read (a corrupt or half-written file) is deleted
    first, so numba compiles afresh instead of failing.
    """
    name = f"croton_generated_{digest}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    _drop_unreadable_machine_code(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _load_without_refresh(module)
    return module


def _load_without_refresh(module) -> None:
    """Let the module's jitted functions load machine code without numba's refresh.

    Before loading any cached function numba refreshes its target: it imports and
    installs every typing and lowering registry it has (SciPy's linear algebra among
    them), most of a second on first use, which a second process then spends on every
    graph it loads. Loaded machine code needs none of it, only numba's runtime, which
    is initialised here instead. A function that is not on disk still compiles as
    usual, and numba's compiler refreshes the target first.
    """
    from numba.core.caching import FunctionCache
    from numba.core.registry import CPUDispatcher

    for value in vars(module).values():
        if isinstance(value, CPUDispatcher) and type(value._cache) is FunctionCache:
            value._cache.__class__ = _machine_code_cache()
            value._cache._cache_file.__class__ = _machine_code_file()


@functools.cache
def _machine_code_cache() -> type:
    """numba's cache of a function's machine code, loading without a refresh."""
    from numba.core.caching import FunctionCache

    class MachineCodeCache(FunctionCache):
        def load_overload(self, sig, target_context):
            _link_runtime()
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)

    return MachineCodeCache


@functools.cache
def _link_runtime() -> None:
    """Make numba's runtime (array allocation, reference counts) linkable by name.

    That is all loaded machine code needs of numba's runtime initialisation, which also
    compiles the runtime's own LLVM functions for code still to be compiled (a tenth of
    a warm process's compile); numba's compiler still does that before it compiles.
    """
    from llvmlite import binding
    from numba.core.runtime import _nrt_python

    for name, address in _nrt_python.c_helpers.items():
        binding.add_symbol(name if name.startswith("_") else f"NRT_{name}", address)


@functools.cache
def _machine_code_file() -> type:
    """numba's file of a function's machine code, read without importing numba's own
    modules of the functions it inlined."""
    from numba.core.caching import IndexDataCacheFile

    class MachineCodeFile(IndexDataCacheFile):
        def _load_data(self, name):
            with open(self._data_path(name), "rb") as file:
                return _MachineCodeUnpickler(file).load()

    return MachineCodeFile


class _MachineCodeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("numba.core.environment", "_rebuild_env"):
            return _rebuild_environment
        return super().find_class(module, name)


def _rebuild_environment(module_name: str, consts: list, env_name: str):
    """The runtime environment of a function in loaded machine code.

    numba's own ``_rebuild_env`` imports the module the function came from, for the
    globals an object-mode function reads at run time. Code in nopython mode never reads
    them, and the functions a graph's code inlines from numba's own modules (array
    allocation from ``numba.np.arrayobj``, whose imports take a fifth of a warm
    process's compile) are nopython code; their environments get the module's name
    alone. Any other module is imported as numba does.
    """
    from numba.core.environment import Environment, _rebuild_env, lookup_environment

    if module_name in sys.modules or not module_name.startswith("numba."):
        return _rebuild_env(module_name, consts, env_name)
    environment = lookup_environment(env_name)
    if environment is None:
        environment = Environment({"__name__": module_name})
        environment.consts[:] = consts
        environment.env_name = env_name
        Environment._memo[env_name] = environment
    return environment


def forget_machine_code(path: Path, digest: str) -> None:
    """Drop the machine code cached for ``path`` and the imported module (to rebuild)."""
    for cached in machine_code_files(path):
        cached.unlink(missing_ok=True)
    sys.modules.pop(f"croton_generated_{digest}", None)


def info() -> dict:
    """What the cache holds: its directory, graphs, files and bytes."""
    directory = numba_cache_dir()
    files = [p for p in directory.rglob("*") if p.is_file()] if directory.is_dir() else []
    return {
        "directory": str(directory),
        "modules": sum(1 for p in files if p.suffix == ".py" and p.name.startswith("g_")),
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
    }


def clear() -> int:
    """Delete the cache; returns the number of files removed."""
    directory = numba_cache_dir()
    if not directory.is_dir():
        return 0
    count = sum(1 for p in directory.rglob("*") if p.is_file())
    shutil.rmtree(directory, ignore_errors=True)
    return count
