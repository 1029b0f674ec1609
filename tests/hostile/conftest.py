"""Fixtures of the hostile-submission suite: the session's values, loopback and UNIX socket
listeners, the model solution's results, and the batches (each graded once, on first use).

Grading costs seconds per submission, so submissions share few batches:

- ``main``: a copy of the solution (``control``), ``classmate`` (the solution with a secret
  comment, for the probe that looks for other students' files) and every tail marked
  ``# batch: main``, graded in this process with :func:`grader.api.grade_batch`;
- ``env``: the ``env`` tails, graded while ``GRADER_TEST_SECRET`` is in this process's
  environment and a bystander process of the same user holds it in its own;
- ``cache``: each ``cache`` tail followed by a correct submission that must not notice it;
  poison the grader could not keep out is removed right after the batch;
- ``tamper``: a correct submission, then each ``tamper`` tail (which overwrites what it finds
  of the batch's output folder: in a batch of its own, it cannot hide other attacks' leaks);
- ``subprocess:<name>``: tails that attack the grader's own processes (signals to the parent
  and the grandparent), each followed by a correct submission, graded by a separate trusted
  process with a time limit, so they can hang or kill only that process;
- ``intake``: what the test builds itself: archives, undecodable or oversized source, a
  folder with its own conftest.py (nothing here needs a stored tail).

After every batch: which processes carrying the session marker are alive (then killed), what
changed in the canary folder, and which of the grader's temporary folders are left (then
removed). To debug one attack without grading them all: ``HOSTILE_ONLY=cpu_spin,nan_inf``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import site
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hostile_intake import INTAKE, build_case
from hostile_support import (
    A1,
    ROOT,
    Run,
    build,
    copy_of_solution,
    kill_all,
    load_hostiles,
    marked_processes,
    secret_lines,
    snapshot,
)

from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.results import SubmissionResult, read_result

HOSTILES = load_hostiles()
CANARY_TEXT = "canary: the grader's files and this folder must stay as they are\n"
SUBPROCESS_TIMEOUT = 60.0
# A separate trusted process: grade_batch, exactly as in this process (its command line
# names grade_batch, which is how the probe that kills the grader recognises it).
DRIVER = (
    "import sys\nfrom pathlib import Path\n"
    "from grader.assignment import load_assignment\nfrom grader.api import grade_batch\n"
    "grade_batch(load_assignment(Path(sys.argv[1])), [Path(p) for p in sys.argv[3:]], "
    "Path(sys.argv[2]))\n"
)


# ---------------------------------------------------------------- session values


class Listener:
    """A TCP and a UDP socket on one loopback port that record whatever reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.received: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.tcp, self.udp], [], [], 0.1)
            for sock in ready:
                if sock is self.tcp:
                    conn, peer = self.tcp.accept()
                    with conn:
                        conn.settimeout(1.0)
                        try:
                            data = conn.recv(200)
                        except OSError:
                            data = b""
                    self.received.append(f"TCP connection from {peer}: {data!r}")
                else:
                    data, peer = self.udp.recvfrom(2048)
                    self.received.append(f"UDP datagram from {peer}: {data[:200]!r}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.tcp.close()
        self.udp.close()


@pytest.fixture(scope="session")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


class UnixListener:
    """Stream and datagram UNIX sockets where a host's services keep theirs (/tmp, /dev/shm and,
    when writable, /run) and in the abstract namespace; :meth:`received` drains them."""

    def __init__(self, tag: str) -> None:
        self.folders = [Path(tempfile.mkdtemp(prefix=f"dlg-hostile-{tag}-", dir=d))
                        for d in ("/tmp", "/dev/shm", "/run") if os.access(d, os.W_OK)]
        self.sockets: list[tuple[str, socket.socket]] = []
        for folder in self.folders:
            folder.chmod(0o755)
            self._listen(str(folder / "stream.sock"), str(folder / "dgram.sock"))
        self._listen(f"\0dlg-hostile-{tag}-stream", f"\0dlg-hostile-{tag}-dgram")
        self.addresses = tuple(address for address, _ in self.sockets)

    def _listen(self, stream: str, dgram: str) -> None:
        for address, kind in ((stream, socket.SOCK_STREAM), (dgram, socket.SOCK_DGRAM)):
            sock = socket.socket(socket.AF_UNIX, kind)
            sock.bind(address)
            if kind == socket.SOCK_STREAM:
                sock.listen(16)
            sock.setblocking(False)
            if not address.startswith("\0"):
                os.chmod(address, 0o777)
            self.sockets.append((address, sock))

    def received(self) -> list[str]:
        got = []
        for address, sock in self.sockets:
            with contextlib.suppress(BlockingIOError):
                while True:
                    if sock.type == socket.SOCK_STREAM:
                        conn, _ = sock.accept()
                        with conn:
                            conn.settimeout(1.0)
                            got.append(f"{address!r}: connection, {conn.recv(200)!r}")
                    else:
                        got.append(f"{address!r}: {sock.recv(200)!r}")
        return got

    def close(self) -> None:
        for _, sock in self.sockets:
            sock.close()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def unix_listener() -> Iterator[UnixListener]:
    # A tag of its own: folders named after the session id would look like planted poison.
    server = UnixListener(uuid.uuid4().hex[:12])
    yield server
    server.close()


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory, listener: Listener, run_id: str,
        unix_listener: UnixListener) -> Run:
    canary = tmp_path_factory.mktemp("canary")
    (canary / "sentinel.txt").write_text(CANARY_TEXT)
    return Run(run_id, canary, listener.port, os.getpid(), unix_listener.addresses)


