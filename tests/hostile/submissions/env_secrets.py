"""Environment secrets: at import the submission prints every variable mentioning SECRET or
TOKEN in any /proc/<pid>/environ it can read, then its own environment and the environments of
PID 1, its parent and its grandparent.

The worker's environment is allow-listed and other processes' environments are out of its
reach: the value of GRADER_TEST_SECRET (set in the grader's environment, and in a bystander
process's) appears in no file of the batch. The submission is otherwise honest.
"""
# lost: -
# batch: env
import os as _os


def _environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return [v.decode(errors="replace") for v in f.read().split(b"\0") if v]
    except OSError as exc:
        return [f"<{exc}>"]


def _ancestors(levels=3):
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


for _pid in sorted(p for p in _os.listdir("/proc") if p.isdigit()):
    for _var in _environ(_pid):
        if "SECRET" in _var or "TOKEN" in _var:
            print(f"/proc/{_pid}/environ: {_var}")
print("os.environ:", dict(_os.environ))
for _pid in [1, *_ancestors()]:
    print(f"/proc/{_pid}/environ:", _environ(_pid))
