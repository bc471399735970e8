"""The compile tier: every generated kernel compiled with NVRTC, no GPU needed.

CuPy compiles a kernel only at its first launch, so on a machine without a GPU nothing
would ever show that a rule generates bad CUDA. This module rebuilds the complete program
CuPy hands NVRTC for each kernel in `croton_cupy.kernels.GENERATED` (CuPy's headers, the
parameter declarations, the loop or reduction around the generated expressions) and
compiles it for real architectures with NVRTC, which needs no driver:

>>> from croton_cupy import compile_tier, kernels
>>> compile_tier.compile_sources(kernels.GENERATED, ("sm_80", "sm_90"))  # doctest: +SKIP

Many kernels go into one translation unit (each in a namespace of its own), so CuPy's
headers are parsed once per batch rather than once per kernel; a batch that fails is
narrowed down to the kernels that fail, and each is recompiled alone, exactly as CuPy
would compile it, so the error names the kernel and shows the compiler's log against
the numbered source it refers to.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from croton_cupy import kernels
from croton_cupy.cupy_programs import Program, full_source, programs

__all__ = [
    "DEFAULT_ARCHS",
    "CompileFailure",
    "KernelCompileError",
    "compile_sources",
    "full_source",
    "include_dirs",
    "unavailable_reason",
]

INSTALL_HINT = 'install it with `pip install "croton[cuda-compile]"`'

#: the architectures the compile tier checks by default (A100, H100)
DEFAULT_ARCHS = ("sm_80", "sm_90")

# ---------------------------------------------------------------------------------------
# where NVRTC and the headers are


def _package_dir(module_name: str) -> str | None:
    """The directory of an installed package (namespace packages included), or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or ())
    if locations:
        return locations[0]
    return os.path.dirname(spec.origin) if spec.origin else None


def _runtime_include_dir() -> str | None:
    """The directory holding ``cuda_runtime.h``: the pip wheel's, else CUDA_PATH's."""
    candidates = []
    wheel = _package_dir("nvidia.cuda_runtime")
    if wheel is not None:
        candidates.append(os.path.join(wheel, "include"))
    for variable in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(variable):
            candidates.append(os.path.join(os.environ[variable], "include"))
    for directory in candidates:
        if os.path.isfile(os.path.join(directory, "cuda_runtime.h")):
            return directory
    return None


@functools.cache
def include_dirs() -> tuple[str, ...]:
    """The include directories CuPy gives NVRTC, in its order, found from the packages.

    CuPy's bundled CCCL (cub, thrust, libcudacxx) first, then CuPy's own headers, then
    the CUDA runtime headers (and NVRTC's, where its wheel is installed).
    """
    cupy_dir = _package_dir("cupy")
    if cupy_dir is None:
        raise RuntimeError(f"cupy is not installed: {INSTALL_HINT}")
    cupy_include = os.path.join(cupy_dir, "_core", "include")
    cccl = os.path.join(cupy_include, "cupy", "_cccl")
    dirs = [os.path.join(cccl, name) for name in ("cub", "thrust", "libcudacxx")]
    dirs.append(cupy_include)
    runtime_include = _runtime_include_dir()
    if runtime_include is None:
        raise RuntimeError(
            f"the CUDA runtime headers (cuda_runtime.h) are not installed: {INSTALL_HINT}"
        )
    dirs.append(runtime_include)
    nvrtc_wheel = _package_dir("nvidia.cuda_nvrtc")
    if nvrtc_wheel is not None and os.path.isdir(os.path.join(nvrtc_wheel, "include")):
        dirs.append(os.path.join(nvrtc_wheel, "include"))
    return tuple(dirs)


@functools.cache
def unavailable_reason() -> str | None:
    """Why kernels cannot be compiled here (no cupy, NVRTC or CUDA headers), or None."""
    if _package_dir("cupy") is None:
        return f"cupy is not installed ({INSTALL_HINT})"
    try:
        from cupy_backends.cuda.libs import nvrtc

        nvrtc.getVersion()
    except Exception as err:  # the binding imports but the library is missing, say
        return f"NVRTC is not available ({err}); {INSTALL_HINT}"
    if _runtime_include_dir() is None:
        return f"the CUDA runtime headers (cuda_runtime.h) are not installed ({INSTALL_HINT})"
    return None


