"""Tests of the ``croton`` command and of the demo it runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

from croton.cli import main
from croton.demo import make_spirals

FINAL_LINE = re.compile(
    r"^final: loss (?P<loss>\S+)  accuracy (?P<accuracy>\S+)  "
    r"time/epoch (?P<time>\S+) ms  backend (?P<backend>\S+)$"
)


def test_info_lists_numpy_backend_as_available(capsys):
    assert main(["info"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("croton ")
    numpy_lines = [line for line in lines[1:] if line.split()[0] == "numpy"]
    assert len(numpy_lines) == 1
    assert numpy_lines[0].rstrip().endswith(" available")


def test_demo_prints_final_line_and_learns(capsys):
    status = main(["demo", "--epochs", "30", "--hidden", "32", "--no-progress"])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    final_lines = [line for line in lines if line.startswith("final:")]
    assert len(final_lines) == 1
    match = FINAL_LINE.match(final_lines[0])
    assert match, final_lines[0]
    assert float(match["accuracy"]) >= 0.9
    assert np.isfinite(float(match["loss"]))
    assert float(match["time"]) > 0


def test_demo_on_named_backend_reports_it(capsys):
    status = main(["demo", "--backend", "numpy", "--epochs", "1", "--no-progress"])
    assert status == 0
    match = FINAL_LINE.match(capsys.readouterr().out.splitlines()[-1])
    assert match and match["backend"] == "numpy"


def test_demo_progress_line_goes_to_stderr_and_ends_with_the_last_epoch(capsys):
    assert main(["demo", "--backend", "numpy", "--epochs", "3", "--hidden", "8"]) == 0
    captured = capsys.readouterr()
    assert "training:" not in captured.out
    shown = captured.err.split("\r")[-1]
    assert re.fullmatch(r"training: epoch 3/3, loss \d+\.\d{4}\n", shown), captured.err


def test_unknown_backend_is_a_one_line_error(capsys):
    status = main(["demo", "--backend", "no-such-backend", "--no-progress"])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("croton: error: ")
    assert "no-such-backend" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["demo", "--epochs", "0"], ["demo", "--hidden", "-3"]])
def test_bad_setting_is_a_usage_error(capsys, argv):
    assert main([*argv, "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("croton: error: ")


def test_missing_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "croton: error:" in capsys.readouterr().err


def test_make_spirals_shapes_and_labels():
    X, y = make_spirals(n_per_class=50, n_classes=4, seed=1)
    assert X.shape == (200, 2) and X.dtype == np.float64
    assert y.shape == (200,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [50, 50, 50, 50])
    assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)


def test_make_spirals_is_deterministic_per_seed():
    X0, y0 = make_spirals(seed=0)
    X0_again, y0_again = make_spirals(seed=0)
    X1, y1 = make_spirals(seed=1)
    assert np.array_equal(X0, X0_again) and np.array_equal(y0, y0_again)
    assert not np.allclose(X0, X1)
    assert np.array_equal(y0, y1)


@pytest.fixture
def partial_backends():
    """Two extra backends through the plugin API: one lowering only Dot, one unavailable."""
    import croton.plugin
    from croton.backend import Backend
    from croton.ops.blas import Dot

    class DotOnly(Backend):
        name = "dot-only"
        version = "0.1"

    class Unavailable(Backend):
        name = "needs-gpu"
        version = "2.0"

        def unavailable_reason(self):
            return "no CUDA device"

    dot_only = DotOnly()
    dot_only.registry.register(Dot, lambda op, node: None)

    class Plugin:
        @croton.plugin.hookimpl
        def croton_backends(self):
            return [dot_only, Unavailable()]

    croton.plugin.register(Plugin(), name="cli-test-backends")
    yield
    croton.plugin.unregister("cli-test-backends")


def _table(output: str) -> dict[str, list[str]]:
    lines = output.split("\n\n")[0].splitlines()
    return {line.split()[0]: line.split() for line in lines[1:]}


def test_backends_prints_coverage_and_status(capsys, partial_backends):
    from croton.ops import core_op_classes

    total = len(core_op_classes())
    assert main(["backends"]) == 0
    output = capsys.readouterr().out
    assert output.splitlines()[0].split() == ["backend", "version", "ops", "lowered", "status"]
    rows = _table(output)
    assert rows["numpy"][2] == f"{total}/{total}" and rows["numpy"][3] == "available"
    assert rows["dot-only"][1:4] == ["0.1", f"1/{total}", "available"]
    assert rows["needs-gpu"][3:] == ["unavailable:", "no", "CUDA", "device"]
    assert "cannot lower" not in output


def test_backends_missing_lists_the_gaps(capsys, partial_backends):
    from croton.ops import core_op_classes

    assert main(["backends", "--missing"]) == 0
    output = capsys.readouterr().out
    gaps = {
        line.split(" cannot lower: ")[0]: line.split(" cannot lower: ")[1]
        for line in output.splitlines()
        if " cannot lower: " in line
    }
    assert gaps["numpy"] == "nothing (complete)"
    expected = sorted(op.__name__ for op in core_op_classes() if op.__name__ != "Dot")
    assert gaps["dot-only"].split(", ") == expected