@pytest.fixture(scope="session")
def env_secret() -> str:
    return f"envsecret-{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def secrets(run: Run, env_secret: str) -> dict[str, list[str]]:
    """What must never appear in a batch's files: kind -> distinctive strings."""
    return {**secret_lines(), "environment secret": [env_secret],
            "another submission": [f"classmate-secret-{run.id}"]}


@pytest.fixture(scope="session")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model solution graded on its own (the output folder)."""
    out = tmp_path_factory.mktemp("baseline-out")
    grade_batch(load_assignment(A1), [A1 / "solution.py"], out)
    return out


@pytest.fixture(scope="session")
def baseline(baseline_dir: Path) -> SubmissionResult:
    """The model solution's results: what every honest function must score."""
    return read_result(baseline_dir / "solution" / "result.json")


# ---------------------------------------------------------------- batches


@dataclass
class Batch:
    """One graded batch and what the suite observed around it."""

    name: str
    out: Path
    ids: list[str]
    """Every submission, in the order graded."""
    results: dict[str, SubmissionResult]
    """By id: the results the grader returned (read from ``out`` for subprocess batches)."""
    completed: bool
    log: str
    seconds: float
    leftovers: list[tuple[int, str]] = field(default_factory=list)
    """Processes carrying the session marker that were alive after grading."""
    canary_before: dict[str, bytes] = field(default_factory=dict)
    canary_after: dict[str, bytes] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)


