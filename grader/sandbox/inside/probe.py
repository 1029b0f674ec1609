"""Which isolation layers a worker can apply here (``inside/worker.py probe``).

Loaded by path (it must import nothing from the grader); ``isolation.probe`` on the trusted side
runs it in a fresh interpreter and reads the one JSON line it prints.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

LINUX = sys.platform.startswith("linux")


def _sibling(name: str) -> Any:
    """Load a sibling module by path, once, under the key confine.py uses too."""
    key = f"_grader_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


confine: Any = _sibling("confine")

LAYERS = ("namespaces", "new_root", "landlock", "seccomp")
PART_OF = {"scratch tmpfs": "namespaces", "hidden host folders": "namespaces",
           "new root": "new_root"}
"""Steps of the namespaces layer that fail under their own name."""


def probe() -> dict[str, Any]:
    """Which layers a worker can apply here, found by confining throwaway workers.

    Starts with every layer; a layer that fails (or leaves a worker that cannot import the
    standard library and numpy) is recorded with its error and left out of the next attempt,
    until one attempt succeeds.
    """
    wanted = {name: LINUX for name in LAYERS}
    errors: dict[str, str] = {} if LINUX else {name: "not Linux" for name in LAYERS}
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as scratch:
        for _attempt in range(len(LAYERS) + 1):
            reply = _try(scratch, wanted)
            layer = str(reply.get("layer"))
            failed = PART_OF.get(layer, layer)
            if reply.get("ready") or failed not in wanted or not wanted[failed]:
                break
            errors[failed] = str(reply.get("error"))
            wanted[failed] = False
    facts = {k: v for k, v in reply.items() if k != "ready"} if reply.get("ready") else {}
    return {"facts": facts, "errors": errors, "setup_error": "" if reply.get("ready")
            else str(reply.get("error"))}


def _try(scratch: str, layers: dict[str, bool]) -> dict[str, Any]:
    protocol = _sibling("protocol")
    parent, child = socket.socketpair()
    request = {"scratch": scratch, "limits": {}, "layers": layers,
               "scratch_size": 1 << 20, "scratch_inodes": 64}
    pid = os.fork()
    if pid == 0:
        parent.close()
        confine.enter(request, child.fileno(), protocol)
        protocol.write_frame(child.fileno(), _works())
        os._exit(0)
    child.close()
    try:
        reply = dict(protocol.read_frame(parent.fileno()))
        works = protocol.read_frame(parent.fileno()) if reply.get("ready") else {"ok": True}
    except Exception as exc:  # EOF, a malformed frame: the attempt failed, whatever the cause
        return {"ready": False, "layer": "setup", "error": f"no answer: {exc}"}
    finally:
        parent.close()
        os.waitpid(pid, 0)
    if works.get("ok"):
        return reply
    # Only the new root and Landlock limit which files a worker reads; seccomp, what it calls.
    layer = next((name for name in ("new_root", "landlock", "seccomp") if layers.get(name)),
                 "setup")
    return {"ready": False, "layer": layer, "error": works.get("error")}


def _works() -> dict[str, Any]:
    """Whether a confined worker can still import what submissions use."""
    try:
        # decimal is not imported yet: it is read from the standard library; numpy from
        # site-packages.
        import decimal

        import numpy
        import numpy.random  # a lazy submodule: read through sys.path's own spelling

        del decimal, numpy
    except Exception as exc:
        return {"ok": False, "error": f"a confined worker cannot import: {exc!r}"}
    return {"ok": True}


def main() -> None:
    """``inside/worker.py probe``: print the probe's findings as one JSON line."""
    print(json.dumps(probe()), flush=True)
