"""``grader new NAME``: a skeleton assignment that grades green at once.

The skeleton is everything an assignment is, small: a rubric with one public and one hidden
check, a handout, a starter, a solution, a reference package and the checks, for one API name
(``relu``). An instructor renames and grows it; ``grader grade`` runs it unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.errors import AssignmentError

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")

RUBRIC = '''\
# The rubric of {name}: points, visibility, tolerances and time limits, as data
# (README: "Adding an assignment").
[assignment]
name = "{name}"
title = "{name}: a new assignment"
submission = "submission.py"
# The ground truth: a package (or one .py file) in this folder, loaded only by the grader.
reference = "reference"
import_timeout = 30.0
# The API names students hand in, in handout order.
names = ["relu"]

[defaults]
rtol = 1e-4
atol = 1e-6
timeout = 10.0

[functions.relu]

# Labels of this assignment's own bug classes (slug = label), for hints and the class summary.
[bug_classes]
negative-kept = "negative inputs kept"

[[checks]]
id = "relu-small"
function = "relu"
points = 1
visibility = "visible"
description = "matches max(x, 0) on a small vector"

[[checks]]
id = "relu-random"
function = "relu"
points = 1
visibility = "hidden"
description = "matches the reference on random inputs"
'''

HANDOUT = '''\
# {name}: a new assignment

Hand in `submission.py` defining:

## `relu(x)`

`x` is a float32 tensor of any shape. Return `max(x, 0)` elementwise, a tensor of the same
shape, without modifying `x`.

Check your work with `grader check submission.py --assignment .` (the public checks).
'''

STARTER = '''\
"""{name}: fill in each function (see handout.md)."""

import torch


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0) elementwise, same shape as x."""
    raise NotImplementedError
'''

SOLUTION = '''\
"""{name}: the model solution."""

import torch


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0) elementwise, same shape as x."""
    return torch.clamp(x, min=0.0)
'''

REFERENCE = '''\
"""The ground truth of {name}: pure functions the hidden checks compare with.

Loaded by the grader under a private module name: import sibling modules relatively.
"""

import torch


def relu(x: torch.Tensor) -> torch.Tensor:
    """relu(x) = max(x, 0) elementwise; x of any shape, the result of the same shape."""
    return torch.where(x > 0, x, torch.zeros_like(x))
'''

CONFTEST = '''\
"""Fixtures shared by {name}'s checks (the grader provides student, expect, reference, rng,
assignment and memo). Checks import grader names from `grader` only."""
'''

PUBLIC_CHECK = '''\
"""Public checks: shipped to students, so they never use the reference."""

import pytest
import torch

from grader import Hint, Variant


@pytest.mark.rubric("relu-small")
def test_relu_small(student, expect):
    x = torch.tensor([-2.0, -0.5, 0.0, 1.5, 3.0])
    kept = Variant(Hint("negative-kept", "negative inputs must become 0"), x)
    expect.close(student.relu(x), torch.clamp(x.double(), min=0.0), expect.sig(x=x),
                 variants=(kept,))
'''

HIDDEN_CHECK = '''\
"""Hidden checks: run by `grader grade` only; messages show shapes, never inputs."""

import pytest
import torch


@pytest.mark.rubric("relu-random")
def test_relu_random(student, expect, reference, rng):
    for shape in ((7,), (3, 4)):
        x = torch.tensor(rng.normal(size=shape), dtype=torch.float32)
        expect.close(student.relu(x), reference.relu(x.double()), expect.sig(x=x))
'''

FILES = {
    "rubric.toml": RUBRIC,
    "handout.md": HANDOUT,
    "submission.py": STARTER,
    "solution.py": SOLUTION,
    "reference/__init__.py": REFERENCE,
    "checks/conftest.py": CONFTEST,
    "checks/public/test_{name}_public.py": PUBLIC_CHECK,
    "checks/hidden/test_{name}_hidden.py": HIDDEN_CHECK,
}


def new_assignment(name: str, parent: Path) -> Path:
    """Write the skeleton assignment ``parent/name``; returns its folder.

    Raises AssignmentError if the name is not a simple identifier or the folder exists.
    """
    if not _NAME.fullmatch(name):
        raise AssignmentError(f"assignment name {name!r}: use a letter, then letters, digits, "
                              "'_' or '-' (at most 40), e.g. a3")
    root = parent / name
    if root.exists():
        raise AssignmentError(f"{root} already exists; choose another name or --dir")
    module = name.replace("-", "_")
    for relative, text in FILES.items():
        path = root / relative.format(name=module)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name), encoding="utf-8")
    return root
