"""A submission's memory, processes and CPU are limited as a whole, not per process.

Where the grader can make a cgroup (root here; a delegated subtree elsewhere) the worker's
budget is ``memory.max``/``pids.max``/``cpu.max`` of its own cgroup; elsewhere its process cap
is so low that every process at its address-space limit stays within the memory budget. Each
test checks whichever budget applies on this machine, and says which (run it as root and as an
ordinary user, as ``.ci/run`` does, to check both).
"""

from __future__ import annotations

import dataclasses
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox import budget
from grader.sandbox.inside import cgroup, protocol
from grader.sandbox.isolation import probe
from grader.sandbox.limits import Limits
from grader.sandbox.worker import WorkerGone
from grader.student import Session, StudentFailure, StudentProxy
from grader.submission import read_submission

FULL = probe()
PARENTS, WHY_NOT = budget.cgroups()
MiB = 1024**2

HOGS = """\
    import os, resource, select, time

    def _children(n, work):
        \"\"\"Fork up to n children running work(); returns their pids (fork may fail).\"\"\"
        kids = []
        for _ in range(n):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                try:
                    work()
                finally:
                    os._exit(0)
            kids.append(pid)
        return kids

    def _end(kids):
        for pid in kids:
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except OSError:
                pass

    def hog(n, mb):
        \"\"\"n children each fill mb MiB and hold it; how many held it at once.\"\"\"
        r, w = os.pipe()
        def fill():
            block = b"x" * (mb << 20)
            os.write(w, b"+")
            time.sleep(60)
        kids = _children(n, fill)
        os.close(w)
        got, deadline = 0, time.monotonic() + 20
        while got < len(kids) and time.monotonic() < deadline:
            if select.select([r], [], [], 0.05)[0]:
                got += len(os.read(r, 16))
            if os.waitpid(-1, os.WNOHANG)[0]:  # one was killed
                break
        _end(kids)
        return got

    def bomb(n):
        kids = _children(n, lambda: time.sleep(60))
        _end(kids)
        return len(kids)

    def nproc():
        return resource.getrlimit(resource.RLIMIT_NPROC)[0]
"""


def value(worker: Any, name: str, *args: Any) -> Any:
    reply = worker.request({"op": "call", "name": name, "args": list(args),
                            "kwargs": {"$": "dict", "items": []}}, 60)
    assert reply["ok"], reply
    return protocol.decode(reply["value"])


def test_without_a_cgroup_processes_times_address_space_stay_within_the_budget():
    for memory in (512, 1024, 1536, 4096, 8192, 65536):
        for space in (256, 1024, 2048, 8192):
            lim = Limits(memory=memory * MiB, address_space=space * MiB)
            assert lim.rlimit_processes() >= 1
            if space <= memory:
                assert lim.rlimit_processes() * space <= memory, (memory, space)
    assert Limits(memory=4096 * MiB, address_space=2048 * MiB).rlimit_processes() == 2
    assert Limits(memory=10**6 * MiB, extra_processes=3).rlimit_processes() == 4
    assert Limits().rlimits()["RLIMIT_AS"] == Limits().address_space
    assert Limits(memory=512 * MiB).rlimits()["RLIMIT_AS"] == 512 * MiB


@pytest.mark.parametrize("kind", ["v2", "v1"])
def test_a_cgroup_gets_the_budget_and_reports_memory_kills(tmp_path, kind):
    # A folder stands in for the cgroup file system: which files are written, with what.
    parents = ({"v2": str(tmp_path)} if kind == "v2" else
               {c: str(tmp_path / c) for c in cgroup.CONTROLLERS})
    for parent in parents.values():
        Path(parent).mkdir(exist_ok=True)
    cgroup.join(parents, 1536 * MiB, 67, 1.0)
    leaves = {k: Path(p) for k, p in cgroup.leaves(parents, os.getpid()).items()}
    files = {f"{k}/{f.name}": f.read_text() for k, leaf in leaves.items() for f in leaf.iterdir()}
    if kind == "v2":
        assert files == {"v2/memory.max": str(1536 * MiB), "v2/memory.swap.max": "0",
                         "v2/memory.oom.group": "1", "v2/pids.max": "67",
                         "v2/cpu.max": "100000 100000",
                         "v2/cgroup.procs": str(os.getpid())}
        events = leaves["v2"] / "memory.events"
        events.write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    else:
        assert files["memory/memory.limit_in_bytes"] == str(1536 * MiB)
        assert files["pids/pids.max"] == "67"
        assert (files["cpu/cpu.cfs_quota_us"], files["cpu/cpu.cfs_period_us"]) == (
            "100000", "100000")
        events = leaves["memory"] / "memory.oom_control"
        events.write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    pid = os.getpid()
    assert cgroup.oom_kills(parents, pid) == 1
    events.write_text(events.read_text().replace("oom_kill 1", "oom_kill 0"))
    assert cgroup.oom_kills(parents, pid) == 0


