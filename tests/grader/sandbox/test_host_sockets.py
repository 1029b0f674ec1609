"""Host UNIX sockets are out of a worker's reach: D-Bus, Docker, containerd or systemd would be a
way out of every namespace.

The test process listens on pathname sockets (stream and datagram) in the host's /tmp, /dev/shm
and /run (when it may write there: as root) and on abstract sockets; workers try to reach them.
Two layers stop them, each tested alone too: seccomp refuses every socket family but AF_INET and
AF_INET6, and datagram socketpairs (which could sendto() any path); the worker's mount namespace
has a new root holding only its runtime (or, where that cannot be set up, empty read-only tmpfs
over /tmp, /var/tmp, /run and /dev/shm: both are tested), so no path leads to them. A control
worker with neither shows that the attack works and that the listeners would notice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox import isolation
from grader.sandbox.inside import mounts, protocol
from grader.sandbox.isolation import probe
from grader.sandbox.zygote import Zygote

FULL = probe()
pytestmark = pytest.mark.skipif(FULL.missing() != (), reason=f"layers missing: {FULL.why_not}")

ATTACKS = """\
    import ctypes, errno, os, socket

    def attempt(fn):
        try:
            fn()
            return "ok"
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc.errno))

    def stream(address):
        def go():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(address)
                s.sendall(b"leak: stream")
        return attempt(go)

    def dgram(address):
        def go():
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(b"leak: dgram", address)
        return attempt(go)

    def dgram_pair(address):
        def go():
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            with a, b:
                a.sendto(b"leak: dgram pair", address)
        return attempt(go)

    def stream_pair():
        a, b = socket.socketpair()
        with a, b:
            a.sendall(b"ping")
            return b.recv(4).decode()

    def family(number, kind):
        return attempt(lambda: socket.socket(number, kind).close())

    def high_bits():
        # socket(AF_UNIX | 1 << 32, ...): the kernel reads an int; the filter must too.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        fd = libc.syscall(ctypes.c_long(41), ctypes.c_long(1 << 32 | 1), ctypes.c_long(1),
                          ctypes.c_long(0))
        if fd >= 0:
            os.close(fd)
            return "ok"
        return errno.errorcode[ctypes.get_errno()]

    def listing(path):
        try:
            return sorted(os.listdir(path))
        except OSError as exc:
            return errno.errorcode[exc.errno]

    def write(path):
        def go():
            with open(path, "w") as f:
                f.write("x")
        return attempt(go)
