"""The isolation layers, each seen from inside a real worker: what student code can and cannot do.

Every test forks a worker from the shared zygote (conftest.py), imports a tiny module and calls
it. Tests of a layer skip when the probe says this machine cannot apply it; the probe test
itself fails then, so a machine that lost a layer does not pass silently.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader import api, cli
from grader.assignment import Assignment
from grader.errors import ReducedIsolation, WorkerStartError
from grader.grading import Grader
from grader.sandbox import isolation
from grader.sandbox.inside import protocol
from grader.sandbox.isolation import NONE, Isolation, describe, probe, require
from grader.sandbox.zygote import Limits, Zygote
from grader.submission import read_submission

ROOT = Path(__file__).resolve().parents[3]
LINUX = sys.platform.startswith("linux")
FULL = probe()
needs = {
    layer: pytest.mark.skipif(not getattr(FULL, layer), reason=f"no {layer} here: "
                              f"{FULL.why_not.get(layer)}")
    for layer in ("namespaces", "landlock", "seccomp")
}


def call(name: str, *args: Any) -> dict[str, Any]:
    return {"op": "call", "name": name, "args": list(args), "kwargs": {"$": "dict", "items": []}}


def value(worker: Any, name: str, *args: Any, timeout: float = 20) -> Any:
    reply = worker.request(call(name, *args), timeout)
    assert reply["ok"], reply
    return protocol.decode(reply["value"])


OPEN = """\
    import os
    def try_open(path):
        try:
            if os.path.isdir(path):
                return ["ok", len(os.listdir(path))]
            with open(path, "rb") as f:
                return ["ok", len(f.read(100))]
        except OSError as exc:
            return [type(exc).__name__, exc.errno]
    def try_write(path):
        try:
            with open(path, "w") as f:
                f.write("x")
            return ["ok", 0]
        except OSError as exc:
            return [type(exc).__name__, exc.errno]
