"""The parent's /proc: at import the submission reads what /proc shows of its parent and
grandparent (the zygote and the trusted grader process): the command line, the targets of the
open file descriptors and the first bytes behind each, and every writable memory mapping of
/proc/<pid>/mem, scanned for GRADER_TEST_SECRET=.

The trusted process must be out of the worker's reach (not dumpable, another user or PID
namespace): the secret appears in no file of the batch. The submission is otherwise honest.
"""
# lost: -
# batch: env
import os as _os
import stat as _stat
import time as _time

_KEY = b"GRADER_TEST_SECRET="


def _ancestors(levels=2):
    pid, found = _os.getpid(), []
    for _ in range(levels):
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 0:
            break
        found.append(pid)
    return found


def _scan_memory(pid, budget=3 * 2**30, deadline=20.0):
    stop = _time.monotonic() + deadline
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if not perms.startswith("rw"):
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                for at in range(start, min(end, start + budget), 2**24):
                    if _time.monotonic() > stop:
                        return
                    try:
                        mem.seek(at)
                        chunk = mem.read(min(2**24 + 200, end - at))
                    except (OSError, ValueError, OverflowError):
                        break
                    budget -= len(chunk)
                    hit = chunk.find(_KEY)
                    if hit >= 0:
                        print(f"/proc/{pid}/mem: {chunk[hit:hit + 120]!r}")
                        return
    except OSError as exc:
        print(f"/proc/{pid}/mem: {exc}")


for _pid in _ancestors():
    try:
        with open(f"/proc/{_pid}/cmdline", "rb") as _f:
            print(f"/proc/{_pid}/cmdline:", _f.read().replace(b"\0", b" ")[:500])
    except OSError as _exc:
        print(f"/proc/{_pid}/cmdline: {_exc}")
    try:
        _fds = sorted(_os.listdir(f"/proc/{_pid}/fd"), key=int)
    except OSError as _exc:
        print(f"/proc/{_pid}/fd: {_exc}")
        _fds = []
    for _fd in _fds[:100]:
        try:
            _target = _os.readlink(f"/proc/{_pid}/fd/{_fd}")
            _head = b""
            if _stat.S_ISREG(_os.stat(f"/proc/{_pid}/fd/{_fd}").st_mode):  # never a pipe or tty
                with open(f"/proc/{_pid}/fd/{_fd}", "rb") as _f:
                    _head = _f.read(200)
            print(f"/proc/{_pid}/fd/{_fd} -> {_target}: {_head!r}")
        except OSError as _exc:
            print(f"/proc/{_pid}/fd/{_fd}: {_exc}")
    _scan_memory(_pid)
