"""The pytest plugin that runs an assignment's checks against one submission.

Like pytest's own ``junitxml`` plugin, a :class:`GradingPlugin` object is registered for one
session, provides the fixtures checks use (``student``, ``reference``, ``expect``, ``rng``,
``assignment``) and collects each check's outcome from its reports, never from terminal output.
Checks mark themselves with ``@pytest.mark.rubric("id")``; the rubric supplies points and
visibility. A test naming an unknown id, a test without a rubric mark and a rubric check with no
test are configuration errors, reported with the file and line.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from grader.assignment import Assignment, CheckSpec
from grader.checks import CheckFailure, Expect
from grader.diagnose import Hint
from grader.refcache import ReferenceCache
from grader.results import CheckResult
from grader.student import Session, StudentFailure, StudentProxy

INTERNAL = ("the grader could not run this check (an internal error, reported to the course "
            "staff, who will regrade)")


SIGNATURE_HINT = Hint("wrong-signature", "the grader calls each name with the handout's "
                      "parameters: restore the starter's signature (names, order and defaults)")


class InternalErrors(list[str]):
    """Internal errors of a session: one short line each (the check and the exception type,
    never source lines or a traceback: ``result.json`` may reach students), and in ``details``
    the full tracebacks, for the instructor's log only."""

    def __init__(self) -> None:
        super().__init__()
        self.details: list[str] = []

    def add(self, check_id: str, what: str, detail: str = "") -> None:
        self.append(f"{check_id}: {what}" + ("; the traceback is in the instructor's log "
                                             "(grader-errors.log)" if detail else ""))
        if detail:
            self.details.append(f"{check_id}: {what}\n{detail}")


@dataclass
class _Outcome:
    passed: bool = True
    message: str = ""
    duration: float = 0.0
    hint: Hint | None = None
    staff: str = ""