"""


# ---------------------------------------------------------------- probe and reporting


@pytest.mark.skipif(not LINUX, reason="the layers are Linux's")
def test_probe_finds_every_layer_on_this_machine():
    assert FULL.missing() == (), FULL.why_not
    assert FULL.landlock_abi >= 1
    assert probe() is FULL  # cached


def test_worker_reports_what_it_applied(spawn):
    worker, _ = spawn("x = 1\n")
    names = describe(worker.facts)
    assert names[0] == "separate worker process"
    assert {"allow-listed environment", "plain-data protocol"} <= set(names)
    if FULL.missing() == ():
        assert worker.facts["landlock"] == FULL.landlock_abi
        assert "user/pid/net/mount/ipc/uts namespaces" in names
        assert "scratch tmpfs (64 MiB, 4096 inodes)" in names
        assert worker.facts["hidden"][0] == "/tmp"
        assert worker.facts["new_root"] is True and isolation.NEW_ROOT in names
        assert isolation.HIDDEN.format(", ".join(worker.facts["hidden"])) in names
        assert any(n.startswith(f"landlock ABI {FULL.landlock_abi} (fs") for n in names)
        assert {"seccomp filter", "no_new_privs", "no capabilities"} <= set(names)
        assert not any(n.startswith("REDUCED") for n in names)


def test_describe_marks_missing_layers():
    names = describe({"namespaces": True, "scratch_size": 1 << 26, "scratch_inodes": 10,
                      "landlock": 3, "no_new_privs": True})
    assert "landlock ABI 3 (fs)" in names and "scratch tmpfs (64 MiB, 10 inodes)" in names
    assert names[-1] == "REDUCED: no seccomp"
    assert describe({})[-4:] == ("REDUCED: no namespaces", "REDUCED: no new_root",
                                 "REDUCED: no landlock", "REDUCED: no seccomp")
    assert "REDUCED: no new_root" in names  # namespaces without the new root
    merged = isolation.combine([{"landlock": 7, "seccomp": True}, {"landlock": 4}])
    assert merged == {"landlock": 4}
    hidden = describe({"namespaces": True, "hidden": ["/tmp", "/run"]})
    assert "empty read-only /tmp, /run (host sockets and files hidden)" in hidden
    assert isolation.combine([{"hidden": ["/tmp", "/run"]}, {"hidden": ["/run"]}]) == {
        "hidden": ["/run"]}


def test_require_names_the_missing_layers_and_the_flag():
    reduced = Isolation(namespaces=True, seccomp=True, new_root=True,
                        why_not={"landlock": "ENOSYS"})
    with pytest.raises(ReducedIsolation, match=r"without landlock: landlock \(ENOSYS\)\. .*"
                                               r"--allow-reduced-isolation"):
        require(reduced, allow_reduced=False)
    require(reduced, allow_reduced=True)
    require(Isolation(True, True, True, new_root=True), allow_reduced=False)


def test_grade_refuses_reduced_isolation_unless_allowed(monkeypatch, tmp_path):
    monkeypatch.setattr(api, "probe", lambda: FULL.without("landlock", "seccomp"))
    args = ["grade", "-a", "a1", "--out", str(tmp_path / "out"), str(ROOT / "assignments" /
                                                                      "a1" / "solution.py")]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 2, result.output
    assert "landlock, seccomp" in result.output and "--allow-reduced-isolation" in result.output

    def past_the_gate(*_args: Any, **_kwargs: Any) -> Any:
        raise cli.AssignmentError("past the gate")

    monkeypatch.setattr(api, "run_batch", past_the_gate)
    result = CliRunner().invoke(cli.main, [*args, "--allow-reduced-isolation"])
    assert result.exit_code == 1 and "past the gate" in result.output, result.output


def test_reduced_isolation_is_recorded_in_the_result(a1: Assignment, tmp_path):
    (tmp_path / "submission.py").write_text((ROOT / "assignments/a1/solution.py").read_text())
    sub = read_submission(tmp_path / "submission.py", a1.submission_name)
    reduced = FULL.without("landlock")
    with Grader(a1, public_only=True, isolation=reduced) as grader:
        result = grader.grade(sub)
    assert result.score == result.max_score
    assert "REDUCED: no landlock" in result.isolation
    assert not any(n.startswith("landlock") for n in result.isolation)
    assert ("user/pid/net/mount/ipc/uts namespaces" in result.isolation) == FULL.namespaces


def test_without_layers_a_worker_still_runs(tmp_path, limits):
    z = Zygote(isolation=NONE)
    try:
        (tmp_path / "submission.py").write_text("def f():\n    return 41 + 1\n")
        worker = z.fork(tmp_path, limits)
        assert worker.request({"op": "import", "path": str(tmp_path / "submission.py"),
                               "module": "submission"}, 30)["ok"]
        assert value(worker, "f") == 42
        assert "namespaces" not in worker.facts and "landlock" not in worker.facts
        worker.close()
    finally:
        z.close()


@needs["namespaces"]
def test_a_layer_that_fails_stops_the_worker(zygote, limits, tmp_path):
    # The scratch tmpfs cannot be mounted on a missing folder: fail closed, name the layer.
    with pytest.raises(WorkerStartError, match="scratch tmpfs"):
        zygote.fork(tmp_path / "missing", limits)


# ---------------------------------------------------------------- namespaces


@needs["namespaces"]
def test_worker_sees_only_its_own_pid_namespace(spawn):
    worker, _ = spawn("""\
        import os
        def view():
            return [os.getpid(), os.getppid(),
                    sorted(int(p) for p in os.listdir("/proc") if p.isdigit())]
        """)
    pid, ppid, pids = value(worker, "view")
    assert (pid, ppid) == (2, 1)  # PID 1 is the namespace's init, a grader process
    assert pids == [1, 2]  # the trusted process, the zygote and other workers are not there


@needs["namespaces"]
def test_worker_cannot_signal_the_trusted_process_or_the_zygote(spawn, zygote):
    worker, _ = spawn("""\
        import os
        def poke(pid):
            try:
                os.kill(pid, 0)
                return "alive"
            except OSError as exc:
                return type(exc).__name__
        """)
    for pid in (os.getpid(), zygote.proc.pid):
        assert value(worker, "poke", pid) in ("ProcessLookupError", "PermissionError")


@needs["namespaces"]
def test_scratch_is_a_capped_tmpfs_the_trusted_side_never_sees(spawn):
    worker, scratch = spawn("""\
        import errno, os
        def fill():
            chunk = b"0" * (1 << 20)
            written = 0
            try:
                for i in range(10):  # 10 files of 10 MiB: each under the file size rlimit
                    with open(f"big{i}.bin", "wb") as f:
                        for _ in range(10):
                            f.write(chunk)
                            written += 1
            except OSError as exc:
                return [errno.errorcode[exc.errno], written]
            return ["wrote everything", written]
        """)
    code, written = value(worker, "fill")
    assert code == "ENOSPC"
    assert 50 <= written <= 64
    assert sorted(p.name for p in scratch.iterdir()) == ["submission.py"]


@needs["namespaces"]
def test_no_network(spawn):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    try:
        worker, _ = spawn("""\
            import socket
            def tcp(port):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    return "connected"
                except OSError as exc:
                    return type(exc).__name__
            def udp(port):
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.sendto(b"leak", ("127.0.0.1", port))
                    return "sent"
                except OSError as exc:
                    return type(exc).__name__
            def dns():
                try:
                    return socket.getaddrinfo("example.com", 80)[0][4][0]
                except OSError as exc:
                    return type(exc).__name__
            """)
        assert value(worker, "tcp", listener.getsockname()[1]) != "connected"
        assert value(worker, "udp", udp.getsockname()[1]) != "sent"
        assert value(worker, "dns") == "gaierror"
        with pytest.raises(BlockingIOError):
            udp.recv(100)
    finally:
        listener.close()
        udp.close()


# ---------------------------------------------------------------- Landlock


@needs["landlock"]
def test_files_outside_scratch_and_the_runtime_are_out_of_reach(spawn, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("secret")
    worker, _ = spawn(OPEN)
    denied = [str(ROOT / "assignments"), str(ROOT / "assignments/a1/rubric.toml"),
              str(ROOT / "reference"), str(ROOT / "assignments/a2/reference/sgns.py"),
              str(ROOT / "grader/sandbox/zygote.py"), str(ROOT / "grader/grading.py"), str(ROOT),
              str(canary), str(tmp_path), str(Path.home()), "/etc/shadow", "/tmp",
              f"/proc/{os.getpid()}/environ", "/proc/1/environ"]
    for path in denied:
        got = value(worker, "try_open", path)
        assert got[0] != "ok", f"{path} is readable from the worker"
    for path in ("/tmp/grader-escape.txt", str(tmp_path / "written.txt"), str(ROOT / "x.py")):
        got = value(worker, "try_write", path)
        # Beneath /tmp the empty read-only tmpfs answers first (EROFS); elsewhere, Landlock.
        assert got[0] == "PermissionError" or got == ["OSError", errno.EROFS], (path, got)
    assert not (tmp_path / "written.txt").exists()


@needs["landlock"]
def test_the_runtime_and_scratch_stay_usable(spawn):
    worker, _ = spawn(OPEN + """\
    def runtime():
        import decimal, json, fractions, numpy, torch
        import torch.nn.functional as F
        import subprocess, sys, threading
        out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                             text=True, check=True).stdout.strip()
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
        with open(numpy.__file__, "rb") as f:
            f.read(10)
        return [str(decimal.Decimal(1) / 4), out, float(F.relu(torch.tensor(-1.0)))]
    """)
    assert value(worker, "runtime") == ["0.25", "42", 0.0]
    assert value(worker, "try_write", "notes.txt") == ["ok", 0]
    assert value(worker, "try_open", "notes.txt") == ["ok", 1]
    assert value(worker, "try_write", "/dev/null") == ["ok", 0]


def test_tiny_training_runs_under_every_layer(spawn):
    worker, _ = spawn("""\
        import torch
        def train():
            torch.manual_seed(0)
            model = torch.nn.Linear(3, 1)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            x, y = torch.randn(16, 3), torch.randn(16, 1)
            losses = []
            for _ in range(20):
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses[0] > losses[-1]
        """)
    assert value(worker, "train") is True


# ---------------------------------------------------------------- seccomp and privileges


@needs["seccomp"]
def test_dangerous_system_calls_are_refused(spawn):
    worker, _ = spawn("""\
        import ctypes, errno
        libc = ctypes.CDLL(None, use_errno=True)
        CALLS = {"ptrace": (101, 0, 0, 0, 0), "unshare": (272, 0x10000000),
                 "mount": (165, b"none", b"/tmp", b"tmpfs", 0, None), "bpf": (321, 0, 0, 0),
                 "perf_event_open": (298, 0, 0, -1, -1, 0), "io_uring_setup": (425, 1, 0),
                 "keyctl": (250, 0), "personality": (135, 0x0040000),
                 "setns": (308, 0, 0), "clone3": (435, 0, 0)}
        def refused():
            out = {}
            for name, args in CALLS.items():
                result = libc.syscall(*args)
                out[name] = errno.errorcode.get(ctypes.get_errno(), "?") if result < 0 else "ok"
            out["personality query"] = "ok" if libc.syscall(135, 0xFFFFFFFF) >= 0 else "denied"
            return out
        """)
    if os.uname().machine != "x86_64":
        pytest.skip("the syscall numbers above are x86_64's")
    got = value(worker, "refused")
    expected = dict.fromkeys(("ptrace", "unshare", "mount", "bpf", "perf_event_open",
                              "io_uring_setup", "keyctl", "personality", "setns"), "EPERM")
    assert got == {**expected, "clone3": "ENOSYS", "personality query": "ok"}


@pytest.mark.skipif(not LINUX, reason="/proc/self/status is Linux's")
def test_no_capabilities_and_no_new_privileges(spawn):
    worker, _ = spawn("""\
        def status():
            fields = {}
            for line in open("/proc/self/status"):
                key, _, val = line.partition(":")
                fields[key] = val.strip()
            return [fields["CapEff"], fields["CapPrm"], fields["NoNewPrivs"], fields["Seccomp"]]
        """)
    cap_eff, cap_prm, nnp, seccomp = value(worker, "status")
    assert int(cap_eff, 16) == int(cap_prm, 16) == 0
    assert nnp == "1"
    assert seccomp == ("2" if FULL.seccomp else "0")


def test_limits_carry_the_scratch_quota():
    lim = Limits(scratch_size=1 << 20, scratch_inodes=7)
    assert (lim.scratch_size, lim.scratch_inodes) == (1 << 20, 7)
    assert "RLIMIT_FSIZE" in lim.rlimits()  # the file size cap stays an rlimit


@pytest.mark.skipif(not LINUX, reason="Landlock is Linux's")
def test_runtime_paths_never_open_a_checkout(tmp_path):
    from grader.sandbox.inside import landlock

    checkout = tmp_path / "course"
    for folder in ("grader", "reference", "assignments", ".venv/lib/site-packages"):
        (checkout / folder).mkdir(parents=True)
    venv = checkout / ".venv"
    candidates = [str(venv), str(checkout), str(tmp_path), "/", str(venv / "lib/site-packages")]
    assert landlock.runtime_paths(candidates, str(checkout / "grader")) == [
        str(venv.resolve()), str((venv / "lib/site-packages").resolve())]
    # An installed grader (in site-packages, no checkout around it) may sit in an allowed dir.
    installed = venv / "lib/site-packages/grader"
    installed.mkdir()
    assert landlock.runtime_paths([str(venv / "lib/site-packages")], str(installed)) == [
        str((venv / "lib/site-packages").resolve())]


PROBE_WITH_BROKEN_LANDLOCK = """\
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_grader_probe", sys.argv[1])
probe = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = probe
spec.loader.exec_module(probe)
probe.confine.landlock.SYSTEM_READ_EXEC = ()
# Rules that leave the worker unable to read Python itself (the Landlock layer's own: the
# runtime list stays, as the new root and the hidden folders bind it again).
_plan = probe.confine.landlock.plan
probe.confine.landlock.plan = lambda scratch, runtime: _plan(scratch, [])
print(json.dumps(probe.probe()))
"""


@needs["landlock"]
def test_probe_drops_a_layer_that_breaks_the_worker():
    out = subprocess.run(
        [sys.executable, "-I", "-B", "-c", PROBE_WITH_BROKEN_LANDLOCK,
         str(ROOT / "grader" / "sandbox" / "inside" / "probe.py")],
        capture_output=True, text=True, check=True, timeout=60).stdout
    found = json.loads(out)
    assert "cannot import" in found["errors"]["landlock"]
    assert "landlock" not in found["facts"]
    assert found["facts"].get("seccomp") is FULL.seccomp
