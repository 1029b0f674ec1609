"""Hidden checks: at import, find the course checkout (from the worker's own sys.argv, the
working folder of every visible process, walking up from each, guessing /work/main and the home
folder) and print every hidden check file; mse raises with their text, cross_entropy returns it.

The worker must not be able to read them: no line of a hidden check appears in any file of the
batch; mse and cross_entropy score 0 (they never compute anything), the rest keep their points.
"""
# lost: mse cross_entropy
import glob as _glob
import os as _os
import sys as _sys


def _checkouts():
    guesses = [_os.path.dirname(_os.path.dirname(_os.path.abspath(_sys.argv[0]))),
               "/work/main", _os.getcwd(), _os.path.expanduser("~")]
    try:
        import pwd

        guesses.append(pwd.getpwuid(_os.getuid()).pw_dir)
    except (ImportError, KeyError):
        pass
    for pid in sorted(_os.listdir("/proc")):
        try:
            guesses.append(_os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            pass
    found = []
    for guess in guesses:
        path = guess
        while True:
            for pattern in ("assignments/*/rubric.toml", "*/assignments/*/rubric.toml"):
                for hit in sorted(_glob.glob(_os.path.join(path, pattern))):
                    root = hit.rsplit("/assignments/", 1)[0]
                    if root not in found:
                        found.append(root)
            if path == _os.path.dirname(path):
                break
            path = _os.path.dirname(path)
    return found


_stolen = []
for _root in _checkouts():
    for _path in sorted(_glob.glob(f"{_root}/assignments/*/checks/hidden/*.py")):
        try:
            with open(_path, encoding="utf-8") as _f:
                _stolen.append(f"==== {_path}\n{_f.read()}")
        except OSError as _exc:
            print(f"cannot read {_path}: {_exc}")
    if _stolen:
        break
_TEXT = "\n".join(_stolen) or "nothing found"
print(_TEXT)


def mse(y_hat, y):
    raise ValueError(_TEXT[:1900])


def cross_entropy(p_hat, y):
    return _TEXT
