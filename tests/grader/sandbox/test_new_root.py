"""A worker's root holds only its runtime, read-only: the host's /tmp, /run, /home, /root and
the grader's checkout are not there, beyond the path that leads to the runtime and the scratch.

Each host folder is compared with what a worker lists at the same path: the worker may see only
the next component of a path it needs (its runtime, the grader's ``inside`` folder, its
scratch), and the host folder always holds more (the test plants a file beside the scratch).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox.inside import landlock, newroot, protocol
from grader.sandbox.isolation import probe
from grader.sandbox.zygote import Zygote

FULL = probe()
pytestmark = pytest.mark.skipif(not FULL.new_root, reason=f"no new root: {FULL.why_not}")
ROOT = Path(__file__).resolve().parents[3]
INSIDE = ROOT / "grader" / "sandbox" / "inside"

LOOK = """\
    import errno, os, subprocess, sys

    def listing(path):
        try:
            return sorted(os.listdir(path))
        except OSError as exc:
            return errno.errorcode[exc.errno]

    def read(path):
        try:
            with open(path, "rb") as f:
                return len(f.read(16))
        except OSError as exc:
            return errno.errorcode[exc.errno]

    def write(path):
        try:
            with open(path, "w") as f:
                f.write("x")
            return "ok"
        except OSError as exc:
            return errno.errorcode[exc.errno]

    def shell():
        return subprocess.run("echo $((6 * 7))", shell=True, capture_output=True,
                              text=True).stdout.strip()
"""


@pytest.fixture(scope="module")
def mounts_only() -> Iterator[Zygote]:
    """Workers with the new root but without Landlock and seccomp: what the mounts alone do."""
    z = Zygote(isolation=FULL.without("landlock", "seccomp"))
    try:
        yield z
    finally:
        z.close()


def value(worker: Any, name: str, *args: Any) -> Any:
    reply = worker.request({"op": "call", "name": name, "args": list(args),
                            "kwargs": {"$": "dict", "items": []}}, 20)
    assert reply["ok"], reply
    return protocol.decode(reply["value"])


def kept_paths(scratch: Path) -> list[str]:
    """What a worker needs (and so may see) of the host's folders."""
    named = [sys.prefix, sys.base_prefix, *(p for p in sys.path if p.endswith("-packages"))]
    runtime = landlock.runtime_paths(named, str(INSIDE))
    # sys.path's own spelling too (a venv reached through a link is seen by that link).
    spelled = [os.path.abspath(p) for p in named if os.path.realpath(p) in runtime]
    return [*(os.path.realpath(p) for p in (*runtime, INSIDE, scratch)), *spelled]


def allowed_in(folder: str, kept: list[str]) -> set[str]:
    """The entries of ``folder`` on the way to a kept path."""
    real = os.path.realpath(folder).rstrip("/") + "/"
    return {k[len(real):].split("/")[0] for k in kept if k.startswith(real)}


def test_host_folders_show_only_the_way_to_the_runtime(spawn, tmp_path, mounts_only):
    (tmp_path / "secret-beside-the-scratch.txt").write_text("host file")
    worker, scratch = spawn(LOOK, z=mounts_only)
    assert worker.facts["new_root"] is True
    kept = kept_paths(scratch)
    home = os.path.expanduser("~")
    checked = 0
    for folder in ("/tmp", "/run", "/var/tmp", "/dev/shm", "/home", "/root", home, str(ROOT),
                   str(tmp_path)):
        if not os.path.isdir(folder):
            continue
        seen = value(worker, "listing", folder)
        allowed = allowed_in(folder, kept)
        if isinstance(seen, str):  # not there at all
            assert seen == "ENOENT" and not allowed, (folder, seen)
            continue
        assert set(seen) <= allowed, (folder, seen, allowed)
        try:
            host = set(os.listdir(folder))
        except PermissionError:
            continue
        checked += bool(host - allowed)
    assert checked >= 3  # /tmp (the planted file's tree), the checkout, ...
    assert value(worker, "read", str(ROOT / "assignments" / "a1" / "rubric.toml")) == "ENOENT"
    assert value(worker, "read", str(tmp_path / "secret-beside-the-scratch.txt")) == "ENOENT"
    assert value(worker, "read", str(ROOT / "grader" / "grading.py")) == "ENOENT"


def test_the_root_is_read_only_and_small(spawn, mounts_only):
    worker, _ = spawn(LOOK, z=mounts_only)
    top = set(value(worker, "listing", "/"))
    expected = {"usr", "lib", "lib64", "lib32", "bin", "etc", "dev", "proc", "sys", "tmp",
                "var", "run"}
    kept_tops = {p.split("/")[1] for p in kept_paths(Path("/tmp/x"))}
    assert top <= expected | kept_tops, top
    assert "home" not in top or "home" in kept_tops
    for path in ("/planted", "/tmp/planted", "/run/planted", "/dev/shm/planted",
                 "/etc/planted"):
        assert value(worker, "write", path) == "EROFS", path


def test_devices_and_programs_still_work(spawn, mounts_only):
    bare, _ = spawn(LOOK, z=mounts_only)
    assert set(value(bare, "listing", "/dev")) == {
        *(Path(d).name for d in newroot.DEVICES if os.path.exists(d)), *newroot.DEV_LINKS,
        "shm"}
    worker, _ = spawn(LOOK)  # every layer
    assert value(worker, "write", "/dev/null") == "ok"
    assert value(worker, "read", "/dev/urandom") == 16
    assert value(worker, "read", "/dev/zero") == 16
    assert value(worker, "shell") == "42"
    assert value(worker, "write", "notes.txt") == "ok"  # the scratch is writable


def test_outermost_keeps_links_and_drops_nested_folders(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert newroot.outermost([str(tmp_path / "a" / "b"), str(tmp_path / "a")]) == [
        str(tmp_path / "a")]
    links = [p for p in ("/bin", "/lib", "/lib64") if os.path.islink(p)]
    assert set(newroot.outermost(links)) == set(links)  # rebuilt as links, not bound


def test_a_runtime_named_through_a_link_is_reachable(spawn, tmp_path):
    # sys.path names the venv by the link (tmp/venv-link/lib/...): the new root makes it again.
    real = tmp_path / "real-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(real)], check=True,
                   timeout=120)
    link = tmp_path / "venv-link"
    link.symlink_to(real)
    python = link / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert site.startswith(str(link))
    mine = [p for p in sys.path if Path(p).name == "site-packages"]
    Path(site, "grader_test.pth").write_text("\n".join(mine) + "\n")  # numpy, torch
    Path(site, "linked_module.py").write_text("ANSWER = 42\n")
    z = Zygote(python=str(python), isolation=FULL)
    try:
        worker, _ = spawn("import linked_module\ndef answer():\n    return linked_module.ANSWER\n",
                          z=z)
        assert worker.facts["new_root"] is True
        assert value(worker, "answer") == 42
    finally:
        z.close()
