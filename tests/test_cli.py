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