def _arch_name(arch: str | int) -> str:
    """``"sm_80"`` for ``"sm_80"``, ``80`` or ``"80"``."""
    digits = str(arch).removeprefix("sm_")
    if not digits.isdigit():
        raise ValueError(f"arch must be like 'sm_80' or 80, not {arch!r}")
    return f"sm_{digits}"


def _options(arch: str | int, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """NVRTC options as CuPy assembles them (`assemble_cupy_compiler_options` and co)."""
    dirs = include_dirs()
    std = () if any("-std=" in option for option in extra) else ("--std=c++17",)
    return (
        *(f"-I{d}" for d in dirs[:3]),
        *extra,
        *std,
        *(f"-I{d}" for d in dirs[3:]),
        "-ftz=true",
        f"-arch={_arch_name(arch)}",
        "--device-as-default-execution-space",
    )


# ---------------------------------------------------------------------------------------
# compiling


def _front_end_only(program: Program) -> bool:
    """Whether to stop ``program`` after NVRTC's front end.

    The front end parses, resolves overloads and instantiates templates: every error
    generated text can cause. The CUB forms stop there: their CUB code is CuPy's and
    costly to generate machine code for, while the same expressions go through code
    generation in CuPy's own reduction kernel.
    """
    return program.form.startswith("cub") and _front_end_option() is not None


def _program_options(program: Program, arch: str, *, alone: bool) -> tuple[str, ...]:
    extra = program.options + program.defines if alone else program.options
    if _front_end_only(program):
        extra += (_FRONT_END_ONLY,)
    return _options(arch, extra)


@dataclass
class CompileFailure:
    """A kernel that NVRTC rejects: its name, the program, and the compiler's log."""

    kernel: str
    form: str
    arch: str
    log: str
    source: str
    #: the line number of ``source``'s first line in what NVRTC compiled: 1 for the
    #: kernel's program compiled alone, more for its part of a batch
    first_line: int = 1

    def __str__(self) -> str:
        lines = self.source.splitlines()
        width = len(str(self.first_line + len(lines)))
        numbered = "\n".join(
            f"{n:>{width}} | {line}" for n, line in enumerate(lines, self.first_line)
        )
        where = (
            "the program NVRTC compiled"
            if self.first_line == 1
            else f"the kernel's part of the batch {_BATCH_FILE} NVRTC compiled"
        )
        return (
            f"generated CUDA kernel {self.kernel} ({self.form}) does not compile for "
            f"{self.arch}; NVRTC says:\n{self.log.strip()}\n--- {where} (line numbers as in "
            f"the log) ---\n{numbered}"
        )


class KernelCompileError(Exception):
    """Generated kernels NVRTC rejects; ``failures`` lists each with its log and source.

    The message shows the first few in full (log and numbered program) and the first
    error of each of the others.
    """

    shown = 4

    def __init__(self, failures: list[CompileFailure]):
        self.failures = failures
        names = sorted({f.kernel for f in failures})
        head = f"{len(names)} generated CUDA kernel(s) do not compile: {', '.join(names)}"
        parts = [head, *(str(f) for f in failures[: self.shown])]
        if len(failures) > self.shown:
            parts.append(
                f"... and {len(failures) - self.shown} more:\n"
                + "\n".join(
                    f"  {f.kernel} ({f.form}, {f.arch}): {_first_error(f.log)}"
                    for f in failures[self.shown :]
                )
            )
        super().__init__("\n\n".join(parts))


def _first_error(log: str) -> str:
    errors = [line for line in log.splitlines() if "error" in line]
    return errors[0].strip() if errors else log.strip().splitlines()[0]


def _nvrtc_compile(source: str, options: tuple[str, ...], filename: str = "kern.cu") -> str | None:
    """Compile ``source`` (to a cubin, unless front end only): None, or NVRTC's log."""
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram(source, filename, (), ())
    try:
        try:
            nvrtc.compileProgram(program, list(options))
        except nvrtc.NVRTCError as err:
            log = nvrtc.getProgramLog(program)
            return log if log.strip() else str(err)
        if _FRONT_END_ONLY not in options:
            nvrtc.getCUBIN(program)
        return None
    finally:
        nvrtc.destroyProgram(program)


_FRONT_END_ONLY = "-fdevice-syntax-only"


@functools.cache
def _front_end_option() -> str | None:
    """NVRTC's option to stop after the front end, where this NVRTC has it (12.x, later ones)."""
    from cupy_backends.cuda.libs import nvrtc

    program = nvrtc.createProgram('extern "C" __global__ void k() {}', "probe.cu", (), ())
    try:
        nvrtc.compileProgram(program, [_FRONT_END_ONLY, "-arch=sm_80"])
        return _FRONT_END_ONLY
    except nvrtc.NVRTCError:
        return None
    finally:
        nvrtc.destroyProgram(program)


_BATCH_FILE = "croton_kernels.cu"
_LINE_REFERENCE = re.compile(
    rf"{re.escape(_BATCH_FILE)}\((\d+)\)|line (\d+) of {re.escape(_BATCH_FILE)}"
)
_INCLUDE = re.compile(r"^\s*#\s*include\b.*$", re.MULTILINE)
_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)", re.MULTILINE)


