"""One fresh copy of the imported submission per check: state, patches, crashes and time limits
of one check never reach another (``inside/copies.py``, ``Session.begin_check``)."""

from __future__ import annotations

import dataclasses
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from grader.assignment import Assignment
from grader.plugin import _groups_together, copy_group
from grader.sandbox.inside import protocol
from grader.sandbox.zygote import Limits, Zygote
from grader.student import RemoteObject, Session, StudentFailure, StudentProxy
from grader.submission import read_submission


def processes_with(marker: str) -> list[int]:
    """The live processes (seen from here) whose command line holds ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline.split(b"\0"):
                found.append(int(entry.name))
    return found


def wait_for(condition: Any, within: float = 8.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


STATE_VARIANTS = {
    "module global": """\
        calls = 0
        def f():
            global calls
            calls += 1
            return calls
        """,
    "lru_cache": """\
        import functools
        @functools.lru_cache(maxsize=None)
        def _seen():
            return []
        def f():
            _seen().append(1)
            return len(_seen())
        """,
    "class attribute": """\
        class Counter:
            n = 0
        def f():
            Counter.n += 1
            return Counter.n
        """,
    "attribute on another module": """\
        import json
        def f():
            json._grader_test_calls = getattr(json, "_grader_test_calls", 0) + 1
            return json._grader_test_calls
        """,
    "random state": """\
        import random
        first = []
        def f():
            first.append(random.random())
            return len(first)
        """,
}


@pytest.fixture
def open_session(a1: Assignment, zygote: Zygote, limits: Limits,
                 tmp_path: Path) -> Iterator[Any]:
    sessions: list[Session] = []

    def _open(source: str, assignment: Assignment | None = None, lim: Limits | None = None
              ) -> tuple[Session, StudentProxy]:
        folder = tmp_path / f"sub{len(sessions)}"
        folder.mkdir()
        (folder / "submission.py").write_text(textwrap.dedent(source), encoding="utf-8")
        session = Session(assignment or a1, read_submission(folder / "submission.py"), zygote,
                          lim or limits)
        sessions.append(session)
        return session, StudentProxy(session)

    yield _open
    for s in sessions:
        s.close()


def one_worker(session: Session) -> bool:
    """The submission was imported once: no worker was restarted."""
    return len(session._scratch) == 1 and session.worker is not None and session.worker.alive


@pytest.mark.parametrize("source", STATE_VARIANTS.values(), ids=STATE_VARIANTS.keys())
def test_state_of_one_check_never_reaches_the_next(open_session, source):
    session, student = open_session(source)
    for check in ("first", "second", "third"):
        session.begin_check(check)
        assert student.f() == 1, f"{check}: a call of an earlier check left state behind"
        assert student.f() == 2  # within a check, calls share their copy
    assert session.generation == 3 and one_worker(session)


PATCHES = """\
    import base64, builtins, json, struct
    import numpy as np
    import torch

    ORIGINAL = (torch.Tensor.numpy, torch.Tensor.detach, np.asarray, json.dumps, torch.exp)

    def patch():
        zeros = np.zeros(3, np.float32)
        torch.Tensor.numpy = lambda self, *a, **k: zeros
        torch.Tensor.detach = lambda self: torch.zeros(3)
        torch.Tensor.cpu = lambda self, *a, **k: torch.zeros(3)
        torch.Tensor.tolist = lambda self: [0.0, 0.0, 0.0]
        np.asarray = np.array = np.ascontiguousarray = lambda *a, **k: zeros
        json.dumps = lambda *a, **k: '{"ok": true, "value": 0}'
        base64.b64encode = lambda b, *a: b"AAAAAAAAAAAAAAAA"
        struct.pack = lambda *a: b"\\0\\0\\0\\0"
        real = builtins.isinstance
        builtins.isinstance = lambda obj, cls: False if cls is torch.Tensor else real(obj, cls)
        torch.exp = lambda x: x * 0

    def value():
        return torch.tensor([1.5, -2.0, 3.25])

    def bump(x):
        x.add_(1.0)
        return x.sum()

    def pristine():
        return (torch.Tensor.numpy, torch.Tensor.detach, np.asarray, json.dumps,
                torch.exp) == ORIGINAL

    def exp_of_zero():
        return torch.exp(torch.zeros(1))
    """


def test_patches_neither_fool_the_encoder_nor_reach_the_next_check(open_session):
    session, student = open_session(PATCHES)
    session.begin_check("patching")
    assert student.pristine() is True
    assert student.patch() is None
    assert student.pristine() is False  # the patches hold within the check
    got = student.value()
    assert isinstance(got, protocol.Array) and got.kind == "tensor"
    assert got.values.tolist() == [1.5, -2.0, 3.25]
    value, args = student.call_returning_args("bump", torch.zeros(3))
    assert float(value.values) == 3.0
    assert args[0].values.tolist() == [1.0, 1.0, 1.0]  # the real mutation, not the patch's
    session.begin_check("next")
    assert student.pristine() is True
    assert student.exp_of_zero().values.tolist() == [1.0]
    assert one_worker(session)


def test_a_tensor_subclass_cannot_answer_for_its_values(open_session):
    _session, student = open_session("""\
        import torch
        class Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return torch.ones(2)
            def numpy(self):
                raise RuntimeError("no")
            @property
            def dtype(self):
                return torch.int8
        def lie():
            return torch.tensor([4.0, 5.0]).as_subclass(Liar)
        """)
    got = student.lie()
    assert got.dtype == "float32" and got.values.tolist() == [4.0, 5.0]


CRASHES = {
    "os._exit": ("import os\ndef crash():\n    os._exit(3)\n", "exited with code 3"),
    "SIGKILL": ("import os, signal\ndef crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                "killed by SIGKILL"),
    "segfault": ("import ctypes\ndef crash():\n    ctypes.string_at(0)\n", "killed by SIGSEGV"),
    "sys.exit in a thread's os._exit": (
        "import os, threading\ndef crash():\n    t = threading.Thread(target=os._exit, "
        "args=(5,))\n    t.start()\n    t.join()\n", "exited with code 5"),
}


@pytest.mark.parametrize(("source", "says"), CRASHES.values(), ids=CRASHES.keys())
def test_a_crash_costs_its_check_only(open_session, source, says):
    session, student = open_session(source + "def answer():\n    return 42\n")
    session.begin_check("crashing")
    with pytest.raises(StudentFailure, match=f"^crash crashed the grader's worker: .*{says}"):
        student.crash()
    assert student.answer() == 42  # the same check goes on in a new copy
    session.begin_check("next")
    assert student.answer() == 42
    assert one_worker(session)


SPINS = """\
    import subprocess, sys
    def spin(marker):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
        while True:
            pass
    def answer():
        return 42
    """


def test_the_time_limit_is_kept_in_the_copy_and_kills_its_processes(open_session, a1):
    fast = dataclasses.replace(a1, defaults={**a1.defaults, "timeout": 1.0})
    session, student = open_session(SPINS, fast)
    marker = f"grader-copy-test-{os.getpid()}-{time.monotonic_ns()}"
    session.begin_check("spinning")
    start = time.monotonic()
    try:
        with pytest.raises(StudentFailure, match=r"^spin did not finish within 1 s"):
            student.spin(marker)
        assert 0.95 <= time.monotonic() - start < 1.9  # the worker's limit, not the backstop
        assert wait_for(lambda: not processes_with(marker)), "the copy's child survived"
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
    session.begin_check("next")
    assert student.answer() == 42
    assert one_worker(session)


def test_copies_fit_in_a_small_process_limit(open_session, limits):
    # Each check's copy is reaped before the next is forked: they never add up.
    small = dataclasses.replace(limits, extra_processes=2)
    session, student = open_session("def f():\n    return 7\n", lim=small)
    for i in range(12):
        session.begin_check(f"check-{i}")
        assert student.f() == 7
    assert session.generation == 12 and one_worker(session)


MODEL = """\
    import torch
    def make():
        torch.manual_seed(0)
        return torch.nn.Linear(2, 1)
    """


def test_checks_of_a_shared_copy_group_share_objects(open_session):
    session, student = open_session(MODEL)
    x = torch.ones(1, 2)
    session.begin_check("train", "model")
    model = student.make()
    before = student.method(model, "__call__", x)
    session.begin_check("evaluate", "model")
    assert student.method(model, "__call__", x).values.tolist() == before.values.tolist()
    session.begin_check("alone")
    assert isinstance(student.make(), RemoteObject)
    with pytest.raises(StudentFailure, match=r"^the object make returned is gone: it was made "
                                             r"in another copy"):
        student.method(model, "__call__", x)


def _item(name: str, group: str | None) -> Any:
    mark = None if group is None else SimpleNamespace(args=(group,))  # what copy_group reads
    return SimpleNamespace(nodeid=name, get_closest_marker=lambda _name: mark)


def test_a_shared_copy_group_runs_in_one_stretch():
    items = [_item("a", None), _item("b", "g"), _item("c", None), _item("d", "h"),
             _item("e", "g"), _item("f", "h"), _item("g", None)]
    assert [i.nodeid for i in _groups_together(items)] == list("abecdfg")
    assert copy_group(items[1]) == "g" and copy_group(items[0]) is None
    with pytest.raises(pytest.UsageError, match="shared_copy takes one group name"):
        copy_group(SimpleNamespace(nodeid="x", get_closest_marker=lambda _name:
                                   SimpleNamespace(args=())))


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSTOP"])
def test_a_copy_cannot_signal_the_worker(open_session, sig):
    session, student = open_session(f"""\
        import os, signal
        def attack():
            try:
                os.kill(os.getppid(), signal.{sig})
            except PermissionError:
                return "refused"
            return "sent"
        def answer():
            return 42
        """)
    session.begin_check("attacking")
    said = student.attack()
    session.begin_check("next")
    assert student.answer() == 42
    assert session.worker is not None
    if session.worker.facts.get("landlock", 0) >= 6:  # it scopes the copy's signals
        assert said == "refused"
        assert one_worker(session)
