"""Real workers forked from a warm zygote: limits, kills, hostile frames, and the Session.

The zygote is shared (session fixture in conftest.py); every test forks its own workers.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from grader.assignment import Assignment
from grader.sandbox.inside import protocol
from grader.sandbox.zygote import (
    ENV_ALLOWLIST,
    OUTPUT_CAP,
    Limits,
    WorkerGone,
    WorkerProcess,
    WorkerTimeout,
    Zygote,
    describe_status,
)
from grader.student import RemoteObject, Session, StudentFailure, StudentProxy
from grader.submission import read_submission


def write_module(folder: Path, source: str, name: str = "submission.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def call(name: str, *args: Any) -> dict[str, Any]:
    """A raw ``call`` request; the arguments are JSON scalars (their own encoding)."""
    return {"op": "call", "name": name, "args": list(args), "kwargs": {"$": "dict", "items": []}}


def wait_gone(pid: int, within: float = 8.0) -> bool:
    """Whether ``pid`` stops existing (killed, then reaped) within ``within`` seconds.

    An orphaned grandchild is reaped by PID 1 (or a subreaper), which may take a moment.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# ---------------------------------------------------------------- workers


def test_import_returns_public_names(zygote, limits, tmp_path):
    path = write_module(tmp_path, """\
        import math
        _private = 1
        def mse(a, b):
            return 0.0
        class Model:
            pass
        """)
    worker = zygote.fork(tmp_path, limits)
    try:
        reply = worker.request({"op": "import", "path": str(path), "module": "submission"}, 10)
        assert reply == {"ok": True, "names": ["Model", "math", "mse"]}
        assert worker.request(call("mse", 1, 2), 10) == {"ok": True, "value": 0.0}
    finally:
        worker.close()
    assert not worker.alive


def test_call_reports_exceptions_with_student_frames(spawn):
    worker, _ = spawn("""\
        def f(x):
            return 1 / x
        """)
    reply = worker.request(call("f", 0), 10)
    assert reply["ok"] is False
    err = reply["error"]
    assert (err["kind"], err["type"], err["message"]) == (
        "exception", "ZeroDivisionError", "division by zero")
    assert err["frames"] == ["submission.py, line 2, in f: return 1 / x"]


def test_grader_packages_cannot_be_imported(spawn):
    worker, _ = spawn("""\
        def probe():
            out = []
            for name in ("grader", "grader.sandbox.inside.protocol", "reference", "assignments"):
                try:
                    __import__(name)
                    out.append(name + ": imported")
                except ImportError as exc:
                    out.append(type(exc).__name__)
            return out
        """)
    assert worker.request(call("probe"), 10)["value"] == ["ModuleNotFoundError"] * 4


SPAWNS_A_CHILD = """\
    import os, sys
    def start_child(marker, new_session):
        pid = os.fork()
        if pid == 0:
            if new_session:
                os.setsid()
            os.execv(sys.executable, [sys.executable, "-c",
                                      "import time\\nwhile True: time.sleep(0.05)", marker])
        return pid
    def spin():
        while True:
            pass
    """


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


@pytest.mark.parametrize("new_session", [False, True], ids=["same-session", "setsid"])
def test_timeout_kills_the_worker_and_every_child(spawn, new_session):
    # A child in its own session (os.setsid) is out of reach of the worker's process group;
    # it dies with the worker's PID namespace.
    worker, _ = spawn(SPAWNS_A_CHILD)
    marker = f"grader-test-child-{os.getpid()}-{new_session}-{time.monotonic_ns()}"
    assert worker.request(call("start_child", marker, new_session), 10)["ok"]
    assert wait_for(lambda: processes_with(marker)), "the child never started"
    children = processes_with(marker)
    start = time.monotonic()
    try:
        with pytest.raises(WorkerTimeout, match=r"^no answer within 1 s$"):
            worker.request(call("spin"), 1.0)
        assert 0.95 <= time.monotonic() - start < 2.0
        assert not worker.alive
        with pytest.raises(ProcessLookupError):
            os.kill(worker.pid, 0)  # killed and reaped by the zygote
        assert wait_for(lambda: not processes_with(marker)), f"{children} survived the kill"
        assert wait_for(lambda: not _group_exists(worker.pid)), "the process group survived"
    finally:
        for pid in processes_with(marker):  # processes this test started
            os.kill(pid, signal.SIGKILL)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_exit_code_is_reported(spawn):
    worker, _ = spawn("""\
        import os
        def bye():
            os._exit(3)
        """)
    with pytest.raises(WorkerGone) as info:
        worker.request(call("bye"), 5)
    assert str(info.value) == "the worker process exited with code 3"
    assert info.value.status is not None and os.WEXITSTATUS(info.value.status) == 3
    assert not worker.alive


