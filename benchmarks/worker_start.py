"""Worker start-up and call cost, with every isolation layer, without the new root, without
the hidden host folders, and without any layer.

Run from the checkout: ``.venv/bin/python benchmarks/worker_start.py [--runs 50]``. For each
configuration it starts one zygote (not timed), then times ``Zygote.fork`` until the worker
has reported its layers (fork to ready, what a new submission or a restart after a timeout
costs), and the round trip of a call to a trivial function (one JSON frame each way). It
prints the median and the 90th percentile of ``--runs`` measurements of each. On Linux it also
times steps alone, each in a fresh child: building the new root and pivoting into it, and
hiding the host folders (both in new namespaces, as init does), joining a cgroup (where this
process can make one) and loading the seccomp filter with and without its socket rules;
whole starts vary by more than these steps cost on a loaded machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox.budget import cgroups
from grader.sandbox.inside import cgroup
from grader.sandbox.isolation import NONE, Isolation, describe, probe
from grader.sandbox.zygote import Zygote, worker_limits

SOURCE = "def f(x):\n    return x\n"
CALL = {"op": "call", "name": "f", "args": [1], "kwargs": {"$": "dict", "items": []}}


def measure(isolation: Isolation, runs: int) -> tuple[list[float], list[float], tuple[str, ...]]:
    """Fork-to-ready times and call round trips (seconds), and the layers applied."""
    limits = worker_limits()
    zygote = Zygote(isolation=isolation)
    starts, calls, layers = [], [], ()
    try:
        zygote.wait_ready()
        with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
            scratch = Path(tmp)
            (scratch / "submission.py").write_text(SOURCE)
            request = {"op": "import", "path": str(scratch / "submission.py"), "module": "s"}
            for _ in range(runs):
                start = time.perf_counter()
                worker = zygote.fork(scratch, limits)
                starts.append(time.perf_counter() - start)
                layers = describe(worker.facts)
                worker.close()
            worker = zygote.fork(scratch, limits)
            assert worker.request(request, 30)["ok"]
            for _ in range(runs):
                start = time.perf_counter()
                assert worker.request(CALL, 10)["value"] == 1
                calls.append(time.perf_counter() - start)
            worker.close()
    finally:
        zygote.close()
    return starts, calls, layers


def step_costs(runs: int) -> dict[str, list[float]]:
    """Seconds taken by each new step alone, measured in ``runs`` fresh children each."""
    from grader.sandbox.inside import confine, mounts, namespaces, seccomp_filter

    del confine  # imported here, once: it finds libseccomp (ldconfig), which no step should time

    seccomp = seccomp_filter.load_library()
    no_socket_rules = seccomp_filter._deny_sockets
    steps: dict[str, Callable[[], None]] = {
        "new root (build and pivot_root)": _new_root,
        "hide host folders": lambda: mounts.hide(namespaces.mount, tempfile.gettempdir(), []),
        "seccomp filter": lambda: seccomp_filter.install(seccomp),
        "seccomp filter without socket rules": lambda: _without(
            seccomp_filter, "_deny_sockets", seccomp, no_socket_rules)}
    parents, _why = cgroups()
    if parents:
        steps["join a cgroup"] = lambda: cgroup.join(parents, 1 << 30, 10, 1.0)
    times = {name: [_in_child(step, name.startswith(("hide", "new root")))
                    for _ in range(runs)] for name, step in steps.items()}
    _sweep = cgroup._sweep  # the joined children have exited: remove their cgroups
    _sweep(parents.values())
    return times


def _new_root() -> None:
    """What init does for a new root (``confine._new_root``), in a scratch folder of its own."""
    from grader.sandbox.inside import confine, landlock, namespaces, newroot

    scratch = tempfile.mkdtemp(prefix="grader-bench-root-")
    runtime = landlock.runtime_paths(confine.RUNTIME, str(confine.HERE))
    dirs = [*runtime, str(confine.HERE), *newroot.system_dirs(confine.SYSTEM_DIRS)]
    newroot.build(namespaces.mount, scratch, dirs,
                  [f"/etc/{name}" for name in landlock.ETC_FILES], scratch)
    newroot.pivot(scratch)


def _without(module: Any, name: str, seccomp: Any, original: Any) -> None:
    setattr(module, name, lambda *_: None)
    try:
        module.install(seccomp)
    finally:
        setattr(module, name, original)


def _in_child(step: Callable[[], None], namespaces: bool) -> float:
    """Run ``step`` in a fresh child (in new namespaces, PID 1 of its own, if asked)."""
    from grader.sandbox.inside import namespaces as ns

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        if namespaces:
            uid, gid = os.getuid(), os.getgid()  # read before: 65534 in the new namespace
            ns.unshare(ns.ALL)
            ns.map_own_ids(uid, gid)
            if os.fork():
                os._exit(os.wait()[1] >> 8)
            ns.private_proc()
        ns.no_new_privs()
        start = time.perf_counter()
        step()
        os.write(write, repr(time.perf_counter() - start).encode())
        os._exit(0)
    os.close(write)
    data = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    return float(data)


def summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):6.2f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    full = probe()
    print(f"probe: {full}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    configurations = (("all layers", full),
                      ("all layers but the new root", full.without("new_root")),
                      ("all layers but the new root and the hidden host folders",
                       full.without("new_root", "hide_host_dirs")),
                      ("no layers", NONE))
    for label, isolation in configurations:
        starts, calls, layers = measure(isolation, runs)
        print(f"\n{label}: {', '.join(layers)}")
        print(f"  worker start (fork to ready): {summary(starts)}")
        print(f"  call round trip:              {summary(calls)}")
    if sys.platform.startswith("linux"):
        print()
        for name, times in step_costs(runs).items():
            print(f"  {name + ':':40} {summary(times)}")
    print("\nload average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