def _headers(program: Program) -> tuple[str, ...]:
    """The ``#include`` lines of a program's code (besides CuPy's, in its prelude).

    Only programs including the same headers share a batch: a header one kernel
    includes must not make up for one another forgot.
    """
    return tuple(sorted({m.group(0).strip() for m in _INCLUDE.finditer(program.code)}))


def _batch_source(batch: list[Program]) -> tuple[str, list[tuple[int, int]]]:
    """One translation unit holding every program, and the line range each occupies.

    Each kernel sits in a namespace of its own (its typedefs and preamble functions
    cannot clash with another's; ``extern "C"`` keeps its symbol name), and the macros
    it defines are undefined after it. The headers the kernels include (the same for
    the whole batch, see `_headers`) are included once at the top first, so including
    them again inside a namespace adds nothing.
    """
    parts = [batch[0].prelude, *_headers(batch[0]), ""]
    text = "\n".join(parts)
    line = text.count("\n") + 1
    spans = []
    for index, program in enumerate(batch):
        macros = [d.removeprefix("-D").partition("=") for d in program.defines]
        defines = [f"#define {name} {value}" for name, _, value in macros]
        undefines = [f"#undef {name}" for name, _, _ in macros]
        undefines += [f"#undef {name}" for name in dict.fromkeys(_DEFINE.findall(program.code))]
        block = "\n".join(
            [
                f"// {program.kernel} ({program.form})",
                *defines,
                f"namespace croton_compile_tier_{index} {{",
                program.code,
                "}",
                *undefines,
                "",
            ]
        )
        start = line
        line += block.count("\n")
        spans.append((start, line))
        text += block
    return text, spans


def _alone(program: Program, arch: str) -> CompileFailure | None:
    """Compile ``program`` exactly as CuPy would: None, or its failure."""
    log = _nvrtc_compile(program.source, _program_options(program, arch, alone=True))
    return (
        None
        if log is None
        else CompileFailure(program.kernel, program.form, arch, log, program.source)
    )


_DIAGNOSTIC = re.compile(r"^\S.*\(\d+\): (catastrophic error|error|warning|remark)", re.MULTILINE)


def _errors_by_line(log: str) -> list[tuple[str, set[int]]]:
    """Each error of an NVRTC log, with the lines of the batch it names."""
    starts = [m.start() for m in _DIAGNOSTIC.finditer(log)] + [len(log)]
    errors = []
    for start, end in zip(starts, starts[1:]):
        diagnostic = log[start:end]
        if "error" in _DIAGNOSTIC.match(diagnostic).group(1):
            lines = {int(a or b) for a, b in _LINE_REFERENCE.findall(diagnostic)}
            errors.append((diagnostic.strip(), lines))
    return errors