def test_killed_by_signal_is_reported(spawn):
    worker, _ = spawn("""\
        import os, signal
        def die():
            os.kill(os.getpid(), signal.SIGKILL)
        """)
    with pytest.raises(WorkerGone, match=r"^the worker process was killed by SIGKILL$"):
        worker.request(call("die"), 5)


def test_describe_status():
    assert describe_status(None) == "the worker process ended"
    assert describe_status(5 << 8) == "the worker process exited with code 5"
    assert describe_status(int(signal.SIGXCPU)) == (
        "the worker process was killed by SIGXCPU (CPU time limit)")
    assert describe_status(int(signal.SIGXFSZ)) == (
        "the worker process was killed by SIGXFSZ (file size limit)")
    assert describe_status(int(signal.SIGSEGV)) == (
        "the worker process was killed by SIGSEGV (a crash, often the memory limit)")


def test_output_is_capped_with_a_note(spawn):
    worker, _ = spawn("""\
        import sys
        def loud():
            print("x" * 10_000_000)
            print("err", file=sys.stderr)
            return 1
        """)
    assert worker.request(call("loud"), 20)["value"] == 1
    out, err = worker.take_output()
    body, _, note = out.rpartition("\n")
    assert body == "x" * OUTPUT_CAP
    assert note == f"[output truncated: {10_000_001 - OUTPUT_CAP} more bytes]"
    assert len(out.encode()) <= OUTPUT_CAP + 100
    assert err == "err\n"
    assert worker.take_output() == ("", "")  # the buffers were cleared


def test_environment_is_allow_listed(monkeypatch, tmp_path, limits):
    monkeypatch.setenv("DL_GRADER_TEST_SECRET", "hunter2")
    z = Zygote()  # started after the secret is set: it must not inherit it
    worker: WorkerProcess | None = None
    try:
        path = write_module(tmp_path, """\
            import os
            def env():
                return dict(os.environ)
            """)
        worker = z.fork(tmp_path, limits)
        assert worker.request({"op": "import", "path": str(path), "module": "s"}, 30)["ok"]
        env = protocol.decode(worker.request(call("env"), 10)["value"])
    finally:
        if worker is not None:
            worker.close()
        z.close()
    assert "DL_GRADER_TEST_SECRET" not in env
    assert "hunter2" not in repr(env)
    assert set(env) == set(ENV_ALLOWLIST) | {"HOME", "TMPDIR", "TORCHINDUCTOR_CACHE_DIR"}
    assert {k: env[k] for k in ENV_ALLOWLIST} == ENV_ALLOWLIST


def test_worker_cannot_read_the_trusted_process_environment(spawn):
    worker, _ = spawn("""\
        def peek(pid):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    return len(f.read())
            except OSError as exc:
                return type(exc).__name__
        """)
    got = worker.request(call("peek", os.getpid()), 10)["value"]
    assert not (isinstance(got, int) and got > 0), f"read {got} bytes of the grader's environ"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_trusted_process_is_not_dumpable_but_the_zygote_is(zygote):
    import ctypes

    pr_get_dumpable = 3
    assert ctypes.CDLL(None).prctl(pr_get_dumpable, 0, 0, 0, 0) == 0
    # exec reset the flag in the zygote: its /proc files stay its own (it forks workers fine).
    assert os.stat(f"/proc/{zygote.proc.pid}").st_uid == os.getuid()


def test_cwd_and_home_are_the_scratch_dir(spawn):
    worker, scratch = spawn("""\
        import os, tempfile
        def where():
            open("made_here.txt", "w").close()
            return [os.getcwd(), os.environ["HOME"], os.path.expanduser("~"),
                    tempfile.gettempdir(), sorted(os.listdir("."))]
        """)
    cwd, home, user, tmp, listing = worker.request(call("where"), 10)["value"]
    assert Path(cwd).resolve() == scratch.resolve()
    assert Path(home).resolve() == scratch.resolve()
    assert Path(user).resolve() == scratch.resolve()
    assert Path(tmp).resolve() == (scratch / "tmp").resolve()
    # With namespaces the scratch dir is the worker's own tmpfs: check from inside.
    assert listing == ["made_here.txt", "submission.py", "tmp"]


