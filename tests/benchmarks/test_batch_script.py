"""benchmarks/batch.py: its pure parts (the batch itself is measured by running the script)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # its `ceiling`

from benchmarks.batch import Batch, _kind

SPAWN = b"python\0-B\0-c\0from multiprocessing.spawn import spawn_main; spawn_main()"
SANDBOX = b"python\0-I\0-B\0/x/grader/sandbox/inside/worker.py"


def test_the_marginal_cost_is_the_slope_over_the_second_half():
    # (seconds, results written, CPU seconds) as polled; the first half pays the start-up
    batch = Batch(8, progress=[(1.0, 0, 2.0), (6.0, 2, 11.0), (10.0, 4, 20.0),
                               (12.0, 5, 24.0), (18.0, 8, 36.0)])
    assert batch.marginal() == pytest.approx((2.0, 4.0))


def test_the_batch_processes_are_told_apart_by_command_line_and_parent():
    assert _kind(b"python\0-c\0from grader.cli import main; main()", None) == "command"
    assert _kind(SPAWN, "command") == "grading process"
    assert _kind(SANDBOX, "grading process") == "zygote"
    assert _kind(SANDBOX, "zygote") == "sandbox (worker, copies)"
    assert _kind(b"", "zygote") == "sandbox (worker, copies)"  # gone before it was read
    assert _kind(b"python\0-c\0from multiprocessing.resource_tracker import main",
                 "command") == "resource tracker"