def test_the_worker_reports_its_budget_and_the_cpu_share_is_set(spawn, limits):
    worker, _ = spawn(HOGS)
    spent = worker.facts["budget"]
    if PARENTS:
        assert spent == {"kind": "cgroup", "memory_mb": limits.memory // MiB,
                         "processes": limits.extra_processes + 1, "cpu": 1.0}
        leaves = cgroup.leaves(PARENTS, worker.pid)
        if "v2" in leaves:
            assert Path(leaves["v2"], "cpu.max").read_text().split() == ["100000", "100000"]
            assert Path(leaves["v2"], "memory.max").read_text().strip() == str(limits.memory)
        else:
            assert Path(leaves["cpu"], "cpu.cfs_quota_us").read_text().strip() == "100000"
            assert Path(leaves["memory"], "memory.limit_in_bytes").read_text().strip() == str(
                limits.memory)
        return
    processes = limits.rlimit_processes()
    assert spent["kind"] == "rlimit", WHY_NOT
    if spent["processes"] is not None:  # None: root, whom the kernel exempts from the cap
        assert spent["processes"] == processes
        assert spent["memory_mb"] * MiB <= limits.memory
        if FULL.namespaces:  # the outer process and init count too
            assert value(worker, "nproc") == processes + 2


def test_three_children_cannot_together_exceed_the_memory_budget(spawn, limits):
    # Each child (a fork of a torch worker: about 650 MiB of address space already) stays under
    # its address-space limit of 1.5 GiB; three of them would hold 2100 MiB, over the
    # submission's budget of 2048 MiB.
    tight = dataclasses.replace(limits, memory=2048 * MiB, address_space=1536 * MiB)
    worker, _ = spawn(HOGS, lim=tight)
    if worker.facts["budget"]["kind"] == "cgroup":
        assert value(worker, "hog", 2, 700) == 2  # within the budget: both hold it
        with pytest.raises(WorkerGone) as info:
            value(worker, "hog", 3, 700)
        assert info.value.over_budget, info.value
        assert "over its memory budget (2048 MiB" in str(info.value)
        return
    if worker.facts["budget"]["processes"] is None:
        pytest.skip("root without a cgroup: no process cap (the kernel exempts uid 0)")
    held = value(worker, "hog", 3, 700)
    assert held <= tight.rlimit_processes() - 1  # the worker itself is one of them
    assert (held + 1) * tight.address_space <= tight.memory


def test_a_fork_bomb_is_capped(spawn, limits):
    worker, _ = spawn(HOGS)
    spent = worker.facts["budget"]
    if spent["processes"] is None:
        pytest.skip("root without a cgroup: no process cap (the kernel exempts uid 0)")
    made = value(worker, "bomb", 300)
    assert made <= spent["processes"] - 1
    assert made >= min(spent["processes"] - 1, 1)  # an honest child still starts


def test_a_budget_is_described_for_results():
    assert budget.describe({"kind": "cgroup", "memory_mb": 4096, "processes": 65, "cpu": 1.0}
                           ) == "per-submission cgroup (4096 MiB, 65 processes, 1.0 CPU)"
    assert "2 processes x address space <= 4096 MiB" in budget.describe(
        {"kind": "rlimit", "memory_mb": 4096, "processes": 2, "cpu": 2.0})
    assert budget.describe({}) == ""


@pytest.mark.skipif(not PARENTS, reason=f"no cgroup here: {WHY_NOT}")
def test_a_check_over_the_budget_fails_with_a_message_that_says_so(a1, zygote, limits, tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(textwrap.dedent(HOGS) + textwrap.dedent("""\
        def mse(y_hat, y):
            return hog(3, 450)

        def softmax(x):
            return 1.0
        """))
    tight = dataclasses.replace(limits, memory=1200 * MiB, address_space=1100 * MiB)
    # A loaded machine fills memory slowly: the kill must come before the call's time limit.
    slow = dataclasses.replace(a1, functions={**a1.functions, "mse": {
        **a1.functions.get("mse", {}), "timeout": 120}})
    session = Session(slow, read_submission(path), zygote, tight)
    student = StudentProxy(session)
    try:
        with pytest.raises(StudentFailure) as info:
            student.mse(1, 2)
        assert info.value.message.startswith("mse stopped: the submission went over its memory "
                                          "budget (1200 MiB for all its processes together)")
        assert student.softmax(1) == 1.0  # the next check gets a fresh worker
    finally:
        session.close()