def test_file_size_limit_stops_a_huge_write(spawn, limits):
    small = dataclasses.replace(limits, file_size=1024 * 1024)
    worker, _ = spawn("""\
        import os
        def fill():
            chunk = b"0" * (1 << 20)
            with open("big.bin", "wb") as f:
                for _ in range(100):
                    f.write(chunk)
            return "wrote 100 MB"
        def size():
            return os.path.getsize("big.bin")
        """, lim=small)
    reply = worker.request(call("fill"), 20)  # Python ignores SIGXFSZ: the write fails
    assert reply["ok"] is False, reply
    assert reply["error"]["type"] in ("OSError", "IOError")
    assert "File too large" in reply["error"]["message"]
    assert worker.request(call("size"), 10)["value"] <= small.file_size


def test_limits_are_applied(spawn, limits):
    custom = dataclasses.replace(limits, cpu_seconds=77, open_files=99)
    worker, _ = spawn("""\
        import resource
        def lim():
            return [resource.getrlimit(resource.RLIMIT_CPU),
                    resource.getrlimit(resource.RLIMIT_NOFILE),
                    resource.getrlimit(resource.RLIMIT_CORE)]
        """, lim=custom)
    value = protocol.decode(worker.request(call("lim"), 10)["value"])
    assert value == [(77, 77), (99, 99), (0, 0)]


def test_limits_rlimits_mapping():
    lim = Limits(cpu_seconds=5, address_space=1 << 30, file_size=10, open_files=20,
                 extra_processes=3)
    r = lim.rlimits()
    assert (r["RLIMIT_CPU"], r["RLIMIT_AS"], r["RLIMIT_FSIZE"], r["RLIMIT_NOFILE"],
            r["RLIMIT_CORE"]) == (5, 1 << 30, 10, 20, 0)
    assert r["RLIMIT_NPROC"] > 3


HOSTILE = """\
    import os, stat, time

    def _channel():
        for fd in range(3, 64):
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    return fd
            except OSError:
                pass
        raise RuntimeError("no socket")

    def attack(kind):
        fd = _channel()
        if kind == "header":
            os.write(fd, b"\\xff\\xff\\xff\\xff")
        elif kind == "body":
            os.write(fd, b"\\x00\\x00\\x00\\x0anot json!!")
        elif kind == "list":
            os.write(fd, b"\\x00\\x00\\x00\\x02[]")
        elif kind == "short":
            os.write(fd, b"\\x00\\x00\\x03\\xe8{\\"ok\\": true")
        while True:
            time.sleep(0.01)
    """


@pytest.mark.parametrize(("kind", "expected", "match"), [
    ("header", protocol.ProtocolError, "exceeds the 67108864-byte limit"),
    ("body", protocol.ProtocolError, "not valid JSON"),
    ("list", protocol.ProtocolError, "not a JSON object"),
    ("short", WorkerTimeout, "no answer within 1 s"),
])
def test_malformed_frames_from_a_hostile_worker(spawn, kind, expected, match):
    worker, _ = spawn(HOSTILE)
    start = time.monotonic()
    with pytest.raises(expected, match=match):
        worker.request(call("attack", kind), 1.0)
    assert time.monotonic() - start < 2.0
    assert not worker.alive
    assert wait_gone(worker.pid, within=1.0)


# ---------------------------------------------------------------- Session and StudentProxy


@pytest.fixture
def open_session(a1: Assignment, zygote: Zygote, limits: Limits,
                 tmp_path: Path) -> Iterator[Any]:
    """Open a Session on a submission written from source; closed at teardown."""
    sessions: list[Session] = []

    def _open(source: str | bytes, assignment: Assignment | None = None
              ) -> tuple[Session, StudentProxy]:
        folder = tmp_path / f"sub{len(sessions)}"
        folder.mkdir()
        path = folder / "submission.py"
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            write_module(folder, source)
        session = Session(assignment or a1, read_submission(path), zygote, limits)
        sessions.append(session)
        return session, StudentProxy(session)

    yield _open
    for s in sessions:
        s.close()


def student_failure(fn: Any, *args: Any) -> StudentFailure:
    with pytest.raises(StudentFailure) as info:
        fn(*args)
    return info.value


def test_proxy_call_returns_decoded_values(open_session):
    _, student = open_session("""\
        import torch
        def mse(y_hat, y):
            return ((y_hat - y) ** 2).mean()
        """)
    got = student.mse(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 2.0]))
    assert isinstance(got, protocol.Array)
    assert (got.kind, got.dtype, got.shape) == ("tensor", "float32", ())
    assert float(got.values) == 2.0