class GradingPlugin:
    """Fixtures and result collection for one submission's pytest session."""

    def __init__(self, assignment: Assignment, session: Session, public_only: bool,
                 memo: ReferenceCache | dict[Any, Any] | None = None) -> None:
        self._assignment = assignment
        self._memo = (memo if isinstance(memo, ReferenceCache) else
                      ReferenceCache.in_memory(assignment, {} if memo is None else memo))
        self.session = session
        self.public_only = public_only
        self.proxy = StudentProxy(session)
        self.specs: dict[str, CheckSpec] = {}
        self.outcomes: dict[str, _Outcome] = {}
        self.config_errors: list[str] = []
        self.internal_errors = InternalErrors()
        self.expects: dict[str, Expect] = {}

    # ---------------------------------------------------------------- fixtures

    @pytest.fixture
    def student(self) -> StudentProxy:
        """The submission, callable by name: ``student.mse(y_hat, y)``."""
        return self.proxy

    @pytest.fixture
    def assignment(self) -> Assignment:
        """The assignment being graded (rubric settings, names, folder)."""
        return self._assignment

    @pytest.fixture
    def reference(self) -> ModuleType:
        """The assignment's ground truth (loaded in this trusted process only)."""
        return self._assignment.load_reference()

    @pytest.fixture
    def memo(self) -> Callable[[Any, Callable[[], Any]], Any]:
        """``memo(key, compute)``: a value computed once per version of the assignment
        (reference training, say), then kept in memory and on disk (:mod:`grader.refcache`),
        so a batch's ``--jobs N`` processes, later runs and Dask workers on one machine reuse
        it. Keys are tuples of strings and numbers; values plain data, arrays or tensors
        (others are kept in memory, per process).

        Only for values that do not depend on the submission.
        """
        return self._memo.get

    @pytest.fixture
    def expect(self, request: pytest.FixtureRequest) -> Expect:
        """Assertions bound to the current check's function, tolerances and visibility."""
        expect = Expect(self.specs[request.node.nodeid], self._assignment)
        self.expects[request.node.nodeid] = expect  # to collect the plot it may record
        return expect

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        """A NumPy generator seeded by the assignment's seed and the check's id."""
        spec = self.specs[request.node.nodeid]
        digest = hashlib.sha256(spec.id.encode()).digest()
        return np.random.default_rng([self._assignment.seed, int.from_bytes(digest[:4], "big")])

    # ---------------------------------------------------------------- collection

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        seen: set[str] = set()
        for item in items:
            spec = self._spec_for(item)
            if spec is not None:
                self.specs[item.nodeid] = spec
                seen.add(spec.id)
        items[:] = _groups_together(items)
        wanted = [c for c in self._assignment.checks if c.public or not self.public_only]
        for check in wanted:
            if check.id not in seen:
                folder = "checks/public" if check.public else "checks/hidden"
                self.config_errors.append(f"rubric check {check.id!r} has no test under "
                                          f"{self._assignment.root / folder}")
        if self.config_errors:
            raise pytest.UsageError("\n".join(self.config_errors))

    def _spec_for(self, item: pytest.Item) -> CheckSpec | None:
        path, lineno, _ = item.location
        where = f"{self._assignment.root / 'checks' / path}:{(lineno or 0) + 1}"
        marks = list(item.iter_markers("rubric"))
        if len(marks) != 1 or len(marks[0].args) != 1:
            self.config_errors.append(f"{where}: {item.name} needs exactly one "
                                      "@pytest.mark.rubric(\"check-id\")")
            return None
        check_id = marks[0].args[0]
        try:
            spec = self._assignment.check(check_id)
        except KeyError:
            self.config_errors.append(f"{where}: {item.name} names rubric id {check_id!r}, "
                                      "which rubric.toml does not declare")
            return None
        in_public = Path(str(item.path)).resolve().is_relative_to(
            self._assignment.public_dir.resolve())
        if spec.public != in_public:
            self.config_errors.append(f"{where}: check {check_id!r} is {spec.visibility} in "
                                      f"rubric.toml but its test is {'' if in_public else 'not '}"
                                      "under checks/public (public checks go there, at any "
                                      "depth; all others are hidden)")
        return spec

    # ---------------------------------------------------------------- running

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Before fixtures: a module-scoped fixture's calls belong to this check's copy.
        self.session.begin_check(self.specs[item.nodeid].id, copy_group(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[None]:
        report = yield
        outcome = self.outcomes.setdefault(item.nodeid, _Outcome())
        outcome.duration += call.duration
        if call.excinfo is not None and outcome.passed:
            outcome.passed = False
            outcome.message = self._message(item, call.excinfo)
            if isinstance(call.excinfo.value, CheckFailure):
                outcome.hint = call.excinfo.value.hint
            note = self.session.signature_notes.get(self.specs[item.nodeid].function)
            if note and outcome.message != INTERNAL:
                # said first: whatever the call then broke follows from it
                outcome.message = f"{note}.\n{outcome.message}"
                outcome.hint = SIGNATURE_HINT
        return report

    def _message(self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
        spec = self.specs[item.nodeid]
        exc = excinfo.value
        if isinstance(exc, (CheckFailure, StudentFailure)):
            if not spec.public:
                # The student sees the filtered text (message_for: grader.redact.hidden_text,
                # so no input or reference figure gets out); the instructor sees everything.
                self.outcomes[item.nodeid].staff = exc.message_for(True)
            return exc.message_for(spec.public)
        detail = "".join(traceback.format_exception(exc))
        if isinstance(exc, pytest.skip.Exception):
            self.internal_errors.add(spec.id, "the check was skipped", detail)
        else:
            self.internal_errors.add(spec.id, f"internal error in the check "
                                     f"({type(exc).__name__})", detail)
        return INTERNAL

    def results(self) -> tuple[CheckResult, ...]:
        """One result per rubric check that this session ran, in rubric order."""
        by_id = {self.specs[nodeid].id: out for nodeid, out in self.outcomes.items()}
        plots = {self.specs[nodeid].id: e.recorded_plot for nodeid, e in self.expects.items()}
        results = []
        for spec in self._assignment.checks:
            if self.public_only and not spec.public:
                continue
            out = by_id.get(spec.id)
            if out is None:
                out = _Outcome(False, INTERNAL)
                self.internal_errors.add(spec.id, "its test did not run")
            passed = out.passed
            results.append(CheckResult(
                id=spec.id, name=spec.name, function=spec.function, tags=spec.tags,
                visibility=spec.visibility, status="passed" if passed else "failed",
                score=spec.points if passed else 0.0, max_score=spec.points,
                output=out.message, duration=round(out.duration, 4),
                hint=out.hint.text if out.hint and not passed else "",
                bug_class=out.hint.bug_class if out.hint and not passed else "",
                plot=plots.get(spec.id), staff_output=out.staff if not passed else "",
            ))
        return tuple(results)


def copy_group(item: pytest.Item) -> str | None:
    """The ``@pytest.mark.shared_copy("group")`` of a check: checks of one group run one after
    another in one copy of the submission (objects one makes, e.g. a trained model kept by a
    module-scoped fixture, stay usable by the next); None for a check with a copy of its own."""
    mark = item.get_closest_marker("shared_copy")
    if mark is None:
        return None
    if len(mark.args) != 1 or not isinstance(mark.args[0], str):
        raise pytest.UsageError(f"{item.nodeid}: shared_copy takes one group name, e.g. "
                                "@pytest.mark.shared_copy(\"trained-model\")")
    return str(mark.args[0])


def _groups_together(items: list[pytest.Item]) -> list[pytest.Item]:
    """The checks in collection order, except that each shared_copy group runs in one stretch,
    where its first check is (the copy is shared by checks that follow each other)."""
    first: dict[str, int] = {}
    keys = []
    for i, item in enumerate(items):
        group = copy_group(item)
        keys.append((i if group is None else first.setdefault(group, i), i))
    return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]