class Batches:
    """Grades each batch on first use and keeps it for the session."""

    def __init__(self, run: Run, tmp: pytest.TempPathFactory, env_secret: str) -> None:
        self.run = run
        self.tmp = tmp
        self.env_secret = env_secret
        self.done: dict[str, Batch] = {}

    def __getitem__(self, name: str) -> Batch:
        if name not in self.done:
            kind, _, arg = name.partition(":")
            grade: Callable[[], Batch] = {
                "main": self._main, "env": self._env, "cache": self._cache,
                "tamper": self._tamper, "intake": self._intake,
                "subprocess": lambda: self._subprocess(arg),
            }[kind]
            self.done[name] = grade()
        return self.done[name]

    # ---- building

    def _folder(self, name: str) -> Path:
        return self.tmp.mktemp(name.replace(":", "-") + "-subs")

    def _tails(self, batch: str, folder: Path) -> list[Path]:
        return [build(h, self.run, folder) for h in HOSTILES.values() if h.batch == batch]

    # ---- grading

    def _grade(self, name: str, paths: Sequence[Path], in_process: bool = True,
               setup: Callable[[], Callable[[], None]] | None = None) -> Batch:
        out = self.tmp.mktemp(name.replace(":", "-") + "-out")
        marker = f".hostile-out-{self.run.id}" if name == "tamper" else None
        if marker:  # where the tamper probe strikes (only here: it would hide other leaks)
            (out / marker).write_text("the tamper probe looks for this file\n")
        (out / "canary.txt").write_text(CANARY_TEXT)
        # The grader's temporary folders (scratch, the zygote's home) go to a folder of this
        # batch's own: what is left there afterwards is certainly this batch's.
        temp = self.tmp.mktemp(name.replace(":", "-") + "-tmp")
        before = snapshot(self.run.canary)
        teardown = setup() if setup else None
        start = time.monotonic()
        results: dict[str, SubmissionResult] = {}
        try:
            if in_process:
                completed, log = True, ""
                try:
                    with pytest.MonkeyPatch.context() as mp:
                        mp.setattr(tempfile, "tempdir", str(temp))
                        for r in grade_batch(load_assignment(A1), paths, out):
                            results[r.submission_id] = r
                except Exception:
                    completed, log = False, traceback.format_exc()
            else:
                completed, log = _grade_in_subprocess(paths, out, temp)
                for path in sorted(out.glob("*/result.json")):
                    try:
                        result = read_result(path)
                    except (OSError, ValueError, KeyError, TypeError):
                        continue
                    results[result.submission_id] = result
        finally:
            if teardown:
                teardown()
        seconds = time.monotonic() - start
        time.sleep(0.5)  # let an escaped child that was about to start show itself
        leftovers = marked_processes(self.run.marker)
        kill_all(leftovers)
        ids = [p.stem for p in paths]
        scratch = sorted(str(p) for p in temp.iterdir())
        shutil.rmtree(temp, ignore_errors=True)
        return Batch(name, out, ids, results, completed, log, seconds, leftovers, before,
                     snapshot(self.run.canary),
                     {"canary_text": CANARY_TEXT, "marker": marker, "in_process": in_process,
                      "scratch_left": scratch})

    def _main(self) -> Batch:
        folder = self._folder("main")
        paths = [copy_of_solution(folder, "control"),
                 copy_of_solution(folder, "classmate",
                                  f"\n# classmate-secret-{self.run.id}: my own work\n")]
        return self._grade("main", paths + self._tails("main", folder))

    def _env(self) -> Batch:
        folder = self._folder("env")
        bystander: list[subprocess.Popen[bytes]] = []

        def setup() -> Callable[[], None]:
            mp = pytest.MonkeyPatch()
            mp.setenv("GRADER_TEST_SECRET", self.env_secret)
            # A process of the same user started with the secret in its environment, as a CI
            # job holding a token would be: /proc/<pid>/environ shows only what a process
            # started with, so this is what scanning /proc/*/environ could find.
            bystander.append(subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL,
                                              env=dict(os.environ)))

            def teardown() -> None:
                mp.undo()
                for p in bystander:
                    p.kill()
                    p.wait()
            return teardown

        return self._grade("env", self._tails("env", folder), setup=setup)

    def _cache(self) -> Batch:
        folder = self._folder("cache")
        paths = []
        for hostile in HOSTILES.values():
            if hostile.batch == "cache":
                paths += [build(hostile, self.run, folder),
                          copy_of_solution(folder, f"after_{hostile.name}")]
        batch = self._grade("cache", paths)
        found = poison_files(self.run.id)
        for path in found:
            remove(path)
        batch.extra["poison"] = [str(p) for p in found]
        return batch

    def _tamper(self) -> Batch:
        folder = self._folder("tamper")
        paths = [copy_of_solution(folder, "before_tamper"), *self._tails("tamper", folder)]
        return self._grade("tamper", paths)

    def _subprocess(self, name: str) -> Batch:
        folder = self._folder(f"subprocess-{name}")
        paths = [build(HOSTILES[name], self.run, folder),
                 copy_of_solution(folder, f"after_{name}")]
        return self._grade(f"subprocess:{name}", paths, in_process=False)

    def _intake(self) -> Batch:
        folder = self._folder("intake")
        paths = [build_case(folder, name, self.run) for name in INTAKE]
        return self._grade("intake", paths)