def test_missing_name_lists_close_matches(open_session):
    session, student = open_session("""\
        def soft_max(x):
            return x
        def softmax_helper(x):
            return x
        mse = 3
        """)
    err = student_failure(student.softmax, 1.0)
    assert err.message == "your submission does not define softmax (found: soft_max, " \
        "softmax_helper)"
    err = student_failure(student.cross_entropy, 1.0)
    assert err.message == "your submission does not define cross_entropy"
    err = student_failure(student.mse, 1.0)
    assert err.message == "mse in your submission is a int, not a function"
    assert session.names == ("mse", "soft_max", "softmax_helper")


def test_exception_message_and_hidden_message(open_session):
    _, student = open_session("""\
        import torch

        def mse(y_hat, y):
            raise ValueError(f"bad shapes {tuple(y_hat.shape)} and {y.tolist()}")
        """)
    err = student_failure(student.mse, torch.zeros(3), torch.tensor([9.875, 1.5]))
    frame = ('\n  at submission.py, line 4, in mse: raise ValueError(f"bad shapes '
             '{tuple(y_hat.shape)} and {y.tolist()}")')
    assert err.message == "mse raised ValueError: bad shapes (3,) and [9.875, 1.5]" + frame
    assert err.hidden_message == ("mse raised ValueError on a hidden input (the message is not "
                                  "shown for hidden checks)" + frame)
    assert err.message_for(visible=False) == err.hidden_message
    assert "9.875" not in err.hidden_message and "(3,)" not in err.hidden_message


def test_sys_exit_in_a_call(open_session):
    _, student = open_session("""\
        import sys
        def mse(a, b):
            sys.exit(4)
        """)
    err = student_failure(student.mse, 1, 2)
    assert err.message == "mse called sys.exit(4)\n  at submission.py, line 3, in mse: sys.exit(4)"


def test_timed_out_function_fails_fast_and_others_still_work(open_session, a1):
    fast = dataclasses.replace(a1, defaults={**a1.defaults, "timeout": 1.0})
    session, student = open_session("""\
        def spin():
            while True:
                pass
        def answer():
            return 42
        """, fast)
    start = time.monotonic()
    err = student_failure(student.spin)
    assert 0.95 <= time.monotonic() - start < 2.0
    assert err.message == ("spin did not finish within 1 s, so the worker was stopped; look for "
                           "an infinite loop or much slower code than needed")
    assert session.generation == 1
    start = time.monotonic()
    again = student_failure(student.spin)
    assert time.monotonic() - start < 0.5
    assert again.message == err.message
    assert session.generation == 1  # no worker was started for the broken function
    assert student.answer() == 42
    assert session.generation == 2  # a fresh worker
    assert student.answer() == 42
    assert session.generation == 2


def test_import_error_fails_every_call_the_same_way(open_session):
    session, student = open_session("""\
        import math
        x = 1 / 0
        """)
    first = student_failure(student.mse, 1)
    assert first.message == ("your submission could not be imported: ZeroDivisionError: "
                             "division by zero\n  at submission.py, line 2, in <module>: "
                             "x = 1 / 0")
    second = student_failure(student.softmax, 1)
    assert second is first
    assert session.generation == 0  # no copy was forked from a failed import
    assert len(session._scratch) == 1  # nor a second worker started
    assert session.import_failure is first


def test_syntax_error_names_the_line(open_session):
    _, student = open_session("def mse(a, b):\n    return (a - b) **\n")
    err = student_failure(student.mse, 1, 2)
    assert err.message.startswith(
        "your submission could not be imported: SyntaxError at submission.py, line 2: ")


def test_exit_at_import(open_session):
    _, student = open_session("import sys\nsys.exit(3)\n")
    err = student_failure(student.mse)
    assert err.message == "your submission called sys.exit(3) while being imported"


def test_slow_import_times_out(open_session, a1):
    fast = dataclasses.replace(a1, import_timeout=1.0)
    _, student = open_session("while True:\n    pass\n", fast)
    start = time.monotonic()
    err = student_failure(student.mse)
    assert time.monotonic() - start < 2.0
    assert err.message == ("importing your submission did not finish within 1 s; move training "
                           "or other slow code out of the module's top level")
    assert student_failure(student.softmax) is err


def test_unreadable_submission_never_starts_a_worker(open_session):
    session, student = open_session(b"x = 1\n\x00\n")
    err = student_failure(student.mse)
    assert err.message == "submission.py contains NUL bytes; save it as plain UTF-8 text"
    assert session.worker is None and session.generation == 0


