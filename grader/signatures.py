"""Signatures: the handout's (read from the starter with ``ast``) against a submission's.

A function with a parameter missing or renamed fails with whatever the grader's call then
breaks (``'float' object has no attribute 'double'``); the first thing its message should say
is that the signature differs. The worker reports a submission's parameters as plain data
(``[[name, kind, has_default], ...]``, see ``inside/worker.py``); nothing here runs student code.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.sandbox.text import clean_text

_POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    """``inspect.Parameter.kind``'s name (``POSITIONAL_OR_KEYWORD``, ``VAR_POSITIONAL``, ...)."""
    default: str | None
    """The default as the handout writes it; "" when the submission has one (its text is not
    sent); None when there is none."""

    def show(self) -> str:
        star = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(self.kind, "")
        default = "" if self.default is None else f"={self.default or '...'}"
        return f"{star}{self.name}{default}"


def handout_signatures(starter: Path, names: tuple[str, ...]) -> dict[str, tuple[Param, ...]]:
    """The parameters of each API name as the starter defines them (a class: ``__init__``'s
    without ``self``); names the starter does not define are left out."""
    try:
        tree = ast.parse(starter.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    out: dict[str, tuple[Param, ...]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            out[node.name] = _params(node.args)
        elif isinstance(node, ast.ClassDef) and node.name in names:
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef)
                         and n.name == "__init__"), None)
            if init is not None:
                out[node.name] = _params(init.args)[1:]
    return out


def _params(args: ast.arguments) -> tuple[Param, ...]:
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [Param(a.arg, "POSITIONAL_OR_KEYWORD", None if d is None else ast.unparse(d))
              for a, d in zip(positional, defaults, strict=True)]
    params += [Param(a.arg, "KEYWORD_ONLY", None if d is None else ast.unparse(d))
               for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    return tuple(params)


def submission_params(raw: Any) -> tuple[Param, ...] | None:
    """A worker's report of one name's parameters, checked and cleaned (None if unusable)."""
    if not isinstance(raw, list):
        return None
    params = []
    for item in raw[:50]:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                and isinstance(item[1], str) and isinstance(item[2], bool)):
            return None
        params.append(Param(clean_text(item[0][:100]), item[1][:30], "" if item[2] else None))
    return tuple(params)


def accepts(handout: tuple[Param, ...], theirs: tuple[Param, ...]) -> bool:
    """Whether every call the handout allows works the same on the submission's signature:
    the handout's parameters in the same places under the same names, each optional one still
    optional, and nothing new required (``*args``/``**kwargs`` take what they take)."""
    positional = [p for p in theirs if p.kind in _POSITIONAL]
    by_name = {p.name: p for p in theirs}
    var_kw = any(p.kind == "VAR_KEYWORD" for p in theirs)
    var_pos = any(p.kind == "VAR_POSITIONAL" for p in theirs)
    for i, want in enumerate(handout):
        got = by_name.get(want.name)
        if got is None:
            if not (var_kw or (var_pos and want.kind in _POSITIONAL and i >= len(positional))):
                return False
            continue
        if want.kind in _POSITIONAL and (i >= len(positional) or positional[i].name != want.name):
            return False
        if want.default is not None and got.default is None:
            return False
    known = {p.name for p in handout}
    return all(p.default is not None or p.name in known or p.kind.startswith("VAR")
               for p in theirs)


def mismatches(handout: Mapping[str, tuple[Param, ...]], reported: Any) -> dict[str, str]:
    """API name -> "`f` takes (...) but yours takes (...)" for each signature that differs."""
    out: dict[str, str] = {}
    if not isinstance(reported, dict):
        return out
    for name, want in handout.items():
        theirs = submission_params(reported.get(name))
        if theirs is not None and not accepts(want, theirs):
            out[name] = (f"`{name}` takes ({', '.join(p.show() for p in want)}) but yours takes "
                         f"({', '.join(p.show() for p in theirs)})")
    return out
