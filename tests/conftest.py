"""Shared fixtures: the repository's folders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
A1 = ROOT / "assignments" / "a1"


@pytest.fixture(scope="session")
def a1_dir() -> Path:
    return A1