def test_invalid_result_is_a_student_failure(open_session):
    _, student = open_session("""\
        import numpy as np
        def mse(a, b):
            return {(1, 2): 3}
        def softmax(x):
            return np.array([object()])
        """)
    err = student_failure(student.mse, 1, 2)
    assert err.message == ("mse returned a dict with a key of type tuple (the grader compares "
                           "dicts keyed by strings or ints below 2**31 only); the grader does "
                           "not read such values")
    err = student_failure(student.softmax, 1)
    assert err.message == ("softmax returned a value the grader could not read (invalid result: "
                           "ProtocolError: array dtype 'object' cannot be sent)")


def test_remote_module_and_methods(open_session):
    session, student = open_session("""\
        import torch
        def make(n):
            torch.manual_seed(0)
            return torch.nn.Linear(n, 2)
        """)
    model = student.make(3)
    assert isinstance(model, RemoteObject)
    assert model.function == "make" and model.generation == session.generation == 1
    assert model.handle.type_name == "Linear" and model.handle.is_module
    assert model.handle.param_shapes == ((2, 3), (2,))
    x = torch.arange(12.0).reshape(4, 3)
    out = student.method(model, "__call__", x)
    assert isinstance(out, protocol.Array) and out.shape == (4, 2)
    torch.manual_seed(0)
    local = torch.nn.Linear(3, 2)
    np.testing.assert_allclose(out.values, local(x).detach().numpy(), rtol=1e-6)
    assert student.method(model, "extra_repr") == "in_features=3, out_features=2, bias=True"


def test_remote_object_is_gone_after_a_restart(open_session):
    session, student = open_session("""\
        import os, torch
        def make():
            return torch.nn.Linear(1, 1)
        def crash():
            os._exit(3)
        """)
    model = student.make()
    err = student_failure(student.crash)
    assert err.message == ("crash crashed the grader's worker: the worker process exited with "
                           "code 3")
    assert isinstance(student.make(), RemoteObject)
    assert session.generation == 2
    err = student_failure(student.method, model, "__call__", torch.ones(1, 1))
    assert err.message == ("the object make returned is gone: it was made in another copy of "
                           "your submission (each check has its own, and a failure that stops "
                           "the worker starts a new one)")


def test_missing_method_names_the_method(open_session):
    _, student = open_session("""\
        import torch
        def make():
            return torch.nn.Linear(1, 1)
        """)
    model = student.make()
    err = student_failure(student.method, model, "predict", torch.ones(1, 1))
    assert err.message == ("Linear object has no method 'predict' (the object was returned by "
                           "make)")
    err = student_failure(student.method, model, "weight")  # an attribute, not a method
    assert err.message == "Linear object has no method 'weight' (the object was returned by make)"
    assert student.method(model, "extra_repr").startswith("in_features=1")  # still alive


def test_call_returning_args_shows_in_place_mutation(open_session):
    _, student = open_session("""\
        def bump(x, step):
            x.add_(step)
            return x.sum()
        def pure(x):
            return x + 1
        """)
    t = torch.zeros(3)
    value, args = student.call_returning_args("bump", t, 2.0)
    assert float(value.values) == 6.0
    assert isinstance(args[0], protocol.Array)
    assert args[0].values.tolist() == [2.0, 2.0, 2.0]
    assert args[1] == 2.0
    assert t.tolist() == [0.0, 0.0, 0.0]  # the trusted side's tensor is never touched
    _, args = student.call_returning_args("pure", t)
    assert args[0].values.tolist() == [0.0, 0.0, 0.0]


def test_output_is_recorded_per_check(open_session):
    session, student = open_session("""\
        import sys
        print("importing")
        def mse(a, b):
            print("hello", a)
            print("warn", file=sys.stderr)
            return 0.0
        """)
    session.check_id = "mse-lecture"
    assert student.mse(1, 2) == 0.0
    records = [(o.check_id, o.label, o.stdout, o.stderr) for o in session.output]
    assert records == [("mse-lecture", "import", "importing\n", ""),
                       ("mse-lecture", "mse", "hello 1\n", "warn\n")]
    assert {"import", "mse", "worker_start"} <= set(session.timings)


def test_global_state_is_reset_before_each_call(open_session):
    _, student = open_session("""\
        import torch
        def meddle():
            torch.set_default_dtype(torch.float64)
            torch.set_grad_enabled(False)
            torch.manual_seed(99)
        def draw():
            return torch.rand(2), torch.is_grad_enabled()
        """)
    first, grad = student.draw()
    assert student.meddle() is None
    second, grad2 = student.draw()
    assert first.dtype == second.dtype == "float32"
    assert grad is grad2 is True
    assert first.values.tolist() == second.values.tolist()
    torch.manual_seed(0)
    assert first.values.tolist() == torch.rand(2).tolist()