"""


class Listeners:
    """Stream and datagram UNIX sockets in the host's shared folders and in the abstract
    namespace, which record what reaches them."""

    def __init__(self) -> None:
        tag = f"dlg-test-{uuid.uuid4().hex[:8]}"
        self.folders = [Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=d))
                        for d in ("/tmp", "/dev/shm", "/run") if os.access(d, os.W_OK)]
        self.stream: dict[str, socket.socket] = {}
        self.dgram: dict[str, socket.socket] = {}
        for folder in self.folders:
            folder.chmod(0o755)
            self._listen(str(folder / "stream.sock"), str(folder / "dgram.sock"))
        self._listen(f"\0{tag}-stream", f"\0{tag}-dgram")

    def _listen(self, stream_address: str, dgram_address: str) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stream_address)
        s.listen(8)
        s.setblocking(False)
        d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        d.bind(dgram_address)
        d.setblocking(False)
        for address in (stream_address, dgram_address):
            if not address.startswith("\0"):
                os.chmod(address, 0o777)
        self.stream[stream_address] = s
        self.dgram[dgram_address] = d

    def received(self) -> list[str]:
        """What reached any listener since the last call."""
        got = []
        for address, s in self.stream.items():
            with contextlib.suppress(BlockingIOError):
                while True:
                    conn, _ = s.accept()
                    with conn:
                        conn.settimeout(1)
                        got.append(f"{address!r}: connection, {conn.recv(100)!r}")
        for address, d in self.dgram.items():
            with contextlib.suppress(BlockingIOError):
                while True:
                    got.append(f"{address!r}: {d.recv(100)!r}")
        return got

    def close(self) -> None:
        for s in (*self.stream.values(), *self.dgram.values()):
            s.close()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def listeners() -> Iterator[Listeners]:
    found = Listeners()
    yield found
    found.close()


@pytest.fixture(scope="module")
def other_zygotes() -> Iterator[dict[str, Zygote]]:
    """Zygotes with one socket layer only, and with neither (the control)."""
    alone = ("new_root", "hide_host_dirs", "seccomp", "landlock")
    made = {"new root only": Zygote(isolation=FULL.without("seccomp", "landlock")),
            "hidden folders only": Zygote(isolation=FULL.without("new_root", "seccomp",
                                                                 "landlock")),
            "seccomp only": Zygote(isolation=FULL.without("new_root", "hide_host_dirs",
                                                          "landlock")),
            "neither": Zygote(isolation=FULL.without(*alone))}
    try:
        yield made
    finally:
        for z in made.values():
            z.close()


def value(worker: Any, name: str, *args: Any) -> Any:
    reply = worker.request({"op": "call", "name": name, "args": list(args),
                            "kwargs": {"$": "dict", "items": []}}, 20)
    assert reply["ok"], reply
    return protocol.decode(reply["value"])


def attack(worker: Any, listeners: Listeners) -> dict[str, str]:
    """Every way of reaching every listener: address and way -> the error (or "ok")."""
    out = {}
    for address in listeners.stream:
        out[f"{address!r} stream"] = value(worker, "stream", address)
    for address in listeners.dgram:
        out[f"{address!r} dgram"] = value(worker, "dgram", address)
        out[f"{address!r} dgram pair"] = value(worker, "dgram_pair", address)
    return out


def test_no_worker_reaches_a_host_unix_socket(spawn, listeners):
    worker, _ = spawn(ATTACKS)
    got = attack(worker, listeners)
    assert set(got.values()) == {"EPERM"}, got
    assert listeners.received() == []


def test_only_inet_sockets_and_stream_socketpairs_can_be_made(spawn):
    worker, _ = spawn(ATTACKS)
    refused = {"AF_UNIX stream": (socket.AF_UNIX, socket.SOCK_STREAM),
               "AF_UNIX datagram": (socket.AF_UNIX, socket.SOCK_DGRAM),
               "AF_NETLINK": (socket.AF_NETLINK, socket.SOCK_RAW),
               "AF_PACKET": (socket.AF_PACKET, socket.SOCK_RAW),
               "AF_VSOCK": (40, socket.SOCK_STREAM), "AF_ALG": (38, socket.SOCK_SEQPACKET),
               "AF_INET SOCK_PACKET": (socket.AF_INET, 10)}
    for name, (number, kind) in refused.items():
        assert value(worker, "family", number, kind) == "EPERM", name
    assert value(worker, "family", socket.AF_INET, socket.SOCK_STREAM) == "ok"
    assert value(worker, "family", socket.AF_INET6, socket.SOCK_DGRAM) == "ok"
    assert value(worker, "high_bits") == "EPERM"
    assert value(worker, "stream_pair") == "ping"


@pytest.mark.parametrize("mounts", ["new root only", "hidden folders only"])
def test_the_mounts_alone_hide_every_host_socket(spawn, listeners, other_zygotes, mounts):
    worker, _ = spawn(ATTACKS, z=other_zygotes[mounts])
    assert worker.facts.get("new_root", False) is (mounts == "new root only")
    got = attack(worker, listeners)
    for way, error in got.items():
        # Paths lead nowhere; abstract sockets belong to the host's network namespace.
        assert error == ("ECONNREFUSED" if way.startswith("'\\x00") else "ENOENT"), (way, got)
    assert listeners.received() == []
    for folder in listeners.folders:
        assert folder.name not in value(worker, "listing", str(folder.parent)), folder
    for hidden in ("/run", "/var/tmp", "/dev/shm"):
        assert value(worker, "listing", hidden) == [], hidden
    assert value(worker, "write", "/tmp/planted.txt") == "EROFS"
    assert value(worker, "write", "notes.txt") == "ok"  # the scratch is still there


def test_seccomp_alone_refuses_every_unix_socket(spawn, listeners, other_zygotes):
    worker, _ = spawn(ATTACKS, z=other_zygotes["seccomp only"])
    got = attack(worker, listeners)
    assert set(got.values()) == {"EPERM"}, got
    assert listeners.received() == []


def test_without_both_layers_the_attack_works(spawn, listeners, other_zygotes):
    # The control: the listeners notice an attack that gets through.
    worker, _ = spawn(ATTACKS, z=other_zygotes["neither"])
    got = attack(worker, listeners)
    paths = {way: error for way, error in got.items() if not way.startswith("'\\x00")}
    assert set(paths.values()) == {"ok"}, got
    assert len(listeners.received()) == len(paths)


def test_honest_socket_use_and_subprocesses_still_work(spawn):
    worker, _ = spawn("""\
        import asyncio, multiprocessing.connection, subprocess, sys
        import torch
        def honest():
            a, b = multiprocessing.connection.Pipe()
            a.send({"x": 1})
            loop = asyncio.new_event_loop()  # its self-pipe is a socketpair
            result = loop.run_until_complete(asyncio.sleep(0, result=2))
            loop.close()
            out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True,
                                 text=True, check=True).stdout.strip()
            return [b.recv()["x"], result, out, float(torch.ones(3).sum())]
        """)
    assert value(worker, "honest") == [1, 2, "42", 3.0]


def test_hidden_folders_are_each_real_folder_once():
    assert mounts.targets(["/tmp", "/tmp/", "/var/run", "/run", "/run/x-missing", "/"]) == [
        p for p in (os.path.realpath("/tmp"), os.path.realpath("/run"))]
    assert "/tmp" in isolation.planned(FULL, 1, 1)["hidden"]


def test_a_runtime_beneath_a_hidden_folder_is_kept(tmp_path):
    if not any(str(tmp_path).startswith(t + "/") for t in mounts.targets()):
        pytest.skip("pytest's temporary folder is not beneath a hidden folder")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    mine = [p for p in sys.path if Path(p).name == "site-packages"]
    Path(site, "grader_test.pth").write_text("\n".join(mine) + "\n")  # numpy, torch
    found = isolation.probe(str(python))
    assert found.missing() == (), found.why_not
