"""The intake cases: submissions the test builds itself because they are not Python text a
tail could hold (archives, undecodable or oversized files, a rigged folder).

Each must end as a result: a clear reason and 0 points when the grader refuses it, or normal
grading when it is a real submission in another form (``zip_ok``, ``bidi_trojan``, ``rigged``).
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Sequence
from pathlib import Path

from hostile_support import A1, SOLUTION, Run


def _zip(path: Path, members: Sequence[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def _symlink_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3  # Unix, so the mode bits count
    return info


def _zip_bomb(path: Path) -> Path:
    """One entry: 1 GiB of '#' (a valid, endless comment) deflated to about 1 MB."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("submission.py", "w", force_zip64=True) as f:
            block = b"#" * 2**20
            for _ in range(1024):
                f.write(block)
    return path


TROJAN_MSE = (
    "\n\ndef mse(y_hat, y):\n"
    '    """Mean squared error."""\n'
    "    loss = ((y_hat - y) ** 2).mean()\n"
    # Rendered right-to-left, the end of the line hides what runs: it shows as a comment.
    "    return loss * 2  # \u202e \u2066 halve it below\u2069 \u2066\n"
)

# name -> (what it is, what the failure message must name; "" for graded cases)
INTAKE: dict[str, tuple[str, str]] = {
    "zip_ok": ("a correct submission zipped in a folder: graded like the file", ""),
    "zip_slip": ("an entry ../../<name>.py beside submission.py", "unsafe path"),
    "zip_absolute": ("an entry with an absolute path", "unsafe path"),
    "zip_symlink": ("submission.py as a symbolic link to a hidden check", "symbolic link"),
    "zip_bomb": ("a 1 GiB entry compressed to 1 MB", "too large or too compressed"),
    "zip_many_entries": ("5000 entries", "entries; the limit"),
    "invalid_utf8": ("the solution with bytes that are not UTF-8", "not valid text"),
    "nul_bytes": ("the solution with a NUL byte in a comment", "NUL bytes"),
    "conflicting_cookie": ("a coding: ascii cookie over UTF-8 text", "not valid text"),
    "huge_source": ("the solution padded to 50 MB with a comment", "the limit is"),
    "bidi_trojan": ("Trojan Source: bidi controls hide that mse doubles the loss", ""),
    "rigged": ("a folder with the starter, a conftest.py that marks every test passed and a "
               "pytest.ini disabling the grader's plugin", ""),
}


def build_case(folder: Path, name: str, run: Run) -> Path:
    """Write the intake case ``name`` into ``folder``; returns the path to submit."""
    solution = SOLUTION.encode()
    if name == "zip_ok":
        return _zip(folder / "zip_ok.zip", [("zip_ok/submission.py", solution)])
    if name == "zip_slip":
        return _zip(folder / "zip_slip.zip", [("submission.py", solution),
                                              (f"../../hostile-{run.id}-slip.py", b"x = 1\n")])
    if name == "zip_absolute":
        return _zip(folder / "zip_absolute.zip", [
            (zipfile.ZipInfo(f"/tmp/hostile-{run.id}-absolute.py"), solution)])
    if name == "zip_symlink":
        hidden = sorted((A1 / "checks" / "hidden").glob("*.py"))[0]
        return _zip(folder / "zip_symlink.zip", [
            (_symlink_entry("submission.py"), str(hidden).encode())])
    if name == "zip_bomb":
        return _zip_bomb(folder / "zip_bomb.zip")
    if name == "zip_many_entries":
        return _zip(folder / "zip_many_entries.zip", [("submission.py", solution)] + [
            (f"data/{i}.txt", b"") for i in range(5000)])
    if name == "invalid_utf8":
        data = solution + b"\n# \xff\xfe\xc3\x28 not UTF-8\n"
    elif name == "nul_bytes":
        data = solution + b"\n# a NUL \x00 byte\n"
    elif name == "conflicting_cookie":
        data = b"# -*- coding: ascii -*-\n" + solution + "\n# caf\u00e9\n".encode()
    elif name == "huge_source":
        data = solution + b"\n# " + b"x" * (50 * 2**20) + b"\n"
    elif name == "bidi_trojan":
        data = (SOLUTION + TROJAN_MSE).encode()
    elif name == "rigged":
        rigged = folder / "rigged"
        rigged.mkdir()
        (rigged / "submission.py").write_text((A1 / "submission.py").read_text())
        (rigged / "conftest.py").write_text(
            "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
        (rigged / "pytest.ini").write_text("[pytest]\naddopts = -p no:grader\n")
        return rigged
    else:
        raise KeyError(name)
    path = folder / f"{name}.py"
    path.write_bytes(data)
    return path
