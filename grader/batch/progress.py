"""Progress of a batch: a bar redrawn in place on a terminal, plain periodic lines elsewhere.

A batch calls :meth:`Progress.start`, then :meth:`Progress.graded` once per submission it
grades (in the order they finish), :meth:`Progress.tick` about once a second while it waits, and
:meth:`Progress.finish`. Progress goes to standard error, so standard output (the
per-submission lines and the summary) stays clean for a pipe or a file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from grader.results import SubmissionResult

OnResult = Callable[[SubmissionResult, Path], None]


def duration(seconds: float) -> str:
    """``52 s``, ``3 min 10 s``, ``1 h 02 min``: precise enough for an ETA."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _per_second(rate: float) -> str:
    """``0.24/s``, ``3.1/s``, ``12/s``: two significant digits, never an exponent."""
    return f"{rate:.{2 if rate < 1 else 1 if rate < 10 else 0}f}/s"


class Progress:
    """Counts what a batch grades; reports nothing itself (the Python API's default).

    ``on_result`` is called with each freshly graded result and its report's path.
    """

    def __init__(self, on_result: OnResult | None = None) -> None:
        self.on_result = on_result
        self.total = self.kept = self.done = 0
        self.started = time.monotonic()

    def start(self, total: int, kept: int) -> None:
        """``total`` submissions are to be graded; ``kept`` were graded by an earlier run."""
        self.total, self.kept, self.done = total, kept, 0
        self.started = time.monotonic()

    def graded(self, result: SubmissionResult, report: Path) -> None:
        self.done += 1
        if self.on_result is not None:
            self.on_result(result, report)

    def tick(self) -> None:
        """Called while waiting, so a report can move on even when nothing finishes."""

    def finish(self) -> None:
        """The batch has graded everything it was given."""

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        """Submissions per second so far (0 before the first)."""
        elapsed = self.elapsed()
        return self.done / elapsed if self.done and elapsed > 0 else 0.0

    def status(self) -> str:
        """``40/200 (3.1/s, ETA 52 s)``."""
        rate = self.rate()
        if self.done >= self.total:
            eta = f"took {duration(self.elapsed())}"
        elif rate:
            eta = f"ETA {duration((self.total - self.done) / rate)}"
        else:
            eta = "ETA unknown"
        return f"{self.done}/{self.total} ({_per_second(rate)}, {eta})"

    def summary(self) -> str:
        """One line for the end of a batch."""
        kept = f"; {self.kept} kept from an earlier run" if self.kept else ""
        return (f"graded {self.done} submission(s) in {duration(self.elapsed())} "
                f"({_per_second(self.rate())}){kept}")


class LogProgress(Progress):
    """Plain lines for logs that are not a terminal: every ``every`` results or ``interval`` s."""

    def __init__(self, stream: TextIO, on_result: OnResult | None = None, every: int = 10,
                 interval: float = 10.0) -> None:
        super().__init__(on_result)
        self.stream = stream
        self.every, self.interval = every, interval
        self._last_done, self._last_time = 0, time.monotonic()

    def start(self, total: int, kept: int) -> None:
        super().start(total, kept)
        self._last_done, self._last_time = 0, self.started
        kept_note = f"; {kept} already graded in the output folder are kept" if kept else ""
        self._write(f"grading {total} submission(s){kept_note}")

    def graded(self, result: SubmissionResult, report: Path) -> None:
        super().graded(result, report)
        if self.done - self._last_done >= self.every or self._due() or self.done == self.total:
            self._line()

    def tick(self) -> None:
        # A heartbeat while a slow submission holds every worker: the log shows it is alive.
        if self.done < self.total and self._due():
            self._line()

    def _due(self) -> bool:
        return time.monotonic() - self._last_time >= self.interval

    def _line(self) -> None:
        self._last_done, self._last_time = self.done, time.monotonic()
        self._write(f"graded {self.status()}")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """A bar with count, rate and ETA, redrawn in place; result lines are printed above it."""

    def __init__(self, stream: TextIO, on_result: OnResult | None = None, width: int = 30) -> None:
        super().__init__(on_result)
        self.stream = stream
        self.width = width

    def start(self, total: int, kept: int) -> None:
        super().start(total, kept)
        self._draw()

    def graded(self, result: SubmissionResult, report: Path) -> None:
        self._clear()
        super().graded(result, report)
        self._draw()

    def tick(self) -> None:
        self._draw()

    def finish(self) -> None:
        self._clear()

    def _draw(self) -> None:
        filled = self.width * self.done // self.total if self.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\x1b[K[{bar}] {self.status()}")
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def make_progress(on_result: OnResult | None = None, stream: TextIO | None = None) -> Progress:
    """A bar when ``stream`` (standard error by default) is a terminal, else log lines."""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return BarProgress(stream, on_result) if tty else LogProgress(stream, on_result)
