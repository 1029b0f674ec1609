"""Huge pages for the zygote (``inside/hugepages.py``): which regions, and a live zygote."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from grader import api, load_assignment
from grader.sandbox import zygote as zygote_module
from grader.sandbox.inside import hugepages
from grader.sandbox.zygote import Zygote

MIB = 1 << 20
MAPS = """\
55d0c0000000-55d0c0a00000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000600000 rw-p 00000000 00:00 0
7f0000600000-7f0000700000 rw-p 00000000 00:00 0
7f0000100000-7f0000500000 r--p 00000000 fe:01 123                        /usr/lib/libtorch_cpu.so
7f0000800000-7f0000c00000 rw-p 00200000 fe:01 123                        /usr/lib/libtorch_cpu.so
7f0001000000-7f0001400000 r-xp 00000000 00:00 0
7f0002100000-7f0002500000 rw-p 00000000 00:00 0
7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0                          [stack]
"""


def test_regions_are_the_whole_huge_pages_of_private_anonymous_writable_memory():
    assert hugepages.regions(MAPS) == [
        (0x55D0C0000000, 0x55D0C0A00000),  # the brk heap, whole
        (0x7F0000000000, 0x7F0000600000),  # anonymous, whole
        (0x7F0002200000, 0x7F0002400000),  # trimmed to 2 MiB boundaries
    ]
    # left out: a region smaller than one huge page, a library's pages, non-writable memory
    # and the stack


def _anon_huge_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_a_zygote_for_many_submissions_backs_its_memory_with_huge_pages(zygote):
    """The session's zygote is started with huge_pages (as every Grader of a batch starts
    its own); the kernel may have none to give, but this machine's 6.x kernel does."""
    release = tuple(int(x) for x in os.uname().release.split(".")[:2])
    if release < (6, 1):
        pytest.skip(f"MADV_COLLAPSE needs Linux 6.1; this is {os.uname().release}")
    if not Path("/sys/kernel/mm/transparent_hugepage").is_dir():
        pytest.skip("this kernel was built without transparent huge pages")
    zygote.wait_ready()
    assert _anon_huge_bytes(zygote.proc.pid) >= 64 * MIB


def test_grader_check_starts_its_zygote_without_huge_pages(monkeypatch, a1_dir, tmp_path):
    """One submission: collapsing (0.7 s of CPU) would cost more than its forks save."""
    asked = []

    class Recording(Zygote):
        def __init__(self, *args, huge_pages: bool = False, **kwargs) -> None:
            asked.append(huge_pages)
            super().__init__(*args, huge_pages=huge_pages, **kwargs)

    monkeypatch.setattr("grader.grading.Zygote", Recording)
    src = a1_dir / "examples" / "correct.py"
    (tmp_path / "submission.py").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    result, _files = api.check_submission(tmp_path / "submission.py",
                                          load_assignment(a1_dir))
    assert asked == [False] and result.score == result.max_score
    assert zygote_module.Zygote is Zygote  # only the grader's own reference was replaced


def test_an_in_process_batch_of_one_skips_huge_pages(monkeypatch):
    from grader.batch import executor

    asked = []

    class Recording:
        def __init__(self, assignment, many: bool = True) -> None:
            asked.append(many)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def grade(self, sub):
            return sub

    monkeypatch.setattr(executor, "Grader", Recording)
    emitted = []
    for todo in ([(0, "one")], [(0, "a"), (1, "b")]):
        executor.InProcess(None).run(todo, lambda i, r: emitted.append(r), lambda: None)
    assert asked == [False, True] and emitted == ["one", "a", "b"]
