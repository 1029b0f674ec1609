"""Which submissions of a batch look alike: MOSS's winnowing, as the ``copydetect`` library
implements it (``grader similarity DIR``, ``grader grade --similarity``).

Each submission's code (a notebook's code cells, converted as for grading; a folder's ``.py``
files) is tokenised by copydetect: names become ``V``/``F``/``O``, strings ``S``, comments and
layout go, so renaming variables or reformatting changes nothing. Fingerprints are hashes of
every run of :data:`K` tokens, winnowed (the smallest hash of each window of :data:`WINDOW`), so
any common run of ``K + WINDOW - 1`` tokens is found wherever it sits in either file (moving
functions around changes nothing either). Every run the starter or the handout's code has is
boilerplate and never counts. For each pair, each side's score is the share of its own counted
code found in the other. The numbers choose which pairs a person reads; they prove nothing.

Python's string hash differs between processes, so a batch is fingerprinted and compared in
one process (fast enough: ``benchmarks/similarity.py``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.errors import GraderError
from grader.submission import Submission, read_submission, unique_ids

K = 25
"""copydetect's noise threshold: shorter common runs of tokens are ignored (its default)."""
WINDOW = 6
"""Winnowing window: every common run of K + WINDOW - 1 = 30 tokens is found (its default)."""
THRESHOLD = 0.5
"""A pair is flagged when either side has at least this share of its code in the other."""
MIN_TOKENS = 100
"""...and at least this many tokens in common: tiny files say nothing."""
_FENCE = re.compile(r"^```[ \t]*(?:python|py|python3)[ \t]*\n(.*?)^```", re.M | re.S)
_SUFFIXES = (".py", ".ipynb", ".zip")


class SimilarityError(GraderError):
    """Similarity cannot be computed (copydetect missing, nothing to compare)."""

    exit_code = 2


@dataclass(frozen=True)
class Code:
    """One submission's code, as compared."""

    id: str
    text: str
    error: str = ""
    """Why it could not be read (it is then left out of the comparison)."""


@dataclass(frozen=True)
class Pair:
    """Two submissions and how much of each one's code is also in the other."""

    a: str
    b: str
    score_a: float
    score_b: float
    tokens: int
    """Tokens of ``a`` in runs it shares with ``b``."""
    flagged: bool
    spans_a: tuple[tuple[int, int], ...]
    """Character ranges of ``a``'s text shared with ``b`` (what the pair's page marks)."""
    spans_b: tuple[tuple[int, int], ...]

    @property
    def score(self) -> float:
        return max(self.score_a, self.score_b)


@dataclass(frozen=True)
class Similarity:
    """A batch compared: the pairs ranked by score, most alike first."""

    codes: tuple[Code, ...]
    pairs: tuple[Pair, ...]
    threshold: float
    boilerplate: tuple[str, ...]
    """What counted as given code (the starter, the handout's code)."""

    @property
    def flagged(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.flagged)

    def code(self, sub_id: str) -> Code:
        return next(c for c in self.codes if c.id == sub_id)


def require_copydetect() -> Any:
    """The copydetect module, or SimilarityError saying how to install it."""
    try:
        import copydetect
        import copydetect.utils
    except ImportError:
        raise SimilarityError("similarity needs the copydetect library: pip install "
                              "'dl-grader[similarity]'") from None
    return copydetect


def submissions_in(folder: Path) -> list[Path]:
    """The submissions in ``folder``: its ``.py``, ``.ipynb`` and ``.zip`` files and folders."""
    if not folder.is_dir():
        raise SimilarityError(f"{folder} is not a folder of submissions")
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                  and (p.is_dir() or p.suffix in _SUFFIXES))


def read_codes(paths: Iterable[Path], assignment: Assignment) -> list[Code]:
    """Each submission's code (ids as ``grader grade`` gives them), main file first."""
    return [_code(sub) for sub in unique_ids(
        read_submission(p, assignment.submission_name) for p in paths)]


def _code(sub: Submission) -> Code:
    if sub.error is not None:
        return Code(sub.id, "", sub.error)
    names = [sub.main, *sorted(n for n in sub.files if n != sub.main)]
    return Code(sub.id, "\n\n".join(sub.files[n].decode("utf-8", "replace") for n in names))


def boilerplate(assignment: Assignment) -> dict[str, str]:
    """The code students were given: the starter and the handout's Python blocks."""
    given = {}
    starter = assignment.root / assignment.submission_name
    if starter.suffix == ".py" and starter.is_file():
        given[starter.name] = starter.read_text(encoding="utf-8")
    handout = assignment.root / "handout.md"
    if handout.is_file():
        blocks = _FENCE.findall(handout.read_text(encoding="utf-8"))
        if blocks:
            given["handout.md"] = "\n\n".join(blocks)
    return given


def compare(codes: Sequence[Code], given: dict[str, str],
            threshold: float = THRESHOLD) -> Similarity:
    """Every pair of the readable ``codes``, ranked by their higher score."""
    copydetect = require_copydetect()
    # Every K-token run of the given code (a window of 1 keeps them all), as copydetect's
    # own boilerplate handling does.
    known: set[int] = set()
    for text in given.values():
        known |= _fingerprint(copydetect, text, 1, set()).hashes
    prints = {c.id: _fingerprint(copydetect, c.text, WINDOW, known) for c in codes
              if not c.error}
    pairs = [_pair(copydetect, a, b, prints[a], prints[b], threshold)
             for a, b in combinations(sorted(prints), 2)]
    pairs.sort(key=lambda p: (-p.score, -min(p.score_a, p.score_b), -p.tokens, p.a, p.b))
    return Similarity(tuple(codes), tuple(pairs), threshold, tuple(given))


def _fingerprint(copydetect: Any, text: str, window: int, known: set[int]) -> Any:
    """copydetect's fingerprint of ``text`` without the ``known`` (given) hashes. Removed
    here rather than by its ``boilerplate`` argument, which misses repeated hashes (it
    intersects with ``assume_unique``)."""
    fp = copydetect.CodeFingerprint("submission.py", K, window, fp=io.StringIO(text))
    if known:
        fp.hashes = fp.hashes - known
        fp.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in known}
        fp.token_coverage = copydetect.utils.get_token_coverage(fp.hash_idx, K,
                                                                len(fp.filtered_code))
    return fp


def _pair(copydetect: Any, a: str, b: str, fa: Any, fb: Any, threshold: float) -> Pair:
    if not fa.hashes & fb.hashes:
        return Pair(a, b, 0.0, 0.0, 0, False, (), ())
    tokens, (score_a, score_b), (slices_a, slices_b) = copydetect.compare_files(fa, fb)
    score_a, score_b = float(score_a), float(score_b)
    flagged = max(score_a, score_b) >= threshold and int(tokens) >= MIN_TOKENS
    return Pair(a, b, score_a, score_b, int(tokens), flagged, _spans(slices_a), _spans(slices_b))


def _spans(slices: Any) -> tuple[tuple[int, int], ...]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    return tuple((int(s), int(e)) for s, e in zip(slices[0], slices[1], strict=True))
