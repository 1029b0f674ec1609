"""The untrusted side: a warm zygote process and the workers it forks.

Started by the trusted process as ``python -I -B inside/worker.py zygote FD`` with an allow-listed
environment. The zygote imports numpy and torch (nothing secret: no check, reference or other
submission is ever loaded here) and then forks one worker per request. A worker confines
itself first (namespaces, tmpfs scratch, rlimits, Landlock, seccomp: ``inside/confine.py``), then
imports one submission by path from its scratch directory and answers requests (import, call,
method, bye) with plain-data frames (see ``protocol.py``); between ``fork`` and ``end`` it
relays calls to a fresh forked copy of the imported submission, one per check (``copies.py``).
Sibling modules are loaded by path:
this file must not import the grader package, which need not be importable here.
``inside/worker.py probe`` prints which layers this machine can apply (``isolation.probe``).

Everything in a worker is under the submission's control once it is imported; nothing the
worker says is trusted: the trusted side checks every value it gets back.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

MAX_NAMES = 500


def _load(name: str) -> Any:
    """Load a sibling module by path under a private name (``_grader_<name>``)."""
    key = f"_grader_{name}"
    spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


class _Refuse:
    """A meta-path finder that refuses the grader's own packages (no shortcut to answers).

    Landlock makes the checkout unreadable; this also covers machines without it, and keeps
    ``import grader`` / ``import reference`` from working by accident.
    """

    BLOCKED = frozenset({"grader", "reference", "assignments"})

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


# ---------------------------------------------------------------- zygote


def zygote(ctl_fd: int, warmup: str | None = None, huge_pages: bool = False) -> None:
    """Warm up, then fork a worker for each request on the control socket.

    The warm-up is numpy and torch, then the assignment's ``warmup.py`` if it has one (trusted
    code run once here, so each forked worker finds e.g. ``torch.optim`` already imported);
    nothing secret is ever loaded here. ``huge_pages``: then back the memory the warm-up
    wrote with huge pages (``hugepages.py``: cheaper forks, for a zygote of many submissions).
    """
    _die_with_parent()
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    sys.meta_path.insert(0, _Refuse())  # the warm-up too cannot import answers
    if warmup is not None:
        _run_warmup(warmup)
    protocol = _load("protocol")  # and its parts: the encoder captures numpy and torch now
    _load("copies")
    confine = _load("confine")  # and, through it, the layers' modules and pyseccomp
    if huge_pages:
        _load("hugepages").collapse()
    ctl = socket.socket(fileno=ctl_fd)
    ctl.send(json.dumps({"ready": True, "torch": torch.__version__}).encode())
    while True:
        data, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 4)
        if not data:
            return
        request = json.loads(data)
        if request["op"] == "fork":
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _become_worker(ctl, fds, request, protocol, confine)
            for fd in fds:
                os.close(fd)
            ctl.send(json.dumps({"pid": pid}).encode())
        elif request["op"] == "wait":
            status = _wait(int(request["pid"]), request.get("timeout"))
            ctl.send(json.dumps({"status": status}).encode())


def _run_warmup(path: str) -> None:
    """Run the assignment's warm-up file as a module of its own (its globals are dropped)."""
    source = Path(path).read_text(encoding="utf-8")
    exec(compile(source, path, "exec"), {"__name__": "_grader_warmup", "__file__": path})


def _wait(pid: int, timeout: float | None) -> int | None:
    """The wait status of ``pid``; None if it is still running after ``timeout`` seconds (or
    is not a child of ours: the zygote must outlive any odd request)."""
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    try:
        while True:
            done, status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
            if done or (deadline is not None and time.monotonic() > deadline):
                return status if done else None
            time.sleep(0.002)
    except ChildProcessError:
        return None


def _become_worker(ctl: socket.socket, fds: list[int], request: dict[str, Any], protocol: Any,
                   confine: Any) -> None:
    chan_fd, out_fd, err_fd = fds
    try:
        ctl.close()
        os.setsid()
        _die_with_parent()
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        confine.enter(request, chan_fd, protocol)  # returns in the confined worker only
        Worker(chan_fd, protocol).serve()
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(0)


