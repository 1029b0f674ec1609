"""Cache poisoning: at import the submission plants code where a later interpreter would run it
(a .pth file, and sitecustomize.py where there is none, in every site directory of the
interpreter and its base installation) and files named after the session in numpy's and
torch's __pycache__, ~/.cache of the real home folder, /tmp and /dev/shm. mse then kills its
parent (the zygote), so the next submission needs a fresh interpreter that would run the code.

The planted code (it acts only in a zygote of this test session) makes that interpreter exit
at once, so the correct submission graded next would get nothing. The worker must not be able
to write to any of these places: none of the files exists after the batch, and the correct
submission graded next scores exactly the solution's points. mse scores 0 (it returns nothing).
"""
# lost: mse
# batch: cache
import importlib.util as _util
import os as _os
import signal as _signal
import site as _site
import sys as _sys
import sysconfig as _sysconfig

import numpy as _numpy
import torch as _torch

_PAYLOAD = ("import os, sys; os.getppid() == @@TRUSTED_PID@@ and 'zygote' in sys.argv and "
            "os._exit(3)  # hostile-poison hm@@RUN@@\n")


def _plant(path, text=_PAYLOAD):
    try:
        with open(path, "x") as f:
            f.write(text)
        print(f"planted {path}")
    except OSError as exc:
        print(f"cannot plant {path}: {exc}")


def _home():
    try:
        import pwd

        return pwd.getpwuid(_os.getuid()).pw_dir
    except (ImportError, KeyError):
        return "/root"


_bases = {"base": _sys.base_prefix, "platbase": _sys.base_exec_prefix}
_sites = {*_site.getsitepackages(), _sysconfig.get_paths()["purelib"],
          _sysconfig.get_paths(vars=_bases)["purelib"]}
for _dir in sorted(_sites):
    _plant(f"{_dir}/hostile-@@RUN@@.pth")
    if _util.find_spec("sitecustomize") is None:
        _plant(f"{_dir}/sitecustomize.py")
for _module in (_numpy, _torch):
    _cache = _os.path.join(_os.path.dirname(_module.__file__), "__pycache__")
    _plant(f"{_cache}/hostile-@@RUN@@.cpython-311.pyc", "not really bytecode")
try:
    _os.makedirs(f"{_home()}/.cache", exist_ok=True)
except OSError:
    pass
for _dir in (f"{_home()}/.cache", "/tmp", "/dev/shm"):
    _plant(f"{_dir}/hostile-@@RUN@@", "poison")


def mse(y_hat, y):
    _os.kill(_os.getppid(), _signal.SIGKILL)