def _compile_batch(batch: list[Program], arch: str) -> list[CompileFailure]:
    """Compile ``batch`` together; narrow a failure down to the programs that fail.

    The lines the log's errors name blame kernels of the batch: the first is compiled
    alone to confirm it (its failure then shows the exact program CuPy would compile),
    the others are reported with their part of the batch, and the rest is compiled
    again. An error no line blames (or one that is the batch's alone) halves the batch.
    """
    if len(batch) == 1:
        failure = _alone(batch[0], arch)
        return [] if failure is None else [failure]
    source, spans = _batch_source(batch)
    log = _nvrtc_compile(source, _program_options(batch[0], arch, alone=False), _BATCH_FILE)
    if log is None:
        return []
    blamed: dict[int, list[str]] = {}
    errors = _errors_by_line(log)
    for message, lines in errors:
        owners = {i for i, (start, end) in enumerate(spans) if any(start <= n < end for n in lines)}
        if not owners:
            break  # an error in no kernel's lines
        for i in owners:
            blamed.setdefault(i, []).append(message)
    else:
        first = min(blamed, default=None)
        confirmed = None if first is None else _alone(batch[first], arch)
        if confirmed is not None:
            failures = [confirmed]
            lines = source.splitlines()
            for i in sorted(blamed)[1:]:
                start, end = spans[i]
                part = "\n".join(lines[start - 1 : end - 1])
                log_part = "\n\n".join(blamed[i])
                program = batch[i]
                failures.append(
                    CompileFailure(program.kernel, program.form, arch, log_part, part, start)
                )
            rest = [program for i, program in enumerate(batch) if i not in blamed]
            return failures + (_compile_batch(rest, arch) if rest else [])
    half = len(batch) // 2
    return _compile_batch(batch[:half], arch) + _compile_batch(batch[half:], arch)


def compile_sources(
    sources: Mapping[str, kernels.KernelSource] | Iterable[kernels.KernelSource],
    arch: str | int | Iterable[str | int] = DEFAULT_ARCHS,
    *,
    batch_size: int = 200,
    workers: int | None = None,
) -> int:
    """Compile the kernels with NVRTC for ``arch``, as CuPy would; raise if any fails.

    Parameters
    ----------
    sources
        Kernel records (`croton_cupy.kernels.GENERATED` or its values); duplicates by
        name are compiled once.
    arch
        An architecture (``"sm_80"`` or ``80``) or several.
    batch_size
        How many programs go into one translation unit.
    workers
        Threads compiling batches at once (NVRTC releases the GIL); default: the CPUs.

    Returns
    -------
    int
        The number of programs compiled (a reduction is several: CuPy's own kernel and
        its CUB kernels).

    Raises
    ------
    KernelCompileError
        Naming every kernel that does not compile, with NVRTC's log and the numbered
        program it refers to.
    RuntimeError
        When the tier cannot run here (see `unavailable_reason`).
    """
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"the CUDA compile tier cannot run here: {reason}")
    records = sources.values() if isinstance(sources, Mapping) else sources
    unique = {record.name: record for record in records}
    archs = [_arch_name(a) for a in ([arch] if isinstance(arch, (str, int)) else arch)]
    groups: dict[tuple, list[Program]] = {}
    for name in sorted(unique):
        for program in programs(unique[name]):
            groups.setdefault(
                (program.prelude, program.options, _front_end_only(program), _headers(program)), []
            ).append(program)
    jobs = [
        (batch[start : start + batch_size], each)
        for each in archs
        for batch in groups.values()
        for start in range(0, len(batch), batch_size)
    ]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        results = list(pool.map(lambda job: _compile_batch(*job), jobs))
    failures = [failure for result in results for failure in result]
    if failures:
        raise KernelCompileError(failures)
    return sum(len(batch) for batch in groups.values()) * len(archs)