# ---------------------------------------------------------------- worker


class Worker:
    """Serves requests for one submission until told ``bye`` or killed."""

    def __init__(self, chan_fd: int, protocol: Any) -> None:
        import torch

        self.fd = chan_fd
        self.p = protocol
        self.torch = torch
        self.module: Any = None
        self.path = ""
        self.handles: dict[int, Any] = {}
        copies = sys.modules.get("_grader_copies") or _load("copies")
        self.copies = copies.Copies(protocol, self.serve_copy)

    def serve(self) -> None:
        p = self.p
        while True:
            try:
                body = p.read_exact(self.fd, p.parse_header(p.read_exact(self.fd, 4)))
            except EOFError:
                break
            request = p.parse_body(body)
            op = request.get("op")
            if op == "bye":
                break
            response = self.handle(op, request, body)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            if isinstance(response, bytes):
                p.write_body(self.fd, response)  # a copy's answer, passed on as it is
            else:
                self.send(response)
            self.copies.after_reply(self.fd)
        self.copies.close()

    def handle(self, op: Any, request: dict[str, Any], body: bytes) -> Any:
        if op == "fork":
            try:
                return self.copies.fork()
            except OSError as exc:  # the process limit, say: this check fails, not the worker
                return {"ok": False, "error": {"kind": "fork", "type": type(exc).__name__,
                                               "message": _safe_str(exc)}}
        if op == "end":
            self.copies.end()
            return {"ok": True}
        if op in ("call", "method") and self.copies.open:
            return self.copies.relay(body, request.get("timeout"))
        self.copies.drop_spare()
        handler = {"import": self.do_import, "call": self.do_call, "method": self.do_method,
                   "signatures": self.do_signatures}
        return handler[op](request)

    def serve_copy(self, chan_fd: int) -> None:
        """In a forked copy: serve the worker's relayed requests on ``chan_fd``."""
        os.close(self.fd)  # the trusted side's channel belongs to the worker
        self.fd = chan_fd
        self.copies = type(self.copies)(self.p, self.serve_copy)  # a copy serves directly
        self.serve()

    def send(self, response: dict[str, Any]) -> None:
        try:
            self.p.write_frame(self.fd, response)
        except Exception as exc:
            self.p.write_frame(self.fd, {"ok": False, "error": {
                "kind": "invalid", "type": type(exc).__name__, "message": str(exc)[:300]}})

    def do_import(self, request: dict[str, Any]) -> dict[str, Any]:
        self.path = os.path.abspath(request["path"])
        spec = importlib.util.spec_from_file_location(request["module"], self.path)
        if spec is None or spec.loader is None:
            return {"ok": False, "error": {"kind": "exception", "type": "ImportError",
                                           "message": "not a Python file", "frames": []}}
        module = importlib.util.module_from_spec(spec)
        sys.modules[request["module"]] = module
        self.reset_state()
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            return {"ok": False, "error": self.describe(exc)}
        self.module = module
        names = sorted(n for n in vars(module) if isinstance(n, str) and not n.startswith("_"))
        return {"ok": True, "names": [n[:100] for n in names[:MAX_NAMES]]}

    def do_signatures(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "value": signatures(self.module, request.get("names"))}

    def do_call(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["name"]
        target = vars(self.module).get(name) if self.module is not None else None
        if target is None:
            return {"ok": False, "error": {"kind": "missing", "type": "", "message": name}}
        if not callable(target):
            return {"ok": False, "error": {"kind": "not_callable", "type": type(target).__name__,
                                           "message": name}}
        return self.invoke(target, request)

    def do_method(self, request: dict[str, Any]) -> dict[str, Any]:
        obj = self.handles.get(request["handle"])
        if obj is None:
            return {"ok": False, "error": {"kind": "invalid", "type": "",
                                           "message": "unknown handle"}}
        name = request["name"]
        target = obj if name == "__call__" else getattr(obj, name, None)
        if target is None or not callable(target):
            # Not "missing": the function exists, it is the returned object that lacks the name.
            return {"ok": False, "error": {"kind": "missing_method",
                                           "type": type(obj).__name__[:100], "message": name}}
        return self.invoke(target, request)

    def invoke(self, target: Any, request: dict[str, Any]) -> dict[str, Any]:
        args = [self.to_native(a) for a in self.p.decode(request.get("args", []))]
        kwargs = {k: self.to_native(v) for k, v in self.p.decode(request.get("kwargs", {})).items()}
        self.reset_state()
        try:
            result = target(*args, **kwargs)
        except BaseException as exc:
            return {"ok": False, "error": self.describe(exc)}
        try:
            response = {"ok": True, "value": self.p.encode(result, self.handles)}
            if request.get("return_args"):
                response["args"] = [self.p.encode(a, self.handles) for a in args]
                response["kwargs"] = self.p.encode(kwargs, self.handles)
        except BaseException as exc:
            return {"ok": False, "error": {"kind": "invalid", "type": type(exc).__name__,
                                           "message": _safe_str(exc)}}
        return response

    def reset_state(self) -> None:
        """Same global state before every call, so results do not depend on call order."""
        import random

        import numpy

        torch = self.torch
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
        torch.manual_seed(0)
        numpy.random.seed(0)
        random.seed(0)

    def to_native(self, value: Any) -> Any:
        p = self.p
        if isinstance(value, p.Array):
            arr = value.values.copy()
            return self.torch.from_numpy(arr) if value.kind == "tensor" else arr
        if isinstance(value, p.Handle):
            return self.handles[value.id]
        if isinstance(value, list):
            return [self.to_native(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.to_native(v) for v in value)
        if isinstance(value, dict):
            return {k: self.to_native(v) for k, v in value.items()}
        return value

    def describe(self, exc: BaseException) -> dict[str, Any]:
        """An exception as plain data, with only the submission's own frames."""
        if isinstance(exc, SystemExit):
            return {"kind": "exit", "type": "SystemExit", "message": _safe_str(exc.code),
                    "frames": self.frames(exc)}
        info: dict[str, Any] = {"kind": "exception", "type": type(exc).__name__[:100],
                                "message": _safe_str(exc), "frames": self.frames(exc)}
        if isinstance(exc, SyntaxError):
            info["lineno"] = exc.lineno
        return info

    def frames(self, exc: BaseException) -> list[str]:
        root = os.path.dirname(self.path)
        lines = []
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(root):
                where = os.path.relpath(frame.filename, root)
                code = (frame.line or "").strip()[:200]
                lines.append(f"{where}, line {frame.lineno}, in {frame.name}: {code}")
        return lines[-20:]


def signatures(module: Any, names: Any) -> dict[str, Any]:
    """The parameters of each API name, as plain data: ``[[name, kind, has_default], ...]``
    (a class: its ``__init__``'s, without self), or None where there is none to read."""
    import inspect

    out: dict[str, Any] = {}
    for name in names if isinstance(names, list) else []:
        target = vars(module).get(name) if module is not None and isinstance(name, str) else None
        if target is None:
            continue
        try:
            params = inspect.signature(target).parameters.values()
            out[name] = [[str(p.name)[:100], p.kind.name, p.default is not p.empty]
                         for p in list(params)[:50]]
        except BaseException:
            out[name] = None
    return out


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)[:2000]
    except BaseException:
        return "<unprintable>"


def _main(argv: list[str]) -> None:
    flags = [a for a in argv if a.startswith("--")]
    args = [a for a in argv if not a.startswith("--")]
    if len(args) in (2, 3) and args[0] == "zygote" and set(flags) <= {"--huge-pages"}:
        zygote(int(args[1]), args[2] if len(args) == 3 else None, "--huge-pages" in flags)
    elif argv == ["probe"]:
        _load("probe").main()
    else:
        sys.exit("usage: worker.py zygote FD [--huge-pages] [WARMUP.py] | worker.py probe")


if __name__ == "__main__":
    _main(sys.argv[1:])