def _grade_in_subprocess(paths: Sequence[Path], out: Path, temp: Path) -> tuple[bool, str]:
    """Run grade_batch in a child process; (finished in time with exit 0, its output)."""
    args = [sys.executable, "-c", DRIVER, str(A1), str(out), *map(str, paths)]
    proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "TMPDIR": str(temp)})
    try:
        log, _ = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        return False, (f"did not finish within {SUBPROCESS_TIMEOUT:g} s\n"
                       + log.decode(errors="replace")[-3000:])
    text = log.decode(errors="replace")[-3000:]
    if proc.returncode != 0:
        return False, f"exit status {proc.returncode}\n{text}"
    return True, text


_GRADED: list[Batch] = []


@pytest.fixture(scope="session")
def batches(run: Run, tmp_path_factory: pytest.TempPathFactory,
            env_secret: str) -> Iterator[Batches]:
    sweep_old_poison()
    registry = Batches(run, tmp_path_factory, env_secret)
    yield registry
    _GRADED.extend(registry.done.values())
    for path in poison_files(run.id):  # in case a batch stopped half-way
        remove(path)
    kill_all(marked_processes(run.marker))


# ---------------------------------------------------------------- cache poison


def _site_dirs() -> list[Path]:
    """Where a poisoned module or .pth file would be picked up by the next interpreter."""
    import numpy
    import torch

    dirs = {Path(p) for p in site.getsitepackages()}
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    for paths in (sysconfig.get_paths(), sysconfig.get_paths(vars=base)):
        dirs |= {Path(paths[k]) for k in ("purelib", "platlib", "stdlib")}
    dirs |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    dirs |= {Path(m.__file__).parent / "__pycache__" for m in (numpy, torch) if m.__file__}
    return sorted(d for d in dirs if d.is_dir())


def _homes() -> list[Path]:
    import pwd

    homes = {Path.home()}
    try:
        homes.add(Path(pwd.getpwuid(os.getuid()).pw_dir))
    except KeyError:
        pass
    return sorted(homes)


def poison_files(run_id: str) -> list[Path]:
    """Files named after, or holding, the session id in the places poison would work from."""
    found = []
    for folder in _site_dirs():
        for entry in os.scandir(folder):
            if run_id in entry.name:
                found.append(Path(entry.path))
            elif entry.name in ("sitecustomize.py", "usercustomize.py") and entry.is_file():
                if run_id in Path(entry.path).read_text(errors="replace"):
                    found.append(Path(entry.path))
    for folder in [*(h / ".cache" for h in _homes()), Path("/tmp"), Path("/var/tmp"),
                   Path("/dev/shm")]:
        if folder.is_dir():
            found += [Path(e.path) for e in os.scandir(folder) if run_id in e.name]
    return sorted(set(found))


def sweep_old_poison() -> None:
    """Remove poison an interrupted earlier session left in the site directories."""
    for folder in _site_dirs():
        for entry in os.scandir(folder):
            path = Path(entry.path)
            if entry.name.startswith("hostile-") and entry.name.endswith((".pth", ".pyc")):
                remove(path)
            elif entry.name == "sitecustomize.py" and "hostile-poison" in path.read_text(
                    errors="replace"):
                remove(path)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)




def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _GRADED:
        terminalreporter.section("hostile batches")
        for b in _GRADED:
            terminalreporter.write_line(
                f"{b.name:<36} {len(b.ids):>3} submissions {b.seconds:7.1f} s"
                + ("" if b.completed else "  (did not finish)"))
